package cli

import (
	"os"
	"path/filepath"
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
