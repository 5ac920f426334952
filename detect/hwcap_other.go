//go:build !(linux && arm64)

package detect

// ProbeHWCAP returns ok false: HWCAP is read on arm64 Linux only.
func ProbeHWCAP() (h HWCAP, ok bool) { return HWCAP{}, false }
