// Package catalog is tailor's own catalog of CPU microarchitectures
// ("targets"), named as archspec names them: x86_64, x86_64_v3, haswell,
// skylake_avx512, zen4, neoverse_v2, power9le, u74mc and the rest.
//
// Each target has a vendor, parents (the catalog is a DAG), the Linux
// /proc/cpuinfo feature flags it needs, and compiler flags per compiler
// version. From those the package derives what the rest of tailor needs:
// the fallback chain of a target (Ancestors), its x86-64 level, its
// architecture family and its OCI platform.
//
// The package does no I/O: the data is embedded in the binary.
package catalog
