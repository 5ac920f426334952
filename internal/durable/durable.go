// Package durable writes files so that what a caller was told is written
// survives a crash of the process or of the machine: the data is synced
// before the file is renamed into place, and the directory after, so a
// reader finds the whole new file, or the old one, never a part.
//
// The file-system calls go through FS, so a test can use one that drops
// what was not synced (package durabletest) and see that the syncs are
// there; OS is the real one.
package durable

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// File is an open file as durable writes use it.
type File interface {
	io.Writer
	io.ReaderAt
	Name() string
	Sync() error
	Chmod(mode fs.FileMode) error
	Close() error
}

// FS is the file-system calls of a durable write.
type FS interface {
	// CreateTemp creates a new file in dir (os.CreateTemp).
	CreateTemp(dir, pattern string) (File, error)
	// Rename renames oldpath to newpath (os.Rename).
	Rename(oldpath, newpath string) error
	// Mkdir makes directory dir (os.Mkdir).
	Mkdir(dir string, perm fs.FileMode) error
	// SyncDir syncs directory dir, making the renames and directories
	// made in it durable.
	SyncDir(dir string) error
}

// OS is the operating system's file system.
var OS FS = osFS{}

type osFS struct{}

func (osFS) CreateTemp(dir, pattern string) (File, error) { return os.CreateTemp(dir, pattern) }
func (osFS) Rename(oldpath, newpath string) error         { return os.Rename(oldpath, newpath) }
func (osFS) Mkdir(dir string, perm fs.FileMode) error     { return os.Mkdir(dir, perm) }
func (osFS) SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}

// WriteFile puts data at path with mode perm: written to a temporary file
// named .tmp-<name>-* in tmpDir (path's directory when ""; it must be on
// path's file system),
// synced, renamed to path, path's directory synced. path's directory is
// made if need be. When WriteFile returns nil, path holds data after a
// crash; when it fails, path holds what it held before.
func WriteFile(fsys FS, path, tmpDir string, data []byte, perm fs.FileMode) error {
	dir := filepath.Dir(path)
	if err := MkdirAll(fsys, dir); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if tmpDir == "" {
		tmpDir = dir
	}
	f, err := fsys.CreateTemp(tmpDir, ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	_, werr := f.Write(data)
	if werr == nil {
		werr = f.Chmod(perm)
	}
	if werr != nil {
		f.Close()
		os.Remove(f.Name())
		return fmt.Errorf("write %s: %w", path, werr)
	}
	return Commit(fsys, f, path)
}

// Commit makes the temporary file f, written whole, the file path: it
// syncs and closes f, renames it to path and syncs path's directory. f
// is removed when Commit fails before the rename.
func Commit(fsys FS, f File, path string) error {
	if err := errors.Join(f.Sync(), f.Close()); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := fsys.Rename(f.Name(), path); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := fsys.SyncDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("write %s: sync directory: %w", path, err)
	}
	return nil
}

// MkdirAll makes dir and the directories above it that are missing
// (mode 0755), each made durable by a sync of its parent, so a file
// written durably into a new directory is found after a crash.
func MkdirAll(fsys FS, dir string) error {
	dir = filepath.Clean(dir)
	if fi, err := os.Stat(dir); err == nil {
		if !fi.IsDir() {
			return &fs.PathError{Op: "mkdir", Path: dir, Err: syscall.ENOTDIR}
		}
		return nil
	}
	parent := filepath.Dir(dir)
	if parent != dir {
		if err := MkdirAll(fsys, parent); err != nil {
			return err
		}
	}
	if err := fsys.Mkdir(dir, 0o755); err != nil {
		if !errors.Is(err, fs.ErrExist) {
			return err
		}
		// Made meanwhile by another writer, who may not have synced it yet.
	}
	return fsys.SyncDir(parent)
}
