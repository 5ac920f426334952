package serve

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// BenchmarkTokenDuringLoginFlood (D13): the time of an anonymous pull
// token over HTTP while floodAddrs clients, each from its own loopback
// address (127.1.x.y), send wrong passwords for a user of the htpasswd
// file (bcrypt cost 10), each one request a second. ns/op is the
// anonymous token's time (a new connection each); idle-ms/op the same
// before the flood.
func BenchmarkTokenDuringLoginFlood(b *testing.B) {
	const floodAddrs = 2000
	h, err := bcrypt.GenerateFromPassword([]byte("alice-pw"), bcrypt.DefaultCost)
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "htpasswd")
	if err := os.WriteFile(path, []byte("alice:"+string(h)+"\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	s, err := New(WithStorage(b.TempDir()), WithHtpasswd(path))
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(s)
	defer ts.Close()
	q := url.Values{"service": {tokenService}, "scope": {"repository:app:pull"}}
	client := func(ip string) *http.Client {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
		return &http.Client{Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}}
	}
	good := client("127.0.0.1")
	anon := func() int {
		resp, err := good.Get(ts.URL + "/token?" + q.Encode())
		if err != nil {
			return -1
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	quiet := anon()
	start := time.Now()
	for range 20 {
		anon()
	}
	idle := time.Since(start) / 20
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var sent, refused atomic.Int64
	for i := range floodAddrs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := client(fmt.Sprintf("127.1.%d.%d", i>>8&255, i&255+1))
			for {
				select {
				case <-stop:
					return
				default:
				}
				req, _ := http.NewRequest(http.MethodGet, ts.URL+"/token?"+q.Encode(), nil)
				req.SetBasicAuth("alice", "wrong")
				resp, err := c.Do(req)
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					sent.Add(1)
					if resp.StatusCode == http.StatusTooManyRequests {
						refused.Add(1)
					}
				}
				select {
				case <-stop:
					return
				case <-time.After(time.Second):
				}
			}
		}()
	}
	time.Sleep(2 * time.Second) // the flood under way
	b.ResetTimer()
	for range b.N {
		if c := anon(); c != http.StatusOK || quiet != http.StatusOK {
			b.Fatalf("anonymous token: %d", c)
		}
	}
	b.StopTimer()
	close(stop)
	ts.CloseClientConnections()
	wg.Wait()
	b.ReportMetric(float64(idle.Microseconds())/1000, "idle-ms/op")
	b.ReportMetric(float64(sent.Load()), "flood-requests")
	b.ReportMetric(float64(refused.Load()), "flood-429")
}
