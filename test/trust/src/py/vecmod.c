/* A Python extension module with a float kernel, vectorised for -march. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#define N 65536
static float a[N], b[N], c[N];
static PyObject *run(PyObject *self, PyObject *args) {
	for (int i = 0; i < N; i++) { a[i] = i * 0.5f; b[i] = (N - i) * 0.25f; }
	for (int r = 0; r < 20; r++)
		for (int i = 0; i < N; i++) c[i] = c[i] * 0.5f + a[i] * b[i];
	double s = 0;
	for (int i = 0; i < N; i++) s += c[i];
	return PyFloat_FromDouble(s);
}
static PyMethodDef methods[] = {{"run", run, METH_NOARGS, "run the kernel"}, {0}};
static struct PyModuleDef mod = {PyModuleDef_HEAD_INIT, "vecmod", 0, -1, methods};
PyMODINIT_FUNC PyInit_vecmod(void) { return PyModule_Create(&mod); }
