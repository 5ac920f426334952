package content

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"syscall"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/tailor-dev/tailor/internal/durable"
)

// touchEvery is how often, at most, use of a blob is written to its
// modification time (the recency that survives a restart).
const touchEvery = time.Minute

// Info describes a stored blob.
type Info struct {
	Digest digest.Digest
	Size   int64
	// ModTime is when the blob was stored or, with a size bound, last
	// used (to the minute).
	ModTime time.Time
}

// Store is a content-addressed blob store under one directory. It is safe
// for concurrent use.
type Store struct {
	root string
	o    options
	lock io.Closer

	mu      sync.Mutex
	closed  bool
	entries map[digest.Digest]*entry
	lru     *list.List // of *entry, most recently used first
	total   int64
	flights map[digest.Digest]*flight
}

// entry is a blob the store knows, with its place in the LRU order.
type entry struct {
	info    Info
	pins    int
	elem    *list.Element
	touched time.Time // last time written to the file's mtime
}

// New opens (creating it if need be) the store under root: it takes the
// store's lock, removes temporary files left by a crash and reads which
// blobs are there and how recently each was used.
func New(ctx context.Context, root string, opts ...Option) (*Store, error) {
	o, err := newOptions(opts)
	if err != nil {
		return nil, err
	}
	s := &Store{root: root, o: o,
		entries: map[digest.Digest]*entry{}, lru: list.New(), flights: map[digest.Digest]*flight{}}
	for _, d := range []string{root, s.tmpDir(), filepath.Join(root, string(SHA256)), filepath.Join(root, string(SHA512))} {
		if err := durable.MkdirAll(o.fs, d); err != nil {
			return nil, fmt.Errorf("content store %s: %w", root, err)
		}
	}
	var held bool
	if s.lock, held, err = lockDir(root); err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			s.closeFiles()
		}
	}()
	if held {
		if err := s.removeTemps(ctx); err != nil {
			return nil, err
		}
	} else {
		s.o.logger.WarnContext(ctx, "content store: another store has this root open; temporary files left as they are", "root", root)
	}
	if err := s.scan(ctx); err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.evictLocked()
	s.mu.Unlock()
	ok = true
	return s, nil
}

func (s *Store) tmpDir() string { return filepath.Join(s.root, "tmp") }

func (s *Store) path(d digest.Digest) string {
	return filepath.Join(s.root, string(d.Algorithm()), d.Encoded())
}

// removeTemps removes what writers left in tmp/ when the process died.
func (s *Store) removeTemps(ctx context.Context) error {
	des, err := os.ReadDir(s.tmpDir())
	if err != nil {
		return fmt.Errorf("content store %s: %w", s.root, err)
	}
	for _, de := range des {
		if err := os.RemoveAll(filepath.Join(s.tmpDir(), de.Name())); err != nil {
			return fmt.Errorf("content store %s: removing a leftover temporary file: %w", s.root, err)
		}
	}
	if len(des) > 0 {
		s.o.logger.InfoContext(ctx, "removed temporary files left by an earlier run", "count", len(des))
	}
	return nil
}

// scan builds the index and the LRU order (by modification time) from disk.
func (s *Store) scan(ctx context.Context) error {
	var infos []Info
	for alg := range hexLen {
		des, err := os.ReadDir(filepath.Join(s.root, string(alg)))
		if err != nil {
			return fmt.Errorf("content store %s: %w", s.root, err)
		}
		for _, de := range des {
			d, err := ParseDigest(string(alg) + ":" + de.Name())
			if err != nil || !de.Type().IsRegular() {
				s.o.logger.WarnContext(ctx, "content store: ignoring a file that is no blob", "name", de.Name())
				continue
			}
			fi, err := de.Info()
			if err != nil {
				continue // removed meanwhile
			}
			infos = append(infos, Info{Digest: d, Size: fi.Size(), ModTime: fi.ModTime()})
		}
	}
	sort.Slice(infos, func(i, j int) bool { return infos[i].ModTime.Before(infos[j].ModTime) })
	for _, in := range infos {
		s.addLocked(in)
	}
	return nil
}

// addLocked records a blob as the most recently used.
func (s *Store) addLocked(in Info) *entry {
	e := &entry{info: in, touched: in.ModTime}
	e.elem = s.lru.PushFront(e)
	s.entries[in.Digest] = e
	s.total += in.Size
	return e
}

func (s *Store) removeLocked(e *entry) {
	s.lru.Remove(e.elem)
	delete(s.entries, e.info.Digest)
	s.total -= e.info.Size
}

// touchLocked marks e used now; it returns the path to write the time to,
// or "" when the file's time is recent enough (or there is no bound).
func (s *Store) touchLocked(e *entry) string {
	s.lru.MoveToFront(e.elem)
	if s.o.maxSize == 0 {
		return ""
	}
	now := s.o.now()
	if now.Sub(e.touched) < touchEvery {
		return ""
	}
	e.touched, e.info.ModTime = now, now
	return s.path(e.info.Digest)
}

func (s *Store) touchFile(p string) {
	if p != "" {
		now := s.o.now()
		_ = os.Chtimes(p, now, now) // best effort: recency is a hint
	}
}

// evictLocked removes least recently used, unpinned blobs until the total
// is within the bound.
func (s *Store) evictLocked() {
	if s.o.maxSize == 0 {
		return
	}
	for el := s.lru.Back(); el != nil && s.total > s.o.maxSize; {
		e := el.Value.(*entry)
		el = el.Prev()
		if e.pins > 0 {
			continue
		}
		if err := os.Remove(s.path(e.info.Digest)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			s.o.logger.Warn("content store: evicting", "digest", e.info.Digest, "error", sysErr("remove", e.info.Digest, err))
			continue
		}
		s.removeLocked(e)
		s.o.logger.Debug("content store: evicted", "digest", e.info.Digest, "size", e.info.Size)
	}
}

// Stat returns what the store knows of the blob d: ErrNotFound when it
// holds none. It does not count as a use.
func (s *Store) Stat(ctx context.Context, d digest.Digest) (Info, error) {
	if _, err := ParseDigest(string(d)); err != nil {
		return Info{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return Info{}, ErrClosed
	}
	if e, ok := s.entries[d]; ok {
		return e.info, nil
	}
	return Info{}, fmt.Errorf("content: %s: %w", d, ErrNotFound)
}

// Open opens the blob d for reading and pins it (eviction passes over it)
// until the Blob is closed.
func (s *Store) Open(ctx context.Context, d digest.Digest) (*Blob, error) {
	if _, err := ParseDigest(string(d)); err != nil {
		return nil, err
	}
	f, err := os.Open(s.path(d))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("content: %s: %w", d, ErrNotFound)
	}
	if err != nil {
		return nil, sysErr("open", d, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, sysErr("stat", d, err)
	}
	b := &Blob{f: f, s: s, info: Info{Digest: d, Size: fi.Size(), ModTime: fi.ModTime()}}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		f.Close()
		return nil, ErrClosed
	}
	var touch string
	// An entry gone meanwhile was evicted or deleted after os.Open: the
	// open file still reads whole, there is nothing to pin.
	if e, ok := s.entries[d]; ok {
		e.pins++
		b.e = e
		touch = s.touchLocked(e)
	}
	s.mu.Unlock()
	s.touchFile(touch)
	return b, nil
}

// Delete removes the blob d. Readers that have it open keep reading it.
func (s *Store) Delete(ctx context.Context, d digest.Digest) error {
	if _, err := ParseDigest(string(d)); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	err := os.Remove(s.path(d))
	if errors.Is(err, fs.ErrNotExist) {
		err = fmt.Errorf("content: %s: %w", d, ErrNotFound)
	} else if err != nil {
		return sysErr("delete", d, err)
	}
	if e, ok := s.entries[d]; ok {
		s.removeLocked(e)
		return nil
	}
	return err
}

// Walk calls fn for every blob, in digest order, until fn returns an
// error (which Walk returns) or ctx ends. Blobs stored meanwhile may or
// may not be seen.
func (s *Store) Walk(ctx context.Context, fn func(Info) error) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	infos := make([]Info, 0, len(s.entries))
	for _, e := range s.entries {
		infos = append(infos, e.info)
	}
	s.mu.Unlock()
	sort.Slice(infos, func(i, j int) bool { return infos[i].Digest < infos[j].Digest })
	for _, in := range infos {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(in); err != nil {
			return err
		}
	}
	return nil
}

// Usage returns how many blobs the store holds and their total size.
func (s *Store) Usage() (count int, bytes int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.entries), s.total
}

// MaxSize returns the store's size bound (0: none).
func (s *Store) MaxSize() int64 { return s.o.maxSize }

// Close releases the store's lock. Open Blobs stay readable; writers
// can no longer commit.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return s.closeFiles()
}

func (s *Store) closeFiles() error {
	return s.lock.Close()
}

// unpin releases a pin of e taken by Open or a fill.
func (s *Store) unpin(e *entry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e.pins--
	if e.pins == 0 && s.total > s.o.maxSize {
		s.evictLocked()
	}
}

// Blob is an open blob: an io.ReadSeeker and io.ReaderAt over exactly its
// bytes (HTTP Range requests work with http.ServeContent). Close it.
//
// It is a syscall.Conn, so that net/http copies it to a TCP connection
// with sendfile(2) (http.ServeContent's io.Copy through the connection's
// ReadFrom): parallel Range GETs then cost what a static file server's
// do (bench/serve/ranges.sh).
type Blob struct {
	f    *os.File
	s    *Store
	e    *entry
	info Info
	once sync.Once
}

var (
	_ io.ReadSeekCloser = (*Blob)(nil)
	_ io.ReaderAt       = (*Blob)(nil)
	_ syscall.Conn      = (*Blob)(nil)
)

// Read reads from the current offset. Blobs never change: reading the
// file itself is reading exactly the blob.
func (b *Blob) Read(p []byte) (int, error) { return b.f.Read(p) }

// Seek sets the offset of the next Read.
func (b *Blob) Seek(offset int64, whence int) (int64, error) { return b.f.Seek(offset, whence) }

// ReadAt reads at off, leaving the offset alone.
func (b *Blob) ReadAt(p []byte, off int64) (int, error) { return b.f.ReadAt(p, off) }

// Size returns the blob's size.
func (b *Blob) Size() int64 { return b.info.Size }

// SyscallConn is the file's: net/http's sendfile(2) finds the descriptor
// through it (and reads from the current offset, as Read does).
func (b *Blob) SyscallConn() (syscall.RawConn, error) { return b.f.SyscallConn() }

// Info returns the blob's digest, size and time.
func (b *Blob) Info() Info { return b.info }

// Close closes the file and unpins the blob.
func (b *Blob) Close() error {
	var err error
	b.once.Do(func() {
		err = b.f.Close()
		if b.e != nil {
			b.s.unpin(b.e)
		}
	})
	return err
}
