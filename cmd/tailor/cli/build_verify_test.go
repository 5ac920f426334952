package cli

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tailor-dev/tailor/internal/tooltest"
)

// TestBuildRefusesLyingMatrix: a build command that ignores the target's
// flags and compiles for x86-64-v4 makes entries labelled x86_64 and
// haswell that need AVX-512: build verifies before publishing, names
// them, exits 1 and writes nothing. --verify=false publishes anyway; an
// honest matrix is verified and published.
func TestBuildRefusesLyingMatrix(t *testing.T) {
	needCC(t)
	tooltest.Path(t, "qemu-x86_64")
	lying := buildFile(t, "targets: [x86_64, haswell, x86_64_v4]\ncmd: [\"64\", \"1\"]\ncommand: $CC -O3 -march=x86-64-v4 -static -o $TAILOR_OUT/forces forces.c -lm\n")
	dir := filepath.Join(t.TempDir(), "out")
	code, _, errs := runCLI(t, "build", "-f", lying, "--dest", "oci:"+dir+":1", "-j2")
	if code != exitFailure || !strings.Contains(errs, "refusing to publish: 2 entries need more than their labels say") || !strings.Contains(errs, "avx512f") {
		t.Fatalf("lying matrix: exit %d\n%s", code, errs)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("a refused build wrote %s (%v)", dir, err)
	}
	code, _, errs = runCLI(t, "build", "-f", lying, "--dest", "oci:"+dir+":1", "-j2", "--verify=false")
	if code != 0 {
		t.Errorf("--verify=false: exit %d\n%s", code, errs)
	}
	honest := buildFile(t, "targets: [x86_64, haswell, x86_64_v4]\ncmd: [\"64\", \"1\"]\n")
	code, _, errs = runCLI(t, "build", "-f", honest, "--dest", "oci:"+filepath.Join(t.TempDir(), "ok")+":1", "-j2")
	if code != 0 || !strings.Contains(errs, "verified: 3 ok, 0 mislabeled, 0 unverified") {
		t.Errorf("honest matrix: exit %d\n%s", code, errs)
	}
}

// TestBuildGoMatrix: the GOAMD64 matrix the docs promote (x86_64,
// x86_64_v3 and haswell, one go build each with the GOAMD64 build sets)
// is verified ok and published: the Go runtime's own AVX2/AVX-512 code
// runs only after its CPU checks. After verify --record, x86_64 hosts
// still get the v1 build and haswell hosts a v3 one.
func TestBuildGoMatrix(t *testing.T) {
	goTool := tooltest.Path(t, "go")
	tooltest.Path(t, "qemu-x86_64")
	// The source beside the build file: a context outside its directory
	// is refused.
	source, err := os.ReadFile("../../../verify/testdata/src/gocrypto/main.go")
	if err != nil {
		t.Fatal(err)
	}
	top := t.TempDir()
	if err := os.MkdirAll(filepath.Join(top, "src"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(top, "src", "main.go"), source, 0o644); err != nil {
		t.Fatal(err)
	}
	yaml := "name: gocrypto\ncontext: src\nentrypoint: [/app]\ncmd: [\"200\"]\ntargets: [x86_64, x86_64_v3, haswell]\n" +
		"command: CGO_ENABLED=0 " + goTool + " build -trimpath -o $TAILOR_OUT/app main.go\n"
	file := filepath.Join(top, "tailor.yaml")
	if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "out")
	code, _, errs := runCLI(t, "build", "-f", file, "--dest", "oci:"+dir+":1", "-j2")
	if code != 0 || !strings.Contains(errs, "verified: 3 ok, 0 mislabeled, 0 unverified") {
		t.Fatalf("Go matrix: exit %d\n%s", code, errs)
	}
	ref := "oci:" + dir + ":1"
	code, out, errs := runCLI(t, "verify", ref, "--record", "--record-to", "oci:"+dir+":1-verified")
	if code != 0 || !strings.Contains(out, "3 ok, 0 mislabeled") {
		t.Fatalf("verify --record: exit %d\n%s\n%s", code, out, errs)
	}
	// Entries in target order: 0 x86_64 (GOAMD64=v1), 1 x86_64_v3 and 2
	// haswell (GOAMD64=v3).
	for spec, want := range map[string][]string{"cpu=x86_64": {"0"}, "cpu=nehalem": {"0"}, "cpu=haswell": {"1", "2"}, "cpu=zen2": {"1"}} {
		code, out, errs := runCLI(t, "resolve", "oci:"+dir+":1-verified", "--profile", spec, "--explain")
		if code != 0 {
			t.Errorf("%s after --record: exit %d %s", spec, code, errs)
			continue
		}
		chosen := ""
		for _, l := range strings.Split(out, "\n") {
			if f := strings.Fields(l); len(f) > 2 && f[0] == "1" {
				chosen = f[1]
			}
		}
		if !slices.Contains(want, chosen) {
			t.Errorf("%s after --record: entry %q, want one of %v\n%s", spec, chosen, want, out)
		}
	}
}
