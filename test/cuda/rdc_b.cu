// rdc_b.cu: a kernel calling a device function of rdc_a.cu, so the
// program needs device linking.
#include <cstdio>
extern __device__ float twice(float x);
__global__ void apply(float *a, int n) { int i = blockIdx.x * blockDim.x + threadIdx.x; if (i < n) a[i] = twice(a[i]); }
int main() { float *a; cudaMalloc(&a, 4096); apply<<<4, 256>>>(a, 1024); cudaError_t e = cudaDeviceSynchronize(); printf("%s\n", cudaGetErrorString(e)); return e != cudaSuccess; }
