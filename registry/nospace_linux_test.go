package registry

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/opencontainers/go-digest"
)

// TestDiskFull runs the registry on a real 2 MiB tmpfs (needs root: CI
// runs as root). A push that fills it gets 507 with an OCI error and no
// path, leaves no file behind, and the registry takes pushes again
// (issue 8: the old embedded registry showed its path and kept the
// failed push's _uploads).
func TestDiskFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root (CI runs as root)")
	}
	mnt := t.TempDir()
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=2m"); err != nil {
		t.Fatalf("mount tmpfs: %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(mnt, 0) })
	dir := filepath.Join(mnt, "reg")
	reg, base := newTest(t, dir)
	big := bytes.Repeat([]byte("x"), 3<<20)

	loc := startSession(t, base, "team/app")
	a := do(t, "PATCH", loc, big)
	if a.status != http.StatusInsufficientStorage || a.errorCode() != CodeUnknown {
		t.Fatalf("PATCH into a full disk: %d %s", a.status, a.body)
	}
	noPath(t, a.body, mnt)
	if b := do(t, "GET", loc, nil); b.status != http.StatusNotFound {
		t.Errorf("the failed session is still there: %d", b.status)
	}
	a = do(t, "POST", base+"/v2/team/app/blobs/uploads/?digest="+string(digest.FromBytes(big)), big)
	if a.status != http.StatusInsufficientStorage {
		t.Errorf("monolithic push into a full disk: %d %s", a.status, a.body)
	}
	noPath(t, a.body, mnt)
	if left := blobTemps(t, dir); len(left) != 0 {
		t.Errorf("a failed push left %v, keeping the disk full", left)
	}
	body := imageManifest(t, base, "team/app", nil, bytes.Repeat([]byte("y"), 1<<20))
	if a := putManifest(t, base, "team/app", "v1", MediaOCIManifest, body); a.status != http.StatusCreated {
		t.Errorf("push after the failures: %d %s", a.status, a.body)
	}
	_ = reg
}
