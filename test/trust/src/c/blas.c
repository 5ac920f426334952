/* A matrix product through Debian's OpenBLAS (which picks its kernel by CPU). */
#include <stdio.h>
enum { RowMajor = 101, NoTrans = 111 };
void cblas_dgemm(int, int, int, int, int, int, double, const double *, int,
		 const double *, int, double, double *, int);
#define N 64
static double a[N * N], b[N * N], c[N * N];
int main(void) {
	for (int i = 0; i < N * N; i++) { a[i] = i % 7; b[i] = i % 5; }
	cblas_dgemm(RowMajor, NoTrans, NoTrans, N, N, N, 1.0, a, N, b, N, 0.0, c, N);
	printf("%.1f\n", c[N * N / 2]);
	return 0;
}
