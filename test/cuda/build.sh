#!/bin/bash
# build.sh OUTDIR: compiles the CUDA sources beside this script with nvcc
# into the binaries verify's CUDA tests read (verify/cuda_nvcc_test.go).
# nvcc compiles without a GPU. Every case is one nvcc (or g++) command
# line, so what a binary holds follows from how it was made; the test
# checks each reading against cuobjdump, not against this list.
set -euo pipefail
out=${1:?usage: build.sh OUTDIR}
src=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
cd "$out"
nv() { nvcc -O2 "$@"; }
k=$src/kernel.cu

nv -gencode arch=compute_70,code=sm_70 -o sm70 "$k"
nv -gencode arch=compute_80,code=sm_80 -o sm80 "$k"
nv -gencode arch=compute_80,code=sm_80 -gencode arch=compute_90,code=sm_90 -o sm80-sm90 "$k"
nv -gencode arch=compute_80,code=compute_80 -o ptx80 "$k"
nv -gencode arch=compute_80,code=[sm_80,compute_80] -o sm80-ptx80 "$k"
nv -o defaults "$k"
nv -Xfatbin -compress-all -gencode arch=compute_70,code=sm_70 -gencode arch=compute_80,code=[sm_80,compute_80] -o compressed "$k"
# Relocatable device code, device-linked by nvcc: the relocatable objects
# stay in __nv_relfatbin, the linked code is in .nv_fatbin.
nv -rdc=true -gencode arch=compute_80,code=sm_80 -o rdc-sm80 "$src/rdc_a.cu" "$src/rdc_b.cu"
nv -rdc=true -gencode arch=compute_90,code=compute_90 -o rdc-ptx90 "$src/rdc_a.cu" "$src/rdc_b.cu"
# Separate compilation, device link, host link by g++.
nv -dc -gencode arch=compute_80,code=sm_80 -Xcompiler -fPIC -o rdc_a.o "$src/rdc_a.cu"
nv -dc -gencode arch=compute_80,code=sm_80 -Xcompiler -fPIC -o rdc_b.o "$src/rdc_b.cu"
nv -dlink -gencode arch=compute_80,code=sm_80 -Xcompiler -fPIC -o rdc_dlink.o rdc_a.o rdc_b.o
g++ -o rdc-gxx rdc_a.o rdc_b.o rdc_dlink.o -lcudart
rm -f rdc_a.o rdc_b.o rdc_dlink.o
# Kernels in a shared library; the program linked by nvcc and by g++.
nv -shared -Xcompiler -fPIC -gencode arch=compute_80,code=sm_80 -o libscale.so "$src/scale.cu"
nv -x cu -o shared-nvcc "$src/main.cpp" -L. -lscale -Xlinker -rpath,'$ORIGIN'
g++ -o shared-gxx "$src/main.cpp" -L. -lscale -Wl,-rpath,'$ORIGIN'
# Kernel files loaded at run time (cuModuleLoad).
nv -fatbin -gencode arch=compute_80,code=sm_80 -gencode arch=compute_90,code=compute_90 -o kernel.fatbin "$k"
nv -cubin -gencode arch=compute_86,code=sm_86 -o kernel.cubin "$k"
nv -ptx -gencode arch=compute_75,code=compute_75 -o kernel.ptx "$k"
