// rdc_a.cu: a device function another translation unit calls (-rdc).
__device__ float twice(float x) { return 2.0f * x; }
