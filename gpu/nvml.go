package gpu

import (
	"errors"
	"fmt"
	"strings"

	"github.com/tailor-dev/tailor/profile"
)

// errNoNVML reports that libnvidia-ml could not be loaded: the host has no
// NVIDIA driver, or this binary was built without cgo.
var errNoNVML = errors.New("NVML not available")

// fromNVML converts the values NVML reports for one device into a GPU:
// the device name, its CUDA compute capability, the driver version
// (nvmlSystemGetDriverVersion) and the CUDA version the driver supports as
// nvmlSystemGetCudaDriverVersion encodes it (1000*major + 10*minor, 12040
// for 12.4). When that is unknown (0), the CUDA version is derived from the
// driver version.
func fromNVML(name string, major, minor int, driver string, cudaDriverVersion int) profile.GPU {
	g := profile.GPU{
		Vendor:            profile.VendorNVIDIA,
		Model:             strings.TrimSpace(name),
		ComputeCapability: fmt.Sprintf("%d.%d", major, minor),
		Driver:            strings.TrimSpace(driver),
		CUDAVersion:       cudaVersion(cudaDriverVersion),
	}
	if g.CUDAVersion == "" && g.Driver != "" {
		g.CUDAVersion = profile.CUDAForDriver(g.Driver)
	}
	return g
}

// cudaVersion formats a CUDA version encoded as 1000*major + 10*minor
// (CUDA_VERSION, cuDriverGetVersion, nvmlSystemGetCudaDriverVersion):
// 12040 is "12.4", 11080 "11.8". It returns "" for values that are not a
// version.
func cudaVersion(v int) string {
	if v < 1000 {
		return ""
	}
	return fmt.Sprintf("%d.%d", v/1000, v%1000/10)
}
