/* target_clones: gcc emits one body per target and an IFUNC resolver. */
#include <stdio.h>
#define N 65536
static float a[N], b[N], c[N];
__attribute__((target_clones("avx2", "arch=x86-64-v4", "default")))
void kernel(void) {
	for (int r = 0; r < 20; r++)
		for (int i = 0; i < N; i++) c[i] = c[i] * 0.5f + a[i] * b[i];
}
int main(void) {
	for (int i = 0; i < N; i++) { a[i] = i * 0.5f; b[i] = (N - i) * 0.25f; }
	kernel();
	printf("%.3f\n", c[N / 2]);
	return 0;
}
