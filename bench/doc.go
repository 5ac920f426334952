// Package bench holds tailor's benchmarks that run whole processes against
// a local registry; see README.md for the figures and how to reproduce them.
package bench
