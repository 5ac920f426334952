/*
 * ssse3check: an SSSE3 function called only when __builtin_cpu_supports
 * says so. Stripped, the analysis cannot find __cpu_model and counts the
 * SSSE3 code; Conroe, the x86_64 model, has SSSE3 and cannot say
 * otherwise; a run on the first Opteron (SSE2 only) can.
 */
#include <stdio.h>
#include <stdlib.h>
#include <tmmintrin.h>

__attribute__((target("ssse3"), noinline))
static int absdiff_ssse3(const int *a, int n) {
  __m128i s = _mm_setzero_si128();
  for (int i = 0; i + 4 <= n; i += 4)
    s = _mm_add_epi32(s, _mm_abs_epi32(_mm_loadu_si128((const __m128i *)(a + i))));
  int out[4];
  _mm_storeu_si128((__m128i *)out, s);
  return out[0] + out[1] + out[2] + out[3];
}

__attribute__((noinline))
static int absdiff_plain(const int *a, int n) {
  int s = 0;
  for (int i = 0; i + 4 <= n; i += 4)
    for (int k = 0; k < 4; k++) s += abs(a[i + k]);
  return s;
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 1000;
  int *a = malloc(n * sizeof *a);
  for (int i = 0; i < n; i++) a[i] = (i % 13) - 6;
  __builtin_cpu_init();
  int s = __builtin_cpu_supports("ssse3") ? absdiff_ssse3(a, n) : absdiff_plain(a, n);
  printf("%d\n", s);
  return 0;
}
