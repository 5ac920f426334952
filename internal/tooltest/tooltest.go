package tooltest

import (
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// RequireEnv is the environment variable listing the programs that must
// be present (comma-separated, or "all").
const RequireEnv = "TAILOR_REQUIRE_TOOLS"

// Path returns the path of program name, skipping the test when it is
// missing, or failing it when RequireEnv names it.
func Path(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if Required(name) {
		t.Fatalf("%s is required (%s=%s) but not on PATH: %v", name, RequireEnv, os.Getenv(RequireEnv), err)
	}
	t.Skipf("%s is not on PATH (CI installs it and sets %s)", name, RequireEnv)
	return ""
}

// Required reports whether RequireEnv names program name.
func Required(name string) bool {
	v := os.Getenv(RequireEnv)
	return v == "all" || slices.Contains(strings.Split(v, ","), name)
}

// File returns path when it exists, skipping the test when it does not, or
// failing it when RequireEnv names pkg (the package that installs it).
func File(t testing.TB, path, pkg string) string {
	t.Helper()
	if _, err := os.Stat(path); err == nil {
		return path
	}
	if Required(pkg) {
		t.Fatalf("%s is required (%s=%s) but %s is missing", pkg, RequireEnv, os.Getenv(RequireEnv), path)
	}
	t.Skipf("%s is missing (install %s; CI does and sets %s)", path, pkg, RequireEnv)
	return ""
}
