//go:build !linux || !nvml

package gpu

import "github.com/tailor-dev/tailor/profile"

// probeNVML reports NVML unavailable: tailor loads libnvidia-ml only on
// Linux and only when built with -tags nvml, since loading a shared
// library makes the binary depend on the C library's dynamic loader (see
// nvml_linux.go). Detection falls back to nvidia-smi, which reports the
// same facts.
func probeNVML() ([]profile.GPU, error) {
	return nil, errNoNVML
}
