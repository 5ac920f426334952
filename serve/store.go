package serve

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/tailor-dev/tailor/internal/durable"
)

// store keeps the tailored indexes tailor generated, so a pull by their
// digest works later and after a restart: one file per index under
// <storage>/tailored/<hex>, written atomically (temporary file, fsync,
// rename). Only sha256 digests of bytes tailor made itself are stored.
//
// It is bounded: past maxBytes, the least recently used files are removed
// (use is the file's modification time, renewed at most once per
// touchEvery when the file is read). A tailored answer depends only on
// its source index and the chosen entry, so the store grows only when
// upstream indexes change; what falls out is what no client asked for
// longest. Temporary files a crash left are removed at start.
type store struct {
	dir      string
	maxBytes int64

	mu    sync.Mutex
	files map[digest.Digest]storeFile
	total int64
}

type storeFile struct {
	size int64
	used time.Time
}

// touchEvery is how stale a file's use time may get before a read renews it.
const touchEvery = time.Hour

func newStore(storage string, maxBytes int64) (*store, error) {
	dir := filepath.Join(storage, "tailored")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("tailored index store: %w", err)
	}
	s := &store{dir: dir, maxBytes: maxBytes, files: map[digest.Digest]storeFile{}}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("tailored index store: %w", err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".tmp-") {
			_ = os.Remove(filepath.Join(dir, e.Name())) // a crash's leftover
			continue
		}
		d := digest.NewDigestFromEncoded(digest.SHA256, e.Name())
		info, err := e.Info()
		if d.Validate() != nil || err != nil || !info.Mode().IsRegular() {
			continue
		}
		s.files[d] = storeFile{size: info.Size(), used: info.ModTime()}
		s.total += info.Size()
	}
	s.mu.Lock()
	s.evict()
	s.mu.Unlock()
	return s, nil
}

func (s *store) path(d digest.Digest) (string, bool) {
	if d.Algorithm() != digest.SHA256 || d.Validate() != nil {
		return "", false
	}
	return filepath.Join(s.dir, d.Encoded()), true
}

// put stores m unless it is there already.
func (s *store) put(m *manifest) error {
	p, ok := s.path(m.digest)
	if !ok || digest.FromBytes(m.body) != m.digest {
		return fmt.Errorf("tailored index store: refusing %s: not the sha256 of its bytes", m.digest)
	}
	s.mu.Lock()
	_, have := s.files[m.digest]
	s.mu.Unlock()
	if have {
		return nil
	}
	if err := writeFileAtomic(s.dir, p, m.body); err != nil {
		return fmt.Errorf("tailored index store: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, have := s.files[m.digest]; !have {
		s.files[m.digest] = storeFile{size: int64(len(m.body)), used: time.Now()}
		s.total += int64(len(m.body))
		s.evict()
	}
	return nil
}

// writeFileAtomic writes data to path durably (package durable) through
// a temporary file .tmp-* in dir: a reader sees the whole file or none,
// also after a crash.
func writeFileAtomic(dir, path string, data []byte) error {
	return durable.WriteFile(durable.OS, path, dir, data, 0o644)
}

// evict removes the least recently used files while the store is over its
// bound. s.mu is held.
func (s *store) evict() {
	if s.total <= s.maxBytes {
		return
	}
	ds := make([]digest.Digest, 0, len(s.files))
	for d := range s.files {
		ds = append(ds, d)
	}
	slices.SortFunc(ds, func(a, b digest.Digest) int { return s.files[a].used.Compare(s.files[b].used) })
	for _, d := range ds {
		if s.total <= s.maxBytes*9/10 {
			break
		}
		p, _ := s.path(d)
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			continue
		}
		s.total -= s.files[d].size
		delete(s.files, d)
	}
}

// get returns the stored index with digest d, or nil when there is none.
// A file whose bytes no longer match its name is ignored.
func (s *store) get(d digest.Digest) (*manifest, error) {
	p, ok := s.path(d)
	if !ok {
		return nil, nil
	}
	s.mu.Lock()
	f, have := s.files[d]
	s.mu.Unlock()
	if !have {
		return nil, nil
	}
	body, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("tailored index store: read %s: %w", d, err)
	}
	if digest.FromBytes(body) != d {
		return nil, nil
	}
	if now := time.Now(); now.Sub(f.used) > touchEvery {
		_ = os.Chtimes(p, now, now)
		s.mu.Lock()
		if f, have := s.files[d]; have {
			f.used = now
			s.files[d] = f
		}
		s.mu.Unlock()
	}
	return &manifest{body: body, digest: d, mediaType: mediaTypeOf(body, mediaOCIIndex)}, nil
}
