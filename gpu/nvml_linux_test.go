//go:build linux && nvml

package gpu

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/tailor-dev/tailor/profile"
)

// probeChildEnv makes the test binary run probeNVML and print its result
// as JSON instead of running tests: dlopen reads LD_LIBRARY_PATH only when
// a process starts.
const probeChildEnv = "TAILOR_TEST_NVML_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(probeChildEnv) != "" {
		gpus, err := probeNVML()
		msg := ""
		if err != nil {
			msg = err.Error()
		}
		_ = json.NewEncoder(os.Stdout).Encode(probeResult{gpus, msg, errors.Is(err, errNoNVML)})
		os.Exit(0)
	}
	os.Exit(m.Run())
}

type probeResult struct {
	GPUs   []profile.GPU
	Err    string
	NoNVML bool
}

// probeIn runs probeNVML in a child process whose library path is dir.
func probeIn(t *testing.T, dir string, env ...string) probeResult {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), probeChildEnv+"=1", "LD_LIBRARY_PATH="+dir)
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("probe child: %v\n%s", err, out)
	}
	var r probeResult
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("probe child output %q: %v", out, err)
	}
	return r
}

// TestProbeNVMLLibrary loads a stand-in libnvidia-ml.so.1, built here from
// testdata/nvml with the C compiler, through the real run-time binding.
func TestProbeNVMLLibrary(t *testing.T) {
	cc, err := exec.LookPath("cc")
	if err != nil {
		t.Fatal("no C compiler (cc) to build the stand-in libnvidia-ml: install gcc")
	}
	dir := t.TempDir()
	lib := filepath.Join(dir, nvmlLibrary)
	if out, err := exec.Command(cc, "-shared", "-fPIC", "-o", lib, "testdata/nvml/libnvidia-ml.c").CombinedOutput(); err != nil {
		t.Fatalf("building the stand-in NVML: %v\n%s", err, out)
	}
	r := probeIn(t, dir)
	if r.Err != "" || !reflect.DeepEqual(r.GPUs, []profile.GPU{h100, h100}) {
		t.Errorf("probe = %+v; want two H100s, no error", r)
	}
	r = probeIn(t, dir, "FAKE_NVML_LOST=1")
	if !reflect.DeepEqual(r.GPUs, []profile.GPU{h100}) || !strings.Contains(r.Err, "NVML device 1") || !strings.Contains(r.Err, "ERROR_GPU_IS_LOST") {
		t.Errorf("probe with a lost GPU = %+v; want one H100 and device 1 reported lost", r)
	}
}

// TestProbeNVMLNoLibrary runs the real probe where no libnvidia-ml can be
// found, or where the CUDA toolkit's packages installed one but no driver
// runs (DRIVER_NOT_LOADED): it must report NVML unavailable, and nothing
// else.
func TestProbeNVMLNoLibrary(t *testing.T) {
	if _, err := os.Stat("/proc/driver/nvidia/version"); err == nil {
		t.Skip("this host has an NVIDIA driver: its libnvidia-ml is found wherever LD_LIBRARY_PATH points")
	}
	r := probeIn(t, t.TempDir())
	if !r.NoNVML || len(r.GPUs) != 0 {
		t.Errorf("probe without libnvidia-ml = %+v; want errNoNVML and no GPU", r)
	}
}
