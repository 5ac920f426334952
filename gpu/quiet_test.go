package gpu

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/tailor-dev/tailor/profile"
)

// fakeSMIOnPATH puts an nvidia-smi stand-in first on PATH: it prints
// query for --query-gpu=name,compute_cap..., pci for
// --query-gpu=name,pci.device_id..., banner otherwise, each fixture with
// its exit status ("name:code"), and counts its runs.
func fakeSMIOnPATH(t *testing.T, query, pci, banner string) (runs func() int) {
	t.Helper()
	dir := t.TempDir()
	show := func(spec string) string {
		name, code, _ := strings.Cut(spec, ":")
		p, err := filepath.Abs(filepath.Join("testdata", "nvidia-smi", name))
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("cat '%s'; exit %s", p, code)
	}
	log := filepath.Join(dir, "runs")
	script := fmt.Sprintf("#!/bin/sh\necho \"$*\" >> '%s'\ncase \"$1\" in\n--query-gpu=name,compute_cap*) %s ;;\n--query-gpu=name,pci.device_id*) %s ;;\n*) %s ;;\nesac\n",
		log, show(query), show(pci), show(banner))
	if err := os.WriteFile(filepath.Join(dir, "nvidia-smi"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return func() int {
		b, _ := os.ReadFile(log)
		return strings.Count(string(b), "\n")
	}
}

// driverNode makes a file standing for /dev/nvidiactl.
func driverNode(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "nvidiactl")
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestDetectNoDriverRunsNothing: nvidia-smi installed (CUDA toolkit
// packages, CI images) but no NVIDIA driver: no GPU, no error, and
// nvidia-smi is not even started.
func TestDetectNoDriverRunsNothing(t *testing.T) {
	runs := fakeSMIOnPATH(t, "driver-failure.txt:9", "driver-failure.txt:9", "driver-failure.txt:9")
	got, err := Detect(t.Context(), noNVML, noKFD, withDriverNodes(filepath.Join(t.TempDir(), "absent")))
	if got == nil || len(got) != 0 || err != nil {
		t.Errorf("Detect = %#v, %v, want [], nil", got, err)
	}
	if n := runs(); n != 0 {
		t.Errorf("nvidia-smi ran %d times without a driver, want 0", n)
	}
}

// TestDetectDriverNotLoadedQuiet: a driver node present but nvidia-smi
// exits 9 ("couldn't communicate with the NVIDIA driver"): no GPU, no
// error, and one nvidia-smi run (not one per query).
func TestDetectDriverNotLoadedQuiet(t *testing.T) {
	runs := fakeSMIOnPATH(t, "driver-failure.txt:9", "driver-failure.txt:9", "driver-failure.txt:9")
	got, err := Detect(t.Context(), noNVML, noKFD, withDriverNodes(driverNode(t)))
	if got == nil || len(got) != 0 || err != nil {
		t.Errorf("Detect = %#v, %v, want [], nil", got, err)
	}
	if n := runs(); n != 1 {
		t.Errorf("nvidia-smi ran %d times, want 1", n)
	}
}

// TestDetectOncePerProcess: the default probe runs once per process, its
// failure included.
func TestDetectOncePerProcess(t *testing.T) {
	runs := fakeSMIOnPATH(t, "driver-failure.txt:9", "driver-failure.txt:9", "driver-failure.txt:9")
	o, err := newOptions([]Option{noKFD})
	if err != nil {
		t.Fatal(err)
	}
	o.nodes = []string{driverNode(t)} // what a default probe on a host with a driver node sees
	nvidiaProbe.Lock()
	nvidiaProbe.done = false
	nvidiaProbe.Unlock()
	t.Cleanup(func() { nvidiaProbe.Lock(); nvidiaProbe.done = false; nvidiaProbe.Unlock() })
	for range 3 {
		if gpus, err := nvidiaCached(t.Context(), o); len(gpus) != 0 || err != nil {
			t.Errorf("nvidiaCached = %v, %v, want none, nil", gpus, err)
		}
	}
	if n := runs(); n != 1 {
		t.Errorf("nvidia-smi ran %d times in three probes, want 1", n)
	}
}

// TestDetectOldDriverPCI: a driver older than 510 rejects the compute_cap
// field; the PCI device ids give the compute capabilities.
func TestDetectOldDriverPCI(t *testing.T) {
	runs := fakeSMIOnPATH(t, "old-driver.txt:2", "old-pci.csv:0", "banner-470.txt:0")
	got, err := Detect(t.Context(), noNVML, noKFD, withDriverNodes(driverNode(t)))
	want := []profile.GPU{
		nv("Tesla K80", "3.7", "470.82.01", "11.4"), nv("Tesla P100-PCIE-16GB", "6.0", "470.82.01", "11.4"),
		nv("Tesla V100-SXM2-16GB", "7.0", "470.82.01", "11.4"), nv("Tesla T4", "7.5", "470.82.01", "11.4"),
		nv("A100-SXM4-40GB", "8.0", "470.82.01", "11.4"), nv("NVIDIA A10", "8.6", "470.82.01", "11.4"),
	}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("Detect = %+v, %v\nwant %+v", got, err, want)
	}
	if n := runs(); n != 3 {
		t.Errorf("nvidia-smi ran %d times, want 3 (query, PCI query, banner)", n)
	}
}

func TestParseNvidiaSMIPCI(t *testing.T) {
	got, err := ParseNvidiaSMIPCI(fixture(t, "old-pci-bad.csv"))
	want := []profile.GPU{nv("Tesla M60", "5.2", "", "")}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseNvidiaSMIPCI = %+v, want %+v", got, want)
	}
	checkErr(t, err, []string{"line 1", "0x2331: compute capability unknown", "line 2", "not NVIDIA", "line 3", "want 0xDDDDVVVV"})
}

func TestComputeCapabilityForPCI(t *testing.T) {
	// Device ids from the pci.ids database, compute capabilities from the
	// CUDA C++ Programming Guide's table.
	for dev, want := range map[uint16]string{
		0x1023: "3.5", 0x102d: "3.7", 0x13f2: "5.2", 0x17fd: "5.2", 0x15f9: "6.0", 0x1b38: "6.1", 0x1bb3: "6.1",
		0x1db4: "7.0", 0x1d81: "7.0", 0x1eb8: "7.5", 0x1e30: "7.5", 0x2182: "7.5", 0x20b2: "8.0", 0x20b7: "8.0",
		0x2236: "8.6", 0x2204: "8.6", 0x25b6: "8.6", 0x2330: "", 0x27b8: "", 0x0001: "",
	} {
		if got := ComputeCapabilityForPCI(dev); got != want {
			t.Errorf("ComputeCapabilityForPCI(%#04x) = %q, want %q", dev, got, want)
		}
	}
}
