/* A float kernel gcc vectorises for the -march it is given. */
#include <stdio.h>
#define N 65536
static float a[N], b[N], c[N];
int main(void) {
	for (int i = 0; i < N; i++) { a[i] = i * 0.5f; b[i] = (N - i) * 0.25f; }
	for (int r = 0; r < 20; r++)
		for (int i = 0; i < N; i++) c[i] = c[i] * 0.5f + a[i] * b[i];
	double s = 0;
	for (int i = 0; i < N; i++) s += c[i];
	printf("%.3f\n", s);
	return 0;
}
