package gpu

import (
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
