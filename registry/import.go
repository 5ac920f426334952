package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/tailor-dev/tailor/content"
)

// importMarker, in the registry's root, records a finished import.
const importMarker = "imported-distribution.json"

// ImportStats counts what ImportDistribution took over.
type ImportStats struct {
	Source       string    `json:"source"`
	Finished     time.Time `json:"finished"`
	Blobs        int       `json:"blobs"`
	Repositories int       `json:"repositories"`
	Manifests    int       `json:"manifests"`
	Tags         int       `json:"tags"`
	// Skipped counts blobs whose bytes no longer match their digest and
	// manifests the registry does not take (schema 1): logged, left out.
	Skipped int `json:"skipped"`
}

// ImportDistribution takes over the storage the distribution registry's
// filesystem driver wrote under dir (dir/docker/registry/v2: blobs,
// repositories with their tags, manifest revisions and layer links), once:
// a finished import is recorded in the registry's root and not run again.
// Blobs are checked against their digests and hard-linked (copied across
// filesystems); dir is left as it was. An import cut short runs again
// whole at the next start (every step is idempotent). Without dir/docker
// there is nothing to do.
func (reg *Registry) ImportDistribution(ctx context.Context, dir string) (ImportStats, error) {
	v2 := filepath.Join(dir, "docker", "registry", "v2")
	st := ImportStats{Source: v2}
	if _, err := os.Stat(v2); err != nil {
		return st, nil
	}
	marker := filepath.Join(reg.root, importMarker)
	if b, err := os.ReadFile(marker); err == nil {
		var done ImportStats
		_ = json.Unmarshal(b, &done)
		return done, nil
	}
	reg.o.logger.InfoContext(ctx, "importing the distribution registry's storage", "source", v2)
	if err := reg.importBlobs(ctx, filepath.Join(v2, "blobs"), &st); err != nil {
		return st, err
	}
	if err := reg.importRepos(ctx, filepath.Join(v2, "repositories"), &st); err != nil {
		return st, err
	}
	st.Finished = reg.o.now().UTC()
	b, _ := json.MarshalIndent(st, "", "  ")
	if err := reg.writeFile(marker, b); err != nil {
		return st, fmt.Errorf("import of %s: %w", v2, err)
	}
	reg.o.logger.InfoContext(ctx, "imported the distribution registry's storage; it is no longer read and can be removed",
		"source", v2, "blobs", st.Blobs, "repositories", st.Repositories, "manifests", st.Manifests, "tags", st.Tags, "skipped", st.Skipped)
	return st, nil
}

// importBlobs takes blobs/<alg>/<xx>/<hex>/data.
func (reg *Registry) importBlobs(ctx context.Context, dir string, st *ImportStats) error {
	for _, alg := range []string{"sha256", "sha512"} {
		root := filepath.Join(dir, alg)
		err := filepath.WalkDir(root, func(p string, de fs.DirEntry, err error) error {
			if errors.Is(err, fs.ErrNotExist) && p == root {
				return filepath.SkipDir
			}
			if err != nil {
				return err
			}
			if de.IsDir() || de.Name() != "data" {
				return ctx.Err()
			}
			d, err := content.ParseDigest(alg + ":" + filepath.Base(filepath.Dir(p)))
			if err != nil {
				return nil // not a blob
			}
			if _, err := reg.blobs.Import(ctx, d, p); err != nil {
				if errors.Is(err, content.ErrDigestMismatch) {
					reg.o.logger.WarnContext(ctx, "import: a blob does not match its digest; left out", "digest", d)
					st.Skipped++
					return nil
				}
				return fmt.Errorf("import of blob %s: %w", d, err)
			}
			st.Blobs++
			return nil
		})
		if err != nil {
			return fmt.Errorf("import of %s: %w", root, err)
		}
	}
	return nil
}

// importRepos takes every repository: the directories holding _layers or
// _manifests.
func (reg *Registry) importRepos(ctx context.Context, root string, st *ImportStats) error {
	err := filepath.WalkDir(root, func(p string, de fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && p == root {
			return filepath.SkipDir
		}
		if err != nil {
			return err
		}
		if !de.IsDir() || p == root {
			return ctx.Err()
		}
		if strings.HasPrefix(de.Name(), "_") {
			return filepath.SkipDir
		}
		if !exists(filepath.Join(p, "_manifests")) && !exists(filepath.Join(p, "_layers")) {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		name := filepath.ToSlash(rel)
		if !validName(name) {
			reg.o.logger.WarnContext(ctx, "import: repository name not valid; left out", "name", name)
			return nil
		}
		st.Repositories++
		return reg.importRepo(ctx, p, name, st)
	})
	if err != nil {
		return fmt.Errorf("import of %s: %w", root, err)
	}
	return nil
}

func (reg *Registry) importRepo(ctx context.Context, dir, name string, st *ImportStats) error {
	for _, d := range readLinks(filepath.Join(dir, "_layers")) {
		if _, err := reg.blobs.Stat(ctx, d); err != nil {
			continue
		}
		if err := reg.linkBlob(name, d); err != nil {
			return err
		}
	}
	for _, d := range readLinks(filepath.Join(dir, "_manifests", "revisions")) {
		body, err := reg.readManifest(ctx, d)
		if err != nil {
			continue // its blob is gone
		}
		m, perr := parseManifest(body, "")
		if perr != nil {
			reg.o.logger.WarnContext(ctx, "import: manifest not taken", "repository", name, "digest", d, "reason", perr.Message)
			st.Skipped++
			continue
		}
		if err := reg.linkManifest(name, d, m, int64(len(body)), nil); err != nil {
			return err
		}
		st.Manifests++
	}
	tags, err := listDir(filepath.Join(dir, "_manifests", "tags"))
	if err != nil {
		return err
	}
	for _, t := range tags {
		b, err := os.ReadFile(filepath.Join(dir, "_manifests", "tags", t, "current", "link"))
		if err != nil || !validTag(t) {
			continue
		}
		d, err := content.ParseDigest(strings.TrimSpace(string(b)))
		if err != nil {
			continue
		}
		if _, ok, _ := reg.manifestType(name, d); !ok {
			continue
		}
		if err := reg.writeFile(reg.tagPath(name, t), []byte(d)); err != nil {
			return err
		}
		st.Tags++
	}
	return nil
}

// readLinks reads the digests of <dir>/<alg>/<hex>/link files.
func readLinks(dir string) []digest.Digest {
	var out []digest.Digest
	algs, _ := listDir(dir)
	for _, alg := range algs {
		hexes, _ := listDir(filepath.Join(dir, alg))
		for _, h := range hexes {
			b, err := os.ReadFile(filepath.Join(dir, alg, h, "link"))
			if err != nil {
				continue
			}
			if d, err := content.ParseDigest(strings.TrimSpace(string(b))); err == nil {
				out = append(out, d)
			}
		}
	}
	return out
}
