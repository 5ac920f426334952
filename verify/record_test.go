package verify

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/tailor-dev/tailor/internal/gcctest"
	"github.com/tailor-dev/tailor/profile"
	"github.com/tailor-dev/tailor/remote"
	"github.com/tailor-dev/tailor/resolve"
)

func mustSpec(t *testing.T, spec string) *profile.Profile {
	t.Helper()
	p, err := profile.ParseSpec(spec)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRecordSteersSelection: before --record, a haswell host is handed
// the AVX-512 build labelled haswell; after it, a nehalem host resolves to
// the generic build and a haswell host never to an AVX-512 build, on the
// registry and in an OCI layout.
func TestRecordSteersSelection(t *testing.T) {
	ctx := context.Background()
	c := client(t)
	idx := gcctest.Matrix(t)
	dir, tagged := t.TempDir(), t.TempDir()
	if _, err := layout.Write(dir, idx); err != nil {
		t.Fatal(err)
	}
	p, err := layout.Write(tagged, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendIndex(idx, layout.WithAnnotations(map[string]string{remote.AnnotationRefName: "1.0"})); err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{pushMatrix(t), "oci:" + dir, "oci:" + tagged + ":1.0"} {
		t.Run(strings.ReplaceAll(ref, "/", "_"), func(t *testing.T) {
			before, err := resolve.Resolve(ctx, c, ref, mustSpec(t, "cpu=haswell"))
			if err != nil {
				t.Fatal(err)
			}
			if before.Chosen.Index != 2 {
				t.Errorf("before --record, haswell got entry %d, want the AVX-512 build labelled haswell (2)", before.Chosen.Index)
			}
			rep, err := Reference(ctx, c, ref, WithRun(false))
			if err != nil {
				t.Fatal(err)
			}
			h, err := rep.Record(ctx, c, "")
			if err != nil {
				t.Fatal(err)
			}
			after, err := resolve.Resolve(ctx, c, ref, mustSpec(t, "cpu=nehalem"))
			if err != nil {
				t.Fatal(err)
			}
			if after.Chosen.Index != 0 || after.Index == nil || *after.Index != h {
				t.Errorf("nehalem after --record: entry %d of index %v, want the generic 0 of %s", after.Chosen.Index, after.Index, h)
			}
			for _, spec := range []string{"cpu=haswell", "cpu=broadwell", "cpu=zen2"} {
				r, err := resolve.Resolve(ctx, c, ref, mustSpec(t, spec))
				if err != nil {
					t.Fatal(err)
				}
				if strings.HasPrefix(gcctest.MatrixBuilds[r.Chosen.Index].March, "x86-64-v4") {
					t.Errorf("%s after --record: an AVX-512 build (entry %d, %s)", spec, r.Chosen.Index, gcctest.MatrixBuilds[r.Chosen.Index].Name)
				}
				for _, cand := range r.Candidates {
					if cand.Index == 2 && cand.Fits {
						t.Errorf("%s: the AVX-512 build labelled haswell still fits", spec)
					}
				}
			}
			sk, err := resolve.Resolve(ctx, c, ref, mustSpec(t, "cpu=skylake_avx512"))
			if err != nil || !strings.HasPrefix(gcctest.MatrixBuilds[sk.Chosen.Index].March, "x86-64-v4") {
				t.Errorf("skylake_avx512 after --record: %+v, %v; want an AVX-512 build", sk, err)
			}
			// Recording again gives the same bytes: the digest is stable.
			again, err := Reference(ctx, c, ref, WithRun(false))
			if err != nil {
				t.Fatal(err)
			}
			h2, err := again.Record(ctx, c, "")
			if err != nil || h2 != h {
				t.Errorf("recording twice: %s then %s (%v)", h, h2, err)
			}
		})
	}
}

func TestRecordRefusals(t *testing.T) {
	ctx := context.Background()
	c := client(t)
	ref := pushMatrix(t)
	rep, err := Reference(ctx, c, ref, WithRun(false), WithJobs(4))
	if err != nil {
		t.Fatal(err)
	}
	byDigest := strings.Split(ref, ":")[0] + ":" + strings.Split(ref, ":")[1] + "@" + rep.Digest.String()
	if _, err := rep.Record(ctx, c, byDigest); err == nil || !strings.Contains(err.Error(), "give a tag") {
		t.Errorf("record to a digest: %v", err)
	}
	single := &Report{Reference: "x", manifest: nil}
	if _, err := single.Corrected(); err == nil {
		t.Error("Corrected of no index: want an error")
	}
}

// TestRecordToNewTag: --record-to oci:DIR:NEWTAG adds the tag, leaving
// the verified one as it was; recording to a tag that exists replaces it.
func TestRecordToNewTag(t *testing.T) {
	ctx := context.Background()
	c := client(t)
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendIndex(gcctest.Matrix(t), layout.WithAnnotations(map[string]string{remote.AnnotationRefName: "1.0"})); err != nil {
		t.Fatal(err)
	}
	src := "oci:" + dir + ":1.0"
	before, err := c.Get(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Reference(ctx, c, src, WithRun(false))
	if err != nil {
		t.Fatal(err)
	}
	h, err := rep.Record(ctx, c, "oci:"+dir+":1.0-verified")
	if err != nil {
		t.Fatalf("record to a new tag: %v", err)
	}
	got, err := c.Get(ctx, "oci:"+dir+":1.0-verified")
	if err != nil || got.Digest != h {
		t.Fatalf("the new tag: %v, %v; want %s", got, err, h)
	}
	still, err := c.Get(ctx, src)
	if err != nil || still.Digest != before.Digest {
		t.Errorf("the verified tag moved: %v %v, want %s", still, err, before.Digest)
	}
	// Again: the tag exists now, and is replaced (same bytes, same digest).
	if h2, err := rep.Record(ctx, c, "oci:"+dir+":1.0-verified"); err != nil || h2 != h {
		t.Errorf("recording again: %s %v", h2, err)
	}
	flat := t.TempDir()
	if _, err := layout.Write(flat, gcctest.Matrix(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := rep.Record(ctx, c, "oci:"+flat+":new"); err == nil || !strings.Contains(err.Error(), "itself an index of images") {
		t.Errorf("a new tag in a layout that is the index: %v", err)
	}
}
