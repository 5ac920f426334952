package verify

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/tailor-dev/tailor/internal/gcctest"
	"github.com/tailor-dev/tailor/internal/tooltest"
)

// realCase is a program built by a real toolchain in the test, its label,
// and the truth: whether it runs under the qemu model of its declared
// target, established by the test's own run.
type realCase struct {
	name   string
	bin    string
	static bool
	target string // dev.tailor.cpu.target; "" for plain amd64
	model  string
	runs   bool
	needs  string // a feature the reasons must name when it does not run
}

// truth runs bin under qemu -cpu model and reports whether it ran to a
// clean exit.
func truth(t *testing.T, bin, model string, args ...string) bool {
	t.Helper()
	qemu := tooltest.Path(t, "qemu-x86_64")
	cmd := exec.Command(qemu, append([]string{"-cpu", model, bin}, args...)...)
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok && !ee.Exited() && !strings.Contains(ee.String(), "illegal") {
		t.Fatalf("truth run of %s under %s: %v (want a clean exit or SIGILL)", bin, model, err)
	}
	return err == nil
}

// libgccLayer adds this machine's libgcc_s (Rust's std links it).
func libgccLayer(t *testing.T) v1.Layer {
	const p = "/lib/x86_64-linux-gnu/libgcc_s.so.1"
	tooltest.File(t, p, "libgcc-s1")
	return layer(t, entryTar{name: "usr/lib/x86_64-linux-gnu/libgcc_s.so.1", local: p})
}

// verifyCases verifies each case as an entry of its own and checks the
// verdict against the truth, with and without runs; it returns the
// false "mislabeled" and false "ok" counts.
func verifyCases(t *testing.T, cases []realCase, extra ...v1.Layer) {
	t.Helper()
	base := debianBase(t)
	var entries []Entry
	for i := range cases {
		c := &cases[i]
		c.runs = truth(t, c.bin, c.model, "300")
		layers := []v1.Layer{layer(t, entryTar{name: "app/prog", local: c.bin})}
		if !c.static {
			layers = append(append([]v1.Layer{base}, extra...), layers...)
		}
		d := v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}
		if c.target != "" {
			d.Annotations = map[string]string{"dev.tailor.cpu.target": c.target}
		}
		entries = append(entries, Entry{Descriptor: d, Image: image(t, []string{"/app/prog", "300"}, layers...)})
	}
	for _, run := range []bool{true, false} {
		res, err := Images(context.Background(), entries, WithRun(run))
		if err != nil {
			t.Fatal(err)
		}
		falseMislabeled, falseOK := 0, 0
		for i, c := range cases {
			r := res[i]
			want := OK
			if !c.runs {
				want = Mislabeled
			}
			if r.Verdict != want {
				if want == OK {
					falseMislabeled++
				} else {
					falseOK++
				}
				t.Errorf("run=%v %s (truth under %s: runs=%v): %s %v", run, c.name, c.model, c.runs, r.Verdict, r.Reasons)
				continue
			}
			if !c.runs && c.needs != "" && !strings.Contains(r.Needs, c.needs) {
				t.Errorf("run=%v %s: needs %q, want %s named", run, c.name, r.Needs, c.needs)
			}
			if run && !c.runs && (r.Evidence.Run == nil || r.Evidence.Run.Outcome != "sigill" || r.Evidence.Run.Fault == nil || len(r.Evidence.Run.Fault.Needs) == 0) {
				t.Errorf("%s: run %+v; want a SIGILL whose instruction is named", c.name, r.Evidence.Run)
			}
		}
		t.Logf("run=%v: %d cases, %d false mislabeled, %d false ok", run, len(cases), falseMislabeled, falseOK)
	}
}

// TestCPUCheckDispatch: a C program that tests the CPU with
// __builtin_cpu_supports and calls its AVX2 and AVX-512 functions
// directly is ok for x86_64 (dynamic and static); the same program
// calling its AVX2 function unchecked is mislabeled, naming AVX2.
func TestCPUCheckDispatch(t *testing.T) {
	src := gcctest.Source(t, "cpucheck.c")
	cases := []realCase{
		{name: "checked, dynamic", bin: gcctest.Build(t, src, "cpucheck", "x86-64"), model: "Conroe"},
		{name: "checked, static", bin: gcctest.Build(t, src, "cpucheck", "x86-64", "-static"), static: true, model: "Conroe"},
		{name: "checked, dynamic, labelled nehalem", bin: gcctest.Build(t, src, "cpucheck", "x86-64"), target: "nehalem", model: "Nehalem"},
		{name: "unchecked, dynamic", bin: gcctest.Build(t, src, "cpucheck", "x86-64", "-DUNCHECKED"), model: "Conroe", needs: "avx2"},
		{name: "unchecked, static, labelled nehalem", bin: gcctest.Build(t, src, "cpucheck", "x86-64", "-DUNCHECKED", "-static"), static: true, target: "nehalem", model: "Nehalem", needs: "avx2"},
	}
	verifyCases(t, cases)
}

// TestRustDispatch: Rust's is_x86_feature_detected! (std_detect) guards
// an AVX2 function: the default build is ok for x86_64; built with
// -C target-cpu=haswell and labelled x86_64 it is mislabeled.
func TestRustDispatch(t *testing.T) {
	rustc := tooltest.Path(t, "rustc")
	src := filepath.Join(t.TempDir(), "detect.rs")
	if err := os.WriteFile(src, gcctest.Source(t, "detect.rs"), 0o644); err != nil {
		t.Fatal(err)
	}
	build := func(args ...string) string {
		out := filepath.Join(t.TempDir(), "detect")
		if b, err := exec.Command(rustc, append([]string{"-O", "-o", out, src}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("rustc %v: %v\n%s", args, err, b)
		}
		return out
	}
	def, haswell := build(), build("-C", "target-cpu=haswell")
	cases := []realCase{
		{name: "default", bin: def, model: "Conroe"},
		{name: "default labelled haswell", bin: def, target: "haswell", model: "Haswell"},
		{name: "target-cpu=haswell labelled haswell", bin: haswell, target: "haswell", model: "Haswell"},
		{name: "target-cpu=haswell as plain amd64", bin: haswell, model: "Conroe"},
	}
	verifyCases(t, cases, libgccLayer(t))
}

// TestAVX512Subsets: the AVX-512 subsets count apart. A build whose loops
// gcc vectorised with vpopcntd (-march=icelake-server) is mislabeled as
// skylake_avx512, which lacks avx512_vpopcntdq, and ok as icelake; one
// with AVX512-FP16 arithmetic (-march=sapphirerapids) is mislabeled as
// icelake or zen4. TCG runs no AVX-512, so the truth is what objdump says
// the code holds (and the catalog's features of each target).
func TestAVX512Subsets(t *testing.T) {
	src := gcctest.Source(t, "subsets.c")
	popcnt := gcctest.Build(t, src, "subsets", "icelake-server", "-static", "-mprefer-vector-width=512")
	fp16 := gcctest.Build(t, src, "subsets", "sapphirerapids", "-static", "-mprefer-vector-width=512", "-DFP16")
	objdump := tooltest.Path(t, "objdump")
	for bin, mnemonic := range map[string]string{popcnt: "vpopcntd", fp16: "ph "} {
		out, err := exec.Command(objdump, "-d", bin).Output()
		if err != nil || !strings.Contains(string(out), mnemonic) {
			t.Fatalf("truth: objdump of %s shows no %q (%v)", bin, mnemonic, err)
		}
	}
	cases := []struct {
		bin, target string
		want        Verdict
		names       string
	}{
		{popcnt, "skylake_avx512", Mislabeled, "avx512_vpopcntdq"},
		{popcnt, "cascadelake", Mislabeled, "avx512_vpopcntdq"},
		{popcnt, "icelake", OK, ""},
		{fp16, "icelake", Mislabeled, "avx512_fp16"},
		{fp16, "zen4", Mislabeled, "avx512_fp16"},
	}
	var entries []Entry
	for _, c := range cases {
		d := v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}, Annotations: map[string]string{"dev.tailor.cpu.target": c.target}}
		entries = append(entries, Entry{Descriptor: d, Image: gcctest.ProgramImage(t, c.bin, "/subsets", "300")})
	}
	res, err := Images(context.Background(), entries)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range cases {
		r := res[i]
		if r.Verdict != c.want || c.names != "" && (!strings.Contains(strings.Join(r.Reasons, "\n"), c.names) || !strings.Contains(r.Needs, c.names)) {
			t.Errorf("%s labelled %s: %s %v needs %q; want %s naming %q", filepath.Base(c.bin), c.target, r.Verdict, r.Reasons, r.Needs, c.want, c.names)
		}
		if r.Evidence.Run == nil || r.Evidence.Run.Outcome != "skipped" || !strings.Contains(r.Evidence.Run.Detail, "AVX-512") {
			t.Errorf("%s labelled %s: run %+v, want skipped, saying TCG has no AVX-512", filepath.Base(c.bin), c.target, r.Evidence.Run)
		}
	}
}

// TestRunsThatProveNothing: a run that never reached the program's code
// (its library missing from the image: ld.so's "error while loading
// shared libraries", exit 127) is no evidence, and the entry is
// unverified with that reason; a program that stops itself with ud2
// (__builtin_trap: SIGILL under every CPU model, Conroe and Haswell
// alike) is not mislabeled for it: the instruction is named a trap.
func TestRunsThatProveNothing(t *testing.T) {
	tooltest.Path(t, "qemu-x86_64")
	base := debianBase(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "kern.c"), gcctest.Source(t, "kern.c"), 0o644); err != nil {
		t.Fatal(err)
	}
	gcctest.Run(t, dir, "-O3", "-shared", "-fPIC", "-o", "libkern.so", "kern.c")
	gcctest.Run(t, dir, "-O3", "-DMAIN", "-o", "run", "kern.c", "-L.", "-lkern", "-lm")
	trap := gcctest.Build(t, gcctest.Source(t, "trap.c"), "trap", "x86-64", "-static")
	for _, model := range []string{"Conroe", "Haswell"} {
		if truth(t, trap, model, "stop") {
			t.Fatalf("truth: trap stop ran cleanly under %s", model)
		}
	}
	amd64 := v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}
	entries := []Entry{
		{Descriptor: amd64, Image: image(t, []string{"run", "100"}, base, layer(t, entryTar{name: "usr/bin/run", local: filepath.Join(dir, "run")}))},
		{Descriptor: amd64, Image: image(t, []string{"/trap", "stop"}, layer(t, entryTar{name: "trap", local: trap}))},
	}
	res, err := Images(context.Background(), entries)
	if err != nil {
		t.Fatal(err)
	}
	missing, trapped := res[0], res[1]
	if missing.Verdict != Unverified || missing.Evidence.Run == nil || missing.Evidence.Run.Outcome != "not-started" ||
		!strings.Contains(strings.Join(missing.Reasons, "\n"), "error while loading shared libraries") {
		t.Errorf("missing library: %s %v, run %+v; want unverified, the run never started", missing.Verdict, missing.Reasons, missing.Evidence.Run)
	}
	if trapped.Verdict != OK || trapped.Evidence.Run == nil || trapped.Evidence.Run.Outcome != "trapped" ||
		!strings.Contains(strings.Join(trapped.Reasons, "\n"), "trap instruction (0f0b") {
		t.Errorf("ud2: %s %v, run %+v; want ok, the SIGILL named a trap", trapped.Verdict, trapped.Reasons, trapped.Evidence.Run)
	}
}

// TestBaselineRun: a stripped dynamic program whose SSSE3 function runs
// only when __builtin_cpu_supports says so: the analysis, without
// symbols, counts the SSSE3 code; Conroe (the x86_64 model) has SSSE3 and
// cannot refute it; a second run on Opteron_G1 (SSE2 only, the lowest
// real x86-64) exits cleanly, so the entry is ok and the reasons say why.
func TestBaselineRun(t *testing.T) {
	bin := gcctest.Build(t, gcctest.Source(t, "ssse3check.c"), "ssse3check", "x86-64", "-s")
	if !truth(t, bin, "Opteron_G1", "300") {
		t.Fatal("truth: ssse3check does not run on Opteron_G1")
	}
	d := v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}
	img := image(t, []string{"/app/prog", "300"}, debianBase(t), layer(t, entryTar{name: "app/prog", local: bin}))
	for _, run := range []bool{false, true} {
		res, err := Images(context.Background(), []Entry{{Descriptor: d, Image: img}}, WithRun(run))
		if err != nil {
			t.Fatal(err)
		}
		r := res[0]
		if r.Evidence.Code == nil || !slices.Contains(r.Evidence.Code.Beyond, "ssse3") {
			t.Fatalf("run=%v: code %+v; want the stripped program's SSSE3 counted", run, r.Evidence.Code)
		}
		reasons := strings.Join(r.Reasons, "\n")
		switch {
		case !run && r.Verdict != Mislabeled:
			t.Errorf("without runs: %s %v; want mislabeled on the code alone", r.Verdict, r.Reasons)
		case run && (r.Verdict != OK || r.Evidence.BaselineRun == nil || r.Evidence.BaselineRun.CPU != "Opteron_G1" || !strings.Contains(reasons, "Opteron_G1")):
			t.Errorf("with runs: %s %v, baseline run %+v; want ok, settled by Opteron_G1", r.Verdict, r.Reasons, r.Evidence.BaselineRun)
		case run && strings.Contains(r.Needs, "ssse3"):
			t.Errorf("with runs: needs %q, want no ssse3 recorded", r.Needs)
		}
	}
}
