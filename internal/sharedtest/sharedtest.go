// Package sharedtest locates the project's shared folder (../shared beside
// the project root: the CPU corpus, archspec's reference catalog) for tests,
// which read that data in place rather than copying it into the project.
package sharedtest

import (
	"os"
	"path/filepath"
	"testing"
)

// RequireEnv, set to 1 (as .ci/run does), makes missing shared data fail
// the tests that need it instead of skipping them: in CI, data a test
// needs missing is a failure.
const RequireEnv = "TAILOR_REQUIRE_SHARED"

// Path returns ../shared/elem... from the project root. When that path
// does not exist the test is skipped, or fails when RequireEnv is set.
func Path(t testing.TB, elem ...string) string {
	t.Helper()
	p, ok := Find(t, elem...)
	if !ok {
		if os.Getenv(RequireEnv) == "1" {
			t.Fatalf("shared data %s is absent (%s=1: CI needs it)", p, RequireEnv)
		}
		t.Skipf("shared data %s is absent", p)
	}
	return p
}

// Find returns ../shared/elem... from the project root (the directory
// holding go.mod, found from the test's working directory) and whether it
// exists.
func Find(t testing.TB, elem ...string) (string, bool) {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
	p := filepath.Join(append([]string{dir, "..", "shared"}, elem...)...)
	_, err = os.Stat(p)
	return p, err == nil
}
