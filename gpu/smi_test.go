package gpu

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/tailor-dev/tailor/profile"
)

func nv(model, cc, driver, cuda string) profile.GPU {
	return profile.GPU{Vendor: profile.VendorNVIDIA, Model: model, ComputeCapability: cc, Driver: driver, CUDAVersion: cuda}
}

func times(n int, g profile.GPU) []profile.GPU {
	gs := make([]profile.GPU, n)
	for i := range gs {
		gs[i] = g
	}
	return gs
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "nvidia-smi", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseNvidiaSMI(t *testing.T) {
	tests := []struct {
		file    string
		want    []profile.GPU
		wantErr []string // substrings of the error; nil: no error
	}{
		{"a100.csv", []profile.GPU{nv("NVIDIA A100-SXM4-80GB", "8.0", "535.154.05", "12.2")}, nil},
		{"8x-h100.csv", times(8, nv("NVIDIA H100 80GB HBM3", "9.0", "550.54.15", "12.4")), nil},
		{"8x-h200.csv", times(8, nv("NVIDIA H200", "9.0", "570.124.06", "12.8")), nil},
		{"mixed.csv", []profile.GPU{
			nv("NVIDIA GeForce RTX 4090", "8.9", "560.35.03", "12.6"),
			nv("NVIDIA RTX A6000", "8.6", "560.35.03", "12.6"),
			nv("Tesla V100-SXM2-16GB", "7.0", "560.35.03", "12.6"),
		}, nil},
		{"na.csv", []profile.GPU{
			nv("", "8.0", "535.104.05", "12.2"),
			nv("NVIDIA L4", "8.9", "", ""),
		}, []string{"line 1", "compute capability"}},
		{"garbage.txt", []profile.GPU{}, []string{"line 1", "line 2", "line 3", "want name, compute_cap, driver_version"}},
		{"old-driver.txt", []profile.GPU{}, []string{"line 1", "compute_cap"}},
		{"no-devices.txt", []profile.GPU{}, nil},
		{"driver-failure.txt", []profile.GPU{}, []string{"line 1", "couldn't communicate"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := ParseNvidiaSMI(fixture(t, tt.file))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseNvidiaSMI(%s) = %+v, want %+v", tt.file, got, tt.want)
			}
			checkErr(t, err, tt.wantErr)
		})
	}
}

func TestParseNvidiaSMILines(t *testing.T) {
	tests := map[string][]profile.GPU{
		"":                            {},
		"\n\n":                        {},
		"A, B, 9.0, 550.54.15":        {nv("A, B", "9.0", "550.54.15", "12.4")},
		"X,9.0,550.54.15\r\n":         {nv("X", "9.0", "550.54.15", "12.4")},
		"  Y ,  10.0 , 580.65.06  \n": {nv("Y", "10.0", "580.65.06", "13.0")},
		"Z, 5.2, [Not Supported]":     {nv("Z", "5.2", "", "")},
	}
	for in, want := range tests {
		got, err := ParseNvidiaSMI([]byte(in))
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("ParseNvidiaSMI(%q) = %+v, %v, want %+v, nil", in, got, err, want)
		}
	}
}

func TestParseNvidiaSMIBanner(t *testing.T) {
	tests := []struct {
		file    string
		want    Banner
		wantErr []string
	}{
		{"banner-470.txt", Banner{Driver: "470.82.01", CUDAVersion: "11.4"}, nil},
		{"banner-550.txt", Banner{Driver: "550.54.15", CUDAVersion: "12.4"}, nil},
		{"banner-565.txt", Banner{Driver: "565.57.01", CUDAVersion: "12.7"}, nil},
		{"banner-580.txt", Banner{Driver: "580.65.06", CUDAVersion: "13.0"}, nil},
		{"banner-cuda-na.txt", Banner{Driver: "550.54.15"}, []string{"CUDA Version"}},
		{"driver-failure.txt", Banner{}, []string{"couldn't communicate"}},
		{"a100.csv", Banner{}, []string{"CUDA Version"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := ParseNvidiaSMIBanner(fixture(t, tt.file))
			if got != tt.want {
				t.Errorf("ParseNvidiaSMIBanner(%s) = %+v, want %+v", tt.file, got, tt.want)
			}
			checkErr(t, err, tt.wantErr)
		})
	}
}

// checkErr fails unless err is nil and want empty, or err holds every
// substring of want.
func checkErr(t *testing.T, err error, want []string) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Errorf("error = %v, want nil", err)
		}
		return
	}
	if err == nil {
		t.Errorf("error = nil, want one with %q", want)
		return
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error = %q, want it to contain %q", err, w)
		}
	}
}

func FuzzParseNvidiaSMI(f *testing.F) {
	for _, name := range []string{"a100.csv", "8x-h100.csv", "mixed.csv", "na.csv", "garbage.txt", "banner-550.txt"} {
		f.Add(fixture(f, name))
	}
	f.Add([]byte(",,,\n,\n[,]"))
	f.Fuzz(func(t *testing.T, out []byte) {
		gpus, _ := ParseNvidiaSMI(out)
		if gpus == nil {
			t.Fatal("ParseNvidiaSMI returned a nil list")
		}
		for _, g := range gpus {
			if err := g.Validate(); err != nil {
				t.Errorf("ParseNvidiaSMI(%q) returned invalid GPU %+v: %v", out, g, err)
			}
		}
		_, _ = ParseNvidiaSMIBanner(out)
	})
}
