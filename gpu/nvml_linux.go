//go:build linux && cgo

package gpu

import (
	"errors"
	"fmt"

	"github.com/NVIDIA/go-nvml/pkg/nvml"

	"github.com/tailor-dev/tailor/profile"
)

// probeNVML lists the NVIDIA GPUs through libnvidia-ml.so.1, loaded at run
// time. It returns errNoNVML when the library is not installed.
func probeNVML() ([]profile.GPU, error) {
	return listNVML(nvml.New())
}

// listNVML lists the GPUs that lib reports. Devices that fail to answer are
// reported in the error; the others are returned.
func listNVML(lib nvml.Interface) (gpus []profile.GPU, err error) {
	if ret := lib.Init(); ret != nvml.SUCCESS {
		if ret == nvml.ERROR_LIBRARY_NOT_FOUND {
			return nil, errNoNVML
		}
		return nil, fmt.Errorf("NVML init: %w", ret)
	}
	defer func() {
		if ret := lib.Shutdown(); ret != nvml.SUCCESS {
			err = errors.Join(err, fmt.Errorf("NVML shutdown: %w", ret))
		}
	}()
	driver, ret := lib.SystemGetDriverVersion()
	if ret != nvml.SUCCESS {
		return nil, fmt.Errorf("NVML driver version: %w", ret)
	}
	cuda, ret := lib.SystemGetCudaDriverVersion()
	if ret != nvml.SUCCESS {
		cuda = 0 // derived from the driver version instead
	}
	n, ret := lib.DeviceGetCount()
	if ret != nvml.SUCCESS {
		return nil, fmt.Errorf("NVML device count: %w", ret)
	}
	gpus = make([]profile.GPU, 0, n)
	var errs []error
	for i := range n {
		g, err := nvmlDevice(lib, i, driver, cuda)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		gpus = append(gpus, g)
	}
	return gpus, errors.Join(errs...)
}

// nvmlDevice reads GPU i.
func nvmlDevice(lib nvml.Interface, i int, driver string, cuda int) (profile.GPU, error) {
	dev, ret := lib.DeviceGetHandleByIndex(i)
	if ret != nvml.SUCCESS {
		return profile.GPU{}, fmt.Errorf("NVML device %d: %w", i, ret)
	}
	name, ret := dev.GetName()
	if ret != nvml.SUCCESS {
		name = ""
	}
	major, minor, ret := dev.GetCudaComputeCapability()
	if ret != nvml.SUCCESS {
		return profile.GPU{}, fmt.Errorf("NVML device %d (%s) compute capability: %w", i, name, ret)
	}
	g := fromNVML(name, major, minor, driver, cuda)
	if err := g.Validate(); err != nil {
		return profile.GPU{}, fmt.Errorf("NVML device %d: %w", i, err)
	}
	return g, nil
}
