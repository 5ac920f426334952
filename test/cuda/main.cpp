// main.cpp: a program whose GPU code lives in libscale.so. Linked by g++ it
// carries no GPU code; compiled and linked by nvcc (-x cu) it carries an
// empty stub module.
#include <cstdio>

extern "C" int run_scale(float *a, float s, int n);

int main() {
  int r = run_scale(nullptr, 2.0f, 0);
  printf("%d\n", r);
  return r;
}
