package cli

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tailor-dev/tailor/internal/registrytest"
	"github.com/tailor-dev/tailor/resolve/resolvetest"
)

func TestShellQuote(t *testing.T) {
	for _, tt := range []struct {
		argv []string
		want string
	}{
		{[]string{"docker", "run", "--rm", "host:5000/app@sha256:ab"}, "docker run --rm host:5000/app@sha256:ab"},
		{[]string{"podman", "run", "-e=A=b c", "x", "it's", ""}, `podman run '-e=A=b c' x 'it'\''s' ''`},
	} {
		if got := shellQuote(tt.argv); got != tt.want {
			t.Errorf("shellQuote(%q) = %s, want %s", tt.argv, got, tt.want)
		}
	}
}

func TestFindEngine(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	if _, _, err := findEngine("", false); err == nil {
		t.Error("findEngine with no engine on PATH: no error")
	}
	if e, _, err := findEngine("", true); err != nil || e != "docker" {
		t.Errorf("findEngine for a dry run = %q, %v; want docker", e, err)
	}
	if _, _, err := findEngine("nerdctl", false); exitCode(err) != exitUsage {
		t.Errorf("findEngine(nerdctl) not on PATH = %v, want a usage error", err)
	}
}

// fakeEngine puts a stand-in for engine on PATH: it writes its arguments,
// one a line, to the returned file, prints "engine ran" and exits with
// the status in $FAKE_ENGINE_EXIT.
func fakeEngine(t *testing.T, engine string) string {
	t.Helper()
	dir := t.TempDir()
	argsFile := filepath.Join(dir, "args")
	script := "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done > '" + argsFile + "'\necho engine ran\nexit ${FAKE_ENGINE_EXIT:-0}\n"
	if err := os.WriteFile(filepath.Join(dir, engine), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return argsFile
}

// TestRunEngine runs `tailor run` for real against a stand-in engine on
// PATH: the argv it gets, GPU devices for a CUDA build, and the engine's
// exit status as tailor's.
func TestRunEngine(t *testing.T) {
	host := registrytest.New(t, "")
	pushed, err := resolvetest.Push(host+"/app:1", resolvetest.Variants)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		engine, profile string
		variant         string
		gpuArgs         []string
		exit            string
		// plainArgs let the engine pull from the loopback registry over
		// plain HTTP, as tailor did (dockerd trusts loopback itself).
		plainArgs []string
	}{
		{"docker", "cpu=zen4", "zen4", nil, "0", nil},
		{"docker", "cpu=sapphirerapids,gpu=9.0,driver=550.54.14", "cuda_sm90", []string{"--gpus", "all"}, "0", nil},
		{"podman", "cpu=sapphirerapids,gpu=9.0,driver=550.54.14", "cuda_sm90", []string{"--device", "nvidia.com/gpu=all"}, "3", []string{"--tls-verify=false"}},
		{"nerdctl", "cpu=haswell", "x86_64_v3", nil, "0", []string{"--insecure-registry"}},
	} {
		argsFile := fakeEngine(t, tc.engine)
		t.Setenv("FAKE_ENGINE_EXIT", tc.exit)
		code, out, errs := runCLI(t, "run", host+"/app:1", "--engine", tc.engine, "--profile", tc.profile, "--run-arg=-e=A=1", "--", "--threads", "8")
		wantCode := 0
		if tc.exit != "0" {
			wantCode = 3
		}
		if code != wantCode || out != "engine ran\n" {
			t.Errorf("run with %s: exit %d, stdout %q, stderr %q; want %d and the engine's output", tc.engine, code, out, errs, wantCode)
		}
		b, err := os.ReadFile(argsFile)
		if err != nil {
			t.Fatalf("the engine did not run: %v", err)
		}
		want := append(append(append([]string{"run", "--rm"}, tc.plainArgs...), tc.gpuArgs...), "-e=A=1", host+"/app@"+pushed.Digests[tc.variant].String(), "--threads", "8")
		if got := strings.Split(strings.TrimSpace(string(b)), "\n"); !slices.Equal(got, want) {
			t.Errorf("%s %s got argv %q, want %q", tc.engine, tc.profile, got, want)
		}
	}
}
