// Package demo runs tailor's whole loop on one machine with nothing set up:
// an embedded registry in a temporary directory, the forces example built
// for every x86-64 (or arm64) level the local C compiler can target, pushed
// as one index, resolved for this host, pulled, and the generic and the
// tailored binaries run side by side to measure the speedup.
package demo
