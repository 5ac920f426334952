package serve

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/tailor-dev/tailor/internal/registrytest"
)

// faulty wraps a real registry and injects one fault, chosen by mode.
type faulty struct {
	next http.Handler
	mode atomic.Value // string
}

func (f *faulty) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	mode, _ := f.mode.Load().(string)
	isBlob := strings.Contains(r.URL.Path, "/blobs/sha256:") && r.Method == http.MethodGet
	isTag := strings.Contains(r.URL.Path, "/manifests/") && !strings.Contains(r.URL.Path, "sha256:")
	switch {
	case mode == "500":
		http.Error(w, "boom", http.StatusInternalServerError)
	case mode == "slow":
		time.Sleep(2 * time.Second)
		f.next.ServeHTTP(w, r)
	case mode == "badindex" && isTag:
		w.Header().Set("Content-Type", mediaOCIIndex)
		_, _ = w.Write([]byte(`{"schemaVersion":2,"mediaType":"` + mediaOCIIndex + `","manifests":[{"digest":`))
	case (mode == "reset" || mode == "corrupt") && isBlob:
		rec := httptest.NewRecorder()
		f.next.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		if mode == "reset" {
			_, _ = w.Write(body[:len(body)/2])
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler)
		}
		bad := []byte(string(body))
		bad[len(bad)-1] ^= 0xff
		_, _ = w.Write(bad)
	default:
		f.next.ServeHTTP(w, r)
	}
}

func TestFaults(t *testing.T) {
	up := registrytest.New(t, "")
	pushIndex(t, up+"/app:v1", variantIndex(t, testVariants))
	target, _ := url.Parse("http://" + up)
	f := &faulty{next: httputil.NewSingleHostReverseProxy(target)}
	fs := httptest.NewServer(f)
	t.Cleanup(fs.Close)
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()

	storage := t.TempDir()
	// No cache: the faults must reach the client's stream (the cache is
	// TestLargeBlobCutOff's and TestCache's).
	_, srv := newTestServer(t, WithStorage(storage), WithUpstreamTimeout(500*time.Millisecond), WithCacheSize(0), WithTagTTL(0),
		WithProfile(mustProfile(t, "cpu=haswell")),
		WithUpstreams(Upstream{Name: "faulty", URL: fs.URL}, Upstream{Name: "dead", URL: dead.URL},
			Upstream{Name: "good", URL: "http://" + up}))

	// A blob of the haswell image, for the blob faults.
	ref, _ := name.ParseReference(srv + "/good/app:v1")
	img, err := remote.Image(ref)
	if err != nil {
		t.Fatal(err)
	}
	layers, _ := img.Layers()
	ld, _ := layers[0].Digest()
	lsize, _ := layers[0].Size()

	tagURL := "http://" + srv + "/v2/faulty/app/manifests/v1"
	blobURL := "http://" + srv + "/v2/faulty/app/blobs/" + ld.String()
	for _, c := range []struct {
		mode, url string
		status    int
		code      string
		cutOff    bool
	}{
		{"down", "http://" + srv + "/v2/dead/app/manifests/v1", 502, codeUnavailable, false},
		{"500", tagURL, 502, codeUnavailable, false},
		{"slow", tagURL, 504, codeUnavailable, false},
		{"badindex", tagURL, 502, codeManifestInvalid, false},
		{"reset", blobURL, 200, "", true},
		{"corrupt", blobURL, 200, "", true},
	} {
		t.Run(c.mode, func(t *testing.T) {
			f.mode.Store(c.mode)
			defer func() {
				f.mode.Store("")
				// The server stays up and serves others.
				if got := readTarget(t, srv+"/good/app:v1", "amd64"); got != "haswell" {
					t.Errorf("after %s fault: good pull got %q", c.mode, got)
				}
			}()
			resp, err := http.Get(c.url)
			if err != nil && c.cutOff {
				return // cut off before the headers even went out: no valid body
			}
			if err != nil {
				t.Fatal(err)
			}
			body, rerr := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, c.status, body)
			}
			if c.cutOff {
				if rerr == nil || int64(len(body)) >= lsize {
					t.Errorf("a %s blob was completed (%d of %d bytes, err %v), want it cut off", c.mode, len(body), lsize, rerr)
				}
			} else {
				var e struct {
					Errors []struct{ Code, Message string }
				}
				if err := json.Unmarshal(body, &e); err != nil || len(e.Errors) != 1 || e.Errors[0].Code != c.code {
					t.Errorf("error body %s, want code %s", body, c.code)
				}
			}
		})
	}
	// Nothing wrong stored: only the tailored index of the good pulls.
	entries, _ := os.ReadDir(filepath.Join(storage, "tailored"))
	if len(entries) != 1 {
		t.Errorf("tailored store holds %d files, want 1 (the good index)", len(entries))
	}
	// With the fault gone the faulty upstream works again.
	if got := readTarget(t, srv+"/faulty/app:v1", "amd64"); got != "haswell" {
		t.Errorf("recovered pull got %q", got)
	}
}
