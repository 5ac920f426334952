package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
)

// newTest starts a Registry under a temporary directory (or dir) behind
// an httptest server; it returns the registry and its base URL.
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
	return reg, srv.URL
}

// answer is a response read whole.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// errorCode is the code of an OCI error body, "" when there is none.
func (a answer) errorCode() string {
	var e struct {
		Errors []struct{ Code, Message string } `json:"errors"`
	}
	if json.Unmarshal(a.body, &e) != nil || len(e.Errors) != 1 || e.Errors[0].Message == "" {
		return ""
	}
	return e.Errors[0].Code
}

// do sends a request; header is key, value pairs.
func do(t testing.TB, method, url string, body []byte, header ...string) answer {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, header: resp.Header, body: b}
}

// pushBlob uploads data to repo monolithically and returns its digest.
func pushBlob(t testing.TB, base, repo string, data []byte) digest.Digest {
	t.Helper()
	d := digest.FromBytes(data)
	a := do(t, "POST", base+"/v2/"+repo+"/blobs/uploads/?digest="+string(d), data)
	if a.status != http.StatusCreated {
		t.Fatalf("push blob to %s: %d %s", repo, a.status, a.body)
	}
	return d
}

// imageManifest builds an OCI image manifest over config and layers
// (pushed to repo).
func imageManifest(t testing.TB, base, repo string, extra map[string]any, layers ...[]byte) []byte {
	t.Helper()
	cfg := []byte(`{"architecture":"amd64","os":"linux"}`)
	m := map[string]any{
		"schemaVersion": 2,
		"mediaType":     MediaOCIManifest,
		"config":        map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": pushBlob(t, base, repo, cfg), "size": len(cfg)},
	}
	ls := []map[string]any{}
	for _, l := range layers {
		ls = append(ls, map[string]any{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": pushBlob(t, base, repo, l), "size": len(l)})
	}
	m["layers"] = ls
	for k, v := range extra {
		m[k] = v
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// putManifest PUTs body as ref of repo with Content-Type mt.
func putManifest(t testing.TB, base, repo, ref, mt string, body []byte) answer {
	t.Helper()
	return do(t, "PUT", base+"/v2/"+repo+"/manifests/"+ref, body, "Content-Type", mt)
}

// noPath fails when b holds dir (a path of the server).
func noPath(t testing.TB, b []byte, dir string) {
	t.Helper()
	if strings.Contains(string(b), dir) {
		t.Errorf("answer shows the server's path %s: %s", dir, b)
	}
}

// clock is a settable time.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

func writeString(p, s string) error { return os.WriteFile(p, []byte(s), 0o644) }
