//go:build !linux

package gpu

import "github.com/tailor-dev/tailor/profile"

// probeNVML reports NVML unavailable: tailor loads libnvidia-ml on Linux
// only. Detection falls back to nvidia-smi.
func probeNVML() ([]profile.GPU, error) {
	return nil, errNoNVML
}
