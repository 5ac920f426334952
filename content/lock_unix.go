//go:build unix

package content

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
)

// lockDir takes an exclusive flock on <root>/lock, so that two stores
// never share a root (each would remove the other's temporary files).
func lockDir(root string) (io.Closer, error) {
	p := filepath.Join(root, "lock")
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("content store %s: %w", root, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("content store %s: in use by another store (another tailor serve on the same storage?)", root)
		}
		return nil, fmt.Errorf("content store %s: lock: %w", root, err)
	}
	return f, nil
}
