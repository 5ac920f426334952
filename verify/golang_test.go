package verify

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/tailor-dev/tailor/internal/gcctest"
	"github.com/tailor-dev/tailor/internal/tooltest"
	"github.com/tailor-dev/tailor/resolve"
)

// goBuild builds testdata/src/gocrypto with GOAMD64=level, statically.
func buildGo(t testing.TB, level string) string {
	t.Helper()
	if runtime.GOARCH != "amd64" {
		t.Skip("the test programs are built for x86-64")
	}
	goTool := tooltest.Path(t, "go")
	out := filepath.Join(t.TempDir(), "gocrypto-"+level)
	cmd := exec.Command(goTool, "build", "-trimpath", "-o", out, "./testdata/src/gocrypto")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64", "GOAMD64="+level)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build GOAMD64=%s: %v\n%s", level, err, b)
	}
	return out
}

// goVariant is one entry of the Go matrix: the GOAMD64 it was built with,
// its labels, and the truth: whether it runs under the qemu model of its
// declared target (established by the test itself, with qemu).
type goVariant struct {
	name        string
	goamd64     string
	variant     string
	annotations map[string]string
	model       string // the qemu model of the declared target
	runs        bool
}

var goMatrix = []goVariant{
	{name: "v1 as amd64", goamd64: "v1", model: "Conroe", runs: true},
	{name: "v3 as amd64/v3", goamd64: "v3", variant: "v3", model: "Haswell", runs: true},
	{name: "v1 labelled haswell", goamd64: "v1", annotations: map[string]string{"dev.tailor.cpu.target": "haswell"}, model: "Haswell", runs: true},
	{name: "v3 labelled nehalem", goamd64: "v3", annotations: map[string]string{"dev.tailor.cpu.target": "nehalem"}, model: "Nehalem"},
	{name: "v3 as plain amd64", goamd64: "v3", model: "Conroe"},
	{name: "v4 labelled haswell", goamd64: "v4", annotations: map[string]string{"dev.tailor.cpu.target": "haswell"}, model: "Haswell"},
}

// goIndex builds goMatrix into an index and checks each entry's truth
// with a run of its own under qemu.
func goIndex(t *testing.T) v1.ImageIndex {
	t.Helper()
	qemu := tooltest.Path(t, "qemu-x86_64")
	bins := map[string]string{"v1": buildGo(t, "v1"), "v3": buildGo(t, "v3"), "v4": buildGo(t, "v4")}
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, g := range goMatrix {
		out, err := exec.Command(qemu, "-cpu", g.model, bins[g.goamd64], "300").CombinedOutput()
		if runs := err == nil; runs != g.runs {
			t.Fatalf("truth: %s under qemu -cpu %s: %v\n%s; want runs=%v", g.name, g.model, err, out, g.runs)
		}
		img := gcctest.ProgramImage(t, bins[g.goamd64], "/app", "300")
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{
			Platform:    &v1.Platform{OS: "linux", Architecture: "amd64", Variant: g.variant},
			Annotations: g.annotations,
		}})
	}
	return idx
}

// TestGoMatrix: the Go runtime's own AVX2/AVX-512/AES code (memmove,
// indexbyte, aeshash, asyncPreempt, crypto) runs only after a CPU check,
// so a GOAMD64=v1 build is ok for x86_64 and a GOAMD64=v3 build for
// x86_64_v3, with or without runs; a v3 build labelled below x86-64-v3,
// or a v4 build labelled haswell, is mislabeled on the runtime's own check (its build information, and its
// refusal under the declared CPU). Truth: each entry run under qemu with
// its declared target's model.
func TestGoMatrix(t *testing.T) {
	idx := goIndex(t)
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	var entries []Entry
	for _, d := range im.Manifests {
		img, err := idx.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, Entry{Descriptor: d, Image: img})
	}
	for _, run := range []bool{true, false} {
		res, err := Images(context.Background(), entries, WithRun(run), WithJobs(2))
		if err != nil {
			t.Fatal(err)
		}
		for i, g := range goMatrix {
			r := res[i]
			want := Mislabeled
			if g.runs {
				want = OK
			}
			if r.Verdict != want {
				t.Errorf("run=%v %s: %s %v, want %s", run, g.name, r.Verdict, r.Reasons, want)
				continue
			}
			if r.Evidence.Go == nil || r.Evidence.Go.GOAMD64 != g.goamd64 {
				t.Errorf("run=%v %s: Go evidence %+v, want GOAMD64 %s", run, g.name, r.Evidence.Go, g.goamd64)
			}
			if !g.runs {
				reasons := strings.Join(r.Reasons, "\n")
				level := "x86_64_" + g.goamd64
				if !strings.Contains(reasons, "GOAMD64="+g.goamd64) || r.Needs != "cpu="+level && !strings.HasPrefix(r.Needs, "cpu="+level+",") {
					t.Errorf("run=%v %s: needs %q, reasons %s; want the runtime's %s named", run, g.name, r.Needs, reasons, level)
				}
				if run && (r.Evidence.Run == nil || r.Evidence.Run.Outcome != "refused" || !strings.Contains(reasons, "Go runtime")) {
					t.Errorf("%s: run %+v, want the Go runtime's refusal", g.name, r.Evidence.Run)
				}
			}
			if run && g.runs && (r.Evidence.Run == nil || r.Evidence.Run.Outcome != "exited" || r.Evidence.Run.CPU != g.model) {
				t.Errorf("%s: run %+v, want a clean run under %s", g.name, r.Evidence.Run, g.model)
			}
		}
	}
}

// TestGoRecordSteersSelection: after --record, a correct Go index still
// gives x86_64 hosts the v1 build and haswell hosts the v3 build.
func TestGoRecordSteersSelection(t *testing.T) {
	ctx := context.Background()
	c := client(t)
	idx := goIndex(t)
	// Only the honest entries: v1 as amd64, v3 as amd64/v3.
	im, _ := idx.IndexManifest()
	honest := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, i := range []int{0, 1} {
		img, err := idx.Image(im.Manifests[i].Digest)
		if err != nil {
			t.Fatal(err)
		}
		honest = mutate.AppendManifests(honest, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: im.Manifests[i].Platform}})
	}
	dir := t.TempDir()
	if _, err := layout.Write(dir, honest); err != nil {
		t.Fatal(err)
	}
	ref := "oci:" + dir
	rep, err := Reference(ctx, c, ref)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Results {
		if r.Verdict != OK {
			t.Fatalf("entry %d: %s %v", r.Index, r.Verdict, r.Reasons)
		}
	}
	if _, err := rep.Record(ctx, c, ""); err != nil {
		t.Fatal(err)
	}
	for spec, want := range map[string]int{"cpu=x86_64": 0, "cpu=core2": 0, "cpu=nehalem": 0, "cpu=haswell": 1, "cpu=zen2": 1, "cpu=skylake_avx512": 1} {
		r, err := resolve.Resolve(ctx, c, ref, mustSpec(t, spec))
		if err != nil {
			t.Errorf("%s after --record: %v", spec, err)
			continue
		}
		if r.Chosen.Index != want {
			t.Errorf("%s after --record: entry %d, want %d (%s)", spec, r.Chosen.Index, want, goMatrix[want].name)
		}
	}
}
