package gpu

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/tailor-dev/tailor/profile"
)

// fakeSMI writes an nvidia-smi stand-in into a temporary directory: it
// prints the query fixture and exits with qcode for --query-gpu, prints the
// banner fixture and exits with bcode otherwise. A fixture "hang" sleeps
// instead. It records each run in a "runs" file next to it.
func fakeSMI(t *testing.T, query string, qcode int, banner string, bcode int) (path string, runs func() int) {
	t.Helper()
	dir := t.TempDir()
	abs := func(name string) string {
		if name == "hang" {
			return "hang"
		}
		p, err := filepath.Abs(filepath.Join("testdata", "nvidia-smi", name))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	show := func(name string, code int) string {
		if name == "hang" {
			return "exec sleep 30"
		}
		return fmt.Sprintf("cat '%s'; exit %d", abs(name), code)
	}
	log := filepath.Join(dir, "runs")
	script := fmt.Sprintf("#!/bin/sh\necho run >> '%s'\ncase \"$1\" in\n--query-gpu=*) %s ;;\n*) %s ;;\nesac\n",
		log, show(query, qcode), show(banner, bcode))
	path = filepath.Join(dir, "nvidia-smi")
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path, func() int {
		b, _ := os.ReadFile(log)
		return strings.Count(string(b), "run")
	}
}

func nvmlFound(gpus ...profile.GPU) Option {
	return withNVML(func() ([]profile.GPU, error) { return gpus, nil })
}

func nvmlFailing(err error) Option {
	return withNVML(func() ([]profile.GPU, error) { return nil, err })
}

var (
	noNVML = withNVML(nil)
	noKFD  = WithKFDRoot(fstest.MapFS{})
	h100   = nv("NVIDIA H100 80GB HBM3", "9.0", "550.54.15", "12.4")
	h200   = nv("NVIDIA H200", "9.0", "570.124.06", "12.8")
)

// emptyPATH makes nvidia-smi absent from PATH.
func emptyPATH(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
}

func TestDetect(t *testing.T) {
	smiH100, _ := fakeSMI(t, "8x-h100.csv", 0, "banner-550.txt", 0)
	smiL40S, _ := fakeSMI(t, "l40s-565.csv", 0, "banner-565.txt", 0)
	smiNoBanner, _ := fakeSMI(t, "8x-h200.csv", 0, "driver-failure.txt", 9)
	smiBroken, _ := fakeSMI(t, "driver-failure.txt", 9, "driver-failure.txt", 9)
	smiNoDevices, _ := fakeSMI(t, "no-devices.txt", 6, "no-devices.txt", 6)
	smiOld, _ := fakeSMI(t, "old-driver.txt", 2, "banner-470.txt", 0)
	smiMismatch, _ := fakeSMI(t, "mismatch.txt", 255, "mismatch.txt", 255)
	smiPartial, _ := fakeSMI(t, "na.csv", 0, "banner-550.txt", 0)
	amdgpuVersion := filepath.Join(t.TempDir(), "version")
	if err := os.WriteFile(amdgpuVersion, []byte("6.8.5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mi250x := amd("aldebaran", "gfx90a")
	mi250x.Driver = "6.8.5"
	l40s := nv("NVIDIA L40S", "8.9", "565.57.01", "12.7")

	tests := []struct {
		name    string
		opts    []Option
		want    []profile.GPU
		wantErr []string
	}{
		{"NVML", []Option{nvmlFound(h100, h100), noKFD, WithNvidiaSMIPath(smiBroken)}, []profile.GPU{h100, h100}, nil},
		{"nvidia-smi", []Option{noNVML, noKFD, WithNvidiaSMIPath(smiH100)}, times(8, h100), nil},
		{"nvidia-smi banner CUDA version", []Option{noNVML, noKFD, WithNvidiaSMIPath(smiL40S)}, []profile.GPU{l40s}, nil},
		{"nvidia-smi without banner", []Option{noNVML, noKFD, WithNvidiaSMIPath(smiNoBanner)}, times(8, h200), nil},
		{"nvidia-smi driver not loaded is no GPU", []Option{noNVML, noKFD, WithNvidiaSMIPath(smiBroken)}, []profile.GPU{}, nil},
		{"nvidia-smi driver mismatch", []Option{noNVML, noKFD, WithNvidiaSMIPath(smiMismatch)}, []profile.GPU{},
			[]string{"nvidia-smi", "exit status 255", "Driver/library version mismatch"}},
		{"nvidia-smi no devices", []Option{noNVML, noKFD, WithNvidiaSMIPath(smiNoDevices)}, []profile.GPU{}, nil},
		{"nvidia-smi older than 510, no PCI query either", []Option{noNVML, noKFD, WithNvidiaSMIPath(smiOld)}, []profile.GPU{},
			[]string{"exit status 2", `Field "compute_cap" is not a valid field`}},
		{"nvidia-smi partial", []Option{noNVML, noKFD, WithNvidiaSMIPath(smiPartial)},
			[]profile.GPU{nv("", "8.0", "535.104.05", "12.2"), nv("NVIDIA L4", "8.9", "", "")}, []string{"line 1"}},
		{"nvidia-smi missing at explicit path", []Option{noNVML, noKFD, WithNvidiaSMIPath(filepath.Join(t.TempDir(), "nvidia-smi"))},
			[]profile.GPU{}, []string{"nvidia-smi", "no such file"}},
		{"NVML failing, nvidia-smi answers", []Option{nvmlFailing(errors.New("NVML init: ERROR_UNKNOWN")), noKFD, WithNvidiaSMIPath(smiH100)},
			times(8, h100), nil},
		{"NVML and nvidia-smi: driver not loaded", []Option{nvmlFailing(fmt.Errorf("NVML init: %w", nvmlDriverNotLoaded)), noKFD, WithNvidiaSMIPath(smiBroken)},
			[]profile.GPU{}, nil},
		{"NVML and nvidia-smi failing", []Option{nvmlFailing(errors.New("NVML init: ERROR_UNKNOWN")), noKFD, WithNvidiaSMIPath(smiMismatch)},
			[]profile.GPU{}, []string{"ERROR_UNKNOWN", "version mismatch"}},
		{"NVML and AMD", []Option{nvmlFound(h100), WithKFDRoot(os.DirFS("testdata/kfd/mi250x")), withAMDGPUVersionFile(amdgpuVersion)},
			append([]profile.GPU{h100}, times(8, mi250x)...), nil},
		{"AMD without module version", []Option{noNVML, WithNvidiaSMIPath(smiNoDevices), WithKFDRoot(os.DirFS("testdata/kfd/rdna3")), withAMDGPUVersionFile("testdata/absent")},
			[]profile.GPU{amd("", "gfx1100")}, nil},
		{"AMD disabled", []Option{nvmlFound(), WithKFDRoot(nil)}, []profile.GPU{}, nil},
		{"bad option", []Option{nvmlFound(h100), WithTimeout(0)}, []profile.GPU{}, []string{"timeout 0s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Detect(t.Context(), tt.opts...)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Detect = %+v, want %+v", got, tt.want)
			}
			checkErr(t, err, tt.wantErr)
		})
	}
}

func TestDetectNVMLFailingWithoutSMI(t *testing.T) {
	emptyPATH(t)
	got, err := Detect(t.Context(), nvmlFailing(errors.New("NVML init: ERROR_UNKNOWN")), noKFD)
	if len(got) != 0 || got == nil || err == nil || !strings.Contains(err.Error(), "ERROR_UNKNOWN") {
		t.Errorf("Detect = %+v, %v, want [], the NVML error", got, err)
	}
}

func TestDetectNVMLSkipsSMI(t *testing.T) {
	smi, runs := fakeSMI(t, "8x-h100.csv", 0, "banner-550.txt", 0)
	if _, err := Detect(t.Context(), nvmlFound(h100), noKFD, WithNvidiaSMIPath(smi)); err != nil {
		t.Fatal(err)
	}
	if n := runs(); n != 0 {
		t.Errorf("nvidia-smi ran %d times although NVML answered", n)
	}
}

// TestDetectNoGPU: a host without GPU gets an empty list quickly because
// nothing is started: no nvidia-smi process runs when it is not installed.
// (How quickly is measured by BenchmarkDetectNoGPU, not asserted here.)
func TestDetectNoGPU(t *testing.T) {
	emptyPATH(t)
	started := withRunner(func(_ context.Context, path string, _ ...string) ([]byte, error) {
		t.Errorf("Detect started %s on a host without nvidia-smi", path)
		return nil, errors.New("must not run")
	})
	got, err := Detect(t.Context(), noNVML, noKFD, started)
	if got == nil || len(got) != 0 || err != nil {
		t.Errorf("Detect = %#v, %v, want [], nil", got, err)
	}
}

func TestDetectSMIHangs(t *testing.T) {
	smi, _ := fakeSMI(t, "hang", 0, "hang", 0)
	start := time.Now()
	got, err := Detect(t.Context(), noNVML, noKFD, WithNvidiaSMIPath(smi), WithTimeout(200*time.Millisecond))
	if elapsed := time.Since(start); elapsed > 3*time.Second {
		t.Errorf("Detect took %v with a 200ms timeout", elapsed)
	}
	if len(got) != 0 || !errors.Is(err, errTimeout) {
		t.Errorf("Detect = %+v, %v, want [], a timeout", got, err)
	}
	t.Log(err)
}

func TestDetectNVMLHangs(t *testing.T) {
	smi, runs := fakeSMI(t, "8x-h100.csv", 0, "banner-550.txt", 0)
	release := make(chan struct{})
	defer close(release)
	hang := withNVML(func() ([]profile.GPU, error) { <-release; return nil, nil })
	got, err := Detect(t.Context(), hang, noKFD, WithNvidiaSMIPath(smi), WithTimeout(50*time.Millisecond))
	if len(got) != 0 || !errors.Is(err, errTimeout) {
		t.Errorf("Detect = %+v, %v, want [], a timeout", got, err)
	}
	if n := runs(); n != 0 {
		t.Errorf("nvidia-smi ran %d times after NVML hung", n)
	}
}

func TestDetectCanceled(t *testing.T) {
	smi, _ := fakeSMI(t, "hang", 0, "hang", 0)
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	got, err := Detect(ctx, noNVML, noKFD, WithNvidiaSMIPath(smi))
	if len(got) != 0 || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Detect = %+v, %v, want [], the context's error", got, err)
	}
}

func TestDetectBannerFailsQuietly(t *testing.T) {
	run := func(ctx context.Context, path string, args ...string) ([]byte, error) {
		if len(args) == 0 {
			return nil, errors.New("banner failed")
		}
		return fixture(t, "l40s-565.csv"), nil
	}
	got, err := Detect(t.Context(), noNVML, noKFD, WithNvidiaSMIPath("/fake/nvidia-smi"), withRunner(run))
	want := []profile.GPU{nv("NVIDIA L40S", "8.9", "565.57.01", "12.7")} // derived from the driver
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("Detect = %+v, %v, want %+v, nil", got, err, want)
	}
}

// hostHasGPU reports whether this host may have a GPU, for the live tests.
func hostHasGPU() bool {
	if _, err := exec.LookPath("nvidia-smi"); err == nil {
		return true
	}
	for _, p := range []string{"/dev/nvidiactl", "/dev/kfd", KFDTopologyPath} {
		if _, err := os.Stat(p); err == nil {
			return true
		}
	}
	return false
}

func TestDetectLive(t *testing.T) {
	got, err := Detect(t.Context())
	t.Logf("Detect = %+v, %v", got, err)
	if got == nil {
		t.Error("Detect returned a nil list")
	}
	if hostHasGPU() {
		t.Skip("host may have a GPU")
	}
	if len(got) != 0 || err != nil {
		t.Errorf("Detect = %+v, %v on a host without GPU, want [], nil", got, err)
	}
}

func BenchmarkDetectNoGPU(b *testing.B) {
	if hostHasGPU() {
		b.Skip("host may have a GPU")
	}
	ctx := context.Background()
	for b.Loop() {
		if gpus, err := Detect(ctx); len(gpus) != 0 || err != nil {
			b.Fatalf("Detect = %+v, %v", gpus, err)
		}
	}
}
