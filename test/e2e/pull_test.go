package e2e

import (
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

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/tailor-dev/tailor/resolve/resolvetest"
)

// TestPullDockerArchive pulls into docker archives and loads them back as
// docker load would read them: the chosen image, with the RepoTags asked.
func TestPullDockerArchive(t *testing.T) {
	byDigest := host + "/app@" + app.Index.String()
	for _, tt := range []struct {
		name, ref, tag string
		want           []string
	}{
		{"by tag", host + "/app:1", "", []string{host + "/app:1"}},
		{"by digest", byDigest, "", nil},
		{"by digest, bare tag", byDigest, ":zen4", []string{host + "/app:zen4"}},
		{"by digest, reference", byDigest, ":example.org/app:zen4", []string{"example.org/app:zen4"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "app.tar")
			r := run(t, "pull", tt.ref, "--profile", "cpu=zen4", "-q", "--dest", "docker-archive:"+file+tt.tag)
			if r.code != 0 || r.stderr != "" {
				t.Fatalf("pull: exit %d, stderr %q", r.code, r.stderr)
			}
			m, err := tarball.LoadManifest(func() (io.ReadCloser, error) { return os.Open(file) })
			if err != nil || len(m) != 1 || !slices.Equal(m[0].RepoTags, tt.want) {
				t.Fatalf("archive manifest = %+v, %v; want RepoTags %q", m, err, tt.want)
			}
			var tag *name.Tag
			if len(tt.want) == 1 {
				nt, _ := name.NewTag(tt.want[0])
				tag = &nt
			}
			img, err := tarball.ImageFromPath(file, tag)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := resolvetest.Image(resolvetest.Variants[3])
			wantCfg, _ := want.ConfigName()
			if got, err := img.ConfigName(); err != nil || got != wantCfg {
				t.Errorf("archived image config %s, %v; want the zen4 variant's %s", got, err, wantCfg)
			}
		})
	}
}

// TestPullTimeout pulls from a registry that stalls a layer: --timeout
// bounds the whole pull, which fails with one line and leaves the layout
// as it was.
func TestPullTimeout(t *testing.T) {
	zen4, _ := resolvetest.Image(resolvetest.Variants[3])
	layers, _ := zen4.Layers()
	stalled, _ := layers[0].Digest()
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/blobs/"+stalled.String()) {
			rec := httptest.NewRecorder()
			reg.ServeHTTP(rec, r)
			body := rec.Body.Bytes()
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			w.WriteHeader(rec.Code)
			_, _ = w.Write(body[:len(body)/2])
			w.(http.Flusher).Flush()
			<-r.Context().Done()
			return
		}
		reg.ServeHTTP(w, r)
	}))
	defer srv.Close()
	slow := strings.TrimPrefix(srv.URL, "http://") + "/app:1"
	if _, err := resolvetest.Push(slow, resolvetest.Variants); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "out")
	if r := run(t, "pull", slow, "--profile", "cpu=core2", "-q", "--dest", "oci:"+dir+":old"); r.code != 0 {
		t.Fatalf("pull: exit %d, stderr %q", r.code, r.stderr)
	}
	before, _ := os.ReadFile(filepath.Join(dir, "index.json"))
	r := run(t, "pull", slow, "--profile", "cpu=zen4", "-q", "--timeout", "1s", "--retries", "0", "--dest", "oci:"+dir+":new")
	if r.code != 1 || r.stdout != "" || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "timed out after 1s") {
		t.Errorf("pull from a stalling registry: exit %d, stdout %q, stderr %q; want exit 1 and one line saying it timed out after 1s", r.code, r.stdout, r.stderr)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, "index.json")); string(after) != string(before) {
		t.Errorf("index.json after a timed-out pull:\n%s\nwant it unchanged:\n%s", after, before)
	}
}

func TestInspectProfileSpecs(t *testing.T) {
	gpu := "cpu=sapphirerapids,gpu=9.0,driver=550.54.14"
	r := run(t, "inspect", host+"/app:1", "--targets", "zen4,"+gpu)
	if r.code != 0 || !hasRow(r.stdout, "zen4", "3", app.Digests["zen4"].Hex[:12]) || !hasRow(r.stdout, gpu, "5", app.Digests["cuda_sm90"].Hex[:12]) {
		t.Errorf("inspect --targets zen4,%s: exit %d, stderr %q, stdout:\n%s", gpu, r.code, r.stderr, r.stdout)
	}
	r = run(t, "inspect", host+"/app:1", "--targets", "cpu=zen4,gpu=banana")
	if r.code != 2 || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "banana") {
		t.Errorf("inspect with a bad spec: exit %d, stderr %q; want exit 2 and one line", r.code, r.stderr)
	}
}
