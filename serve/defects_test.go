package serve

// Reproducers of the defects of issue 8 (5), one test each: every test
// here failed on the code before the fix it names.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/tailor-dev/tailor/internal/registrytest"
)

// ociError reads an OCI error body; it fails the test when there is none.
func ociError(t *testing.T, resp *http.Response) (string, string) {
	t.Helper()
	body, _ := io.ReadAll(resp.Body)
	var e struct {
		Errors []struct{ Code, Message string }
	}
	if err := json.Unmarshal(body, &e); err != nil || len(e.Errors) != 1 {
		t.Fatalf("status %d: no OCI error body: %q", resp.StatusCode, body)
	}
	return e.Errors[0].Code, string(body)
}

// rawGet sends a request line as written (no client-side escaping).
func rawGet(t *testing.T, host, path string) *http.Response {
	t.Helper()
	conn, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", path, host)
	resp, err := http.ReadResponse(bufioReader(conn), nil)
	if err != nil {
		t.Fatalf("GET %s: no answer (%v)", path, err)
	}
	return resp
}

// TestOddTags: tags with %00, %20, %25, %7F or %0a panicked the embedded
// handler (an empty reply); v1%3Fx was read as tag v1. They get 400 now,
// with an OCI error, on the embedded registry and on a proxy.
func TestOddTags(t *testing.T) {
	up := registrytest.New(t, "")
	pushIndex(t, up+"/app:v1", variantIndex(t, testVariants))
	_, emb := newTestServer(t, WithProfile(mustProfile(t, "cpu=haswell")))
	pushIndex(t, emb+"/app:v1", variantIndex(t, testVariants))
	_, proxy := newTestServer(t, WithUpstreams(Upstream{Name: "up", URL: "http://" + up}), WithProfile(mustProfile(t, "cpu=haswell")))
	long := strings.Repeat("a", 129)
	for _, host := range []string{emb, proxy} {
		for _, tag := range []string{"v1%00", "v%201", "v1%25", "v1%7F", "v1%0a", "v1%3Fx", "%2e%2e", ".v1", long} {
			t.Run(tag, func(t *testing.T) {
				for _, p := range []string{"/v2/app/manifests/" + tag, "/v2/_p/none/app/manifests/" + tag} {
					resp := rawGet(t, host, p)
					if resp.StatusCode < 400 || resp.StatusCode >= 500 {
						t.Errorf("GET %s: %d, want 4xx", p, resp.StatusCode)
					}
					ociError(t, resp)
				}
			})
		}
	}
	for _, p := range []string{"/v2/app/blobs/sha256:zz", "/v2/app/referrers/v1", "/v2/app/blobs/uploads/..", "/v2/app/manifests/sha256:abc"} {
		if resp := rawGet(t, emb, p); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("GET %s: %d, want 400", p, resp.StatusCode)
		}
	}
}

// redirectFront answers what redirect says for a path, else passes the
// request to the real registry behind it.
type redirectFront struct {
	next     http.Handler
	redirect func(r *http.Request) string
}

func (f *redirectFront) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if to := f.redirect(r); to != "" {
		http.Redirect(w, r, to, http.StatusTemporaryRedirect)
		return
	}
	f.next.ServeHTTP(w, r)
}

// TestNoSSRF: serve followed an upstream's redirect to any host, loopback
// included, and returned that host's body as a manifest. Now a manifest
// by tag is never taken from another host; a blob (digest-checked) may
// follow a redirect off the upstream's host only to a public address,
// unless the upstream itself is private.
func TestNoSSRF(t *testing.T) {
	up := registrytest.New(t, "")
	pushIndex(t, up+"/app:v1", variantIndex(t, testVariants))
	blobData := []byte("secret-service-answer")
	blob := pushRawBlob(t, up, "app", blobData)
	// The "internal service": answers anything with an index-looking body
	// and the blob's bytes for the blob path.
	internal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/blobs/") {
			_, _ = w.Write(blobData)
			return
		}
		w.Header().Set("Content-Type", mediaOCIIndex)
		_, _ = w.Write([]byte(`{"schemaVersion":2,"mediaType":"` + mediaOCIIndex + `","manifests":[],"annotations":{"internal":"secret"}}`))
	}))
	t.Cleanup(internal.Close)
	target, _ := url.Parse("http://" + up)
	front := httptest.NewServer(&redirectFront{next: httputil.NewSingleHostReverseProxy(target), redirect: func(r *http.Request) string {
		switch {
		case strings.HasSuffix(r.URL.Path, "/manifests/evil"):
			return internal.URL + "/latest/meta-data"
		case strings.HasSuffix(r.URL.Path, "/manifests/moved"):
			return "/v2/app/manifests/v1" // same host: followed
		case strings.Contains(r.URL.Path, "/blobs/"):
			return internal.URL + r.URL.Path
		}
		return ""
	}})
	t.Cleanup(front.Close)
	_, private := newTestServer(t, WithUpstreams(Upstream{Name: "up", URL: front.URL}), WithProfile(mustProfile(t, "cpu=haswell")))
	_, public := newTestServer(t, WithUpstreams(Upstream{Name: "up", URL: front.URL}), WithProfile(mustProfile(t, "cpu=haswell")),
		func(o *options) error { o.publicUpstreams = true; return nil })

	for _, srv := range []string{private, public} {
		resp := get(t, "http://"+srv+"/v2/_p/none/app/manifests/evil", nil)
		if code, body := ociError(t, resp); resp.StatusCode != http.StatusBadGateway || strings.Contains(body, "secret") {
			t.Errorf("manifest by tag redirected to another host: %d %s %s, want 502 without the other host's body", resp.StatusCode, code, body)
		}
		resp.Body.Close()
		if _, d := rawManifest(t, "http://"+srv+"/v2/_p/none/app/manifests/moved", nil); d == "" {
			t.Error("a same-host redirect of a tag was not followed")
		}
	}
	// A private upstream may send blobs to private hosts: digest-checked.
	resp := get(t, "http://"+private+"/v2/app/blobs/"+blob.String(), nil)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, blobData) {
		t.Errorf("blob redirect from a private upstream: %d %q", resp.StatusCode, body)
	}
	// A public upstream may not send them to loopback.
	resp = get(t, "http://"+public+"/v2/app/blobs/"+blob.String(), nil)
	if code, b := ociError(t, resp); resp.StatusCode != http.StatusBadGateway || strings.Contains(b, "secret") {
		t.Errorf("blob redirect from a public upstream to loopback: %d %s %s, want 502", resp.StatusCode, code, b)
	}
	resp.Body.Close()
}

// manifestFront serves one manifest path with a body of its choosing.
func manifestFront(t *testing.T, up string, serve func(w http.ResponseWriter, r *http.Request) bool) string {
	t.Helper()
	target, _ := url.Parse("http://" + up)
	next := httputil.NewSingleHostReverseProxy(target)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/manifests/") && serve(w, r) {
			return
		}
		next.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	return front.URL
}

// TestChunkedManifestBounded: a manifest by digest sent chunked (no
// Content-Length) was streamed without the 4 MiB limit (1 GiB went
// through). It is read bounded now: 502 SIZE_INVALID, nothing passed on.
func TestChunkedManifestBounded(t *testing.T) {
	up := registrytest.New(t, "")
	big := digest.FromString("big")
	front := manifestFront(t, up, func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.HasSuffix(r.URL.Path, big.String()) && !strings.HasSuffix(r.URL.Path, "/big") {
			return false
		}
		w.Header().Set("Content-Type", mediaOCIManifest)
		chunk := bytes.Repeat([]byte(" "), 1<<20)
		for range 64 { // 64 MiB, flushed: chunked
			if _, err := w.Write(chunk); err != nil {
				return true
			}
			w.(http.Flusher).Flush()
		}
		return true
	})
	_, srv := newTestServer(t, WithUpstreams(Upstream{Name: "up", URL: front}), WithProfile(mustProfile(t, "cpu=haswell")))
	for _, ref := range []string{big.String(), "big"} {
		resp := get(t, "http://"+srv+"/v2/app/manifests/"+ref, nil)
		code, body := ociError(t, resp)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadGateway || code != codeSizeInvalid || len(body) > 4096 {
			t.Errorf("chunked 64 MiB manifest %s: %d %s (%d bytes), want 502 SIZE_INVALID", ref, resp.StatusCode, code, len(body))
		}
	}
}

// TestManifestDigestMismatch: a small manifest by digest whose bytes do
// not match gave an empty reply; now a clean 502 DIGEST_INVALID.
func TestManifestDigestMismatch(t *testing.T) {
	up := registrytest.New(t, "")
	want := digest.FromString("the real one")
	front := manifestFront(t, up, func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.HasSuffix(r.URL.Path, want.String()) {
			return false
		}
		w.Header().Set("Content-Type", mediaOCIManifest)
		_, _ = w.Write([]byte(`{"schemaVersion":2,"mediaType":"` + mediaOCIManifest + `"}`))
		return true
	})
	_, srv := newTestServer(t, WithUpstreams(Upstream{Name: "up", URL: front}), WithProfile(mustProfile(t, "cpu=haswell")))
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		req, _ := http.NewRequest(method, "http://"+srv+"/v2/app/manifests/"+want.String(), nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: %v (an empty reply?)", method, err)
		}
		if resp.StatusCode != http.StatusBadGateway {
			t.Errorf("%s of a mismatching manifest: %d, want 502", method, resp.StatusCode)
		}
		if method == http.MethodGet {
			if code, _ := ociError(t, resp); code != codeDigestInvalid {
				t.Errorf("code %s, want %s", code, codeDigestInvalid)
			}
		}
		resp.Body.Close()
	}
}

// TestHTMLNotManifest: an upstream (or a captive portal before it) that
// answers a tag with an HTML page had it passed on as a manifest.
func TestHTMLNotManifest(t *testing.T) {
	up := registrytest.New(t, "")
	front := manifestFront(t, up, func(w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte("<html><body>Please log in</body></html>"))
		return true
	})
	_, srv := newTestServer(t, WithUpstreams(Upstream{Name: "up", URL: front}), WithProfile(mustProfile(t, "cpu=haswell")))
	for _, p := range []string{"/v2/app/manifests/v1", "/v2/_p/none/app/manifests/v1"} {
		resp := get(t, "http://"+srv+p, nil)
		code, body := ociError(t, resp)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadGateway || code != codeManifestInvalid || strings.Contains(body, "Please log in") {
			t.Errorf("GET %s of an HTML answer: %d %s %s, want 502 MANIFEST_INVALID", p, resp.StatusCode, code, body)
		}
	}
}

// TestNoInternalDetails: errors to clients named the upstream's address
// ("dial tcp 10.0.0.5:443: connection refused") and the server's paths.
func TestNoInternalDetails(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	deadHost := strings.TrimPrefix(dead.URL, "http://")
	dead.Close()
	up := registrytest.New(t, "")
	front := manifestFront(t, up, func(w http.ResponseWriter, r *http.Request) bool {
		http.Error(w, "backend 10.1.2.3:8080 failed at /srv/registry/data", http.StatusInternalServerError)
		return true
	})
	_, srv := newTestServer(t, WithUpstreams(Upstream{Name: "dead", URL: "http://" + deadHost}, Upstream{Name: "err", URL: front}),
		WithProfile(mustProfile(t, "cpu=haswell")))
	for _, p := range []string{"/v2/dead/app/manifests/v1", "/v2/err/app/manifests/v1", "/v2/dead/app/blobs/" + digest.FromString("x").String()} {
		resp := get(t, "http://"+srv+p, nil)
		_, body := ociError(t, resp)
		resp.Body.Close()
		for _, leak := range []string{deadHost, "127.0.0.1", "dial", "10.1.2.3", "/srv/"} {
			if strings.Contains(body, leak) {
				t.Errorf("GET %s: the error tells %q: %s", p, leak, body)
			}
		}
	}
	if b, _ := json.Marshal(asRegError(fmt.Errorf("open /var/lib/tailor/tailored/.tmp-1: no space left on device"))); bytes.Contains(b, []byte("/var/lib")) {
		t.Errorf("an internal error tells the server's path: %s", b)
	}
}

// TestTempFilesCleaned: .tmp-* files a crash left in the store and a
// half-made token key stayed forever.
func TestTempFilesCleaned(t *testing.T) {
	dir := t.TempDir()
	if _, err := New(WithStorage(dir)); err != nil {
		t.Fatal(err)
	}
	leftovers := []string{filepath.Join(dir, "tailored", ".tmp-123"), filepath.Join(dir, ".token.key-456")}
	for _, f := range leftovers {
		if err := os.WriteFile(f, []byte("half"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := New(WithStorage(dir)); err != nil {
		t.Fatal(err)
	}
	for _, f := range leftovers {
		if _, err := os.Stat(f); err == nil {
			t.Errorf("%s survived a restart", f)
		}
	}
}

// TestVaryAndMetrics: tailored answers say what they vary on (a cache in
// front must not hand one client's answer to another), and /metrics has
// the Go runtime's and the process's series and the per-profile counts.
func TestVaryAndMetrics(t *testing.T) {
	up := registrytest.New(t, "")
	pushIndex(t, up+"/app:v1", variantIndex(t, testVariants))
	_, srv := newTestServer(t, WithUpstreams(Upstream{Name: "up", URL: "http://" + up}), WithProfile(mustProfile(t, "cpu=haswell")))
	resp := get(t, "http://"+srv+"/v2/app/manifests/v1", nil)
	resp.Body.Close()
	for _, v := range []string{"Accept", "Authorization", ProfileHeader} {
		if !strings.Contains(resp.Header.Get("Vary"), v) {
			t.Errorf("Vary %q lacks %s", resp.Header.Get("Vary"), v)
		}
	}
	resp = get(t, "http://"+srv+"/metrics", nil)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, series := range []string{"go_goroutines", "go_memstats_heap_inuse_bytes", "process_resident_memory_bytes",
		`tailor_serve_profile_answers_total{profile="default",target="haswell"} 1`} {
		if !bytes.Contains(body, []byte(series)) {
			t.Errorf("/metrics lacks %s", series)
		}
	}
}

// TestBodyNeverComes: requests that announce a body and never send it
// stayed open forever; they are cut when the body stalls (bodyIdle).
func TestBodyNeverComes(t *testing.T) {
	s, err := New(WithStorage(t.TempDir()), func(o *options) error { o.bodyIdle = time.Second; return nil })
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.Run(t.Context(), ln) }()
	const conns = 300
	start := time.Now()
	done := make(chan error, conns)
	for range conns {
		go func() {
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				done <- err
				return
			}
			defer c.Close()
			fmt.Fprintf(c, "PUT /v2/app/manifests/v1 HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nContent-Length: 1000\r\n\r\n{", mediaOCIManifest)
			_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
			_, err = io.Copy(io.Discard, c) // returns when the server closes
			done <- err
		}()
	}
	for range conns {
		if err := <-done; err != nil {
			t.Fatalf("a stalled body was not cut within 20 s: %v", err)
		}
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("cutting %d stalled bodies (idle 1 s) took %s", conns, took)
	}
	if bodyIdle > 45*time.Second {
		t.Errorf("bodyIdle %s: a body that never comes must be cut within 45 s", bodyIdle)
	}
}

func bufioReader(c net.Conn) *bufio.Reader { return bufio.NewReader(c) }
