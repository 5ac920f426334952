package registry

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/opencontainers/go-digest"
	"github.com/tailor-dev/tailor/internal/registrytest"
)

// snapshot is what a registry serves for a set of references: manifest
// bytes and Content-Type by tag and by digest, and every blob's bytes.
type snapshot map[string]string

func takeSnapshot(t *testing.T, base string, refs map[string][]string) snapshot {
	t.Helper()
	s := snapshot{}
	for repo, tags := range refs {
		for _, tag := range tags {
			a := do(t, "GET", base+"/v2/"+repo+"/manifests/"+tag, nil, "Accept", MediaOCIIndex, "Accept", MediaOCIManifest, "Accept", MediaDockerList, "Accept", MediaDockerImage)
			if a.status != http.StatusOK {
				t.Fatalf("GET %s:%s: %d %s", repo, tag, a.status, a.body)
			}
			d := a.header.Get("Docker-Content-Digest")
			s[repo+":"+tag] = d + " " + a.header.Get("Content-Type") + " " + string(a.body)
			b := do(t, "GET", base+"/v2/"+repo+"/manifests/"+d, nil, "Accept", a.header.Get("Content-Type"))
			s[repo+"@"+d] = b.header.Get("Content-Type") + " " + string(b.body)
			var m manifestJSON
			if err := jsonUnmarshal(a.body, &m); err != nil {
				t.Fatal(err)
			}
			var blobs []descriptor
			if m.Config != nil {
				blobs = append(blobs, *m.Config)
			}
			blobs = append(blobs, m.Layers...)
			for _, desc := range blobs {
				bl := do(t, "GET", base+"/v2/"+repo+"/blobs/"+desc.Digest, nil)
				s[repo+"/blob/"+desc.Digest] = itoa(bl.status) + " " + string(bl.body)
			}
		}
		tl := do(t, "GET", base+"/v2/"+repo+"/tags/list", nil)
		s[repo+"/tags"] = strings.TrimSpace(string(tl.body))
	}
	return s
}

// TestImportDistribution: content written by the real distribution
// registry (as tailor serve embedded it before) reads back byte for byte
// after the import, once.
func TestImportDistribution(t *testing.T) {
	ctx := context.Background()
	old := filepath.Join(t.TempDir(), "registry")
	host, stop, err := registrytest.Start(ctx, old)
	if err != nil {
		t.Fatal(err)
	}
	push := func(ref string, w func(name.Reference) error) {
		r, err := name.ParseReference(host+"/"+ref, name.Insecure)
		if err != nil {
			t.Fatal(err)
		}
		if err := w(r); err != nil {
			t.Fatalf("push %s to distribution: %v", ref, err)
		}
	}
	img1, _ := random.Image(2048, 2)
	img2, _ := random.Image(512, 1)
	ociImg := mutate.ConfigMediaType(mutate.MediaType(img2, types.OCIManifestSchema1), types.OCIConfigJSON)
	idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex),
		mutate.IndexAddendum{Add: ociImg, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}})
	push("team/app:v1", func(r name.Reference) error { return remote.Write(r, img1) })
	push("team/app:latest", func(r name.Reference) error { return remote.Write(r, img1) })
	push("team/app:oci", func(r name.Reference) error { return remote.Write(r, ociImg) })
	push("team/app:index", func(r name.Reference) error { return remote.WriteIndex(r, idx) })
	push("solo:1.0", func(r name.Reference) error { return remote.Write(r, img2) })
	refs := map[string][]string{"team/app": {"v1", "latest", "oci", "index"}, "solo": {"1.0"}}
	want := takeSnapshot(t, "http://"+host, refs)
	stop()

	dir := t.TempDir()
	reg, base := newTest(t, dir)
	st, err := reg.ImportDistribution(ctx, old)
	if err != nil {
		t.Fatalf("ImportDistribution: %v", err)
	}
	if st.Repositories != 2 || st.Tags != 5 || st.Manifests != 4 || st.Skipped != 0 || st.Blobs < 9 {
		t.Errorf("import stats %+v", st)
	}
	got := takeSnapshot(t, base, refs)
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s after import:\n got %.200q\nwant %.200q", k, got[k], w)
		}
	}
	if c := do(t, "GET", base+"/v2/_catalog", nil).body; string(c) != `{"repositories":["solo","team/app"]}` {
		t.Errorf("catalog after import: %s", c)
	}
	// The blobs are hard links: no second copy on disk.
	cfg, _ := img1.ConfigName()
	oldFile, err1 := os.Stat(filepath.Join(old, "docker/registry/v2/blobs/sha256", cfg.Hex[:2], cfg.Hex, "data"))
	newFile, err2 := os.Stat(filepath.Join(dir, "blobs/sha256", cfg.Hex))
	if err1 != nil || err2 != nil || !os.SameFile(oldFile, newFile) {
		t.Errorf("imported blob is not a hard link of the old one: %v %v", err1, err2)
	}
	// Once: a second call does nothing and reports the first.
	again, err := reg.ImportDistribution(ctx, old)
	if err != nil || !again.Finished.Equal(st.Finished) || again.Blobs != st.Blobs {
		t.Errorf("second import = %+v, %v; want the first's record %+v", again, err, st)
	}
	// Pushes after the import work; the imported data survives a restart.
	push2 := imageManifest(t, base, "team/app", nil, []byte("new layer"))
	if a := putManifest(t, base, "team/app", "v2", MediaOCIManifest, push2); a.status != http.StatusCreated {
		t.Errorf("push after import: %d %s", a.status, a.body)
	}
	reg.Close()
	_, base2 := newTest(t, dir)
	if got := takeSnapshot(t, base2, refs); got["team/app:index"] != want["team/app:index"] {
		t.Errorf("after restart: %.200q", got["team/app:index"])
	}
}

func TestImportNothing(t *testing.T) {
	reg, _ := newTest(t, "")
	st, err := reg.ImportDistribution(context.Background(), filepath.Join(t.TempDir(), "none"))
	if err != nil || st.Blobs+st.Repositories != 0 {
		t.Errorf("import of no storage = %+v, %v", st, err)
	}
}

// TestImportCorruptBlob: a blob whose bytes no longer match is left out
// (logged), the rest imports.
func TestImportCorruptBlob(t *testing.T) {
	ctx := context.Background()
	old := filepath.Join(t.TempDir(), "registry")
	host, stop, err := registrytest.Start(ctx, old)
	if err != nil {
		t.Fatal(err)
	}
	var ds []digest.Digest
	for _, data := range []string{"will rot", "stays"} {
		d := digest.FromString(data)
		if err := registrytest.PushBlob(ctx, host, "team/app", strings.NewReader(data), int64(len(data)), string(d)); err != nil {
			t.Fatal(err)
		}
		ds = append(ds, d)
	}
	d, good := ds[0], ds[1]
	stop()
	p := filepath.Join(old, "docker/registry/v2/blobs/sha256", d.Encoded()[:2], d.Encoded(), "data")
	if err := writeString(p, "rotten!!"); err != nil {
		t.Fatal(err)
	}
	reg, base := newTest(t, "")
	st, err := reg.ImportDistribution(ctx, old)
	if err != nil || st.Skipped != 1 || st.Blobs != 1 {
		t.Errorf("import = %+v, %v; want 1 blob, 1 skipped", st, err)
	}
	if a := do(t, "GET", base+"/v2/team/app/blobs/"+string(good), nil); a.status != http.StatusOK || string(a.body) != "stays" {
		t.Errorf("good blob: %d %q", a.status, a.body)
	}
	if a := do(t, "GET", base+"/v2/team/app/blobs/"+string(d), nil); a.status != http.StatusNotFound {
		t.Errorf("rotten blob served: %d %q", a.status, a.body)
	}
}
