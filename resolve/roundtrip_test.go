package resolve

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/tailor-dev/tailor/remote"
	"github.com/tailor-dev/tailor/resolve/resolvetest"
)

// countingTransport records the method and kind of every request that
// got an answer.
type countingTransport struct {
	mu   sync.Mutex
	seen []string
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	kind := "other"
	switch {
	case r.URL.Path == "/v2/":
		kind = "ping"
	case strings.Contains(r.URL.Path, "/manifests/"):
		kind = "manifest"
	case strings.Contains(r.URL.Path, "/blobs/"):
		kind = "blob"
	}
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil {
		return nil, err // the HTTPS attempt ggcr makes first on loopback: no request reached the registry
	}
	c.mu.Lock()
	c.seen = append(c.seen, r.Method+" "+kind)
	c.mu.Unlock()
	return resp, nil
}

// TestResolveRoundTrips: resolving a tag costs the ping and one manifest
// GET, nothing per entry.
func TestResolveRoundTrips(t *testing.T) {
	for regName, host := range registries(t) {
		t.Run(regName, func(t *testing.T) {
			if _, err := resolvetest.Push(host+"/app:1", resolvetest.Variants); err != nil {
				t.Fatal(err)
			}
			ct := &countingTransport{}
			c, err := remote.New(remote.WithTransport(ct))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Resolve(context.Background(), c, host+"/app:1", mustProfile(t, "cpu=zen4")); err != nil {
				t.Fatal(err)
			}
			got := strings.Join(ct.seen, ", ")
			if got != "GET ping, GET manifest" {
				t.Errorf("requests of Resolve = %s, want GET ping, GET manifest", got)
			}
		})
	}
}
