/*
 * dispatch: a program with its own run-time dispatch (gcc target_clones:
 * an IFUNC with AVX-512, AVX2 and default clones), a qsort callback and
 * printf. Built with -march=x86-64 it needs nothing beyond x86-64: the
 * clones are chosen at start by the CPU.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
__attribute__((target_clones("avx512f","avx2","default")))
void scale(double *a, int n, double s) { for (int i = 0; i < n; i++) a[i] *= s; }
static int cmp(const void *a, const void *b) { return *(const double*)a < *(const double*)b ? -1 : 1; }
int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 1000;
  double *a = malloc(n * sizeof *a);
  for (int i = 0; i < n; i++) a[i] = (i * 7919) % 1000;
  scale(a, n, 1.5);
  qsort(a, n, sizeof *a, cmp);
  char buf[64]; snprintf(buf, sizeof buf, "%g", a[n/2]);
  printf("%s %zu\n", buf, strlen(buf));
  return 0;
}
