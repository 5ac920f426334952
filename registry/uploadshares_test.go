package registry

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
)

// post starts an upload session of repo as the client at addr, in process.
func postFrom(reg *Registry, addr, repo string) int {
	req := httptest.NewRequest(http.MethodPost, "/v2/"+repo+"/blobs/uploads/", nil)
	req.RemoteAddr = addr
	rec := httptest.NewRecorder()
	reg.ServeHTTP(rec, req)
	return rec.Code
}

// TestUploadSharesHoarder (D4): one client opening sessions until refused
// holds at most its share, and another client's push still gets one;
// one repository holds at most its share too.
func TestUploadSharesHoarder(t *testing.T) {
	reg, err := New(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	got := 0
	for range 1000 {
		if postFrom(reg, "10.0.0.1:4000", "hoard") != http.StatusAccepted {
			break
		}
		got++
	}
	if got != 100 {
		t.Errorf("one client opened %d sessions, want its share of 100", got)
	}
	if code := postFrom(reg, "10.0.0.2:4000", "team/app"); code != http.StatusAccepted {
		t.Errorf("another client's push while one hoards: %d, want 202", code)
	}
	// An IPv6 client is one /64, however many addresses it uses.
	for i := range 150 {
		postFrom(reg, fmt.Sprintf("[2001:db8::%x]:4000", i+1), "v6")
	}
	if code := postFrom(reg, "[2001:db8::ffff]:1", "v6"); code != http.StatusTooManyRequests {
		t.Errorf("the 151st session of one /64: %d, want 429", code)
	}
	// Many clients, one repository: the repository's share.
	n := 0
	for i := range 300 {
		if postFrom(reg, fmt.Sprintf("10.1.%d.%d:1", i/256, i%256), "one/repo") == http.StatusAccepted {
			n++
		}
	}
	if n != 250 {
		t.Errorf("one repository got %d sessions, want its share of 250", n)
	}
}

// TestUploadCountRaceFree (D4): concurrent session starts never pass the
// bounds together (the count was read, then the session added, unlocked
// between).
func TestUploadCountRaceFree(t *testing.T) {
	reg, err := New(context.Background(), t.TempDir(), WithUploadShares(5, 1000))
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	var ok atomic.Int64
	var wg sync.WaitGroup
	for range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if postFrom(reg, "10.0.0.9:1", "race") == http.StatusAccepted {
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 5 {
		t.Errorf("200 concurrent starts from one client got %d sessions, want exactly its share of 5", ok.Load())
	}
}
