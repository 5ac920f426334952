package registry

import (
	"io"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// TestGGCRRoundTrip pushes an image and an index with go-containerregistry
// and reads them back byte for byte.
func TestGGCRRoundTrip(t *testing.T) {
	_, base := newTest(t, "")
	host := strings.TrimPrefix(base, "http://")
	img, err := random.Image(1024, 3)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference(host+"/team/app:v1", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatalf("push image: %v", err)
	}
	idx := mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}})
	iref, _ := name.ParseReference(host+"/team/app:index", name.Insecure)
	if err := remote.WriteIndex(iref, idx); err != nil {
		t.Fatalf("push index: %v", err)
	}
	got, err := remote.Image(ref)
	if err != nil {
		t.Fatal(err)
	}
	wantRaw, _ := img.RawManifest()
	gotRaw, _ := got.RawManifest()
	if string(wantRaw) != string(gotRaw) {
		t.Errorf("manifest differs")
	}
	layers, _ := got.Layers()
	if len(layers) != 3 {
		t.Errorf("%d layers read back, want 3", len(layers))
	}
	for _, l := range layers {
		rc, err := l.Compressed()
		if err != nil {
			t.Fatal(err)
		}
		// ggcr checks the digest as it reads.
		if _, err := io.Copy(io.Discard, rc); err != nil {
			t.Errorf("layer read back: %v", err)
		}
		rc.Close()
	}
	gi, err := remote.Index(iref)
	if err != nil {
		t.Fatal(err)
	}
	wi, _ := idx.RawManifest()
	gr, _ := gi.RawManifest()
	if string(wi) != string(gr) {
		t.Errorf("index differs")
	}
	tags, err := remote.List(ref.Context())
	if err != nil || len(tags) != 2 {
		t.Errorf("tags = %v, %v", tags, err)
	}
}
