package content

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/opencontainers/go-digest"
)

// TestNoSpaceError: ENOSPC is ErrNoSpace and its message has no path.
func TestNoSpaceError(t *testing.T) {
	err := sysErr("write", "sha256:abc", &fs.PathError{Op: "write", Path: "/srv/secret/tmp/w-1", Err: syscall.ENOSPC})
	if !errors.Is(err, ErrNoSpace) || !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("sysErr(ENOSPC) = %v: not ErrNoSpace and ENOSPC", err)
	}
	if strings.Contains(err.Error(), "/srv") {
		t.Errorf("error shows the path: %v", err)
	}
}

// TestDiskFull fills a real 1 MiB tmpfs (needs root: CI runs as root):
// the write fails with ErrNoSpace and no path, the temporary file is gone
// after Close, and the store works again once space is freed.
func TestDiskFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root (CI runs as root)")
	}
	mnt := t.TempDir()
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=1m"); err != nil {
		t.Fatalf("mount tmpfs: %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(mnt, 0) })
	root := filepath.Join(mnt, "store")
	ctx := context.Background()
	s := newStore(t, root)
	small := put(t, s, "fits")
	big := strings.Repeat("x", 2<<20)
	_, err := s.Put(ctx, digest.FromString(big), int64(len(big)), strings.NewReader(big))
	if !errors.Is(err, ErrNoSpace) {
		t.Fatalf("Put of 2 MiB into 1 MiB = %v, want ErrNoSpace", err)
	}
	if strings.Contains(err.Error(), mnt) {
		t.Errorf("error shows the server's path: %v", err)
	}
	if left := tmpFiles(t, s); len(left) != 0 {
		t.Errorf("a failed write left %v, keeping the disk full", left)
	}
	if got := read(t, s, small); got != "fits" {
		t.Errorf("stored blob after the failure = %q", got)
	}
	mid := strings.Repeat("y", 512<<10)
	if _, err := s.Put(ctx, digest.FromString(mid), -1, strings.NewReader(mid)); err != nil {
		t.Errorf("Put after the failed one: %v (space not given back?)", err)
	}
}
