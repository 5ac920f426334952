package serve

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
)

// TestConcurrentFillsDiskBound (D10): 30 concurrent fills of 4 MiB blobs
// from a slow upstream into a 16 MiB cache keep the cache's disk (stored
// blobs and the fills' temporary files) within 1.5x the bound, and every
// client gets its blob.
func TestConcurrentFillsDiskBound(t *testing.T) {
	const n, size, bound = 30, 4 << 20, 16 << 20
	blobs := map[string][]byte{}
	var names []string
	for i := range n {
		b := []byte(strings.Repeat(fmt.Sprintf("%08d", i), size/8))
		d := digest.FromBytes(b).String()
		blobs[d] = b
		names = append(names, d)
	}
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, name, _ := strings.Cut(r.URL.Path, "/blobs/")
		b, ok := blobs[name]
		if !ok {
			w.WriteHeader(http.StatusOK)
			return
		}
		w.Header().Set("Content-Length", fmt.Sprint(len(b)))
		for off := 0; off < len(b); off += 256 << 10 { // slowly: the fills overlap
			_, _ = w.Write(b[off : off+256<<10])
			w.(http.Flusher).Flush()
			time.Sleep(20 * time.Millisecond)
		}
	}))
	t.Cleanup(up.Close)
	storage := t.TempDir()
	_, srv := newTestServer(t, WithStorage(storage), WithUpstreams(Upstream{Name: "up", URL: up.URL}),
		WithCacheSize(bound), WithProfile(mustProfile(t, "cpu=haswell")))
	var peak atomic.Int64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
				if b := dirBytes(t, filepath.Join(storage, "cache", "content")); b > peak.Load() {
					peak.Store(b)
				}
			}
		}
	}()
	var wg sync.WaitGroup
	for _, d := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Get("http://" + srv + "/v2/app/blobs/" + d)
			if err != nil {
				t.Error(err)
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || digest.FromBytes(body).String() != d {
				t.Errorf("blob %s: %d, %d bytes", d, resp.StatusCode, len(body))
			}
		}()
	}
	wg.Wait()
	close(stop)
	<-sampled
	t.Logf("peak disk of the cache: %d MiB (bound %d MiB)", peak.Load()>>20, bound>>20)
	if peak.Load() > bound*3/2 {
		t.Errorf("the cache peaked at %d bytes on disk, over 1.5x its bound of %d", peak.Load(), bound)
	}
}
