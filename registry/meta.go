package registry

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/opencontainers/go-digest"
	"github.com/tailor-dev/tailor/content"
	"github.com/tailor-dev/tailor/internal/durable"
)

// Metadata of a repository, under root/repositories/<name>/ (the
// underscore names can't be a name component, so nested repositories
// never collide with them):
//
//	_tags/<tag>                              the tagged digest
//	_manifests/<alg>/<hex>                   a manifest of the repository: its media type
//	_layers/<alg>/<hex>                      a blob of the repository (empty)
//	_referrers/<alg>/<hex>/<alg>-<hex>       a referrer of subject <alg>:<hex>: its descriptor (JSON)
//
// Every file is written whole to root/tmp and renamed into place.

func (reg *Registry) repoDir(name string) string {
	return filepath.Join(reg.reposDir(), filepath.FromSlash(name))
}

func (reg *Registry) tagPath(name, tag string) string {
	return filepath.Join(reg.repoDir(name), "_tags", tag)
}

func (reg *Registry) manifestLink(name string, d digest.Digest) string {
	return filepath.Join(reg.repoDir(name), "_manifests", d.Algorithm().String(), d.Encoded())
}

func (reg *Registry) layerLink(name string, d digest.Digest) string {
	return filepath.Join(reg.repoDir(name), "_layers", d.Algorithm().String(), d.Encoded())
}

func (reg *Registry) referrersDir(name string, subject digest.Digest) string {
	return filepath.Join(reg.repoDir(name), "_referrers", subject.Algorithm().String(), subject.Encoded())
}

func referrerFile(d digest.Digest) string { return d.Algorithm().String() + "-" + d.Encoded() }

// writeFile puts data at path durably (package durable): written and
// synced in tmp/, renamed into place, the directory synced.
func (reg *Registry) writeFile(path string, data []byte) error {
	return durable.WriteFile(reg.o.fs, path, reg.tmpDir(), data, 0o644)
}

// removeFile removes path; absent is fine.
func removeFile(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// exists reports whether path is there.
func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// readTag returns the digest tag points to; ok false when there is none.
func (reg *Registry) readTag(name, tag string) (digest.Digest, bool, error) {
	b, err := os.ReadFile(reg.tagPath(name, tag))
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, errNotDir) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	d, err := content.ParseDigest(strings.TrimSpace(string(b)))
	if err != nil {
		return "", false, fmt.Errorf("tag %s of %s holds no digest: %w", tag, name, err)
	}
	return d, true, nil
}

// errNotDir is ENOTDIR: a path through a file (a repository name that is
// a prefix of another's metadata), as good as absent.
var errNotDir = notDirErr()

// manifestType returns the media type of manifest d in name; ok false
// when the repository has no such manifest.
func (reg *Registry) manifestType(name string, d digest.Digest) (string, bool, error) {
	b, err := os.ReadFile(reg.manifestLink(name, d))
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, errNotDir) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return strings.TrimSpace(string(b)), true, nil
}

// hasLayer reports whether blob d belongs to repository name.
func (reg *Registry) hasLayer(name string, d digest.Digest) bool {
	return exists(reg.layerLink(name, d))
}

// listDir lists the names in dir, sorted; absent is empty.
func listDir(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, errNotDir) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	return names, nil
}
