package remote

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

const indexJSON = `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[` +
	`{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:0000000000000000000000000000000000000000000000000000000000000001","size":10,` +
	`"platform":{"architecture":"amd64","os":"linux","features":["cpu:haswell"]},"annotations":{"dev.tailor.cpu.target":"haswell"}}]}`

// fakeRegistry answers /v2/ and serves manifest(n) for the n-th manifest
// request; it counts manifest requests.
func fakeRegistry(t *testing.T, manifest func(n int, w http.ResponseWriter)) (host string, count *atomic.Int32) {
	t.Helper()
	count = &atomic.Int32{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/" {
			return
		}
		if strings.Contains(r.URL.Path, "/manifests/") {
			manifest(int(count.Add(1)), w)
			return
		}
		http.NotFound(w, r)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://"), count
}

func serveIndex(w http.ResponseWriter) {
	w.Header().Set("Content-Type", string(types.OCIImageIndex))
	_, _ = w.Write([]byte(indexJSON))
}

func fastClient(t *testing.T, opts ...Option) *Client {
	t.Helper()
	opts = append([]Option{WithRetry(Backoff{Duration: time.Millisecond, Factor: 2, Steps: 3})}, opts...)
	c, err := New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestGetIndex(t *testing.T) {
	host, count := fakeRegistry(t, func(_ int, w http.ResponseWriter) { serveIndex(w) })
	c := fastClient(t)
	m, err := c.Get(context.Background(), host+"/app:1")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if !m.IsIndex() || m.MediaType != types.OCIImageIndex || string(m.Raw) != indexJSON {
		t.Errorf("Get = %s %q, want the index as served", m.MediaType, m.Raw)
	}
	im, err := m.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	p := im.Manifests[0].Platform
	if len(p.Features) != 1 || p.Features[0] != "cpu:haswell" || im.Manifests[0].Annotations["dev.tailor.cpu.target"] != "haswell" {
		t.Errorf("entry lost features or annotations: %+v", im.Manifests[0])
	}
	if n := count.Load(); n != 1 {
		t.Errorf("manifest requests = %d, want 1", n)
	}
}

func TestGetErrors(t *testing.T) {
	tests := []struct {
		name    string
		serve   func(n int, w http.ResponseWriter)
		want    error
		message string
	}{
		{"404", func(_ int, w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}`))
		}, ErrNotFound, "manifest unknown: HOST/app:1 not found"},
		{"not JSON", func(_ int, w http.ResponseWriter) {
			w.Header().Set("Content-Type", string(types.OCIImageIndex))
			_, _ = w.Write([]byte("<html>hello</html>"))
		}, ErrBadManifest, "manifest is not JSON"},
		{"schema 1", func(_ int, w http.ResponseWriter) {
			w.Header().Set("Content-Type", string(types.DockerManifestSchema1Signed))
			_, _ = w.Write([]byte(`{"schemaVersion":1}`))
		}, ErrBadManifest, "schema 1"},
		{"always 500", func(_ int, w http.ResponseWriter) {
			w.WriteHeader(http.StatusInternalServerError)
		}, ErrRegistry, "HTTP 500"},
		{"401", func(_ int, w http.ResponseWriter) {
			w.WriteHeader(http.StatusForbidden)
		}, ErrUnauthorized, "unauthorized"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			host, _ := fakeRegistry(t, tt.serve)
			_, err := fastClient(t).Get(context.Background(), host+"/app:1")
			if !errors.Is(err, tt.want) {
				t.Fatalf("Get = %v, want %v", err, tt.want)
			}
			msg := strings.ReplaceAll(err.Error(), host, "HOST")
			if !strings.Contains(msg, tt.message) || strings.Contains(msg, "\n") {
				t.Errorf("Get error %q: want one line containing %q", msg, tt.message)
			}
		})
	}
}

func TestRetry(t *testing.T) {
	host, count := fakeRegistry(t, func(n int, w http.ResponseWriter) {
		if n < 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		serveIndex(w)
	})
	if _, err := fastClient(t).Get(context.Background(), host+"/app:1"); err != nil {
		t.Fatalf("Get after two 503s: %v", err)
	}
	if n := count.Load(); n != 3 {
		t.Errorf("manifest requests = %d, want 3", n)
	}
	host, count = fakeRegistry(t, func(_ int, w http.ResponseWriter) { w.WriteHeader(http.StatusServiceUnavailable) })
	noRetry := fastClient(t, WithRetry(Backoff{Steps: 1}))
	if _, err := noRetry.Get(context.Background(), host+"/app:1"); !errors.Is(err, ErrRegistry) {
		t.Fatalf("Get without retry from a 503 = %v, want ErrRegistry", err)
	}
	if n := count.Load(); n != 1 {
		t.Errorf("manifest requests = %d, want 1", n)
	}
}

func TestTimeout(t *testing.T) {
	release := make(chan struct{})
	host, _ := fakeRegistry(t, func(int, http.ResponseWriter) { <-release })
	defer close(release)
	c := fastClient(t, WithTimeout(200*time.Millisecond))
	start := time.Now()
	_, err := c.Get(context.Background(), host+"/app:1")
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "timed out") {
		t.Errorf("Get from a stuck registry = %v, want a timeout", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Get took %s despite a 200ms timeout", d)
	}
}

func TestUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	host := strings.TrimPrefix(srv.URL, "http://")
	srv.Close()
	_, err := fastClient(t).Get(context.Background(), host+"/app:1")
	if !errors.Is(err, ErrUnreachable) {
		t.Errorf("Get from a closed port = %v, want ErrUnreachable", err)
	}
}

func TestParseReference(t *testing.T) {
	c := fastClient(t, WithInsecure("registry.internal:5000"))
	for _, bad := range []string{"", "UPPER/app", "app:bad tag", "host/app@sha256:12"} {
		if _, err := c.ParseReference(bad); !errors.Is(err, ErrBadReference) || !strings.Contains(err.Error(), "parse reference") {
			t.Errorf("ParseReference(%q) = %v, want ErrBadReference", bad, err)
		}
	}
	ref, err := c.ParseReference("registry.internal:5000/app:1")
	if err != nil {
		t.Fatal(err)
	}
	if s := ref.Context().Registry.Scheme(); s != "http" {
		t.Errorf("scheme of an insecure registry = %s, want http", s)
	}
	ref, _ = c.ParseReference("registry.example.com/app:1")
	if s := ref.Context().Registry.Scheme(); s != "https" {
		t.Errorf("scheme of a secure registry = %s, want https", s)
	}
}

func TestOptionErrors(t *testing.T) {
	for name, opt := range map[string]Option{
		"insecure":  WithInsecure("host/path"),
		"timeout":   WithTimeout(-time.Second),
		"keychain":  WithKeychain(nil),
		"transport": WithTransport(nil),
		"retry":     WithRetry(Backoff{}),
	} {
		if _, err := New(opt); err == nil {
			t.Errorf("New(%s bad) = nil error", name)
		}
	}
}

func TestKeychain(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "alice" || p != "secret" {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.URL.Path == "/v2/" {
			return
		}
		serveIndex(w)
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	if _, err := fastClient(t, WithKeychain(authn.NewMultiKeychain())).Get(context.Background(), host+"/app:1"); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("Get without credentials = %v, want ErrUnauthorized", err)
	}
	kc := staticKeychain{authn.FromConfig(authn.AuthConfig{Username: "alice", Password: "secret"})}
	if _, err := fastClient(t, WithKeychain(kc)).Get(context.Background(), host+"/app:1"); err != nil {
		t.Errorf("Get with credentials: %v", err)
	}
}

// staticKeychain answers every registry with one authenticator.
type staticKeychain struct{ a authn.Authenticator }

func (k staticKeychain) Resolve(authn.Resource) (authn.Authenticator, error) { return k.a, nil }
