// Package deps checks what tailor's packages link: the library core stays
// light for the Go programs that import it, and the product binary links
// no test helpers.
package deps

import (
	"os/exec"
	"strings"
	"testing"
)

// listDeps is `go list -deps` of pkgs: every package they link.
func listDeps(t *testing.T, env []string, pkgs ...string) []string {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list", "-deps"}, pkgs...)...)
	cmd.Dir = "../.."
	cmd.Env = append(cmd.Environ(), env...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps %v: %v", pkgs, err)
	}
	return strings.Fields(string(out))
}

// TestLibraryCore: catalog, profile, requirement, match and detect import
// the standard library, golang.org/x/sys and go-containerregistry's v1
// types, nothing else outside tailor (DESIGN.md §6).
func TestLibraryCore(t *testing.T) {
	core := []string{"./catalog", "./profile", "./requirement", "./match", "./detect"}
	allowed := []string{
		"github.com/tailor-dev/tailor/",
		"golang.org/x/sys/",
		"github.com/google/go-containerregistry/pkg/v1",
		"github.com/google/go-containerregistry/pkg/v1/types",
	}
	for _, p := range listDeps(t, nil, core...) {
		if !strings.Contains(strings.Split(p, "/")[0], ".") {
			continue // the standard library
		}
		ok := false
		for _, a := range allowed {
			if p == a || (strings.HasSuffix(a, "/") && strings.HasPrefix(p, a)) {
				ok = true
			}
		}
		if !ok {
			t.Errorf("the library core links %s", p)
		}
	}
}

// TestBinaryNeedsNoCgo: no package the binary links needs cgo, so it
// builds without a C compiler and prints no C warnings. purego has cgo
// files used only when cgo is on, and a pure-Go path otherwise.
func TestBinaryNeedsNoCgo(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}} {{.Standard}} {{len .CgoFiles}}", "./cmd/tailor")
	cmd.Dir = "../.."
	cmd.Env = append(cmd.Environ(), "CGO_ENABLED=1")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		n++
		if len(f) != 3 || f[1] == "true" || f[2] == "0" || strings.HasPrefix(f[0], "github.com/ebitengine/purego") {
			continue
		}
		t.Errorf("cmd/tailor links %s, which has %s cgo files", f[0], f[2])
	}
	if n < 50 {
		t.Fatalf("go list printed %d packages for cmd/tailor; the check saw nothing", n)
	}
}

// TestStaticByDefault: the default build loads no shared library (it is
// static without cgo); -tags nvml adds purego, to load NVML at run time.
func TestStaticByDefault(t *testing.T) {
	has := func(env []string, args ...string) bool {
		cmd := exec.Command("go", append(append([]string{"list", "-deps"}, args...), "./cmd/tailor")...)
		cmd.Dir = "../.."
		cmd.Env = append(cmd.Environ(), env...)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list %v: %v", args, err)
		}
		return strings.Contains(string(out), "github.com/ebitengine/purego\n")
	}
	if has([]string{"CGO_ENABLED=0"}) {
		t.Error("the default build links purego: it would be dynamically linked")
	}
	if !has([]string{"CGO_ENABLED=0"}, "-tags", "nvml") {
		t.Error("-tags nvml does not link purego: NVML would not be loaded")
	}
}
