package content

import (
	"context"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"

	"github.com/opencontainers/go-digest"
	"github.com/tailor-dev/tailor/internal/durable"
)

// Writer streams one blob into a temporary file of the store, hashing it
// (sha256) as it goes. Commit puts it in place under its digest once
// checked; Close without Commit removes it. A Writer is not safe for
// concurrent use.
type Writer struct {
	s    *Store
	f    durable.File
	tmp  string
	h    hash.Hash
	n    int64
	err  error // sticky: a write failed
	done bool  // committed or closed
}

var _ io.WriteCloser = (*Writer)(nil)

// NewWriter starts a blob. Close it (after Commit too: it is then a no-op).
func (s *Store) NewWriter(ctx context.Context) (*Writer, error) {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	f, err := s.o.fs.CreateTemp(s.tmpDir(), "w-*")
	if err != nil {
		return nil, sysErr("create temporary file", "", err)
	}
	return &Writer{s: s, f: f, tmp: f.Name(), h: newHash(SHA256)}, nil
}

// Write appends p. Past the store's size bound it fails with ErrTooLarge;
// a failed Write fails every later Write and the Commit.
func (w *Writer) Write(p []byte) (int, error) {
	if w.done {
		return 0, ErrClosed
	}
	if w.err != nil {
		return 0, w.err
	}
	if max := w.s.o.maxSize; max > 0 && w.n+int64(len(p)) > max {
		w.err = fmt.Errorf("content: %w (%d bytes)", ErrTooLarge, max)
		return 0, w.err
	}
	n, err := w.f.Write(p)
	w.h.Write(p[:n])
	w.n += int64(n)
	if err != nil {
		w.err = sysErr("write", "", err)
		return n, w.err
	}
	return n, nil
}

// Size returns how many bytes were written.
func (w *Writer) Size() int64 { return w.n }

// Digest returns the sha256 digest of what was written so far.
func (w *Writer) Digest() digest.Digest { return digest.NewDigest(SHA256, w.h) }

// Commit checks that what was written has digest want (sha256 or sha512)
// and, when size >= 0, that size, then makes it the blob want. A blob
// already there is kept and the temporary file dropped. On an error the
// Writer stays as it was (Close it to drop the bytes).
func (w *Writer) Commit(ctx context.Context, want digest.Digest, size int64) (Info, error) {
	e, err := w.commit(ctx, want, size, false)
	if err != nil {
		return Info{}, err
	}
	return e.info, nil
}

// commit is Commit; with pin the entry it returns is pinned once.
func (w *Writer) commit(ctx context.Context, want digest.Digest, size int64, pin bool) (*entry, error) {
	if w.done {
		return nil, ErrClosed
	}
	if w.err != nil {
		return nil, w.err
	}
	if _, err := ParseDigest(string(want)); err != nil {
		return nil, err
	}
	if size >= 0 && size != w.n {
		return nil, fmt.Errorf("content: %s: %w: %d bytes written, %d expected", want, ErrSizeMismatch, w.n, size)
	}
	got, err := w.digestAs(want.Algorithm())
	if err != nil {
		return nil, err
	}
	if got != want {
		return nil, fmt.Errorf("content: %w: the bytes have digest %s, not %s", ErrDigestMismatch, got, want)
	}
	if err := w.f.Sync(); err != nil {
		return nil, sysErr("sync", want, err)
	}
	e, err := w.s.commit(w.tmp, want, w.n, pin)
	if err != nil {
		return nil, err
	}
	w.f.Close()
	w.done = true
	return e, nil
}

// digestAs is the digest of the bytes in alg: the running hash for sha256,
// a second read of the file for sha512.
func (w *Writer) digestAs(alg digest.Algorithm) (digest.Digest, error) {
	if alg == SHA256 {
		return digest.NewDigest(SHA256, w.h), nil
	}
	h := newHash(alg)
	if _, err := io.Copy(h, io.NewSectionReader(w.f, 0, w.n)); err != nil {
		return "", sysErr("read back", "", err)
	}
	return digest.NewDigest(alg, h), nil
}

// Close drops what was written unless it was committed.
func (w *Writer) Close() error {
	if w.done {
		return nil
	}
	w.done = true
	w.f.Close()
	if err := os.Remove(w.tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
		return sysErr("remove temporary file", "", err)
	}
	return nil
}

// commit renames tmp into place as d (size n), or drops it when d is
// there already; with pin the entry comes back pinned once.
func (s *Store) commit(tmp string, d digest.Digest, n int64, pin bool) (*entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	e, ok := s.entries[d]
	if ok {
		os.Remove(tmp)
		s.touchFile(s.touchLocked(e))
	} else {
		if err := s.o.fs.Rename(tmp, s.path(d)); err != nil {
			return nil, sysErr("store", d, err)
		}
		e = s.addLocked(Info{Digest: d, Size: n, ModTime: s.o.now()})
		// The rename must reach the disk for the blob to survive a crash
		// that the caller, told it is stored, does not expect.
		if err := s.o.fs.SyncDir(filepath.Dir(s.path(d))); err != nil {
			return nil, sysErr("sync", d, err)
		}
	}
	if pin {
		e.pins++
	}
	s.evictLocked()
	return e, nil
}

// Put stores the size bytes of r (size < 0: unknown) as the blob d,
// checked. A blob already there is not read again: r is left unread.
func (s *Store) Put(ctx context.Context, d digest.Digest, size int64, r io.Reader) (Info, error) {
	if _, err := ParseDigest(string(d)); err != nil {
		return Info{}, err
	}
	if info, ok := s.use(d); ok {
		return info, nil
	}
	if max := s.o.maxSize; max > 0 && size > max {
		return Info{}, fmt.Errorf("content: %s: %w (%d bytes)", d, ErrTooLarge, max)
	}
	w, err := s.NewWriter(ctx)
	if err != nil {
		return Info{}, err
	}
	defer w.Close()
	if _, err := io.Copy(w, r); err != nil {
		if w.err != nil {
			return Info{}, w.err
		}
		return Info{}, fmt.Errorf("content: %s: reading: %w", d, err)
	}
	return w.Commit(ctx, d, size)
}

// use marks d used when the store has it.
func (s *Store) use(d digest.Digest) (Info, bool) {
	s.mu.Lock()
	e, ok := s.entries[d]
	var touch string
	var info Info
	if ok {
		touch, info = s.touchLocked(e), e.info
	}
	s.mu.Unlock()
	s.touchFile(touch)
	return info, ok
}
