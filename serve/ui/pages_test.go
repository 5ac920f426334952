package ui

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	ggcr "github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/tailor-dev/tailor/internal/registrytest"
)

// TestSingleImagePage: a tag that names one image is shown as one (its
// digest, platform, size, layers), not as an error.
func TestSingleImagePage(t *testing.T) {
	srv, host, _ := testView(t, nil)
	img := registrytest.Image(t, v1.Platform{OS: "linux", Architecture: "arm64"}, map[string]string{"hello": "world"})
	ref, _ := name.ParseReference(host + "/team/plain:1")
	if err := ggcr.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	d, _ := img.Digest()
	layers, _ := img.Layers()
	ld, _ := layers[0].Digest()
	code, body := get(t, srv.URL+"/ui/index?"+url.Values{"repo": {"team/plain"}, "tag": {"1"}}.Encode())
	if code != http.StatusOK {
		t.Fatalf("single image page: %d\n%s", code, body)
	}
	for _, want := range []string{"A single image", d.String(), `<span class="badge">linux/arm64</span>`, ld.String(),
		"docker pull " + strings.TrimPrefix(srv.URL, "http://") + "/team/plain:1"} {
		if !strings.Contains(body, want) {
			t.Errorf("single image page lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, `class="err"`) {
		t.Errorf("single image page shows an error:\n%s", body)
	}
}

// TestSearch: ?q= keeps the repositories whose name or tags contain it.
func TestSearch(t *testing.T) {
	srv, _, _ := testView(t, nil)
	_, body := get(t, srv.URL+"/ui/?q=APP")
	if !strings.Contains(body, "<td>team/app</td>") || !strings.Contains(body, `1 of 1 match`) {
		t.Errorf("search APP:\n%s", body)
	}
	_, body = get(t, srv.URL+"/ui/?q=zzz")
	if strings.Contains(body, "<td>team/app</td>") || !strings.Contains(body, "Nothing matches <code>zzz</code>") {
		t.Errorf("search zzz:\n%s", body)
	}
}

// TestIndexPageDetails: sizes, full digests, the pull commands and each
// read entry's layers.
func TestIndexPageDetails(t *testing.T) {
	srv, _, pushed := testView(t, nil)
	_, body := get(t, srv.URL+"/ui/index?"+url.Values{"repo": {"team/app"}, "tag": {"1"}}.Encode())
	host := strings.TrimPrefix(srv.URL, "http://")
	for _, want := range []string{
		`<pre class="copy" id="pull">docker pull ` + host + `/team/app:1</pre>`,
		"docker login " + host + " -u cpu=zen3 -p x",
		"docker pull " + host + "/team/app@" + pushed.Digests["zen4"].String(),
		`<code class="copy">` + pushed.Digests["zen4"].String() + "</code>",
		`<details id="entry-0">`, `<table class="layers">`, " B</td>",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("index page lacks %q:\n%s", want, body)
		}
	}
}

// fakeSource serves one large index, counting what is read.
type fakeSource struct {
	idx         *Index
	imageReads  atomic.Int64
	indexReads  atomic.Int64
	layerDigest v1.Hash
}

func (f *fakeSource) Repositories(context.Context) ([]Repository, error) {
	return []Repository{{Name: "big", Tags: []string{"1"}}}, nil
}

func (f *fakeSource) Index(context.Context, string, string) (*Index, error) {
	f.indexReads.Add(1)
	return f.idx, nil
}

func (f *fakeSource) Image(context.Context, string, v1.Hash) (*Image, error) {
	f.imageReads.Add(1)
	return &Image{Manifest: &v1.Manifest{Layers: []v1.Descriptor{{Digest: f.layerDigest, Size: 1 << 20, MediaType: types.OCILayer}}}}, nil
}

func hashOf(i int) v1.Hash {
	return v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%064x", i)}
}

// TestLargeIndexBounded (issue 17's D5): an index of 12,000 entries is
// shown with at most maxEntryRows entries, maxMatrixColumns columns and
// maxDetailed image reads, computed once per digest; a label-gated entry
// says what would get it.
func TestLargeIndexBounded(t *testing.T) {
	targets := []string{"x86_64", "haswell", "skylake_avx512", "zen4"}
	ms := make([]v1.Descriptor, 12000)
	for i := range ms {
		ms[i] = v1.Descriptor{MediaType: types.OCIManifestSchema1, Size: 500, Digest: hashOf(i),
			Platform:    &v1.Platform{OS: "linux", Architecture: "amd64"},
			Annotations: map[string]string{"dev.tailor.cpu.target": targets[i%len(targets)], "dev.tailor.requires": fmt.Sprintf("rack=r%d", i)}}
	}
	ms[0].Annotations = nil                                                    // generic
	ms[1].Annotations = map[string]string{"dev.tailor.requires": "fabric=ucx"} // label-gated
	src := &fakeSource{idx: &Index{Digest: hashOf(99999), MediaType: types.OCIImageIndex, Manifests: ms}, layerDigest: hashOf(7)}
	h, err := New(src, nil, WithTargets(targets...))
	if err != nil {
		t.Fatal(err)
	}
	page := "/ui/index?repo=big&tag=1"
	for i := range 3 {
		rec := httptestGet(h, page)
		if rec.Code != http.StatusOK {
			t.Fatalf("GET %s: %d\n%s", page, rec.Code, rec.Body)
		}
		body := rec.Body.String()
		if i > 0 {
			continue
		}
		entries := body[strings.Index(body, `<table id="entries">`):]
		entries = entries[:strings.Index(entries, "</table>")]
		if n := strings.Count(entries, "<tr><td>"); n != maxEntryRows {
			t.Errorf("%d entry rows, want %d", n, maxEntryRows)
		}
		if !strings.Contains(body, "of 12000 entries (the first 200 shown)") {
			t.Errorf("page does not say it shows the first %d of 12000", maxEntryRows)
		}
		if n := strings.Count(body, `<th class="col"`); n != maxMatrixColumns {
			t.Errorf("%d matrix columns, want %d", n, maxMatrixColumns)
		}
		if !strings.Contains(body, "needs host labels no target has: a profile with label.fabric=ucx gets it") {
			t.Errorf("the label-gated entry does not say what gets it")
		}
		if len(body) > 2<<20 {
			t.Errorf("page of %d bytes", len(body))
		}
	}
	if n := src.imageReads.Load(); n != maxDetailed {
		t.Errorf("%d image reads for 3 views of one index, want %d (once, bounded)", n, maxDetailed)
	}
}

func httptestGet(h http.Handler, path string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec
}

// TestLogSurvivesRestart: a Log with a file reads back what an earlier
// one counted.
func TestLogSurvivesRestart(t *testing.T) {
	file := filepath.Join(t.TempDir(), "ui", "answers.json")
	l := OpenLog(file, 0, nil)
	d := hashOf(3)
	l.Record("app", "1", "cpu=zen4", d, "zen4")
	l.Record("app", "1", "cpu=zen4", d, "zen4")
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(file); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	l2 := OpenLog(file, 0, nil)
	as := l2.Answers()
	if len(as) != 1 || as[0].Count != 2 || as[0].Entry != d || as[0].Target != "zen4" {
		t.Fatalf("after a restart: %+v, want the 2 answers counted before", as)
	}
	if err := os.WriteFile(file, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if as := OpenLog(file, 0, nil).Answers(); len(as) != 0 {
		t.Errorf("an unreadable file gave %+v", as)
	}
}
