/*
 * cpucheck: a program that tests the CPU itself (__builtin_cpu_supports)
 * and calls its AVX2 or AVX-512 function directly, the idiom of programs
 * that dispatch without IFUNC. Built -march=x86-64 it runs on any x86-64.
 * With -DUNCHECKED the AVX2 function is called whatever the CPU: it dies
 * with SIGILL below AVX2.
 */
#include <stdio.h>
#include <stdlib.h>

__attribute__((target("avx2"), noinline))
static long sum_avx2(const int *a, int n) { long s = 0; for (int i = 0; i < n; i++) s += a[i] * 3; return s; }

__attribute__((target("avx512f"), noinline))
static long sum_avx512(const int *a, int n) { long s = 0; for (int i = 0; i < n; i++) s += a[i] * 5; return s; }

__attribute__((noinline))
static long sum_plain(const int *a, int n) { long s = 0; for (int i = 0; i < n; i++) s += a[i]; return s; }

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 1000;
  int *a = malloc(n * sizeof *a);
  for (int i = 0; i < n; i++) a[i] = i % 97;
  long s;
#ifdef UNCHECKED
  s = sum_avx2(a, n);
#else
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f"))
    s = sum_avx512(a, n);
  else if (__builtin_cpu_supports("avx2"))
    s = sum_avx2(a, n);
  else
    s = sum_plain(a, n);
#endif
  printf("%ld\n", s);
  return 0;
}
