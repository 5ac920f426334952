package content

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
)

func present(s *Store, d digest.Digest) bool {
	_, err := s.Stat(context.Background(), d)
	return err == nil
}

func TestEvictLeastRecentlyUsed(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, "", WithMaxSize(100))
	a := put(t, s, strings.Repeat("a", 40))
	b := put(t, s, strings.Repeat("b", 40))
	read(t, s, a) // a is now more recent than b
	c := put(t, s, strings.Repeat("c", 40))
	if !present(s, a) || present(s, b) || !present(s, c) {
		t.Errorf("after a, b, use of a, c: a=%v b=%v c=%v; want b evicted", present(s, a), present(s, b), present(s, c))
	}
	if _, sz := s.Usage(); sz > 100 {
		t.Errorf("Usage = %d bytes over the bound 100", sz)
	}
	if _, err := s.Put(ctx, digest.FromString(strings.Repeat("z", 101)), 101, strings.NewReader(strings.Repeat("z", 101))); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Put over the bound = %v, want ErrTooLarge", err)
	}
	w, _ := s.NewWriter(ctx)
	defer w.Close()
	if _, err := w.Write(make([]byte, 101)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Write over the bound = %v, want ErrTooLarge", err)
	}
	if !present(s, a) || !present(s, c) {
		t.Error("a blob too large evicted others")
	}
}

func TestEvictPassesOverOpenBlobs(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, "", WithMaxSize(100))
	a := put(t, s, strings.Repeat("a", 40))
	ba, err := s.Open(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	b := put(t, s, strings.Repeat("b", 40))
	read(t, s, b) // b more recent than a, but a is open
	c := put(t, s, strings.Repeat("c", 40))
	if !present(s, a) || present(s, b) || !present(s, c) {
		t.Errorf("a pinned: a=%v b=%v c=%v; want b evicted", present(s, a), present(s, b), present(s, c))
	}
	d := put(t, s, strings.Repeat("d", 40))
	// a pinned, c and d needed: over the bound until a is closed.
	if !present(s, a) || present(s, c) || !present(s, d) {
		t.Errorf("a pinned: a=%v c=%v d=%v; want c evicted", present(s, a), present(s, c), present(s, d))
	}
	ba.Close()
	if _, sz := s.Usage(); sz > 100 {
		t.Errorf("Usage = %d after unpinning, over the bound", sz)
	}
	if !present(s, d) {
		t.Error("the most recent blob was evicted")
	}
}

// TestRecencySurvivesRestart: the LRU order is rebuilt from the files'
// times, which use writes (at most once a minute).
func TestRecencySurvivesRestart(t *testing.T) {
	root := t.TempDir()
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := newStore(t, root, WithMaxSize(100), withClock(clk.now))
	a := put(t, s, strings.Repeat("a", 40))
	setTime(t, s, a, clk.t)
	clk.t = clk.t.Add(2 * time.Minute)
	b := put(t, s, strings.Repeat("b", 40))
	setTime(t, s, b, clk.t)
	clk.t = clk.t.Add(2 * time.Minute)
	read(t, s, a) // a used after b: written to a's time
	s.Close()

	s2 := newStore(t, root, WithMaxSize(100), withClock(clk.now))
	c := put(t, s2, strings.Repeat("c", 40))
	if !present(s2, a) || present(s2, b) || !present(s2, c) {
		t.Errorf("after restart: a=%v b=%v c=%v; want b (least recently used) evicted", present(s2, a), present(s2, b), present(s2, c))
	}
	s2.Close()
	// A lower bound at open evicts at once.
	s3 := newStore(t, root, WithMaxSize(50))
	if n, sz := s3.Usage(); n != 1 || sz != 40 || !present(s3, c) {
		t.Errorf("reopened with bound 50: %d blobs, %d bytes, c present %v; want c alone", n, sz, present(s3, c))
	}
}

// setTime sets d's file time, as commits at that time would have.
func setTime(t *testing.T, s *Store, d digest.Digest, at time.Time) {
	t.Helper()
	if err := chtimes(s.path(d), at); err != nil {
		t.Fatal(err)
	}
}
