package serve

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/opencontainers/go-digest"
)

// store keeps the tailored indexes tailor generated, so a pull by their
// digest works later and after a restart: one file per index under
// <storage>/tailored/<hex>, written atomically (temporary file, fsync,
// rename). Only sha256 digests of bytes tailor made itself are stored.
type store struct {
	dir string
}

func newStore(storage string) (*store, error) {
	dir := filepath.Join(storage, "tailored")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("tailored index store: %w", err)
	}
	return &store{dir: dir}, nil
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
	if _, err := os.Stat(p); err == nil {
		return nil
	}
	f, err := os.CreateTemp(s.dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("tailored index store: %w", err)
	}
	defer os.Remove(f.Name()) // no-op after the rename
	if _, err := f.Write(m.body); err != nil {
		f.Close()
		return fmt.Errorf("tailored index store: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("tailored index store: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("tailored index store: %w", err)
	}
	if err := os.Rename(f.Name(), p); err != nil {
		return fmt.Errorf("tailored index store: %w", err)
	}
	return nil
}

// get returns the stored index with digest d, or nil when there is none.
// A file whose bytes no longer match its name is ignored.
func (s *store) get(d digest.Digest) (*manifest, error) {
	p, ok := s.path(d)
	if !ok {
		return nil, nil
	}
	body, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("tailored index store: %w", err)
	}
	if digest.FromBytes(body) != d {
		return nil, nil
	}
	return &manifest{body: body, digest: d, mediaType: mediaTypeOf(body, mediaOCIIndex)}, nil
}
