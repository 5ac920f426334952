package fatbin

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/tailor-dev/tailor/internal/cudatest"
)

func readFile(t testing.TB, path string) Reading {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := Read(f)
	if err != nil {
		t.Fatalf("Read(%s): %v", path, err)
	}
	return r
}

// TestNvccOutput reads every binary test/cuda/build.sh makes with the real
// nvcc and compares the reading with cuobjdump run on the same file: every
// module the runtime loads (--list-elf --list-ptx), and which of them hold
// a kernel (-sass -ptx: a "Function :", an .entry).
func TestNvccOutput(t *testing.T) {
	dir := cudatest.Dir(t)
	files, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range files {
		name := filepath.Base(path)
		if name == "done" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			r := readFile(t, path)
			all, kernels := AllArchs(r.Entries), Archs(r.Entries)
			if name == "kernel.ptx" {
				// cuobjdump reads no PTX file; nvcc was asked for
				// compute_75 and the file has one kernel.
				if !slices.Equal(all, []string{"compute_75"}) || !slices.Equal(kernels, all) || r.Form != FormPTX {
					t.Errorf("Read(%s) = %+v, want compute_75 with a kernel", name, r)
				}
				return
			}
			if want := cudatest.List(t, path); !slices.Equal(all, want) {
				t.Errorf("Read(%s) modules = %v, cuobjdump --list-elf --list-ptx: %v (%+v)", name, all, want, r)
			}
			if want := cudatest.Kernels(t, path); !slices.Equal(kernels, want) {
				t.Errorf("Read(%s) modules with kernels = %v, cuobjdump -sass -ptx: %v (%+v)", name, kernels, want, r)
			}
			t.Logf("%s: %s, modules %v, with kernels %v, unloaded containers %d", name, r.Form, all, kernels, r.Unloaded)
		})
	}
}

// TestNvccCublasLt reads the toolkit's libcublasLt, a large real library
// with thousands of containers, and compares with cuobjdump.
func TestNvccCublasLt(t *testing.T) {
	path := cudatest.CublasLt(t)
	r := readFile(t, path)
	want := cudatest.List(t, path)
	if got := AllArchs(r.Entries); !slices.Equal(got, want) {
		t.Errorf("Read(%s) = %v, cuobjdump: %v", path, got, want)
	}
	if r.Unsectioned || r.Dropped > 0 {
		t.Errorf("Read(%s) = %+v: want section-aware and complete", path, r)
	}
	t.Logf("%s: %v", path, Archs(r.Entries))
}

// BenchmarkReadCublasLt measures reading libcublasLt from the page cache
// (the floor: >= 1 GB/s).
func BenchmarkReadCublasLt(b *testing.B) {
	path := cudatest.CublasLt(b)
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Size())
	for b.Loop() {
		readFile(b, path)
	}
}
