// Package profile defines the host profile: what a machine offers to the
// images it runs (os, architecture, OCI variant, CPU target and its fallback
// chain, CPU features, GPUs, labels). Profiles are produced by package
// detect, written as JSON by `tailor detect -o json`, and read back from
// that JSON or from a short spec string such as
// "cpu=zen3,gpu=8.0,driver=550.54,label.mpi=openmpi".
//
// The package is plain data and parsing; it does no detection.
package profile
