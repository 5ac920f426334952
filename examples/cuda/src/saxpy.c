/* saxpy.c: the CPU build of saxpy.cu, for hosts without an NVIDIA GPU. */
#include <stdio.h>
#include <stdlib.h>

int main(void) {
  const int n = 1 << 20;
  float *x = malloc(n * sizeof(float)), *y = malloc(n * sizeof(float));
  if (!x || !y) return 1;
  for (int i = 0; i < n; i++) { x[i] = 1.0f; y[i] = 2.0f; }
  for (int i = 0; i < n; i++) y[i] = 3.0f * x[i] + y[i];
  printf("saxpy on the CPU: y[0] = %g (want 5)\n", y[0]);
  return y[0] != 5.0f;
}
