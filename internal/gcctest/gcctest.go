package gcctest

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/tailor-dev/tailor/examples/forces"
	"github.com/tailor-dev/tailor/internal/tooltest"
)

// Kernels is the source of the demo's all-pairs force loop: kernel-like
// loops that gcc -O3 vectorises for whatever -march it is given.
func Kernels(t testing.TB) []byte {
	t.Helper()
	src, err := forces.FS.ReadFile("src/forces.c")
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// Source reads verify/testdata/src/name from a test of any verify package.
func Source(t testing.TB, name string) []byte {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	src, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "..", "verify", "testdata", "src", name))
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// Build compiles src with gcc -O3 -march=march and args (-static,
// -Wl,-z,x86-64-v3, ...) into a new file named name and returns its path.
func Build(t testing.TB, src []byte, name, march string, args ...string) string {
	t.Helper()
	if runtime.GOARCH != "amd64" {
		t.Skip("the test programs are built for x86-64")
	}
	gcc := tooltest.Path(t, "gcc")
	dir := t.TempDir()
	c := filepath.Join(dir, "prog.c")
	if err := os.WriteFile(c, src, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, name)
	argv := append([]string{"-O3", "-march=" + march, "-o", out, c}, args...)
	argv = append(argv, "-lm")
	if b, err := exec.Command(gcc, argv...).CombinedOutput(); err != nil {
		t.Fatalf("gcc %v: %v\n%s", argv, err, b)
	}
	return out
}

// Run runs gcc with args in dir (a test's temporary directory, where the
// sources were written).
func Run(t testing.TB, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command(tooltest.Path(t, "gcc"), args...)
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gcc %v: %v\n%s", args, err, b)
	}
}
