package serve

import (
	"bytes"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/tailor-dev/tailor/internal/registrytest"
)

// countingFront is a real registry that counts blob GETs and can be taken
// down (every connection dropped).
type countingFront struct {
	next  http.Handler
	blobs atomic.Int32
	down  atomic.Bool
	delay time.Duration
}

func (f *countingFront) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f.down.Load() {
		if c, _, err := http.NewResponseController(w).Hijack(); err == nil {
			c.Close()
		}
		return
	}
	if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/sha256:") {
		f.blobs.Add(1)
		time.Sleep(f.delay)
	}
	f.next.ServeHTTP(w, r)
}

func newCountingFront(t *testing.T, up string) (*countingFront, string) {
	t.Helper()
	target, _ := url.Parse("http://" + up)
	f := &countingFront{next: httputil.NewSingleHostReverseProxy(target)}
	ts := httptest.NewServer(f)
	t.Cleanup(ts.Close)
	return f, ts.URL
}

// TestCacheRepeatPull: a pulled image pulls again from the cache (no blob
// asked of the upstream), after a restart too, and with the upstream down.
func TestCacheRepeatPull(t *testing.T) {
	up := registrytest.New(t, "")
	pushIndex(t, up+"/app:v1", variantIndex(t, testVariants))
	f, front := newCountingFront(t, up)
	storage := t.TempDir()
	opts := []Option{WithStorage(storage), WithUpstreams(Upstream{Name: "up", URL: front}),
		WithProfile(mustProfile(t, "cpu=haswell")), WithTagTTL(0), WithUpstreamTimeout(2 * time.Second)}
	_, srv := newTestServer(t, opts...)
	if got := readTarget(t, srv+"/app:v1", "amd64"); got != "haswell" {
		t.Fatalf("first pull got %q", got)
	}
	first := f.blobs.Load()
	if first == 0 {
		t.Fatal("the first pull asked the upstream for no blob")
	}
	if got := readTarget(t, srv+"/app:v1", "amd64"); got != "haswell" || f.blobs.Load() != first {
		t.Errorf("repeat pull: %q, %d more upstream blob GETs, want haswell and none", got, f.blobs.Load()-first)
	}
	_, srv2 := newTestServer(t, opts...) // a restart on the same storage
	if got := readTarget(t, srv2+"/app:v1", "amd64"); got != "haswell" || f.blobs.Load() != first {
		t.Errorf("after a restart: %q, %d more upstream blob GETs, want haswell and none", got, f.blobs.Load()-first)
	}
	f.down.Store(true)
	if got := readTarget(t, srv2+"/app:v1", "amd64"); got != "haswell" {
		t.Errorf("with the upstream down: %q, want haswell", got)
	}
	_, srv3 := newTestServer(t, opts...)
	if got := readTarget(t, srv3+"/app:v1", "amd64"); got != "haswell" {
		t.Errorf("restarted with the upstream down: %q, want haswell", got)
	}
}

// randomBlob is n pseudo-random bytes.
func randomBlob(n int) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{'c', 'a', 'c', 'h', 'e'})
	_, _ = r.Read(b)
	return b
}

// TestCacheOneFetch: concurrent clients of a blob not cached share one
// upstream fetch, and every one gets it whole.
func TestCacheOneFetch(t *testing.T) {
	up := registrytest.New(t, "")
	data := randomBlob(8 << 20)
	dg := pushRawBlob(t, up, "app", data)
	f, front := newCountingFront(t, up)
	f.delay = 200 * time.Millisecond // the clients arrive while it is fetched
	_, srv := newTestServer(t, WithUpstreams(Upstream{Name: "up", URL: front}))
	const clients = 20
	var wg sync.WaitGroup
	errs := make(chan string, clients)
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Get("http://" + srv + "/v2/app/blobs/" + dg.String())
			if err != nil {
				errs <- err.Error()
				return
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusOK || !bytes.Equal(body, data) {
				errs <- resp.Status + ": wrong or short body"
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if n := f.blobs.Load(); n != 1 {
		t.Errorf("%d concurrent clients made %d upstream fetches, want 1", clients, n)
	}
}

// TestCacheRange: Range requests work on a cached blob.
func TestCacheRange(t *testing.T) {
	up := registrytest.New(t, "")
	data := randomBlob(3 << 20)
	dg := pushRawBlob(t, up, "app", data)
	_, srv := newTestServer(t, WithUpstreams(Upstream{Name: "up", URL: "http://" + up}))
	u := "http://" + srv + "/v2/app/blobs/" + dg.String()
	// The first request, a Range one, fills the cache and gets its range.
	resp := get(t, u, http.Header{"Range": {"bytes=10-19"}})
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, data[10:20]) {
		t.Errorf("Range on a blob not cached yet: %d, %d bytes, want 206 and bytes 10-19", resp.StatusCode, len(body))
	}
	for _, c := range []struct {
		rng      string
		from, to int
	}{{"bytes=0-99", 0, 100}, {"bytes=1048576-", 1 << 20, len(data)}, {"bytes=-10", len(data) - 10, len(data)}} {
		resp := get(t, u, http.Header{"Range": {c.rng}})
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, data[c.from:c.to]) {
			t.Errorf("Range %s: %d, %d bytes, want 206 and bytes %d-%d", c.rng, resp.StatusCode, len(body), c.from, c.to)
		}
		if resp.Header.Get("Docker-Content-Digest") != dg.String() {
			t.Errorf("Range %s: Docker-Content-Digest %q", c.rng, resp.Header.Get("Docker-Content-Digest"))
		}
	}
	req, _ := http.NewRequest(http.MethodHead, u, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK || resp.ContentLength != int64(len(data)) {
		t.Errorf("HEAD of a cached blob: %v %v", resp, err)
	}
}

// TestCacheBound: the cache stays within --cache-size, the least recently
// used blobs going first; a blob larger than the cache passes through.
func TestCacheBound(t *testing.T) {
	up := registrytest.New(t, "")
	f, front := newCountingFront(t, up)
	var digests []string
	var blobs [][]byte
	for i := range 4 {
		b := randomBlob(1<<20 + i) // distinct
		b[0] = byte(i)
		blobs = append(blobs, b)
		digests = append(digests, pushRawBlob(t, up, "app", b).String())
	}
	huge := randomBlob(4 << 20)
	huge[0] = 'h'
	hugeDigest := pushRawBlob(t, up, "app", huge).String()
	s, srv := newTestServer(t, WithUpstreams(Upstream{Name: "up", URL: front}), WithCacheSize(5<<19)) // 2.5 MiB
	fetch := func(d string, want []byte) {
		t.Helper()
		resp := get(t, "http://"+srv+"/v2/app/blobs/"+d, nil)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !bytes.Equal(body, want) {
			t.Fatalf("blob %s: %d, %d bytes", d, resp.StatusCode, len(body))
		}
	}
	for i, d := range digests {
		fetch(d, blobs[i])
	}
	if _, size := s.cache.store.Usage(); size > 5<<19 {
		t.Errorf("cache holds %d bytes, bound %d", size, 5<<19)
	}
	n := f.blobs.Load()
	fetch(digests[3], blobs[3]) // the most recent: cached
	if f.blobs.Load() != n {
		t.Error("the most recently used blob was evicted")
	}
	fetch(digests[0], blobs[0]) // the least recent: gone
	if f.blobs.Load() != n+1 {
		t.Error("the least recently used blob was kept past the bound")
	}
	fetch(hugeDigest, huge)
	fetch(hugeDigest, huge)
	if count, _ := s.cache.store.Usage(); count > 2 {
		t.Errorf("cache holds %d blobs after a blob larger than it", count)
	}
}

// TestCacheClientLeavesBeforeCommit: a client that closes its connection
// as soon as it has the last byte (curl, a pull that moves on) leaves
// before the fill's commit. The blob is stored all the same (the fill
// runs in its own context), and that is no store error: before, every
// such first fetch logged "blob served but not cached ... context
// canceled" and counted one.
func TestCacheClientLeavesBeforeCommit(t *testing.T) {
	up := registrytest.New(t, "")
	f, front := newCountingFront(t, up)
	s, srv := newTestServer(t, WithUpstreams(Upstream{Name: "up", URL: front}))
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	const blobs = 8
	data := make([][]byte, blobs)
	dgs := make([]string, blobs)
	for i := range blobs {
		data[i] = append(randomBlob(1<<20), byte(i))
		dgs[i] = pushRawBlob(t, up, "app", data[i]).String()
	}
	get := func(i int) {
		t.Helper()
		resp, err := client.Get("http://" + srv + "/v2/app/blobs/" + dgs[i])
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close() // no keep-alive: the connection closes now
		if err != nil || resp.StatusCode != http.StatusOK || !bytes.Equal(body, data[i]) {
			t.Fatalf("blob %d: %s, %d bytes, %v", i, resp.Status, len(body), err)
		}
	}
	for i := range blobs {
		get(i)
	}
	for i := range blobs { // stored, whenever the commits end
		deadline := time.Now().Add(10 * time.Second)
		for {
			b, err := s.cache.store.Open(t.Context(), digest.Digest(dgs[i]))
			if err == nil {
				b.Close()
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("blob %d never stored: %v", i, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	if n := s.m.storeErrors.Value(); n != 0 {
		t.Errorf("%v store errors counted for blobs that were stored", n)
	}
	fetched := f.blobs.Load()
	for i := range blobs {
		get(i)
	}
	if f.blobs.Load() != fetched {
		t.Errorf("cached blobs fetched again: %d more upstream GETs", f.blobs.Load()-fetched)
	}
}
