//go:build !linux || !cgo

package gpu

import "github.com/tailor-dev/tailor/profile"

// probeNVML reports NVML unavailable: go-nvml loads libnvidia-ml through
// cgo, on Linux only. Detection falls back to nvidia-smi.
func probeNVML() ([]profile.GPU, error) {
	return nil, errNoNVML
}
