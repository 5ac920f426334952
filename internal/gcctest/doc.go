// Package gcctest builds C programs with gcc for verify's tests: the demo's
// kernel loop (examples/forces) and the programs of verify/testdata/src,
// for a given -march and link flags. gcc missing skips the test, or fails
// it where tooltest.RequireEnv names gcc (CI).
package gcctest
