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
	"time"

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

// TestTricklingBodyCut (D12): a body that never stalls for the idle time
// but trickles (a byte every 300 ms, idle 2 s) is cut once its average
// rate falls below the minimum, not held open for as long as it trickles.
func TestTricklingBodyCut(t *testing.T) {
	s, err := New(WithStorage(t.TempDir()), func(o *options) error { o.bodyIdle = 2 * time.Second; return nil })
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.Run(t.Context(), ln) }()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "PUT /v2/app/manifests/v1 HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nContent-Length: 100000\r\n\r\n", mediaOCIManifest)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		tick := time.NewTicker(300 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if _, err := c.Write([]byte(" ")); err != nil {
					return
				}
			}
		}
	}()
	start := time.Now()
	_ = c.SetReadDeadline(time.Now().Add(12 * time.Second))
	_, err = io.Copy(io.Discard, c) // returns when the server closes
	if err != nil {
		t.Fatalf("a trickling body was not cut within 12 s: %v", err)
	}
	if took := time.Since(start); took > 6*time.Second {
		t.Errorf("a trickling body was cut after %s, want within 6 s (idle 2 s, 1 KiB/s)", took)
	}
}
