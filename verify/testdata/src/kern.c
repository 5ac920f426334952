/* kern: a shared library's kernel loop, and a program that loads it (built
 * with -DMAIN), for verify's tests of dynamically linked images. */
#include <stdio.h>
#include <stdlib.h>
#include <math.h>

double kern(const double *x, int n);

#ifdef MAIN
int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 1000;
    double *x = malloc(n * sizeof *x);
    for (int i = 0; i < n; i++)
        x[i] = sqrt((double)i);
    printf("%g\n", kern(x, n));
    return 0;
}
#else
double kern(const double *x, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++)
        s += x[i] * x[i];
    return s;
}
#endif
