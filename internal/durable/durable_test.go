package durable_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tailor-dev/tailor/internal/durable"
	"github.com/tailor-dev/tailor/internal/durable/durabletest"
)

// TestWriteFileSurvivesCrash: what WriteFile wrote, new or replacing a
// file, is there after a crash that drops everything not synced.
func TestWriteFileSurvivesCrash(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "sub", "f")
	c := durabletest.New()
	if err := durable.WriteFile(c, p, "", []byte("first"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := durable.WriteFile(c, p, dir, []byte("second"), 0o600); err != nil {
		t.Fatal(err)
	}
	if c.Lost() {
		t.Error("a crash after WriteFile returned would lose something")
	}
	if err := c.Crash(); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(p); err != nil || string(b) != "second" {
		t.Errorf("after the crash: %q, %v; want second", b, err)
	}
	if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, %v; want 0600", fi.Mode(), err)
	}
	des, _ := os.ReadDir(filepath.Dir(p))
	if len(des) != 1 {
		t.Errorf("left in the directory: %v", des)
	}
}

// TestCrashDropsUnsynced: the crash model is not a no-op: a file renamed
// into place without a sync of its bytes comes back empty, and a rename
// without a sync of the directory is undone (what a write missing either
// sync would lose).
func TestCrashDropsUnsynced(t *testing.T) {
	dir := t.TempDir()
	c := durabletest.New()
	old := filepath.Join(dir, "old")
	if err := os.WriteFile(old, []byte("before"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := c.CreateTemp(dir, "t-*")
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("never synced"))
	f.Close()
	unsynced := filepath.Join(dir, "unsynced")
	if err := c.Rename(f.Name(), unsynced); err != nil {
		t.Fatal(err)
	}
	if err := c.SyncDir(dir); err != nil {
		t.Fatal(err)
	}
	g, _ := c.CreateTemp(dir, "t-*")
	g.Write([]byte("synced, rename not"))
	if err := g.Sync(); err != nil {
		t.Fatal(err)
	}
	g.Close()
	if err := c.Rename(g.Name(), old); err != nil {
		t.Fatal(err)
	}
	if !c.Lost() {
		t.Fatal("Lost: false")
	}
	if err := c.Crash(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(unsynced); len(b) != 0 {
		t.Errorf("unsynced bytes survived: %q", b)
	}
	if b, _ := os.ReadFile(old); string(b) != "before" {
		t.Errorf("a rename without a directory sync survived: %q", b)
	}
}
