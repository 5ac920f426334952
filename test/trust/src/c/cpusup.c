/* __builtin_cpu_supports: the AVX2 kernel runs only where the CPU has it. */
#include <stdio.h>
#define N 65536
static float a[N], b[N], c[N];
__attribute__((target("avx2,fma"))) static void kernel_avx2(void) {
	for (int r = 0; r < 20; r++)
		for (int i = 0; i < N; i++) c[i] = c[i] * 0.5f + a[i] * b[i];
}
static void kernel(void) {
	for (int r = 0; r < 20; r++)
		for (int i = 0; i < N; i++) c[i] = c[i] * 0.5f + a[i] * b[i];
}
int main(void) {
	for (int i = 0; i < N; i++) { a[i] = i * 0.5f; b[i] = (N - i) * 0.25f; }
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
		kernel_avx2();
	else
		kernel();
	printf("%.3f\n", c[N / 2]);
	return 0;
}
