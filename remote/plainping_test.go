package remote

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// firstBytes is a listener that notes the first byte each connection
// sent: 0x16 opens a TLS handshake (a ClientHello).
type firstBytes struct {
	net.Listener
	mu    sync.Mutex
	first []byte
}

func (l *firstBytes) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &noteConn{Conn: c, l: l}, nil
}

func (l *firstBytes) handshakes() (tls, plain int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, b := range l.first {
		if b == 0x16 {
			tls++
		} else {
			plain++
		}
	}
	return tls, plain
}

type noteConn struct {
	net.Conn
	l    *firstBytes
	once sync.Once
}

func (c *noteConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.once.Do(func() {
			c.l.mu.Lock()
			c.l.first = append(c.l.first, p[0])
			c.l.mu.Unlock()
		})
	}
	return n, err
}

func registryHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/" {
			return
		}
		serveIndex(w)
	})
}

// TestPlainLoopbackNoTLS: a plain-HTTP loopback registry is reached
// without a single TLS ClientHello (ggcr's ping tries HTTPS first).
func TestPlainLoopbackNoTLS(t *testing.T) {
	srv := httptest.NewUnstartedServer(registryHandler())
	ln := &firstBytes{Listener: srv.Listener}
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	c := fastClient(t)
	if _, err := c.Get(context.Background(), host+"/app:v1"); err != nil {
		t.Fatal(err)
	}
	if tls, plain := ln.handshakes(); tls != 0 || plain == 0 {
		t.Errorf("%d TLS handshakes and %d plain connections to a plain-HTTP loopback registry, want none and some", tls, plain)
	}
}

// TestTLSLoopbackStillTLS: a loopback registry that speaks TLS is
// reached over TLS, its plain probe made once per client.
func TestTLSLoopbackStillTLS(t *testing.T) {
	srv := httptest.NewUnstartedServer(registryHandler())
	ln := &firstBytes{Listener: srv.Listener}
	srv.Listener = ln
	srv.StartTLS()
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "https://")
	tr := srv.Client().Transport.(*http.Transport).Clone()
	c := fastClient(t, WithTransport(tr))
	for range 2 {
		m, err := c.Get(context.Background(), host+"/app:v1")
		if err != nil {
			t.Fatal(err)
		}
		if !m.IsIndex() {
			t.Fatalf("got a %s", m.MediaType)
		}
		tr.CloseIdleConnections() // each Get dials anew: its handshakes are seen
	}
	if tls, plain := ln.handshakes(); tls < 2 || plain != 1 {
		t.Errorf("%d TLS handshakes and %d plain connections to a TLS loopback registry, want 2 or more and 1", tls, plain)
	}
}
