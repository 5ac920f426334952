package verify

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	ggcr "github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/tailor-dev/tailor/internal/gcctest"
	"github.com/tailor-dev/tailor/remote"
	"github.com/tailor-dev/tailor/serve"
)

// TestServeHonoursRecord: tailor serve tailors with match, so what
// --record wrote steers stock clients too: before it, a haswell client is
// served the AVX-512 build labelled haswell; after it, never an AVX-512
// build, and a nehalem client the generic one.
func TestServeHonoursRecord(t *testing.T) {
	ctx := context.Background()
	srv, err := serve.New(serve.WithStorage(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	host := strings.TrimPrefix(hs.URL, "http://")
	ref := host + "/forces:1"
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	idx := gcctest.Matrix(t)
	// tailor's own client asks for the untailored view (Tailor-Profile: none).
	if err := ggcr.WriteIndex(r, idx, client(t).Options(ctx)...); err != nil {
		t.Fatal(err)
	}
	im, _ := idx.IndexManifest()
	served := func(profile string) v1.Hash { // as a stock client with this profile gets it
		t.Helper()
		c, err := remote.New(remote.WithServerProfile(profile))
		if err != nil {
			t.Fatal(err)
		}
		got, err := ggcr.Index(r, c.Options(ctx)...)
		if err != nil {
			t.Fatal(err)
		}
		m, err := got.IndexManifest()
		if err != nil {
			t.Fatal(err)
		}
		// A stock client takes the one entry of plain os/arch (the chosen
		// entry may follow with its level's variant, and lower levels).
		var plain []v1.Descriptor
		for _, d := range m.Manifests {
			if d.Platform != nil && d.Platform.Variant == "" {
				plain = append(plain, d)
			}
		}
		if len(plain) != 1 {
			t.Fatalf("tailored index for %s: %+v", profile, m)
		}
		return plain[0].Digest
	}
	if d := served("cpu=haswell"); d != im.Manifests[2].Digest {
		t.Errorf("before --record, haswell was served %s, want the AVX-512 build labelled haswell", d)
	}
	rep, err := Reference(ctx, client(t), ref, WithRun(false))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rep.Record(ctx, client(t), ""); err != nil {
		t.Fatal(err)
	}
	for _, profile := range []string{"cpu=haswell", "cpu=broadwell"} {
		d := served(profile)
		for i, b := range gcctest.MatrixBuilds {
			if d == im.Manifests[i].Digest && strings.HasPrefix(b.March, "x86-64-v4") {
				t.Errorf("after --record, %s was served %s (%s)", profile, d, b.Name)
			}
		}
	}
	if d := served("cpu=nehalem"); d != im.Manifests[0].Digest {
		t.Errorf("after --record, nehalem was served %s, want the generic build", d)
	}
}
