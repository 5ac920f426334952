package serve

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/opencontainers/go-digest"
	"github.com/tailor-dev/tailor/internal/registrytest"
)

// goroutines counts the goroutines once the test's own idle client
// connections are closed.
func goroutines() int {
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()
	remote.DefaultTransport.(*http.Transport).CloseIdleConnections()
	return runtime.NumGoroutine()
}

// noLeak waits until the goroutines are back to before, else fails
// with their stacks.
func noLeak(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for goroutines() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			n := runtime.Stack(buf, true)
			t.Fatalf("%d goroutines after Close, %d before:\n%s", runtime.NumGoroutine(), before, buf[:n])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestServerClose: after Close a Server leaves no goroutine behind (the
// embedded registry's janitor, connections to upstreams) and its stores
// are closed; Close twice is fine.
func TestServerClose(t *testing.T) {
	t.Run("embedded", func(t *testing.T) {
		before := goroutines()
		s, err := New(WithStorage(t.TempDir()), WithProfile(mustProfile(t, "cpu=haswell")))
		if err != nil {
			t.Fatal(err)
		}
		ts := httptest.NewServer(s)
		blob := []byte("a blob")
		resp, err := http.Post(ts.URL+"/v2/app/blobs/uploads/?digest="+string(digest.FromBytes(blob)), "application/octet-stream", bytes.NewReader(blob))
		if err != nil || resp.StatusCode != http.StatusCreated {
			t.Fatalf("push: %v %v", resp, err)
		}
		resp.Body.Close()
		ts.Close()
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		noLeak(t, before)
	})
	t.Run("mirror", func(t *testing.T) {
		up := registrytest.New(t, "")
		pushIndex(t, up+"/app:v1", variantIndex(t, testVariants))
		before := goroutines()
		s, err := New(WithStorage(t.TempDir()), WithUpstreams(Upstream{Name: "up", URL: "http://" + up}),
			WithProfile(mustProfile(t, "cpu=haswell")), WithTagTTL(0))
		if err != nil {
			t.Fatal(err)
		}
		ts := httptest.NewServer(s)
		if got := readTarget(t, strings.TrimPrefix(ts.URL, "http://")+"/app:v1", "amd64"); got != "haswell" {
			t.Fatalf("pull through the mirror: %q", got)
		}
		ts.Close()
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		noLeak(t, before)
		if _, err := s.cache.store.NewWriter(context.Background()); err == nil {
			t.Error("the cache's store is still open after Close")
		}
	})
}

// TestWriteWithBadProfile: a write that names a profile that does not
// parse, in the path or the header, is refused and stores nothing.
func TestWriteWithBadProfile(t *testing.T) {
	_, host := newTestServer(t, WithProfile(mustProfile(t, "cpu=haswell")))
	blob := []byte("a blob")
	d := string(digest.FromBytes(blob))
	for _, c := range []struct{ path, header string }{
		{"/v2/_p/cpu=nosuchcpu,,=/app/blobs/uploads/?digest=" + d, ""},
		{"/v2/_p/%25%25garbage/app/blobs/uploads/?digest=" + d, ""},
		{"/v2/app/blobs/uploads/?digest=" + d, "cpu=nosuchcpu,,="},
	} {
		req, _ := http.NewRequest("POST", "http://"+host+c.path, bytes.NewReader(blob))
		if c.header != "" {
			req.Header.Set(ProfileHeader, c.header)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("POST %s (header %q): %d, want 400", c.path, c.header, resp.StatusCode)
		}
	}
	resp, err := http.Head("http://" + host + "/v2/_p/none/app/blobs/" + d)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("blob after refused writes: %d, want 404", resp.StatusCode)
	}
	// A profile that parses still takes writes.
	resp, err = http.Post("http://"+host+"/v2/_p/none/app/blobs/uploads/?digest="+d, "application/octet-stream", bytes.NewReader(blob))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Errorf("write through /v2/_p/none/: %d, want 201", resp.StatusCode)
	}
}

// TestGCInterval: WithGCInterval (tailor serve --gc-interval) reaches
// the embedded registry: a blob no manifest references goes.
func TestGCInterval(t *testing.T) {
	storage := t.TempDir()
	s, err := New(WithStorage(storage), WithGCInterval(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(WithStorage(t.TempDir()), WithGCInterval(-time.Second)); err == nil {
		t.Error("a negative interval accepted")
	}
	ts := httptest.NewServer(s)
	blob := []byte("pushed, never referenced")
	d := digest.FromBytes(blob)
	resp, err := http.Post(ts.URL+"/v2/app/blobs/uploads/?digest="+string(d), "application/octet-stream", bytes.NewReader(blob))
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("push: %v %v", resp, err)
	}
	resp.Body.Close()
	ts.Close()
	s.Close()
	// Kept for the registry's hour of grace: make it older and restart.
	link := filepath.Join(storage, "oci", "repositories", "app", "_layers", "sha256", d.Encoded())
	file := filepath.Join(storage, "oci", "blobs", "sha256", d.Encoded())
	past := time.Now().Add(-2 * time.Hour)
	for _, p := range []string{link, file} {
		if err := os.Chtimes(p, past, past); err != nil {
			t.Fatal(err)
		}
	}
	s, err = New(WithStorage(storage), WithGCInterval(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(file); os.IsNotExist(err) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("--gc-interval 50ms: the unreferenced blob is still there after 10 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
