package profile

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestParseSpec(t *testing.T) {
	p, err := ParseSpec("cpu=zen3,gpu=8.0,driver=550.54.14,label.mpi=openmpi")
	if err != nil {
		t.Fatal(err)
	}
	if p.CPU.Microarchitecture != "zen3" || p.Platform != "linux/amd64/v3" || p.CPU.Vendor != "AuthenticAMD" {
		t.Errorf("cpu = %+v platform %s, want zen3 on linux/amd64/v3", p.CPU, p.Platform)
	}
	if !slices.Equal(p.CPU.Ancestors, []string{"zen2", "zen", "x86_64_v3", "x86_64_v2", "x86_64"}) {
		t.Errorf("ancestors = %v", p.CPU.Ancestors)
	}
	want := GPU{Vendor: VendorNVIDIA, ComputeCapability: "8.0", Driver: "550.54.14", CUDAVersion: "12.4"}
	if len(p.GPUs) != 1 || p.GPUs[0] != want {
		t.Errorf("gpus = %+v, want [%+v]", p.GPUs, want)
	}
	if p.Labels["mpi"] != "openmpi" {
		t.Errorf("labels = %v", p.Labels)
	}
	if got := p.String(); got != "cpu=zen3,gpu=8.0,driver=550.54.14,label.mpi=openmpi" {
		t.Errorf("String() = %q", got)
	}
}

func TestParseSpecForms(t *testing.T) {
	tests := []struct {
		spec, target, platform string
		gpus                   int
	}{
		{"cpu=neoverse_v2", "neoverse_v2", "linux/arm64/v9.0", 0},
		{"arch=arm64", "aarch64", "linux/arm64/v8", 0},
		{"arch=amd64", "x86_64", "linux/amd64", 0},
		{"cpu=x86_64_v3,arch=amd64", "x86_64_v3", "linux/amd64/v3", 0},
		{"cpu=sapphirerapids,gpu=9.0+9.0,driver=550.54.14", "sapphirerapids", "linux/amd64/v4", 2},
		{"cpu=zen3,gpu=gfx90a", "zen3", "linux/amd64/v3", 1},
		{"cpu=power9le", "power9le", "linux/ppc64le", 0},
		{" cpu=haswell , features=avx512f ", "haswell", "linux/amd64/v3", 0},
	}
	for _, tt := range tests {
		p, err := ParseSpec(tt.spec)
		if err != nil {
			t.Errorf("ParseSpec(%q): %v", tt.spec, err)
			continue
		}
		if p.CPU.Microarchitecture != tt.target || p.Platform != tt.platform || len(p.GPUs) != tt.gpus {
			t.Errorf("ParseSpec(%q) = %s %s %d GPUs, want %s %s %d", tt.spec, p.CPU.Microarchitecture, p.Platform, len(p.GPUs), tt.target, tt.platform, tt.gpus)
		}
	}
}

func TestParseSpecErrors(t *testing.T) {
	for _, spec := range []string{
		"", "   ", "zen3", "cpu=", "cpu=zen9", "cpu=zen3,cpu=zen4", "cpu=zen3,gpu=8", "cpu=zen3,gpu=80",
		"cpu=zen3,gpu=gfx", "cpu=zen3,driver=550", "cpu=zen3,gpu=8.0,driver=abc", "cpu=zen3,colour=red",
		"cpu=zen3,label.=x", "arch=mips", "cpu=zen3,arch=arm64", "gpu=8.0", "cpu=zen3,,gpu=8.0",
	} {
		p, err := ParseSpec(spec)
		if err == nil {
			t.Errorf("ParseSpec(%q) = %+v, want an error", spec, p)
			continue
		}
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseSpec(%q) error %v is not ErrInvalid", spec, err)
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("ParseSpec(%q) error spans lines: %q", spec, err)
		}
	}
}

func TestJSONRoundTrip(t *testing.T) {
	for _, spec := range []string{"cpu=zen4,gpu=9.0,driver=580.65.06,label.fabric=infiniband", "cpu=m2", "cpu=skylake_avx512,gpu=gfx942"} {
		p, err := ParseSpec(spec)
		if err != nil {
			t.Fatal(err)
		}
		data, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseJSON(data)
		if err != nil {
			t.Fatalf("ParseJSON(%s): %v", data, err)
		}
		if back.String() != p.String() || back.Platform != p.Platform || !slices.Equal(back.CPU.Features, p.CPU.Features) {
			t.Errorf("round trip of %q gave %q (%s)", spec, back, back.Platform)
		}
	}
}

func TestParseJSONErrors(t *testing.T) {
	for _, in := range []string{``, `{`, `[]`, `{"cpu":{}}`, `{"cpu":{"microarchitecture":"zen9"}}`,
		`{"architecture":"arm64","cpu":{"microarchitecture":"zen3"}}`, `{"cpu":{"microarchitecture":"zen3"},"gpus":[{"vendor":"intel"}]}`,
		`{"cpu":{"microarchitecture":"zen3"},"colour":1}`} {
		if _, err := ParseJSON([]byte(in)); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseJSON(%s) error = %v, want ErrInvalid", in, err)
		}
	}
	// A minimal profile: the rest is derived from the target.
	p, err := ParseJSON([]byte(`{"cpu":{"microarchitecture":"haswell"}}`))
	if err != nil || p.Platform != "linux/amd64/v3" || !p.HasFeature("avx2") {
		t.Errorf("minimal profile = %+v, %v", p, err)
	}
}

func TestHasFeatureAliases(t *testing.T) {
	p, _ := New("haswell")
	for f, want := range map[string]bool{"avx2": true, "sse4.1": true, "sse3": true, "avx512": false, "avx512f": false} {
		if got := p.HasFeature(f); got != want {
			t.Errorf("haswell HasFeature(%s) = %v, want %v", f, got, want)
		}
	}
	pw, _ := New("power9le")
	if !pw.HasFeature("altivec") {
		t.Error("power9le should have altivec through the family alias")
	}
}

func TestCUDAForDriver(t *testing.T) {
	for driver, want := range map[string]string{"580.65.06": "13.0", "550.54.14": "12.4", "550.54": "12.3", "525.60.13": "12.0", "470.82.01": "11.4", "390.1": "", "garbage": ""} {
		if got := CUDAForDriver(driver); got != want {
			t.Errorf("CUDAForDriver(%s) = %q, want %q", driver, got, want)
		}
	}
}

func FuzzParseSpec(f *testing.F) {
	for _, s := range []string{"cpu=zen3,gpu=8.0,driver=550.54,label.mpi=openmpi", "arch=arm64", "cpu=haswell,features=avx512f+fma", "gpu=gfx90a,cpu=zen2", "cpu=x,,=", "label.a=b=c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		p, err := ParseSpec(spec)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("ParseSpec(%q) error %v is not ErrInvalid", spec, err)
			}
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("ParseSpec(%q) returned an invalid profile: %v", spec, err)
		}
		again, err := ParseSpec(p.String())
		if err != nil || again.CPU.Microarchitecture != p.CPU.Microarchitecture {
			t.Fatalf("ParseSpec(String()) of %q = %v, %v", spec, again, err)
		}
	})
}

func TestWriteText(t *testing.T) {
	p, err := ParseSpec("cpu=zen3,gpu=8.0,label.mpi=openmpi")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := p.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"cpu:", "zen3 (AuthenticAMD)", "zen3 > zen2 > zen", "linux/amd64/v3", "x86-64-v3", "gpu 0:", "nvidia, compute capability 8.0", "mpi=openmpi"} {
		if !strings.Contains(out, want) {
			t.Errorf("WriteText lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "nvidia ,") {
		t.Errorf("WriteText prints an empty model:\n%s", out)
	}
}

func TestLabelsValidated(t *testing.T) {
	for _, in := range []string{
		`{"cpu":{"microarchitecture":"zen3"},"labels":{"a=b":"c"}}`,
		`{"cpu":{"microarchitecture":"zen3"},"labels":{"x y":"z"}}`,
		`{"cpu":{"microarchitecture":"zen3"},"labels":{"mpi":"a,b"}}`,
	} {
		if _, err := Load(in); !errors.Is(err, ErrInvalid) {
			t.Errorf("Load(%s) = %v, want ErrInvalid", in, err)
		}
	}
	if p, err := Load(`{"cpu":{"microarchitecture":"zen3"},"labels":{"fabric":"infiniband"}}`); err != nil || p.Labels["fabric"] != "infiniband" {
		t.Errorf("Load with a good label: %v, %v", p, err)
	}
}
