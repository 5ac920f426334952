// Package build builds one image per target of a tailor.yaml matrix,
// without a Docker engine: for each target it runs the build command with
// the target's compiler flags in the environment (CFLAGS, CXXFLAGS,
// GOAMD64/GOARM64, TAILOR_TARGET, CUDA_ARCH, TAILOR_OUT), packs the output
// directory as a layer on the base image, and assembles the images into a
// tailor index (package publish). Targets build in parallel; the result is
// pushed to a registry or written to an OCI layout only when every target
// built.
package build
