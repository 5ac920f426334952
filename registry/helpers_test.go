package registry

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
)

// newTest starts a Registry under a temporary directory (or dir) behind
// an httptest server; it returns the registry and host:port.
func newTest(t testing.TB, dir string, opts ...Option) (*Registry, string) {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	reg, err := New(context.Background(), dir, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv := httptest.NewServer(reg)
	t.Cleanup(func() {
		srv.Close()
		reg.Close()
	})
	return reg, strings.TrimPrefix(srv.URL, "http://")
}
