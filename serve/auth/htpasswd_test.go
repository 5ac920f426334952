package auth

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// writeFile writes an htpasswd file of users (password, bcrypt cost).
func writeFile(t testing.TB, users map[string][2]any) string {
	t.Helper()
	var data []byte
	for u, pc := range users {
		h, err := bcrypt.GenerateFromPassword([]byte(pc[0].(string)), pc[1].(int))
		if err != nil {
			t.Fatal(err)
		}
		data = append(data, u+":"+string(h)+"\n"...)
	}
	p := filepath.Join(t.TempDir(), "htpasswd")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCheckMixedCosts (D13): in a file with a cheap hash (cost 4) beside
// a costly one (cost 10), a wrong password for the cheap user took ~1 ms
// and for an unknown user the dummy's ~60 ms: the cheap user was found
// by timing. Now every check takes what the costliest does.
func TestCheckMixedCosts(t *testing.T) {
	h, err := LoadHtpasswd(writeFile(t, map[string][2]any{"cheap": {"cheap-pw", bcrypt.MinCost}, "dear": {"dear-pw", 10}}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	median := func(user, pass string) time.Duration {
		var d []time.Duration
		for range 5 {
			start := time.Now()
			if _, err := h.Check(ctx, user, pass); err != nil {
				t.Fatal(err)
			}
			d = append(d, time.Since(start))
		}
		slices.Sort(d)
		return d[len(d)/2]
	}
	cheap, unknown, dear := median("cheap", "wrong"), median("nobody", "wrong"), median("dear", "wrong")
	t.Logf("median check: cheap user %s, unknown user %s, costly user %s", cheap, unknown, dear)
	if cheap < unknown/2 {
		t.Errorf("a wrong password of the cheaply hashed user takes %s, of an unknown user %s: the user is found by timing", cheap, unknown)
	}
	for user, pass := range map[string]string{"cheap": "cheap-pw", "dear": "dear-pw"} {
		if ok, err := h.Check(ctx, user, pass); !ok || err != nil {
			t.Errorf("%s with the right password: %v %v", user, ok, err)
		}
	}
	if ok, _ := h.Check(ctx, "nobody", "wrong"); ok {
		t.Error("an unknown user passed")
	}
}

// TestCheckCap (D13): logins ran as many bcrypt comparisons at once as
// clients sent (2,000 addresses took all the CPU: a good client's token
// 1.7 ms -> 709 ms). Now at most the cap run, a bounded number wait, and
// beyond that Check answers ErrBusy at once.
func TestCheckCap(t *testing.T) {
	var running, most atomic.Int32
	release := make(chan struct{})
	compare := func(hash, pw []byte) error {
		n := running.Add(1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		<-release
		running.Add(-1)
		return bcrypt.ErrMismatchedHashAndPassword
	}
	p := writeFile(t, map[string][2]any{"alice": {"pw", bcrypt.MinCost}})
	// The measuring comparison at load must not block.
	var loaded atomic.Bool
	h, err := LoadHtpasswd(p, WithMaxChecks(2, 3), WithCompare(func(hash, pw []byte) error {
		if !loaded.Load() {
			return bcrypt.ErrMismatchedHashAndPassword
		}
		return compare(hash, pw)
	}))
	if err != nil {
		t.Fatal(err)
	}
	loaded.Store(true)
	var wg sync.WaitGroup
	errs := make(chan error, 5)
	for range 5 { // 2 run, 3 wait
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := h.Check(context.Background(), "alice", "wrong")
			errs <- err
		}()
	}
	deadline := time.Now().Add(5 * time.Second)
	for h.waiting.Load() < 5 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	start := time.Now()
	if _, err := h.Check(context.Background(), "alice", "wrong"); !errors.Is(err, ErrBusy) {
		t.Errorf("a check beyond the queue: %v, want ErrBusy", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("ErrBusy took %s", took)
	}
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("a queued check: %v", err)
		}
	}
	if m := most.Load(); m != 2 {
		t.Errorf("%d comparisons ran at once, want the cap 2", m)
	}
}
