// Package durabletest provides a durable.FS that, like a machine losing
// power, can forget what was not synced: the tests of the packages that
// promise durability use it to see that their syncs are there.
package durabletest

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/tailor-dev/tailor/internal/durable"
)

// FS is the operating system's file system, remembering what a crash
// would lose: the bytes of the files it created that were written after
// their last sync, and the renames whose directory was not synced after.
// Crash puts the disk in that state. It is safe for concurrent use.
type FS struct {
	mu      sync.Mutex
	files   map[*file]bool
	renames []rename
}

// New returns an FS with nothing to lose yet.
func New() *FS { return &FS{files: map[*file]bool{}} }

var _ durable.FS = (*FS)(nil)

// rename is a rename, or with mkdir a directory made, not yet durable.
type rename struct {
	from, to string
	prev     []byte // what to held before, nil when nothing
	hadPrev  bool
	mkdir    bool // to was made: undone, it goes with what is in it
}

// Mkdir makes dir and remembers it until its parent is synced.
func (c *FS) Mkdir(dir string, perm fs.FileMode) error {
	if err := os.Mkdir(dir, perm); err != nil {
		return err
	}
	c.mu.Lock()
	c.renames = append(c.renames, rename{to: dir, mkdir: true})
	c.mu.Unlock()
	return nil
}

// file is a file the FS created.
type file struct {
	*os.File
	fsys   *FS
	path   string // where it is now
	synced []byte // its bytes as of its last sync
}

// CreateTemp creates the file as os.CreateTemp does and follows it.
func (c *FS) CreateTemp(dir, pattern string) (durable.File, error) {
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return nil, err
	}
	tf := &file{File: f, fsys: c, path: f.Name(), synced: []byte{}}
	c.mu.Lock()
	c.files[tf] = true
	c.mu.Unlock()
	return tf, nil
}

// Name is where the file was created.
func (f *file) Name() string { return f.File.Name() }

// Sync syncs and notes the bytes as safe.
func (f *file) Sync() error {
	if err := f.File.Sync(); err != nil {
		return err
	}
	f.fsys.mu.Lock()
	defer f.fsys.mu.Unlock()
	b, err := os.ReadFile(f.path)
	if err != nil {
		return err
	}
	f.synced = b
	return nil
}

// Rename renames and remembers how to undo it.
func (c *FS) Rename(from, to string) error {
	prev, perr := os.ReadFile(to)
	if err := os.Rename(from, to); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.renames = append(c.renames, rename{from: from, to: to, prev: prev, hadPrev: perr == nil})
	for f := range c.files {
		switch f.path {
		case to: // replaced: gone (its bytes are prev)
			delete(c.files, f)
		case from:
			f.path = to
		}
	}
	return nil
}

// SyncDir syncs dir: the renames into it are safe.
func (c *FS) SyncDir(dir string) error {
	if err := durable.OS.SyncDir(dir); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	kept := c.renames[:0]
	for _, r := range c.renames {
		if filepath.Clean(filepath.Dir(r.to)) != filepath.Clean(dir) {
			kept = append(kept, r)
		}
	}
	c.renames = kept
	return nil
}

// Lost reports whether a crash now would lose anything.
func (c *FS) Lost() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.renames) > 0 {
		return true
	}
	for f := range c.files {
		if b, err := os.ReadFile(f.path); err == nil && !bytes.Equal(b, f.synced) {
			return true
		}
	}
	return false
}

// Crash puts the disk in the state a power loss now would leave: renames
// and directories made not made durable undone (latest first; such a
// directory goes with what is in it), then every file the FS
// created cut back to its bytes as of its last sync (empty if never
// synced). Open files must not be written afterwards.
func (c *FS) Crash() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for i := len(c.renames) - 1; i >= 0; i-- {
		r := c.renames[i]
		if r.mkdir {
			if err := os.RemoveAll(r.to); err != nil {
				errs = append(errs, err)
			}
			continue
		}
		for f := range c.files {
			if f.path == r.to {
				f.path = r.from
			}
		}
		if err := os.Rename(r.to, r.from); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
		if r.hadPrev {
			if err := os.WriteFile(r.to, r.prev, 0o644); err != nil {
				errs = append(errs, err)
			}
		}
	}
	c.renames = nil
	for f := range c.files {
		b, err := os.ReadFile(f.path)
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed
		}
		if err == nil && !bytes.Equal(b, f.synced) {
			err = os.WriteFile(f.path, f.synced, 0o644)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("crash: %s: %w", f.path, err))
		}
	}
	c.files = map[*file]bool{}
	return errors.Join(errs...)
}
