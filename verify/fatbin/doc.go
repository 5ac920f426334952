// Package fatbin reads which NVIDIA GPU code a file holds as the CUDA
// runtime loads it: the fat binaries (containers of SASS cubins for sm_XY
// and PTX for compute_XY) in a host program's or library's .nv_fatbin
// section, and kernel files loaded at run time (cuModuleLoad): a .fatbin
// container file, a .cubin, or .ptx text. Code the runtime never loads is
// not read: containers outside .nv_fatbin (__nv_relfatbin holds the
// relocatable device code of -rdc objects, which only nvlink reads).
//
// The container format is not published; this reads it by the layout of
// NVIDIA's fatbinary.h (fatBinaryHeader: magic 0xBA55ED50, version 1,
// header size 16, the size of the entries) and the entry header as nvcc
// 11.8 writes it and cuobjdump lists it: kind (1 PTX, 2 or 0x10 ELF cubin),
// the header's size (64 to 4096 bytes), the 8-byte-aligned payload size,
// at offset 28 the SM version (80 for sm_80, 100 for sm_100), at 40 the
// flags (0x2000: payload LZ4-compressed, as -Xfatbin -compress-all and
// nvcc's default for PTX give; 0x8000: ZSTD, from CUDA 12.8, whose frames
// are also known by their magic number), at 56 the uncompressed size. The
// LZ4 path is checked on nvcc 11.8's output; the ZSTD one only on
// containers of real cubins that a test compresses itself. A cubin's ELF e_flags tell an arch-specific sm_XYa
// (EF_CUDA_ACCELERATORS, LLVM's ELF.h names the bits); a PTX module's
// .target line tells compute_XYa and compute_XYf.
//
// A module with no kernel (a cubin without .text sections, PTX without
// .entry) is marked Empty: nvcc puts such stubs in every program it links
// (the device-link stub of a program whose kernels live in a library), and
// they are no need. Reading is bounded: distinct entries are kept, never
// one record per container, and payloads are decoded only up to 1 MiB.
package fatbin
