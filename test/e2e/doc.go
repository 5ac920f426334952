// Package e2e runs the tailor binary as a process against the real
// distribution registry, started in-process: resolve, inspect, pull and run
// as scripts use them, and bad input.
package e2e
