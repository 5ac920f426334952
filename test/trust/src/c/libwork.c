/* A library kernel, built plain, with an ISA note only, or for haswell. */
#define N 65536
static float a[N], b[N], c[N];
double work(void) {
	for (int i = 0; i < N; i++) { a[i] = i * 0.5f; b[i] = (N - i) * 0.25f; }
	for (int r = 0; r < 20; r++)
		for (int i = 0; i < N; i++) c[i] = c[i] * 0.5f + a[i] * b[i];
	double s = 0;
	for (int i = 0; i < N; i++) s += c[i];
	return s;
}
