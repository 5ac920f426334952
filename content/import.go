package content

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/opencontainers/go-digest"
)

// Import stores the file at path as the blob d, after checking that its
// bytes have that digest: by a hard link when path is on the store's
// filesystem (no second copy on disk), else by a copy. path is left in
// place. A blob already there is kept. Meant for taking over another
// store's files (tailor's import of a distribution registry's storage).
func (s *Store) Import(ctx context.Context, d digest.Digest, path string) (Info, error) {
	if _, err := ParseDigest(string(d)); err != nil {
		return Info{}, err
	}
	if info, ok := s.use(d); ok {
		return info, nil
	}
	tmp, err := os.CreateTemp(s.tmpDir(), "l-*")
	if err != nil {
		return Info{}, sysErr("create temporary file", d, err)
	}
	tmp.Close()
	name := tmp.Name()
	defer os.Remove(name) // no-op after the commit's rename
	os.Remove(name)
	if err := os.Link(path, name); err != nil {
		return s.importCopy(ctx, d, path)
	}
	f, err := os.Open(name)
	if err != nil {
		return Info{}, sysErr("open", d, err)
	}
	h := newHash(d.Algorithm())
	n, err := io.Copy(h, f)
	f.Close()
	if err != nil {
		return Info{}, sysErr("read", d, err)
	}
	if got := digest.NewDigest(d.Algorithm(), h); got != d {
		return Info{}, fmt.Errorf("content: import %s: %w: the file %s has digest %s", d, ErrDigestMismatch, filepath.Base(path), got)
	}
	e, err := s.commit(name, d, n, false)
	if err != nil {
		return Info{}, err
	}
	return e.info, nil
}

// importCopy is Import across filesystems.
func (s *Store) importCopy(ctx context.Context, d digest.Digest, path string) (Info, error) {
	f, err := os.Open(path)
	if err != nil {
		return Info{}, fmt.Errorf("content: import %s: %w", d, err)
	}
	defer f.Close()
	return s.Put(ctx, d, -1, f)
}
