package reach

import (
	"bytes"
	"debug/elf"
	"os"
	"os/exec"
	"testing"

	"github.com/tailor-dev/tailor/internal/gcctest"
	"github.com/tailor-dev/tailor/internal/tooltest"
	"github.com/tailor-dev/tailor/verify/x86isa"
)

func analyze(t *testing.T, path string) *Report {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := Analyze(f)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestAnalyzeStaticBuilds: static gcc builds of the kernel loops need what
// their -march gives the program's own code, and nothing of the AVX2 and
// AVX-512 variants their static glibc carries.
func TestAnalyzeStaticBuilds(t *testing.T) {
	src := gcctest.Kernels(t)
	cases := []struct {
		march    string
		args     []string
		want     x86isa.Features // exactly
		inMain   x86isa.Features
		unreach  x86isa.Features // at least, in glibc's variants
		resolver bool
	}{
		{"x86-64", []string{"-static"}, 0, 0, x86isa.AVX2 | x86isa.AVX512F, true},
		{"x86-64", []string{"-static", "-Wl,-z,x86-64-v3"}, 0, 0, x86isa.AVX512F, true},
		{"x86-64-v2", []string{"-static"}, x86isa.SSE3 | x86isa.SSE41, x86isa.SSE41, x86isa.AVX512F, true},
		{"x86-64-v3", []string{"-static"}, x86isa.AVX | x86isa.AVX2 | x86isa.FMA, x86isa.FMA | x86isa.AVX2, x86isa.AVX512F, true},
		{"x86-64-v4", []string{"-static"}, x86isa.AVX | x86isa.AVX2 | x86isa.FMA | x86isa.AVX512F | x86isa.AVX512DQ | x86isa.AVX512VL, x86isa.AVX512F, 0, true},
		{"x86-64-v3", nil, x86isa.AVX | x86isa.AVX2 | x86isa.FMA, x86isa.FMA, 0, false},
	}
	for _, c := range cases {
		name := c.march
		for _, a := range c.args {
			name += " " + a
		}
		t.Run(name, func(t *testing.T) {
			r := analyze(t, gcctest.Build(t, src, "kernels", c.march, c.args...))
			if r.Needs != c.want {
				t.Errorf("Needs = %v, want %v (uses %+v)", r.Needs, c.want, r.Uses)
			}
			c.inMain.Each(func(f x86isa.Features) {
				if u := r.Uses[f.String()]; u.Function != "main" {
					t.Errorf("%v first seen in %q, want main", f, u.Function)
				}
			})
			if r.Unreached&c.unreach != c.unreach {
				t.Errorf("Unreached = %v, want at least %v: glibc's variants were not found", r.Unreached, c.unreach)
			}
			if (r.Resolvers > 0) != c.resolver || r.Stripped || r.Caveat != "" || r.Errors != 0 {
				t.Errorf("resolvers %d, stripped %v, caveat %q, errors %d", r.Resolvers, r.Stripped, r.Caveat, r.Errors)
			}
			if r.Functions < 1 || r.Functions > r.Total || r.Instructions == 0 {
				t.Errorf("functions %d of %d, instructions %d", r.Functions, r.Total, r.Instructions)
			}
		})
	}
}

// TestAnalyzeOwnDispatch: a program's own target_clones (an IFUNC with an
// AVX-512 clone) are chosen at run time and do not count; its callbacks
// (qsort's comparison, reached through its address) are followed.
func TestAnalyzeOwnDispatch(t *testing.T) {
	src := gcctest.Source(t, "dispatch.c")
	for _, args := range [][]string{{"-static"}, nil} {
		r := analyze(t, gcctest.Build(t, src, "dispatch", "x86-64", args...))
		if r.Needs != 0 {
			t.Errorf("%v: Needs = %v (uses %+v), want none", args, r.Needs, r.Uses)
		}
		if r.Unreached&x86isa.AVX512F == 0 {
			t.Errorf("%v: the avx512f clone was not seen at all (unreached %v)", args, r.Unreached)
		}
	}
}

// TestAnalyzeStripped: without symbols the program's code is still found
// by recursive descent; a stripped static glibc is flagged, as its
// variants cannot be set apart.
func TestAnalyzeStripped(t *testing.T) {
	strip := tooltest.Path(t, "strip")
	src := gcctest.Kernels(t)
	dyn := gcctest.Build(t, src, "kernels", "x86-64-v3")
	static := gcctest.Build(t, src, "kernels", "x86-64", "-static")
	for _, p := range []string{dyn, static} {
		if out, err := exec.Command(strip, p).CombinedOutput(); err != nil {
			t.Fatalf("strip: %v %s", err, out)
		}
	}
	r := analyze(t, dyn)
	if !r.Stripped || r.Caveat != "" || r.Needs&(x86isa.AVX2|x86isa.FMA) != x86isa.AVX2|x86isa.FMA {
		t.Errorf("stripped dynamic v3: stripped %v caveat %q needs %v; want avx2, fma, no caveat", r.Stripped, r.Caveat, r.Needs)
	}
	r = analyze(t, static)
	if !r.Stripped || r.Caveat == "" {
		t.Errorf("stripped static: stripped %v caveat %q; want a caveat", r.Stripped, r.Caveat)
	}
}

func TestAnalyzeRefusesOtherMachines(t *testing.T) {
	f := &elf.File{FileHeader: elf.FileHeader{Class: elf.ELFCLASS64, Machine: elf.EM_AARCH64}}
	if _, err := Analyze(f); err == nil {
		t.Error("Analyze(aarch64): want ErrUnsupported")
	}
}

// TestAnalyzeMalformedGo: a Go program whose pclntab is damaged (the
// bytes after its header overwritten) is analysed or refused with an
// error, never a crash.
func TestAnalyzeMalformedGo(t *testing.T) {
	goTool := tooltest.Path(t, "go")
	dir := t.TempDir()
	src := dir + "/main.go"
	if err := os.WriteFile(src, []byte("package main\n\nfunc main() { println(len(\"x\")) }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := dir + "/prog"
	cmd := exec.Command(goTool, "build", "-o", bin, src)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	pcln := f.Section(".gopclntab")
	f.Close()
	if pcln == nil {
		t.Fatal("no .gopclntab")
	}
	for _, fill := range []byte{0x00, 0xff, 0x7f} {
		bad := bytes.Clone(data)
		for i := pcln.Offset + 8; i < pcln.Offset+pcln.Size && i < pcln.Offset+4096; i++ {
			bad[i] = fill
		}
		path := dir + "/bad"
		if err := os.WriteFile(path, bad, 0o755); err != nil {
			t.Fatal(err)
		}
		g, err := elf.Open(path)
		if err != nil {
			continue
		}
		if _, err := Analyze(g); err != nil {
			t.Logf("fill %#x: %v", fill, err)
		}
		g.Close()
	}
}

// TestAnalyzeCPUIDDispatch: a branch on a CPUID result (the general
// rule, no named variable: PostgreSQL's CRC32C chooser) sets the SSE4.2
// function apart; truth: the program runs under qemu -cpu Conroe, which
// has no SSE4.2.
func TestAnalyzeCPUIDDispatch(t *testing.T) {
	qemu := tooltest.Path(t, "qemu-x86_64")
	bin := gcctest.Build(t, gcctest.Source(t, "cpuidcheck.c"), "cpuidcheck", "x86-64", "-O2")
	if out, err := exec.Command(qemu, "-cpu", "Conroe", bin, "100").CombinedOutput(); err != nil {
		t.Fatalf("truth: %v\n%s", err, out)
	}
	r := analyze(t, bin)
	// crc_sse42 is called only from behind the check: never reached.
	if r.Needs&x86isa.SSE42 != 0 || r.Unreached&x86isa.SSE42 == 0 || r.DispatchBranches == 0 {
		t.Errorf("Needs %v, not reached %v (%d dispatch branches): want SSE4.2 behind the CPUID check", r.Needs, r.Unreached, r.DispatchBranches)
	}
}
