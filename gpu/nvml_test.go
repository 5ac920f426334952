package gpu

import (
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/tailor-dev/tailor/profile"
)

func TestFromNVML(t *testing.T) {
	// Values recorded from nvmlDeviceGetName, nvmlDeviceGetCudaComputeCapability,
	// nvmlSystemGetDriverVersion and nvmlSystemGetCudaDriverVersion.
	tests := []struct {
		name         string
		major, minor int
		driver       string
		cuda         int
		want         profile.GPU
	}{
		{"NVIDIA H100 80GB HBM3", 9, 0, "550.54.15", 12040, nv("NVIDIA H100 80GB HBM3", "9.0", "550.54.15", "12.4")},
		{"NVIDIA H200", 9, 0, "570.124.06", 12080, nv("NVIDIA H200", "9.0", "570.124.06", "12.8")},
		{"NVIDIA L40S", 8, 9, "565.57.01", 12070, nv("NVIDIA L40S", "8.9", "565.57.01", "12.7")},
		{"NVIDIA B200", 10, 0, "580.65.06", 13000, nv("NVIDIA B200", "10.0", "580.65.06", "13.0")},
		{"Tesla T4", 7, 5, "470.82.01", 11040, nv("Tesla T4", "7.5", "470.82.01", "11.4")},
		{"NVIDIA A100-SXM4-80GB", 8, 0, "535.154.05", 0, nv("NVIDIA A100-SXM4-80GB", "8.0", "535.154.05", "12.2")},
		{" NVIDIA A10 ", 8, 6, "", 0, nv("NVIDIA A10", "8.6", "", "")},
	}
	for _, tt := range tests {
		got := fromNVML(tt.name, tt.major, tt.minor, tt.driver, tt.cuda)
		if got != tt.want {
			t.Errorf("fromNVML(%q, %d, %d, %q, %d) = %+v, want %+v", tt.name, tt.major, tt.minor, tt.driver, tt.cuda, got, tt.want)
		}
		if err := got.Validate(); err != nil {
			t.Errorf("fromNVML(%q, ...) = %+v, invalid: %v", tt.name, got, err)
		}
	}
}

func TestCUDAVersion(t *testing.T) {
	tests := map[int]string{0: "", -1: "", 999: "", 10020: "10.2", 11080: "11.8", 12000: "12.0", 12040: "12.4", 12090: "12.9", 13000: "13.0", 13010: "13.1"}
	for v, want := range tests {
		if got := cudaVersion(v); got != want {
			t.Errorf("cudaVersion(%d) = %q, want %q", v, got, want)
		}
	}
}

type fakeDevice struct {
	name         string
	major, minor int
	err          error // of the compute capability
}

// fakeNVML is an nvmlAPI with devs; shutdowns counts Shutdown calls.
type fakeNVML struct {
	initErr   error
	devs      []fakeDevice
	shutdowns int
}

func (f *fakeNVML) Init() error                     { return f.initErr }
func (f *fakeNVML) Shutdown() error                 { f.shutdowns++; return nil }
func (f *fakeNVML) DriverVersion() (string, error)  { return "550.54.15", nil }
func (f *fakeNVML) CUDADriverVersion() (int, error) { return 12040, nil }
func (f *fakeNVML) DeviceCount() (int, error)       { return len(f.devs), nil }
func (f *fakeNVML) Device(i int) (string, int, int, error) {
	d := f.devs[i]
	return d.name, d.major, d.minor, d.err
}

func TestListNVML(t *testing.T) {
	h100dev := fakeDevice{"NVIDIA H100 80GB HBM3", 9, 0, nil}
	tests := []struct {
		name          string
		init          error
		devs          []fakeDevice
		want          []profile.GPU
		wantErr       []string
		wantNoNVML    bool
		wantShutdowns int
	}{
		{"two GPUs", nil, []fakeDevice{h100dev, h100dev}, []profile.GPU{h100, h100}, nil, false, 1},
		{"no GPU", nil, nil, []profile.GPU{}, nil, false, 1},
		{"library not found", nvmlLibraryNotFound, nil, nil, []string{"NVML not available"}, true, 0},
		{"driver not loaded", nvmlReturn(9), nil, nil, []string{"NVML init", "ERROR_DRIVER_NOT_LOADED"}, true, 0},
		{"lost GPU", nil, []fakeDevice{{"NVIDIA H100 80GB HBM3", 0, 0, fmt.Errorf("compute capability: %w", nvmlReturn(15))}, h100dev},
			[]profile.GPU{h100}, []string{"NVML device 0", "compute capability", "ERROR_GPU_IS_LOST"}, false, 1},
		{"unknown code", nvmlReturn(4242), nil, nil, []string{"nvmlReturn_t 4242"}, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lib := &fakeNVML{initErr: tt.init, devs: tt.devs}
			got, err := listNVML(lib)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("listNVML = %+v, want %+v", got, tt.want)
			}
			checkErr(t, err, tt.wantErr)
			if errors.Is(err, errNoNVML) != tt.wantNoNVML {
				t.Errorf("errors.Is(%v, errNoNVML) = %v, want %v", err, !tt.wantNoNVML, tt.wantNoNVML)
			}
			if lib.shutdowns != tt.wantShutdowns {
				t.Errorf("Shutdown called %d times, want %d", lib.shutdowns, tt.wantShutdowns)
			}
		})
	}
}
