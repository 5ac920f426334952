/* num: a small numeric library, compiled once per CPU target. */
#ifndef NUM_H
#define NUM_H
#include <stddef.h>

/* num_axpy sets y = a*x + y over n elements. */
void num_axpy(double a, const double *restrict x, double *restrict y, size_t n);
/* num_dot returns the dot product of x and y over n elements. */
double num_dot(const double *restrict x, const double *restrict y, size_t n);
/* num_target names the target the library was compiled for. */
const char *num_target(void);

#endif
