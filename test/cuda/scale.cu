// scale.cu: a shared library holding a kernel; main.cpp calls it, so the
// program's own GPU code (if any) is only nvcc's device-link stub.
__global__ void scale(float *a, float s, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) a[i] *= s;
}

extern "C" int run_scale(float *a, float s, int n) {
  if (n > 0) scale<<<(n + 255) / 256, 256>>>(a, s, n);
  return (int)cudaDeviceSynchronize();
}
