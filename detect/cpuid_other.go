//go:build !amd64

package detect

// ProbeCPUID returns ok false: CPUID exists only on x86-64 (amd64) here.
func ProbeCPUID() (c *CPUID, ok bool) { return nil, false }
