/*
 * A stand-in for libnvidia-ml.so.1 with the signatures of nvml.h, for
 * tests of tailor's run-time binding (dlopen without cgo). It reports the
 * values recorded from two H100 GPUs on driver 550.54.15 (CUDA 12.4); the
 * second device's compute capability fails with NVML_ERROR_GPU_IS_LOST
 * when FAKE_NVML_LOST is set.
 */
#include <stdlib.h>
#include <string.h>

typedef int nvmlReturn_t;
typedef struct nvmlDevice_st *nvmlDevice_t;

static struct nvmlDevice_st { int index; } devices[2] = {{0}, {1}};
static int initialised;

nvmlReturn_t nvmlInit_v2(void) { initialised++; return 0; }
nvmlReturn_t nvmlShutdown(void) { initialised--; return initialised < 0 ? 1 : 0; }

static nvmlReturn_t copy(char *dst, unsigned int n, const char *src) {
	if (strlen(src) + 1 > n) return 7; /* NVML_ERROR_INSUFFICIENT_SIZE */
	strcpy(dst, src);
	return 0;
}

nvmlReturn_t nvmlSystemGetDriverVersion(char *v, unsigned int n) {
	return initialised ? copy(v, n, "550.54.15") : 1;
}
nvmlReturn_t nvmlSystemGetCudaDriverVersion_v2(int *v) { *v = 12040; return 0; }
nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *n) { *n = 2; return initialised ? 0 : 1; }
nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int i, nvmlDevice_t *d) {
	if (i >= 2) return 2; /* NVML_ERROR_INVALID_ARGUMENT */
	*d = &devices[i];
	return 0;
}
nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t d, char *name, unsigned int n) {
	return copy(name, n, "NVIDIA H100 80GB HBM3");
}
nvmlReturn_t nvmlDeviceGetCudaComputeCapability(nvmlDevice_t d, int *major, int *minor) {
	if (d->index == 1 && getenv("FAKE_NVML_LOST")) return 15;
	*major = 9;
	*minor = 0;
	return 0;
}
