// Package build builds what a tailor.yaml describes, without a Docker
// engine: a stack (package stack) of components in layer order, each
// varying along some axes (cpu, cuda, rocm, label axes), or a matrix of
// targets (the stack with one cpu axis and one command on a base image).
//
// NewPlan resolves the file on this machine: catalog targets and "host",
// the toolchain of every value a command varies on (the C compiler of the
// target's architecture, nvcc, hipcc; an optional value without one is
// skipped, and listed), the matrix after the exclude rules, and its
// pruning to a fleet (WithFleet). Plan.Run builds each component once per
// combination of its own axes, up to WithParallelism at once: a dir: is
// packed as is, a command: runs in a copy of its context with its axes in
// the environment (CFLAGS from the catalog, TAILOR_TARGET, CUDA_ARCH,
// TAILOR_<AXIS>, ...) and its output is packed, an image: is fetched as the
// base. Layers are reproducible (sorted, dated at SOURCE_DATE_EPOCH, owner
// root, modes normalised) and shared by every entry that takes them; each
// entry's image is the base plus one layer per component, and the index
// over them is a tailor index (package publish). Each layer streams to a
// gzip file in a temporary directory as it is packed, its digests hashed
// on the way, so a build's memory does not grow with its files;
// Result.Close removes them. Result.Publish, the one place where what was
// built leaves the machine, pushes it to a registry or writes it to an OCI
// layout, only once every build succeeded.
package build
