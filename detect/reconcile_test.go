package detect

import (
	"errors"
	"os"
	"slices"
	"testing"

	"github.com/tailor-dev/tailor/internal/sharedtest"
)

func corpusInfo(t *testing.T, file, machine string) *CPUInfo {
	t.Helper()
	data, err := os.ReadFile(sharedtest.Path(t, "cpu-corpus", file))
	if err != nil {
		t.Fatal(err)
	}
	info, err := ParseCPUInfo(data, machine)
	if err != nil {
		t.Fatal(err)
	}
	return info
}

// TestReconcileEmulated is qemu-x86_64 -cpu Nehalem on a Sapphire Rapids
// host: /proc/cpuinfo is the host's, the CPU a Nehalem. The CPU wins for
// every flag it can tell; the kernel's own flags stay.
func TestReconcileEmulated(t *testing.T) {
	file := corpusInfo(t, "linux-unknown-sapphirerapids", "x86_64")
	cpu, err := readCPUID(t, "qemu-Nehalem").Info()
	if err != nil {
		t.Fatal(err)
	}
	got := Reconcile(file, cpu, CPUIDFlagNames())
	tg, err := Target(got)
	if err != nil {
		t.Fatal(err)
	}
	if tg.Name() != "nehalem" {
		t.Errorf("target = %s, want nehalem", tg.Name())
	}
	if got.HasFeature("avx2") || got.HasFeature("avx512f") || !got.HasFeature("sse4_2") || !got.HasFeature("constant_tsc") {
		t.Errorf("features = %v: want the CPU's (no avx2, avx512f; sse4_2) and the kernel's constant_tsc", got.Features)
	}
	d := got.Disagreement
	if d == nil {
		t.Fatal("no disagreement recorded")
	}
	if d.Target != "sapphirerapids" || d.Model != file.Model || !slices.Contains(d.Missing, "avx512f") || !slices.Contains(d.Missing, "avx2") || slices.Contains(d.Missing, "constant_tsc") {
		t.Errorf("disagreement = %+v: want target sapphirerapids, model %q, avx512f and avx2 missing, constant_tsc not", d, file.Model)
	}
	if got.Model != cpu.Model || got.Vendor != "GenuineIntel" {
		t.Errorf("model, vendor = %q, %q; want the CPU's %q", got.Model, got.Vendor, cpu.Model)
	}
	if !slices.Contains(file.Features, "avx512f") || file.Disagreement != nil {
		t.Error("Reconcile modified its input")
	}
}

// TestReconcileAgreeing: where the CPU and /proc/cpuinfo agree, nothing
// changes and no disagreement is recorded.
func TestReconcileAgreeing(t *testing.T) {
	cpu, err := readCPUID(t, "qemu-Haswell").Info()
	if err != nil {
		t.Fatal(err)
	}
	file := cpu.clone()
	file.setFeatures(append(slices.Clone(file.Features), "constant_tsc", "rep_good"))
	got := Reconcile(file, cpu, CPUIDFlagNames())
	if got.Disagreement != nil {
		t.Errorf("disagreement = %+v, want none", got.Disagreement)
	}
	if !slices.Equal(got.Features, file.Features) {
		t.Errorf("features = %v, want %v", got.Features, file.Features)
	}
	// A flag the CPU has that the kernel does not print (an older kernel)
	// is added, and shown.
	file.Features = slices.DeleteFunc(slices.Clone(file.Features), func(f string) bool { return f == "avx2" })
	got = Reconcile(file, cpu, CPUIDFlagNames())
	if !got.HasFeature("avx2") || got.Disagreement == nil || !slices.Equal(got.Disagreement.Extra, []string{"avx2"}) {
		t.Errorf("reconciled %v, disagreement %+v: want avx2 added and shown as extra", got.Features, got.Disagreement)
	}
}

// TestLiveInfo: the choice between /proc/cpuinfo and the CPU on a live host.
func TestLiveInfo(t *testing.T) {
	file := corpusInfo(t, "linux-rhel7-haswell", "x86_64")
	cpu, _ := readCPUID(t, "qemu-Nehalem").Info()
	known := CPUIDFlagNames()

	got, err := liveInfo(file, nil, "x86_64", cpu, known)
	if tg, _ := Target(got); err != nil || tg.Name() != "nehalem" {
		t.Errorf("liveInfo(haswell cpuinfo, Nehalem CPU) = %v, %v; want nehalem", got, err)
	}
	// /proc/cpuinfo of another architecture (qemu-x86_64 on an arm64 host).
	armText := errors.New("parsing cpuinfo: no vendor_id line")
	got, err = liveInfo(nil, armText, "x86_64", cpu, known)
	if err != nil || got.Disagreement == nil || got.Disagreement.Unreadable == "" || got.Model != cpu.Model {
		t.Errorf("liveInfo(unreadable cpuinfo) = %+v, %v; want the CPU with the reason", got, err)
	}
	// No CPU probe (another OS or architecture): /proc/cpuinfo as it is.
	if got, err := liveInfo(file, nil, "x86_64", nil, nil); err != nil || got != file {
		t.Errorf("liveInfo without a CPU = %v, %v; want the cpuinfo reading", got, err)
	}
	if _, err := liveInfo(nil, armText, "x86_64", nil, nil); !errors.Is(err, armText) {
		t.Errorf("liveInfo without a CPU or cpuinfo: err = %v, want the cpuinfo error", err)
	}
	// A CPU of another family than the machine is not used.
	if got, _ := liveInfo(file, nil, "aarch64", cpu, known); got != file {
		t.Errorf("liveInfo(x86 CPU, aarch64 machine) used the CPU")
	}
}
