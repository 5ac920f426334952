/*
 * num: axpy and dot product, the kernels of an iterative solver. The loops
 * have no branch, so gcc -O3 vectorises them for whatever -march the
 * target's CFLAGS give: SSE2 on x86_64, AVX2 + FMA on x86_64_v3, AVX-512
 * on x86_64_v4. The dot product is summed in 8 lanes so the vectoriser may
 * reorder it without -ffast-math.
 */
#include "num.h"

#define STR_(x) #x
#define STR(x) STR_(x)
#ifndef TAILOR_TARGET
#define TAILOR_TARGET unknown
#endif

void num_axpy(double a, const double *restrict x, double *restrict y, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] += a * x[i];
}

double num_dot(const double *restrict x, const double *restrict y, size_t n)
{
    double lane[8] = {0};
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++)
            lane[k] += x[i + k] * y[i + k];
    double s = 0;
    for (; i < n; i++)
        s += x[i] * y[i];
    for (int k = 0; k < 8; k++)
        s += lane[k];
    return s;
}

const char *num_target(void) { return STR(TAILOR_TARGET); }
