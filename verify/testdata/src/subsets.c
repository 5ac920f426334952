/*
 * subsets: loops gcc vectorises with one AVX-512 subset beyond
 * skylake_avx512's: VPOPCNTDQ (-mavx512vpopcntdq, icelake) for the
 * population counts, AVX512-FP16 (-mavx512fp16, sapphirerapids) for the
 * _Float16 arithmetic with -DFP16.
 */
#include <stdio.h>
#include <stdlib.h>
#define N 4096
unsigned int bits[N];
int counts[N];
#ifdef FP16
_Float16 h[N], g[N];
#endif
int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : N;
  if (n > N) n = N;
  for (int i = 0; i < n; i++) bits[i] = i * 2654435761u;
  for (int i = 0; i < n; i++) counts[i] = __builtin_popcount(bits[i]);
  long s = 0;
  for (int i = 0; i < n; i++) s += counts[i];
#ifdef FP16
  for (int i = 0; i < n; i++) { h[i] = (_Float16)(i % 7); g[i] = (_Float16)(i % 5); }
  for (int i = 0; i < n; i++) h[i] = h[i] * g[i] + h[i];
  s += (long)h[n / 2];
#endif
  printf("%ld\n", s);
  return 0;
}
