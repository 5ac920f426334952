// Package fatbin reads the architecture lists of NVIDIA CUDA fat binaries
// (the .nv_fatbin section of CUDA executables and libraries): which
// GPU code each holds, native SASS for sm_XY or PTX for compute_XY, to be
// compared with what an image declares in dev.tailor.cuda.arch.
//
// The container format is not published; this reads it as cuobjdump does
// by the layout of NVIDIA's fatbinary.h (fatBinaryHeader: magic
// 0xBA55ED50, version 1, header size 16, the size of the entries) and the
// reverse-engineered entry header: kind (1 PTX, 2 or 0x10 ELF cubin), the
// header's size (64, 80 or 112 bytes), the 8-byte-aligned payload size,
// and at offset 28 the SM version (80 for sm_80, 100 for sm_100).
// Payloads (often compressed) are skipped, never decoded.
//
// Scan finds every container in a stream read once, holding only a small
// window; Parse does the same for bytes in memory.
package fatbin
