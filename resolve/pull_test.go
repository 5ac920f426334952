package resolve

import (
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/tailor-dev/tailor/profile"
	"github.com/tailor-dev/tailor/remote"
	"github.com/tailor-dev/tailor/resolve/resolvetest"
)

func TestParseDest(t *testing.T) {
	good := map[string]Dest{
		"oci:out":                                          {Kind: DestOCI, Path: "out"},
		"oci:out:v1":                                       {Kind: DestOCI, Path: "out", Tag: "v1"},
		"oci:/tmp/x/out:latest":                            {Kind: DestOCI, Path: "/tmp/x/out", Tag: "latest"},
		"docker-archive:app.tar":                           {Kind: DestDockerArchive, Path: "app.tar"},
		"docker-archive:/a:b/c.tar":                        {Kind: DestDockerArchive, Path: "/a:b/c.tar"},
		"docker-archive:app.tar:v1":                        {Kind: DestDockerArchive, Path: "app.tar", Tag: "v1"},
		"docker-archive:app.tar:app:1":                     {Kind: DestDockerArchive, Path: "app.tar", Tag: "app:1"},
		"docker-archive:/a:b/c.tar:localhost:5000/x/app:2": {Kind: DestDockerArchive, Path: "/a:b/c.tar", Tag: "localhost:5000/x/app:2"},
	}
	for in, want := range good {
		got, err := ParseDest(in)
		if err != nil || got != want {
			t.Errorf("ParseDest(%q) = %+v, %v; want %+v", in, got, err, want)
		}
		if again, _ := ParseDest(got.String()); again != got {
			t.Errorf("ParseDest(%q).String() does not round-trip: %+v", in, again)
		}
	}
	for _, bad := range []string{"", "out", "oci:", "oci:out:bad/tag", "oci::v1", "dir:out", "docker-daemon:x"} {
		if _, err := ParseDest(bad); !errors.Is(err, ErrBadDest) {
			t.Errorf("ParseDest(%q) = %v, want ErrBadDest", bad, err)
		}
	}
}

func TestPull(t *testing.T) {
	host := registries(t)["ggcr"]
	pushed, err := resolvetest.Push(host+"/app:1", resolvetest.Variants)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "layout")
	updates := make(chan v1.Update, 100)
	res, err := Pull(context.Background(), newClient(t), host+"/app:1", mustProfile(t, "cpu=zen4"), "oci:"+dir+":v1", updates)
	if err != nil {
		t.Fatalf("Pull: %v", err)
	}
	var last v1.Update
	for u := range updates {
		last = u
	}
	if last.Total == 0 || last.Complete != last.Total {
		t.Errorf("last progress update = %+v, want complete", last)
	}
	want := pushed.Digests["zen4"]
	if res.Digest != want {
		t.Fatalf("Pull chose %s, want zen4 %s", res.Digest, want)
	}
	lp, err := layout.FromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := lp.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != 1 || im.Manifests[0].Digest != want || im.Manifests[0].Annotations[AnnotationRefName] != "v1" {
		t.Errorf("layout index = %+v, want one entry %s tagged v1", im.Manifests, want)
	}
	if _, err := lp.Image(want); err != nil {
		t.Errorf("layout image %s: %v", want, err)
	}
	// Pull again with the same tag: replaced, not added.
	if _, err := Pull(context.Background(), newClient(t), host+"/app:1", mustProfile(t, "cpu=haswell"), "oci:"+dir+":v1", nil); err != nil {
		t.Fatal(err)
	}
	idx, _ = lp.ImageIndex()
	if im, _ = idx.IndexManifest(); len(im.Manifests) != 1 || im.Manifests[0].Digest != pushed.Digests["x86_64_v3"] {
		t.Errorf("layout after a second pull of tag v1 = %+v, want the x86_64_v3 entry alone", im.Manifests)
	}
}

func TestPullDockerArchive(t *testing.T) {
	host := registries(t)["distribution"]
	pushed, err := resolvetest.Push(host+"/app:1", resolvetest.Variants)
	if err != nil {
		t.Fatal(err)
	}
	byDigest := host + "/app@" + pushed.Index.String()
	for _, tc := range []struct {
		name, ref, tag string
		want           []string
	}{
		{"by tag", host + "/app:1", "", []string{host + "/app:1"}},
		{"by digest", byDigest, "", nil},
		{"by digest, bare tag", byDigest, ":arm", []string{host + "/app:arm"}},
		{"by digest, reference", byDigest, ":example.org/team/app:2", []string{"example.org/team/app:2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "app.tar")
			if _, err := Pull(context.Background(), newClient(t), tc.ref, mustProfile(t, "cpu=neoverse_v2"), "docker-archive:"+file+tc.tag, nil); err != nil {
				t.Fatalf("Pull: %v", err)
			}
			m, err := tarball.LoadManifest(func() (io.ReadCloser, error) { return os.Open(file) })
			if err != nil || len(m) != 1 || !slices.Equal(m[0].RepoTags, tc.want) {
				t.Fatalf("archive manifest = %+v, %v; want one image with RepoTags %q", m, err, tc.want)
			}
			var tag *name.Tag
			if len(tc.want) == 1 {
				nt, err := name.NewTag(tc.want[0])
				if err != nil {
					t.Fatal(err)
				}
				tag = &nt
			}
			img, err := tarball.ImageFromPath(file, tag)
			if err != nil {
				t.Fatalf("tarball.ImageFromPath(%s, %v): %v", file, tag, err)
			}
			wantImg, _ := resolvetest.Image(resolvetest.Variants[4])
			wantName, _ := wantImg.ConfigName()
			if gotName, err := img.ConfigName(); err != nil || gotName != wantName {
				t.Errorf("archived config %s, %v; want the arm64 variant's %s", gotName, err, wantName)
			}
			if _, err := img.Layers(); err != nil {
				t.Errorf("archived layers: %v", err)
			}
			if left, _ := filepath.Glob(filepath.Join(filepath.Dir(file), ".*partial")); len(left) != 0 {
				t.Errorf("temporary files left: %v", left)
			}
		})
	}
}

func TestInspect(t *testing.T) {
	host := registries(t)["ggcr"]
	pushed, err := resolvetest.Push(host+"/app:1", resolvetest.Variants)
	if err != nil {
		t.Fatal(err)
	}
	gpuHost := "cpu=sapphirerapids,gpu=9.0,driver=550.54.14"
	mx, err := Inspect(context.Background(), newClient(t), host+"/app:1", []string{"haswell", "zen4", "core2", "neoverse_v2", "power9le", gpuHost, "cpu=zen4,gpu=8.0,driver=550.54.14"})
	if err != nil {
		t.Fatal(err)
	}
	if len(mx.Entries) != len(resolvetest.Variants) || mx.Digest != pushed.Index {
		t.Fatalf("Inspect: %d entries, digest %s", len(mx.Entries), mx.Digest)
	}
	if r := mx.Entries[3].Requirements; r == nil || r.Target != "zen4" {
		t.Errorf("entry 3 requirements = %+v, want zen4", r)
	}
	want := map[string]string{"haswell": "x86_64_v3", "zen4": "zen4", "core2": "generic", "neoverse_v2": "arm64", "power9le": "",
		gpuHost: "cuda_sm90", "cpu=zen4,gpu=8.0,driver=550.54.14": "zen4"}
	if len(mx.Targets) != len(want) {
		t.Errorf("Inspect: %d targets, want %d", len(mx.Targets), len(want))
	}
	for _, a := range mx.Targets {
		switch w := want[a.Target]; {
		case w == "" && a.Entry != nil:
			t.Errorf("target %s got entry %d, want none", a.Target, *a.Entry)
		case w != "" && (a.Digest == nil || *a.Digest != pushed.Digests[w]):
			t.Errorf("target %s got %v, want %s", a.Target, a.Digest, w)
		}
	}
	for _, bad := range []string{"pentium9000", "cpu=pentium9000", "cpu=zen4,gpu=banana"} {
		if _, err := Inspect(context.Background(), newClient(t), host+"/app:1", []string{bad}); !errors.Is(err, profile.ErrInvalid) || !strings.Contains(err.Error(), bad) {
			t.Errorf("Inspect with target %q = %v, want profile.ErrInvalid naming it", bad, err)
		}
	}
}

// stallingRegistry serves an in-process registry but stalls GETs of the
// blobs stall: half their bytes, then nothing until the client gives up.
func stallingRegistry(t *testing.T, stall ...v1.Hash) string {
	t.Helper()
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	stalled := func(path string) bool {
		return slices.ContainsFunc(stall, func(h v1.Hash) bool { return strings.HasSuffix(path, "/blobs/"+h.String()) })
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || !stalled(r.URL.Path) {
			reg.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		reg.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(rec.Code)
		_, _ = w.Write(body[:len(body)/2])
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// TestPullTimeout pulls from a registry that stalls the config blob of one
// image, fetched after its layer: the client's timeout bounds the whole
// pull, and the destination is left as it was, without the layer blob
// written before the stall.
func TestPullTimeout(t *testing.T) {
	zen4, err := resolvetest.Image(resolvetest.Variants[3])
	if err != nil {
		t.Fatal(err)
	}
	layers, _ := zen4.Layers()
	layer, _ := layers[0].Digest()
	config, _ := zen4.ConfigName()
	host := stallingRegistry(t, config)
	pushed, err := resolvetest.Push(host+"/app:1", resolvetest.Variants)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "layout")
	// An image already in the layout, which the failed pull must keep.
	if _, err := Pull(context.Background(), newClient(t), host+"/app:1", mustProfile(t, "cpu=core2"), "oci:"+dir+":old", nil); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(dir, "index.json"))
	c, err := remote.New(remote.WithRetry(remote.Backoff{Steps: 1}), remote.WithTimeout(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	fresh := filepath.Join(t.TempDir(), "fresh")
	for _, dest := range []string{"oci:" + dir + ":v1", "oci:" + fresh, "docker-archive:" + fresh + ".tar"} {
		start := time.Now()
		updates := make(chan v1.Update, 100)
		_, err = Pull(context.Background(), c, host+"/app:1", mustProfile(t, "cpu=zen4"), dest, updates)
		for range updates {
		}
		if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "timed out after 1s") || strings.Contains(err.Error(), "\n") {
			t.Errorf("Pull to %s from a stalling registry = %v, want one line wrapping ErrTimeout", dest, err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("Pull to %s took %s, want about the 1s timeout", dest, d)
		}
	}
	if after, _ := os.ReadFile(filepath.Join(dir, "index.json")); string(after) != string(before) {
		t.Errorf("index.json after a timed-out pull =\n%s\nwant it unchanged:\n%s", after, before)
	}
	for _, h := range []v1.Hash{layer, config, pushed.Digests["zen4"]} {
		if _, err := os.Stat(filepath.Join(dir, "blobs", h.Algorithm, h.Hex)); err == nil {
			t.Errorf("blob %s of the unfinished image left in the layout", h)
		}
	}
	if lp, err := layout.FromPath(dir); err != nil {
		t.Errorf("layout after a timed-out pull: %v", err)
	} else if _, err := lp.Image(pushed.Digests["generic"]); err != nil {
		t.Errorf("the image pulled before is gone: %v", err)
	}
	for _, p := range []string{fresh, fresh + ".tar"} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s left behind by a timed-out pull", p)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(fresh), ".*partial")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}
