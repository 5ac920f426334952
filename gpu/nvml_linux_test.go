//go:build linux && cgo

package gpu

import (
	"errors"
	"reflect"
	"testing"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock"

	"github.com/tailor-dev/tailor/profile"
)

type fakeDevice struct {
	name         string
	major, minor int
	ret          nvml.Return // of GetCudaComputeCapability
}

// fakeNVML is an NVML with devs; shutdowns counts Shutdown calls.
func fakeNVML(initRet nvml.Return, devs []fakeDevice, shutdowns *int) *mock.Interface {
	return &mock.Interface{
		InitFunc:                       func() nvml.Return { return initRet },
		ShutdownFunc:                   func() nvml.Return { *shutdowns++; return nvml.SUCCESS },
		SystemGetDriverVersionFunc:     func() (string, nvml.Return) { return "550.54.15", nvml.SUCCESS },
		SystemGetCudaDriverVersionFunc: func() (int, nvml.Return) { return 12040, nvml.SUCCESS },
		DeviceGetCountFunc:             func() (int, nvml.Return) { return len(devs), nvml.SUCCESS },
		DeviceGetHandleByIndexFunc: func(i int) (nvml.Device, nvml.Return) {
			d := devs[i]
			return &mock.Device{
				GetNameFunc: func() (string, nvml.Return) { return d.name, nvml.SUCCESS },
				GetCudaComputeCapabilityFunc: func() (int, int, nvml.Return) {
					return d.major, d.minor, d.ret
				},
			}, nvml.SUCCESS
		},
	}
}

func TestListNVML(t *testing.T) {
	h100 := fakeDevice{"NVIDIA H100 80GB HBM3", 9, 0, nvml.SUCCESS}
	h100GPU := nv("NVIDIA H100 80GB HBM3", "9.0", "550.54.15", "12.4")
	tests := []struct {
		name          string
		init          nvml.Return
		devs          []fakeDevice
		want          []profile.GPU
		wantErr       []string
		wantNoNVML    bool
		wantShutdowns int
	}{
		{"two GPUs", nvml.SUCCESS, []fakeDevice{h100, h100}, []profile.GPU{h100GPU, h100GPU}, nil, false, 1},
		{"no GPU", nvml.SUCCESS, nil, []profile.GPU{}, nil, false, 1},
		{"library not found", nvml.ERROR_LIBRARY_NOT_FOUND, nil, nil, []string{"NVML not available"}, true, 0},
		{"driver not loaded", nvml.ERROR_DRIVER_NOT_LOADED, nil, nil, []string{"NVML init", "ERROR_DRIVER_NOT_LOADED"}, false, 0},
		{"lost GPU", nvml.SUCCESS, []fakeDevice{{"NVIDIA H100 80GB HBM3", 0, 0, nvml.ERROR_GPU_IS_LOST}, h100},
			[]profile.GPU{h100GPU}, []string{"NVML device 0", "compute capability", "ERROR_GPU_IS_LOST"}, false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			shutdowns := 0
			got, err := listNVML(fakeNVML(tt.init, tt.devs, &shutdowns))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("listNVML = %+v, want %+v", got, tt.want)
			}
			checkErr(t, err, tt.wantErr)
			if errors.Is(err, errNoNVML) != tt.wantNoNVML {
				t.Errorf("errors.Is(%v, errNoNVML) = %v, want %v", err, !tt.wantNoNVML, tt.wantNoNVML)
			}
			if shutdowns != tt.wantShutdowns {
				t.Errorf("Shutdown called %d times, want %d", shutdowns, tt.wantShutdowns)
			}
		})
	}
}

// TestProbeNVMLNoLibrary runs the real probe: on a host without
// libnvidia-ml it must report NVML unavailable, nothing else.
func TestProbeNVMLNoLibrary(t *testing.T) {
	gpus, err := probeNVML()
	if err == nil {
		t.Skipf("libnvidia-ml present: %d GPUs", len(gpus))
	}
	if !errors.Is(err, errNoNVML) && len(gpus) == 0 {
		t.Logf("NVML present but failing (a broken driver?): %v", err)
	}
}
