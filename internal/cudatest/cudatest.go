// Package cudatest builds the CUDA test binaries of test/cuda with the
// real nvcc (test/cuda/build.sh), once per version of the sources and the
// compiler, and reads what cuobjdump says they hold: the independent
// truth the fat binary reader is checked against. A test that needs nvcc
// or cuobjdump is skipped where they are missing, and fails where
// TAILOR_REQUIRE_TOOLS names them (CI: .ci/steps/16-cuda.sh).
package cudatest

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/tailor-dev/tailor/internal/tooltest"
)

var (
	once     sync.Once
	builtDir string
	buildErr string
)

// Dir returns the directory of the binaries test/cuda/build.sh makes,
// building them on first use (cached under the user cache directory, by
// the hash of the sources and nvcc's version).
func Dir(t testing.TB) string {
	t.Helper()
	tooltest.Path(t, "nvcc")
	tooltest.Path(t, "g++")
	once.Do(func() { builtDir, buildErr = build() })
	if buildErr != "" {
		t.Fatal(buildErr)
	}
	return builtDir
}

func build() (string, string) {
	src, err := sourceDir()
	if err != nil {
		return "", err.Error()
	}
	h := sha256.New()
	ver, err := exec.Command("nvcc", "--version").Output()
	if err != nil {
		return "", "nvcc --version: " + err.Error()
	}
	h.Write(ver)
	files, _ := filepath.Glob(filepath.Join(src, "*"))
	slices.Sort(files)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", err.Error()
		}
		h.Write([]byte(filepath.Base(f)))
		h.Write(b)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "tailor-cudatest", hex.EncodeToString(h.Sum(nil))[:16])
	if _, err := os.Stat(filepath.Join(dir, "done")); err == nil {
		return dir, ""
	}
	tmp := dir + ".tmp"
	os.RemoveAll(tmp)
	if out, err := exec.Command("bash", filepath.Join(src, "build.sh"), tmp).CombinedOutput(); err != nil {
		return "", "test/cuda/build.sh: " + err.Error() + "\n" + string(out)
	}
	if err := os.WriteFile(filepath.Join(tmp, "done"), nil, 0o644); err != nil {
		return "", err.Error()
	}
	os.RemoveAll(dir)
	if err := os.Rename(tmp, dir); err != nil {
		return "", err.Error()
	}
	return dir, ""
}

// sourceDir finds test/cuda above the working directory (the module root).
func sourceDir() (string, error) {
	d, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return filepath.Join(d, "test", "cuda"), nil
		}
		up := filepath.Dir(d)
		if up == d {
			return "", os.ErrNotExist
		}
		d = up
	}
}

// List returns the architectures `cuobjdump --list-elf --list-ptx` names
// in path (sm_80 for a cubin, compute_80 for PTX), distinct and sorted.
func List(t testing.TB, path string) []string {
	t.Helper()
	cuobjdump := tooltest.Path(t, "cuobjdump")
	out, _ := exec.Command(cuobjdump, "--list-elf", "--list-ptx", path).CombinedOutput()
	var archs []string
	for _, line := range strings.Split(string(out), "\n") {
		kind, name, ok := strings.Cut(line, ":")
		if !ok || !strings.Contains(kind, " file ") {
			continue
		}
		name = strings.TrimSpace(name)
		ext := filepath.Ext(name)
		base := strings.TrimSuffix(name, ext)
		arch := base[strings.LastIndex(base, ".")+1:]
		if ext == ".ptx" {
			arch = "compute_" + strings.TrimPrefix(arch, "sm_")
		}
		archs = append(archs, arch)
	}
	slices.Sort(archs)
	return slices.Compact(archs)
}

// Kernels returns the architectures whose modules in path hold a kernel,
// by `cuobjdump -sass -ptx`: a SASS block listing a "Function :", a PTX
// block with an .entry.
func Kernels(t testing.TB, path string) []string {
	t.Helper()
	cuobjdump := tooltest.Path(t, "cuobjdump")
	out, _ := exec.Command(cuobjdump, "-sass", "-ptx", path).CombinedOutput()
	var archs []string
	var arch string
	ptx := false
	for _, line := range strings.Split(string(out), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "Fatbin elf code:"), strings.HasPrefix(line, "Fatbin ptx code:"):
			ptx, arch = strings.Contains(line, "ptx"), ""
		case strings.HasPrefix(line, "code for sm_") && !ptx && arch == "":
			arch = strings.TrimPrefix(line, "code for ") // a lone cubin
		case strings.HasPrefix(line, "arch = "):
			arch = strings.TrimPrefix(line, "arch = ")
			if ptx {
				arch = "compute_" + strings.TrimPrefix(arch, "sm_")
			}
		case arch != "" && !ptx && strings.HasPrefix(line, "Function :"),
			arch != "" && ptx && strings.Contains(line, ".entry "):
			archs = append(archs, arch)
		}
	}
	slices.Sort(archs)
	return slices.Compact(archs)
}

// CublasLt returns the path of the CUDA toolkit's libcublasLt, a large
// real multi-architecture library.
func CublasLt(t testing.TB) string {
	t.Helper()
	for _, pattern := range []string{"/usr/lib/x86_64-linux-gnu/libcublasLt.so.*.*", "/usr/local/cuda/lib64/libcublasLt.so.*.*"} {
		if m, _ := filepath.Glob(pattern); len(m) > 0 {
			return m[0]
		}
	}
	return tooltest.File(t, "/usr/lib/x86_64-linux-gnu/libcublasLt.so.11", "nvcc")
}
