package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tailor-dev/tailor/profile"

	"github.com/tailor-dev/tailor/internal/sharedtest"
)

// run executes tailor in-process and returns stdout, stderr and the exit code.
func run(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Execute(context.Background(), args, &stdout, &stderr)
	return stdout.String(), stderr.String(), code
}

func corpusFile(t *testing.T, name string) string {
	t.Helper()
	return sharedtest.Path(t, "cpu-corpus", name)
}

func TestDetectDumpOutputs(t *testing.T) {
	path := corpusFile(t, "linux-unknown-sapphirerapids")
	out, errOut, code := run(t, "detect", "--cpuinfo", path, "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var p profile.Profile
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatalf("detect -o json is not JSON: %v\n%s", err, out)
	}
	if p.CPU.Microarchitecture != "sapphirerapids" || p.Platform != "linux/amd64/v4" || p.CPU.Ancestors[0] != "icelake" || p.GPUs == nil {
		t.Errorf("profile = %+v", p)
	}
	out, _, _ = run(t, "detect", "--cpuinfo", path, "-o", "platform")
	if out != "linux/amd64/v4\n" {
		t.Errorf("-o platform = %q", out)
	}
	out, _, _ = run(t, "detect", "--cpuinfo", path, "-o", "nfd", "--labels", "mpi=openmpi")
	for _, want := range []string{"tailor.dev/cpu.target=sapphirerapids\n", "tailor.dev/cpu.level=v4\n", "tailor.dev/cpu.target.skylake_avx512=true\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("-o nfd lacks %q:\n%s", want, out)
		}
	}
	out, _, _ = run(t, "detect", "--cpuinfo", path, "--labels", "mpi=openmpi")
	for _, want := range []string{"sapphirerapids > icelake > cascadelake", "linux/amd64/v4", "mpi=openmpi"} {
		if !strings.Contains(out, want) {
			t.Errorf("-o text lacks %q:\n%s", want, out)
		}
	}
}

func TestDetectProfileSpec(t *testing.T) {
	out, errOut, code := run(t, "detect", "--profile", "cpu=zen3,gpu=8.0,driver=550.54.14,label.k=v", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var p profile.Profile
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatal(err)
	}
	if p.CPU.Microarchitecture != "zen3" || len(p.GPUs) != 1 || p.GPUs[0].CUDAVersion != "12.4" || p.Labels["k"] != "v" {
		t.Errorf("profile = %+v", p)
	}
}

func TestDetectBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	empty := write("empty", "")
	binary := write("binary", "\x7fELF\x00\x01\x02\x03garbage")
	garbled := write("garbled", "this is not a cpuinfo file\nat all\n")
	truncated := write("truncated", "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmod")
	tests := [][]string{
		{"detect", "--cpuinfo", empty},
		{"detect", "--cpuinfo", binary},
		{"detect", "--cpuinfo", garbled, "--machine", "x86_64"},
		{"detect", "--cpuinfo", truncated, "--machine", "x86_64"},
		{"detect", "--sysctl", garbled},
		{"detect", "--cpuinfo", filepath.Join(dir, "missing")},
		{"detect", "--cpuinfo", garbled, "--machine", "mips"},
		{"detect", "--profile", "cpu=zen9"},
		{"detect", "--profile", "cpu=zen3,gpu=eight"},
		{"detect", "-o", "yaml"},
		{"detect", "--bogus-flag"},
		{"targets", "zen9"},
	}
	for _, args := range tests {
		out, errOut, code := run(t, args...)
		if code != 2 {
			t.Errorf("tailor %v: exit %d, want 2 (stderr %q)", args, code, errOut)
		}
		if lines := strings.Count(strings.TrimRight(errOut, "\n"), "\n"); lines != 0 || errOut == "" {
			t.Errorf("tailor %v: want one error line on stderr, got %q", args, errOut)
		}
		if strings.Contains(errOut, "panic") || strings.Contains(errOut, "goroutine") || strings.Contains(out, "x86_64") {
			t.Errorf("tailor %v: stdout %q stderr %q", args, out, errOut)
		}
	}
}

func TestTargetsJSON(t *testing.T) {
	out, _, code := run(t, "targets", "-o", "json")
	var list []targetJSON
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil || len(list) != 78 {
		t.Fatalf("targets -o json: exit %d, %d targets", code, len(list))
	}
	out, _, _ = run(t, "targets", "skylake_avx512")
	for _, want := range []string{"linux/amd64/v4", "-march=skylake-avx512 -mtune=skylake-avx512", "avx512f"} {
		if !strings.Contains(out, want) {
			t.Errorf("targets skylake_avx512 lacks %q", want)
		}
	}
}
