package serve

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/tailor-dev/tailor/internal/registrytest"
)

// TestCachedBlobMismatchIs502 (D11): a blob small enough to be kept back
// whole until verified, whose upstream bytes are not its digest, answers
// a clean 502 with an OCI error body through the caching path, not an
// empty reply; the blob is not cached, and a good upstream is served after.
func TestCachedBlobMismatchIs502(t *testing.T) {
	up := registrytest.New(t, "")
	pushIndex(t, up+"/app:v1", variantIndex(t, testVariants))
	target, _ := url.Parse("http://" + up)
	f := &faulty{next: httputil.NewSingleHostReverseProxy(target)}
	fs := httptest.NewServer(f)
	t.Cleanup(fs.Close)
	_, srv := newTestServer(t, WithCacheSize(64<<20), WithProfile(mustProfile(t, "cpu=haswell")),
		WithUpstreams(Upstream{Name: "faulty", URL: fs.URL}))
	ref, _ := name.ParseReference(srv + "/app:v1")
	img, err := remote.Image(ref)
	if err != nil {
		t.Fatal(err)
	}
	layers, _ := img.Layers()
	ld, _ := layers[0].Digest()
	f.mode.Store("corrupt")
	resp, err := http.Get("http://" + srv + "/v2/app/blobs/" + ld.String())
	if err != nil {
		t.Fatalf("GET of a mismatching blob: %v (an empty reply), want a 502", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var e struct {
		Errors []struct{ Code, Message string }
	}
	if resp.StatusCode != http.StatusBadGateway || json.Unmarshal(body, &e) != nil || len(e.Errors) != 1 || e.Errors[0].Code != codeUnavailable {
		t.Errorf("status %d body %q, want 502 %s", resp.StatusCode, body, codeUnavailable)
	}
	f.mode.Store("")
	if got := readTarget(t, srv+"/app:v1", "amd64"); got != "haswell" {
		t.Errorf("after the fault: pulled %q, want haswell", got)
	}
}
