// Package requirement reads and writes what one entry of an image index
// needs from a host: a CPU target and extra CPU features, CUDA code
// (sm_XY, compute_XY), the CUDA toolkit version, ROCm gfx targets and host
// labels.
//
// Requirements are read from every encoding tailor knows (DESIGN.md §2):
// dev.tailor.* annotations, a bare platform variant (amd64/v3, arm64/v8.2),
// MetaHub-style platform.features (cpu:skylake, nvcap:5.2), or nothing at
// all, which means a generic build. They are written back as annotations.
package requirement
