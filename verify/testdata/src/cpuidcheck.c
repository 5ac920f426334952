/*
 * cpuidcheck: PostgreSQL's CRC32C idiom: CPUID itself (no library
 * variable) decides between an SSE4.2 crc32 loop and a table-free one.
 * A branch on a CPUID result is dispatch: built -march=x86-64 it runs on
 * any x86-64.
 */
#include <stdio.h>
#include <stdlib.h>
#include <cpuid.h>
#include <nmmintrin.h>
__attribute__((target("sse4.2"), noinline)) static unsigned crc_sse42(const unsigned char *p, int n) { unsigned c = ~0u; for (int i = 0; i < n; i++) c = _mm_crc32_u8(c, p[i]); return ~c; }
__attribute__((noinline)) static unsigned crc_sb(const unsigned char *p, int n) { unsigned c = ~0u; for (int i = 0; i < n; i++) { c ^= p[i]; for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0x82f63b78 & -(c & 1)); } return ~c; }
int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 100; unsigned char *b = malloc(n); for (int i = 0; i < n; i++) b[i] = i;
  unsigned a, bb, c, d; __get_cpuid(1, &a, &bb, &c, &d);
  unsigned r; if (c & bit_SSE4_2) r = crc_sse42(b, n); else r = crc_sb(b, n);
  printf("%u\n", r); return 0; }
