package serve

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/tailor-dev/tailor/internal/logtest"
)

// TestHugeMethodsBounded (D1): 100 requests with 200 KB methods against a
// server with --htpasswd cost /metrics one label value ("other") and the
// log a clipped field each, not 200 KB per request.
func TestHugeMethodsBounded(t *testing.T) {
	path := writeHtpasswd(t, map[string]string{"alice": "pw"})
	var logs logtest.Buffer
	_, srv := newTestServer(t, WithHtpasswd(path), WithProfile(mustProfile(t, "cpu=haswell")),
		WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	for i := range 100 {
		method := strings.Repeat("M", 200<<10) + fmt.Sprint(i)
		conn, err := net.Dial("tcp", srv)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "%s /v2/app/manifests/v1 HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", method, srv)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		conn.Close()
	}
	resp := get(t, "http://"+srv+"/metrics", nil)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if len(body) > 64<<10 {
		t.Errorf("/metrics is %d bytes after 100 huge methods, want under 64 KiB", len(body))
	}
	if !strings.Contains(string(body), `method="other"`) {
		t.Errorf("no method=\"other\" series in /metrics")
	}
	if logs.Len() > 200<<10 {
		t.Errorf("the log holds %d bytes after 100 requests, want the methods clipped", logs.Len())
	}
}
