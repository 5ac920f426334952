package remote

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestProfileHeader: every request (the ping, the manifest) asks a tailor
// server for the untailored view unless the client was given a profile.
func TestProfileHeader(t *testing.T) {
	for _, c := range []struct {
		name string
		opts []Option
		want string
	}{
		{"default", nil, ProfileNone},
		{"profile", []Option{WithServerProfile("cpu=zen3")}, "cpu=zen3"},
		{"none sent", []Option{WithServerProfile("")}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			var mu sync.Mutex
			var got []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				got = append(got, r.URL.Path+"="+r.Header.Get(ProfileHeader))
				mu.Unlock()
				if r.URL.Path == "/v2/" {
					return
				}
				serveIndex(w)
			}))
			t.Cleanup(srv.Close)
			host := strings.TrimPrefix(srv.URL, "http://")
			if _, err := fastClient(t, c.opts...).Get(context.Background(), host+"/app:1"); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(got) < 2 {
				t.Fatalf("requests %v, want the ping and the manifest", got)
			}
			for _, g := range got {
				if _, v, _ := strings.Cut(g, "="); v != c.want {
					t.Errorf("request %s: %s = %q, want %q", g, ProfileHeader, v, c.want)
				}
			}
		})
	}
	if _, err := New(WithServerProfile("cpu=zen3\r\nX-Evil: 1")); err == nil {
		t.Error("WithServerProfile accepted a header injection")
	}
}

// TestRedirectLoop: a registry that redirects a manifest to itself makes
// the client give up after MaxRedirects, at once, not at its timeout (it
// used to send tens of thousands of requests until --timeout).
func TestRedirectLoop(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/" {
			return
		}
		n.Add(1)
		http.Redirect(w, r, r.URL.Path, http.StatusFound)
	}))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	c := fastClient(t, WithTimeout(30*time.Second))
	start := time.Now()
	_, err := c.Get(context.Background(), host+"/app:1")
	took := time.Since(start)
	if !errors.Is(err, ErrRedirectLoop) {
		t.Fatalf("Get through a redirect loop: %v, want ErrRedirectLoop", err)
	}
	if took > 10*time.Second || n.Load() > 3*(MaxRedirects+1) {
		t.Errorf("gave up after %s and %d requests, want < 10 s and <= %d", took, n.Load(), 3*(MaxRedirects+1))
	}
	t.Logf("gave up after %s, %d requests: %v", took, n.Load(), err)
}
