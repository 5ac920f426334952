package serve

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tailor-dev/tailor/internal/registrytest"
)

// switchable is a real registry that can be taken down: while down it
// drops every connection, as a dead host behind a load balancer does.
type switchable struct {
	next http.Handler
	down atomic.Bool
	hits atomic.Int32
}

func (s *switchable) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.hits.Add(1)
	if s.down.Load() {
		c, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			c.Close()
		}
		return
	}
	s.next.ServeHTTP(w, r)
}

func newSwitchable(t *testing.T, up string) (*switchable, string) {
	t.Helper()
	target, _ := url.Parse("http://" + up)
	sw := &switchable{next: httputil.NewSingleHostReverseProxy(target)}
	ts := httptest.NewServer(sw)
	t.Cleanup(ts.Close)
	return sw, ts.URL
}

// TestTagWhenUpstreamDown: a tag read before resolves from its last known
// index when the upstream is down, with a Warning, a log line and a
// metric, after a restart too; a tag never read does not.
func TestTagWhenUpstreamDown(t *testing.T) {
	up := registrytest.New(t, "")
	pushIndex(t, up+"/app:v1", variantIndex(t, testVariants))
	pushIndex(t, up+"/app:v2", variantIndex(t, testVariants[:2]))
	sw, front := newSwitchable(t, up)
	storage := t.TempDir()
	opts := []Option{WithStorage(storage), WithUpstreams(Upstream{Name: "up", URL: front}),
		WithProfile(mustProfile(t, "cpu=haswell")), WithTagTTL(0), WithUpstreamTimeout(2 * time.Second)}
	s, srv := newTestServer(t, opts...)
	_, want := rawManifest(t, "http://"+srv+"/v2/app/manifests/v1", nil)
	_, wantNone := rawManifest(t, "http://"+srv+"/v2/_p/none/app/manifests/v1", nil)

	sw.down.Store(true)
	resp := get(t, "http://"+srv+"/v2/app/manifests/v1", http.Header{"Accept": {mediaOCIIndex}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Docker-Content-Digest") != want {
		t.Fatalf("tag with the upstream down: %d %s, want 200 %s", resp.StatusCode, resp.Header.Get("Docker-Content-Digest"), want)
	}
	if !strings.Contains(resp.Header.Get("Warning"), "last known") {
		t.Errorf("no Warning on a stale answer: %q", resp.Header.Get("Warning"))
	}
	if n := s.m.stale.WithLabelValues("up").Value(); n != 1 {
		t.Errorf("stale answers counted %v, want 1", n)
	}
	if resp := get(t, "http://"+srv+"/v2/app/manifests/v2", nil); resp.StatusCode != http.StatusBadGateway {
		t.Errorf("a tag never read, upstream down: %d, want 502", resp.StatusCode)
	}

	// A restart on the same storage, the upstream still down.
	_, srv2 := newTestServer(t, opts...)
	if _, d := rawManifest(t, "http://"+srv2+"/v2/_p/none/app/manifests/v1", nil); d != wantNone {
		t.Errorf("after a restart, upstream down: %s, want %s", d, wantNone)
	}
	if _, d := rawManifest(t, "http://"+srv2+"/v2/app/manifests/v1", nil); d != want {
		t.Errorf("after a restart, upstream down, tailored: %s, want %s", d, want)
	}
}

// TestTagTTL: within the TTL a tag is not read again upstream (a moved tag
// shows at most that late); with TTL 0 every request reads it.
func TestTagTTL(t *testing.T) {
	up := registrytest.New(t, "")
	pushIndex(t, up+"/app:v1", variantIndex(t, testVariants))
	sw, front := newSwitchable(t, up)
	_, cached := newTestServer(t, WithUpstreams(Upstream{Name: "up", URL: front}), WithTagTTL(time.Hour))
	_, fresh := newTestServer(t, WithUpstreams(Upstream{Name: "up", URL: front}), WithTagTTL(0))
	_, before := rawManifest(t, "http://"+cached+"/v2/_p/none/app/manifests/v1", nil)
	rawManifest(t, "http://"+fresh+"/v2/_p/none/app/manifests/v1", nil)
	pushIndex(t, up+"/app:v1", variantIndex(t, testVariants[:3])) // the tag moves
	hits := sw.hits.Load()
	if _, d := rawManifest(t, "http://"+cached+"/v2/_p/none/app/manifests/v1", nil); d != before {
		t.Errorf("within the TTL: %s, want the tag as read (%s)", d, before)
	}
	if sw.hits.Load() != hits {
		t.Errorf("within the TTL the upstream was asked %d times", sw.hits.Load()-hits)
	}
	if _, d := rawManifest(t, "http://"+fresh+"/v2/_p/none/app/manifests/v1", nil); d == before {
		t.Error("with TTL 0 the moved tag was not read again")
	}
}
