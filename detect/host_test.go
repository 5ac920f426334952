package detect

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/tailor-dev/tailor/profile"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestHostFromDump(t *testing.T) {
	labels := writeFile(t, "labels", "# site labels\nmpi=openmpi\n\n fabric = infiniband \n")
	p, err := Host(context.Background(),
		WithCPUInfo([]byte(x86CPUInfo("GenuineIntel", haswellFlags)), "x86_64"),
		WithLabelsFile(labels),
		WithLabels(map[string]string{"fabric": "ethernet"}),
		withProbe(func(context.Context) (*CPUInfo, error) { t.Error("live probe ran for a dump"); return nil, nil }),
	)
	if err != nil {
		t.Fatal(err)
	}
	if p.CPU.Microarchitecture != "haswell" || p.Platform != "linux/amd64/v3" || p.CPU.Vendor != "GenuineIntel" || p.CPU.Model != "Test CPU" {
		t.Errorf("Host = %+v, want haswell linux/amd64/v3 GenuineIntel 'Test CPU'", p)
	}
	if p.Labels["mpi"] != "openmpi" || p.Labels["fabric"] != "ethernet" || len(p.Labels) != 2 {
		t.Errorf("Host labels = %v, want mpi=openmpi fabric=ethernet", p.Labels)
	}
	if p.GPUs == nil || len(p.GPUs) != 0 {
		t.Errorf("Host GPUs = %#v, want empty list", p.GPUs)
	}
	if err := p.Validate(); err != nil {
		t.Errorf("Host profile invalid: %v", err)
	}
}

func TestHostGPUDetector(t *testing.T) {
	// without a detector, no GPU is probed or described
	p, err := Host(context.Background(), WithSysctl([]byte(appleSysctl("Apple M3 Pro")), "arm64"), WithLabelsFile(""))
	if err != nil {
		t.Fatal(err)
	}
	if p.CPU.Microarchitecture != "m3" || p.OS != "darwin" || p.CPU.Vendor != "Apple" || len(p.GPUs) != 0 {
		t.Errorf("Host(sysctl) = %+v with GPUs %v, want darwin Apple m3 and none", p.CPU, p.GPUs)
	}

	// an explicit detector runs
	gpus := []profile.GPU{{Vendor: profile.VendorNVIDIA, ComputeCapability: "9.0"}}
	p, err = Host(context.Background(),
		WithCPUInfo([]byte(armCPUInfo("0x41", "0xd4f", n2Features)), "aarch64"),
		WithLabelsFile(""),
		WithGPUDetector(func(context.Context) ([]profile.GPU, error) { return gpus, nil }))
	if err != nil {
		t.Fatal(err)
	}
	if p.CPU.Microarchitecture != "neoverse_v2" || len(p.GPUs) != 1 {
		t.Errorf("Host = %s with %d GPUs, want neoverse_v2 with 1", p.CPU.Microarchitecture, len(p.GPUs))
	}
}

func TestHostErrors(t *testing.T) {
	dump := WithCPUInfo([]byte(x86CPUInfo("GenuineIntel", haswellFlags)), "x86_64")
	bad := writeFile(t, "labels", "mpi=openmpi\nnot a label\n")
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		opts []Option
		says string
		is   error
	}{
		{"two dumps", context.Background(), []Option{dump, WithSysctl([]byte(darwinHaswell), "x86_64")}, "give one dump", nil},
		{"garbage dump", context.Background(), []Option{WithCPUInfo([]byte("\x00\x01"), "x86_64")}, "binary", ErrMalformed},
		{"unknown machine", context.Background(), []Option{WithCPUInfo([]byte(x86CPUInfo("GenuineIntel", "fpu")), "s390x")}, "s390x", ErrUnknownMachine},
		{"malformed labels", context.Background(), []Option{dump, WithLabelsFile(bad)}, bad + ":2", ErrMalformed},
		{"missing labels file", context.Background(), []Option{dump, WithLabelsFile(filepath.Join(t.TempDir(), "nope"))}, "nope", os.ErrNotExist},
		{"bad label option", context.Background(), []Option{dump, WithLabels(map[string]string{"a b": "c"})}, "space", ErrMalformed},
		{"label key with =", context.Background(), []Option{dump, WithLabels(map[string]string{"a=b": "c"})}, "'='", ErrMalformed},
		{"nil detector", context.Background(), []Option{dump, WithGPUDetector(nil)}, "nil", nil},
		{"probe error", context.Background(), []Option{WithLabelsFile(""), withProbe(func(context.Context) (*CPUInfo, error) { return nil, ErrUnsupported })}, "probing host CPU", ErrUnsupported},
		{"cancelled", cancelled, []Option{dump}, "canceled", context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Host(tt.ctx, tt.opts...)
			if err == nil {
				t.Fatalf("Host = %+v, want error", p)
			}
			if !strings.Contains(err.Error(), tt.says) {
				t.Errorf("Host error %q, want it to say %q", err, tt.says)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("Host error %q, want errors.Is %v", err, tt.is)
			}
		})
	}
}

func TestHostKeepsGoingWhenGPUDetectionFails(t *testing.T) {
	dump := WithCPUInfo([]byte(x86CPUInfo("GenuineIntel", haswellFlags)), "x86_64")
	gpuErr := errors.New("nvidia-smi exploded")
	found := []profile.GPU{{Vendor: profile.VendorNVIDIA, ComputeCapability: "9.0"}}
	var log strings.Builder
	p, err := Host(context.Background(), dump, WithLabelsFile(""),
		WithLogger(slog.New(slog.NewTextHandler(&log, nil))),
		WithGPUDetector(func(context.Context) ([]profile.GPU, error) { return found, gpuErr }))
	if err != nil {
		t.Fatalf("Host failed on a GPU error: %v", err)
	}
	if len(p.GPUs) != 1 || p.GPUs[0].ComputeCapability != "9.0" {
		t.Errorf("GPUs = %+v, want the one found before the error", p.GPUs)
	}
	if !strings.Contains(log.String(), "nvidia-smi exploded") {
		t.Errorf("GPU error not logged: %q", log.String())
	}
}

func TestParseLabels(t *testing.T) {
	got, err := ParseLabels([]byte("# comment\n\nmpi = openmpi\nempty=\nfabric=infiniband\n"), "f")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got["mpi"] != "openmpi" || got["empty"] != "" || got["fabric"] != "infiniband" {
		t.Errorf("ParseLabels = %v", got)
	}
	for _, bad := range []string{"novalue", "=v", "a b=c", "a=b,c", "a,b=c"} {
		if _, err := ParseLabels([]byte("ok=1\n"+bad+"\n"), "/etc/x"); err == nil || !strings.Contains(err.Error(), "/etc/x:2") {
			t.Errorf("ParseLabels(%q) error = %v, want one naming /etc/x:2", bad, err)
		}
	}
	if got, err := readLabelsFile(filepath.Join(t.TempDir(), "missing"), true); err != nil || len(got) != 0 {
		t.Errorf("missing default labels file = %v, %v, want none and no error", got, err)
	}
}

// TestHostLive detects the machine the tests run on.
func TestHostLive(t *testing.T) {
	if runtime.GOOS != "linux" && runtime.GOOS != "darwin" {
		t.Skip("no host probe on " + runtime.GOOS)
	}
	p, err := Host(context.Background(), WithLabelsFile(""), WithGPUDetector(func(context.Context) ([]profile.GPU, error) { return nil, nil }))
	if err != nil {
		t.Fatal(err)
	}
	if p.CPU.Microarchitecture == "" || len(p.CPU.Ancestors) == 0 && p.CPU.Microarchitecture != "x86_64" {
		t.Fatalf("Host = %+v, want a target", p.CPU)
	}
	if err := p.Validate(); err != nil {
		t.Fatalf("Host profile invalid: %v", err)
	}
	if runtime.GOARCH == "amd64" && p.Architecture != "amd64" {
		t.Errorf("Host architecture = %s on amd64", p.Architecture)
	}
	t.Logf("host: %s (%s %q), %s, %d features", p.CPU.Microarchitecture, p.CPU.Vendor, p.CPU.Model, p.Platform, len(p.CPU.Features))

	// the probe is cached and callers cannot change the cache
	a, _ := probeHost(context.Background())
	a.Features = nil
	b, _ := probeHost(context.Background())
	if len(b.Features) == 0 && p.Architecture == "amd64" {
		t.Error("probeHost cache was changed through a returned value")
	}
}

// TestHostDefaultGPU runs Host with every default, gpu.Detect included.
func TestHostDefaultGPU(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("live default detection tested on Linux")
	}
	p, err := Host(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("host: %s", p)
}
