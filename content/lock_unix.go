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

// lockDir takes an exclusive flock on <root>/lock. held is false when
// another store holds it: the caller must then leave the temporary files
// alone, they may be that store's writes in progress.
func lockDir(root string) (c io.Closer, held bool, err error) {
	p := filepath.Join(root, "lock")
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, false, fmt.Errorf("content store %s: %w", root, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return f, false, nil
		}
		f.Close()
		return nil, false, fmt.Errorf("content store %s: lock: %w", root, err)
	}
	return f, true, nil
}
