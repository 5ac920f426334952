/*
 * app: the application of the example stack. It runs a few steps of a
 * relaxation with the num library, reduces the result through the comm
 * backend it was linked against, and prints what it is:
 *
 *   target=x86_64_v3 num=x86_64_v3 fabric=ucx conf=ucx n=1048576 steps=20 dot=...
 *
 * usage: app [N [STEPS]]; the fabric configuration is read from
 * $NUMSTACK_CONF, default /etc/numstack/fabric.conf (the conf layer).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "num.h"
#include "comm.h"

#define STR_(x) #x
#define STR(x) STR_(x)
#ifndef TAILOR_TARGET
#define TAILOR_TARGET unknown
#endif

/* transport reads transport= from the configuration file at path. */
static void transport(const char *path, char *out, size_t size)
{
    snprintf(out, size, "missing");
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return;
    char line[256];
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, "transport=", 10) == 0) {
            line[strcspn(line, "\r\n")] = 0;
            snprintf(out, size, "%s", line + 10);
            break;
        }
    }
    fclose(f);
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1 << 20;
    int steps = argc > 2 ? atoi(argv[2]) : 20;
    if (n == 0 || steps <= 0) {
        fprintf(stderr, "usage: app [N [STEPS]]\n");
        return 2;
    }
    double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    if (x == NULL || y == NULL) {
        fprintf(stderr, "app: out of memory for n=%zu\n", n);
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        x[i] = 1.0 / (double)(i + 1);
        y[i] = (double)(i % 7) * 0.5;
    }
    for (int s = 0; s < steps; s++)
        num_axpy(-0.01, y, x, n);
    double dot = num_dot(x, y, n);
    comm_allreduce(&dot, 1);

    const char *path = getenv("NUMSTACK_CONF");
    char conf[64];
    transport(path != NULL ? path : "/etc/numstack/fabric.conf", conf, sizeof conf);
    printf("target=%s num=%s fabric=%s conf=%s n=%zu steps=%d dot=%.9e\n",
           STR(TAILOR_TARGET), num_target(), comm_name(), conf, n, steps, dot);
    free(x);
    free(y);
    return 0;
}
