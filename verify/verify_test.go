package verify

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	ggcr "github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/tailor-dev/tailor/internal/gcctest"
	"github.com/tailor-dev/tailor/internal/registrytest"
	"github.com/tailor-dev/tailor/internal/tooltest"
	"github.com/tailor-dev/tailor/remote"
)

// pushMatrix pushes gcctest.Matrix to a distribution registry and returns
// its reference.
func pushMatrix(t *testing.T) string {
	t.Helper()
	host := registrytest.New(t, "")
	ref := host + "/forces:1"
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := ggcr.WriteIndex(r, gcctest.Matrix(t)); err != nil {
		t.Fatal(err)
	}
	return ref
}

func client(t *testing.T) *remote.Client {
	t.Helper()
	c, err := remote.New()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestMatrix is issue 9's index of static gcc builds: unlabelled generic
// ok; v3 as amd64/v3 ok; v4 labelled haswell mislabeled, naming AVX-512;
// v3 labelled nehalem mislabeled; v4 labelled skylake_avx512 ok; plain
// amd64 linked with -z x86-64-v3 mislabeled. Runs under qemu-user.
func TestMatrix(t *testing.T) {
	tooltest.Path(t, "qemu-x86_64")
	ref := pushMatrix(t)
	rep, err := Reference(context.Background(), client(t), ref, WithJobs(3))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		verdict  Verdict
		mentions []string
		run      string
	}{
		{OK, nil, "exited"},
		{OK, nil, "exited"},
		{Mislabeled, []string{"avx512f", "x86-64-v4", "SIGILL"}, "sigill"},
		{Mislabeled, []string{"avx2", "x86-64-v3", "SIGILL"}, "sigill"},
		{OK, nil, "skipped"},
		{OK, []string{"x86-64-v3", "no loader checks a static program's note"}, "exited"},
	}
	if len(rep.Results) != len(want) {
		t.Fatalf("%d results, want %d", len(rep.Results), len(want))
	}
	for i, w := range want {
		r := rep.Results[i]
		name := gcctest.MatrixBuilds[i].Name
		if r.Verdict != w.verdict {
			t.Errorf("%s: verdict %s (%v), want %s", name, r.Verdict, r.Reasons, w.verdict)
		}
		reasons := strings.Join(r.Reasons, "\n")
		for _, m := range w.mentions {
			if !strings.Contains(reasons, m) {
				t.Errorf("%s: reasons do not mention %q:\n%s", name, m, reasons)
			}
		}
		if r.Evidence.Run == nil || r.Evidence.Run.Outcome != w.run {
			t.Errorf("%s: run %+v, want %s", name, r.Evidence.Run, w.run)
		}
		if r.Index != i || r.Digest.Hex == "" || r.Evidence.Program != "/forces" || r.Evidence.BytesRead == 0 {
			t.Errorf("%s: index %d digest %s program %q bytes %d", name, r.Index, r.Digest, r.Evidence.Program, r.Evidence.BytesRead)
		}
		if r.Evidence.Code == nil || r.Evidence.Code.Report == nil || len(r.Evidence.Code.Selected) == 0 {
			t.Errorf("%s: code evidence %+v: want an analysis with glibc's run-time-selected code set apart", name, r.Evidence.Code)
		}
	}
	if !rep.Mislabeled() {
		t.Error("Mislabeled() = false")
	}
	if n := rep.Results[2].Needs; !strings.Contains(n, "avx512f") {
		t.Errorf("v4 labelled haswell: needs %q, want avx512f", n)
	}
	if n := rep.Results[5].Needs; strings.Contains(n, "x86_64_v3") {
		t.Errorf("static -z x86-64-v3: needs %q, want nothing of x86-64-v3 (nothing enforces the note)", n)
	}
	for i, model := range []string{"Conroe", "Haswell", "Haswell", "Nehalem"} {
		if r := rep.Results[i].Evidence.Run; r == nil || r.CPU != model {
			t.Errorf("%s: run %+v, want under qemu -cpu %s", gcctest.MatrixBuilds[i].Name, r, model)
		}
	}
	if why := rep.Results[4].Evidence.Run.Detail; !strings.Contains(why, "AVX-512") {
		t.Errorf("v4 labelled skylake_avx512: run skipped because %q, want TCG's lack of AVX-512 named", why)
	}
	for _, i := range []int{2, 3} {
		f := rep.Results[i].Evidence.Run.Fault
		if f == nil || f.File != "/forces" || f.Bytes == "" || len(f.Needs) == 0 {
			t.Errorf("%s: fault %+v, want the instruction found in /forces and named", gcctest.MatrixBuilds[i].Name, f)
		}
	}
	if !strings.Contains(strings.Join(rep.Results[2].Reasons, "\n"), "the instruction at") {
		t.Errorf("v4 labelled haswell: reasons %v do not name the faulting instruction", rep.Results[2].Reasons)
	}
	if _, err := json.Marshal(rep); err != nil {
		t.Fatal(err)
	}
}
