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

// nvmlAPI is the part of NVML tailor calls (nvml.h). The real library
// (dlopen'ed at run time, no cgo) and test fakes implement it, so listNVML
// is tested on every host.
type nvmlAPI interface {
	// Init is nvmlInit_v2.
	Init() error
	// Shutdown is nvmlShutdown.
	Shutdown() error
	// DriverVersion is nvmlSystemGetDriverVersion.
	DriverVersion() (string, error)
	// CUDADriverVersion is nvmlSystemGetCudaDriverVersion(_v2):
	// 1000*major + 10*minor.
	CUDADriverVersion() (int, error)
	// DeviceCount is nvmlDeviceGetCount_v2.
	DeviceCount() (int, error)
	// Device reads device i: nvmlDeviceGetHandleByIndex_v2, then
	// nvmlDeviceGetName (name may be "" when that fails) and
	// nvmlDeviceGetCudaComputeCapability.
	Device(i int) (name string, major, minor int, err error)
}

// nvmlReturn is an nvmlReturn_t that is not NVML_SUCCESS.
type nvmlReturn int32

// The nvmlReturn_t values of nvml.h that tailor names in errors.
var nvmlReturnNames = map[nvmlReturn]string{
	1: "ERROR_UNINITIALIZED", 2: "ERROR_INVALID_ARGUMENT", 3: "ERROR_NOT_SUPPORTED",
	4: "ERROR_NO_PERMISSION", 5: "ERROR_ALREADY_INITIALIZED", 6: "ERROR_NOT_FOUND",
	7: "ERROR_INSUFFICIENT_SIZE", 8: "ERROR_INSUFFICIENT_POWER", 9: "ERROR_DRIVER_NOT_LOADED",
	10: "ERROR_TIMEOUT", 11: "ERROR_IRQ_ISSUE", 12: "ERROR_LIBRARY_NOT_FOUND",
	13: "ERROR_FUNCTION_NOT_FOUND", 14: "ERROR_CORRUPTED_INFOROM", 15: "ERROR_GPU_IS_LOST",
	16: "ERROR_RESET_REQUIRED", 17: "ERROR_OPERATING_SYSTEM", 18: "ERROR_LIB_RM_VERSION_MISMATCH",
	19: "ERROR_IN_USE", 20: "ERROR_MEMORY", 21: "ERROR_NO_DATA", 999: "ERROR_UNKNOWN",
}

// nvmlLibraryNotFound is NVML_ERROR_LIBRARY_NOT_FOUND.
const nvmlLibraryNotFound nvmlReturn = 12

// nvmlDriverNotLoaded is NVML_ERROR_DRIVER_NOT_LOADED: the library is
// installed but no driver runs, a host without NVIDIA GPU.
const nvmlDriverNotLoaded nvmlReturn = 9

func (r nvmlReturn) Error() string {
	if n, ok := nvmlReturnNames[r]; ok {
		return n
	}
	return fmt.Sprintf("nvmlReturn_t %d", int32(r))
}

// listNVML lists the GPUs that lib reports. Devices that fail to answer
// are reported in the error; the others are returned.
func listNVML(lib nvmlAPI) (gpus []profile.GPU, err error) {
	if err := lib.Init(); err != nil {
		switch {
		case errors.Is(err, nvmlLibraryNotFound):
			return nil, errNoNVML
		case errors.Is(err, nvmlDriverNotLoaded):
			// The library came with the CUDA toolkit; no driver runs.
			return nil, fmt.Errorf("NVML init: %w (%w)", err, errNoNVML)
		}
		return nil, fmt.Errorf("NVML init: %w", err)
	}
	defer func() {
		if serr := lib.Shutdown(); serr != nil {
			err = errors.Join(err, fmt.Errorf("NVML shutdown: %w", serr))
		}
	}()
	driver, err := lib.DriverVersion()
	if err != nil {
		return nil, fmt.Errorf("NVML driver version: %w", err)
	}
	cuda, err := lib.CUDADriverVersion()
	if err != nil {
		cuda = 0 // derived from the driver version instead
	}
	n, err := lib.DeviceCount()
	if err != nil {
		return nil, fmt.Errorf("NVML device count: %w", err)
	}
	gpus = make([]profile.GPU, 0, n)
	var errs []error
	for i := range n {
		name, major, minor, err := lib.Device(i)
		if err != nil {
			errs = append(errs, fmt.Errorf("NVML device %d (%s): %w", i, name, err))
			continue
		}
		g := fromNVML(name, major, minor, driver, cuda)
		if err := g.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("NVML device %d: %w", i, err))
			continue
		}
		gpus = append(gpus, g)
	}
	return gpus, errors.Join(errs...)
}
