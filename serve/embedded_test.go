package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/tailor-dev/tailor/internal/registrytest"
	"github.com/tailor-dev/tailor/profile"
)

// embeddedServer starts tailor serve without upstream on storage, with
// profile cpu=haswell; it returns the base URL.
func embeddedServer(t *testing.T, storage string, log io.Writer) string {
	t.Helper()
	p, err := profile.ParseSpec("cpu=haswell")
	if err != nil {
		t.Fatal(err)
	}
	opts := []Option{WithStorage(storage), WithProfile(p), WithKeychain(authn.NewMultiKeychain())}
	if log != nil {
		opts = append(opts, WithLogger(slog.New(slog.NewTextHandler(log, nil))))
	}
	s, err := New(opts...)
	if err != nil {
		t.Fatalf("serve.New: %v", err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return ts.URL
}

// twoTargetIndex is an index of a generic and a haswell amd64 image, each
// holding /target.
func twoTargetIndex(t *testing.T) v1.ImageIndex {
	t.Helper()
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, target := range []string{"", "haswell"} {
		img := registrytest.Image(t, v1.Platform{OS: "linux", Architecture: "amd64"}, map[string]string{"target": target})
		desc := v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}
		if target != "" {
			desc.Annotations = map[string]string{"dev.tailor.cpu.target": target}
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: desc})
	}
	return idx
}

func writeIndex(t *testing.T, ref string, idx v1.ImageIndex) {
	t.Helper()
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(r, idx); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
}

// tailoredTarget reads the target annotation of what serve answers for ref.
func tailoredTarget(t *testing.T, base, ref string) string {
	t.Helper()
	resp := get(t, base+"/v2/"+ref, http.Header{"Accept": {mediaOCIIndex}})
	defer resp.Body.Close()
	var idx v1.IndexManifest
	if err := json.NewDecoder(resp.Body).Decode(&idx); err != nil || resp.StatusCode != http.StatusOK || len(idx.Manifests) == 0 {
		t.Fatalf("GET %s: %d %v", ref, resp.StatusCode, err)
	}
	return idx.Manifests[0].Annotations[AnnotationSelectedTarget]
}

// TestEmbeddedUpgrade: a storage the distribution registry wrote (tailor
// serve before it had its own registry) is imported once at start; tags,
// manifests and blobs read back identical through serve.
func TestEmbeddedUpgrade(t *testing.T) {
	ctx := context.Background()
	storage := t.TempDir()
	host, stop, err := registrytest.Start(ctx, filepath.Join(storage, "registry"))
	if err != nil {
		t.Fatal(err)
	}
	idx := twoTargetIndex(t)
	writeIndex(t, host+"/team/app:v1", idx)
	stop()

	var log bytes.Buffer
	base := embeddedServer(t, storage, &log)
	if !strings.Contains(log.String(), "imported the distribution registry's storage") {
		t.Errorf("the import is not logged: %s", log.String())
	}
	if got := tailoredTarget(t, base, "team/app/manifests/v1"); got != "haswell" {
		t.Errorf("after the upgrade, v1 tailored for %q", got)
	}
	raw, _ := idx.RawManifest()
	d, _ := idx.Digest()
	resp := get(t, base+"/v2/team/app/manifests/"+d.String(), nil)
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Equal(got, raw) {
		t.Errorf("index by digest after the upgrade: %d, identical %v", resp.StatusCode, bytes.Equal(got, raw))
	}
	im, _ := idx.IndexManifest()
	for _, desc := range im.Manifests {
		img, _ := idx.Image(desc.Digest)
		layers, _ := img.Layers()
		for _, l := range layers {
			ld, _ := l.Digest()
			resp := get(t, base+"/v2/team/app/blobs/"+ld.String(), nil)
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			rc, _ := l.Compressed()
			want, _ := io.ReadAll(rc)
			if resp.StatusCode != http.StatusOK || !bytes.Equal(b, want) {
				t.Errorf("layer %s after the upgrade: %d", ld, resp.StatusCode)
			}
		}
	}
	// Once: a second start does not import again.
	log.Reset()
	embeddedServer(t, storage, &log)
	if strings.Contains(log.String(), "importing") {
		t.Errorf("imported again at the second start: %s", log.String())
	}
}
