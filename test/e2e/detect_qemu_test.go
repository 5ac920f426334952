package e2e

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/tailor-dev/tailor/internal/longtest"
	"github.com/tailor-dev/tailor/internal/tooltest"
	"github.com/tailor-dev/tailor/profile"
)

// TestDetectUnderQemu runs the tailor binary under qemu-x86_64 with older
// CPU models: /proc/cpuinfo is the host's there, but detection asks the
// CPU (CPUID/XGETBV), so the answer is the emulated CPU, and the
// disagreement is shown. Needs qemu-user (CI installs it and requires it).
func TestDetectUnderQemu(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("qemu-x86_64 runs the amd64 binary")
	}
	qemu := tooltest.Path(t, "qemu-x86_64")
	cases := []struct {
		model string
		want  []string
		lacks string
	}{
		{"Nehalem", []string{"nehalem", "x86_64_v2"}, "avx"},
		{"Haswell", []string{"haswell", "x86_64_v3"}, "avx512f"},
		{"qemu64", []string{"x86_64"}, "ssse3"},
	}
	for _, c := range cases {
		t.Run(c.model, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			cmd := exec.Command(qemu, "-cpu", c.model, tailor, "detect", "-o", "json")
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("qemu-x86_64 -cpu %s tailor detect: %v\n%s", c.model, err, stderr.String())
			}
			p, err := profile.ParseJSON(stdout.Bytes())
			if err != nil {
				t.Fatalf("detect -o json under qemu: %v\n%s", err, stdout.String())
			}
			if !slices.Contains(c.want, p.CPU.Microarchitecture) {
				t.Errorf("qemu -cpu %s: detect says %s, want one of %v", c.model, p.CPU.Microarchitecture, c.want)
			}
			if slices.Contains(p.CPU.Features, c.lacks) {
				t.Errorf("qemu -cpu %s: features have %s", c.model, c.lacks)
			}
			if p.CPU.Hypervisor != "QEMU (TCG)" {
				t.Errorf("hypervisor = %q, want QEMU (TCG)", p.CPU.Hypervisor)
			}
			// The host's /proc/cpuinfo says more than the emulated CPU
			// (unless this host is itself that old).
			host := run(t, "detect", "-o", "json")
			hp, err := profile.ParseJSON([]byte(host.stdout))
			if err != nil {
				t.Fatal(err)
			}
			if slices.Contains(hp.CPU.Features, c.lacks) && (p.CPU.CPUInfo == nil || !slices.Contains(p.CPU.CPUInfo.Missing, c.lacks)) {
				t.Errorf("cpuinfo disagreement = %+v, want %s missing", p.CPU.CPUInfo, c.lacks)
			}
			text := exec.Command(qemu, "-cpu", c.model, tailor, "detect")
			out, err := text.Output()
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(out), "hypervisor:") {
				t.Errorf("detect text under qemu does not name the hypervisor:\n%s", out)
			}
		})
	}
}

// TestDetectUnderQemuAArch64 runs an arm64 tailor under qemu-aarch64: the
// host's /proc/cpuinfo is another architecture's text there, so the
// kernel's HWCAP (as qemu gives it) and MIDR_EL1 decide alone.
func TestDetectUnderQemuAArch64(t *testing.T) {
	longtest.Need(t, "cross-compiles tailor for arm64")
	qemu := tooltest.Path(t, "qemu-aarch64")
	// tailor is dynamically linked (purego's dlopen of NVML): qemu needs an
	// arm64 dynamic linker and libc (Debian: libc6-arm64-cross).
	sysroot := tooltest.File(t, "/usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1", "libc6-arm64-cross")
	sysroot = filepath.Dir(filepath.Dir(sysroot))
	bin := t.TempDir() + "/tailor-arm64"
	build := exec.Command("go", "build", "-o", bin, "github.com/tailor-dev/tailor/cmd/tailor")
	build.Env = append(build.Environ(), "GOARCH=arm64", "GOOS=linux")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build GOARCH=arm64: %v\n%s", err, out)
	}
	for model, want := range map[string]string{"neoverse-n1": "neoverse_n1", "a64fx": "a64fx", "cortex-a72": "cortex_a72"} {
		out, err := exec.Command(qemu, "-L", sysroot, "-cpu", model, bin, "detect", "-o", "json").Output()
		if err != nil {
			t.Fatalf("qemu-aarch64 -cpu %s tailor detect: %v", model, err)
		}
		p, err := profile.ParseJSON(out)
		if err != nil {
			t.Fatalf("%s: %v\n%s", model, err, out)
		}
		if p.CPU.Microarchitecture != want {
			t.Errorf("qemu-aarch64 -cpu %s: detect says %s, want %s", model, p.CPU.Microarchitecture, want)
		}
	}
}
