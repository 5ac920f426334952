package registry

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/tailor-dev/tailor/content"
)

// Garbage collection is a mark and sweep, as distribution's: the marks
// are the manifests every repository still links and what they point to
// (an image's config and layers, an index's children, a subject), plus
// blobs linked less than the grace period ago (pushed for a manifest
// still to come); every other blob older than the grace period is swept,
// and the layer links of swept blobs go too. Deleting an image (its
// manifest) thus frees its layers once no remaining manifest references
// them.
//
// The collector never stops pushes for its run. A request that links or
// references a blob pins the blob's digest (pins) for as long as it
// works, before it checks that the blob is there; while a collection
// runs, every digest pinned since it began is kept (seen), and a blob is
// deleted under the pins' mutex only when it is neither pinned nor seen.
// So a push either pins first, and the blob stays, or finds the blob gone
// and is told the blob is unknown, as it would be after the collection.
// Pushes wait at most for one file's removal.

// pins is the set of digests requests are linking or referencing.
type pins struct {
	mu   sync.Mutex
	n    map[digest.Digest]int
	seen map[digest.Digest]bool // non-nil while a collection runs
}

// pin keeps ds from the collector until the returned func is called.
func (reg *Registry) pin(ds ...digest.Digest) func() {
	p := &reg.pins
	p.mu.Lock()
	if p.n == nil {
		p.n = map[digest.Digest]int{}
	}
	for _, d := range ds {
		p.n[d]++
		if p.seen != nil {
			p.seen[d] = true
		}
	}
	p.mu.Unlock()
	return func() {
		p.mu.Lock()
		for _, d := range ds {
			if p.n[d]--; p.n[d] <= 0 {
				delete(p.n, d)
			}
		}
		p.mu.Unlock()
	}
}

// beginCollection starts recording pins; what is pinned now counts as
// seen.
func (p *pins) beginCollection() {
	p.mu.Lock()
	p.seen = map[digest.Digest]bool{}
	for d := range p.n {
		p.seen[d] = true
	}
	p.mu.Unlock()
}

func (p *pins) endCollection() {
	p.mu.Lock()
	p.seen = nil
	p.mu.Unlock()
}

// collectGarbage removes the blobs no remaining manifest references and
// no repository linked within the grace period; it returns how many and
// their size. ran is false when an import kept it from starting.
func (reg *Registry) collectGarbage(ctx context.Context) (n int, size int64, ran bool, err error) {
	// Only an import (a start-up affair) holds reg.gc for longer.
	if !reg.gc.TryLock() {
		return 0, 0, false, nil
	}
	defer reg.gc.Unlock()
	if !reg.collecting.CompareAndSwap(false, true) {
		return 0, 0, false, nil
	}
	defer reg.collecting.Store(false)
	reg.pins.beginCollection()
	defer reg.pins.endCollection()

	cutoff := reg.o.now().Add(-reg.o.orphanGrace)
	marked, links, err := reg.mark(ctx, cutoff)
	if err != nil {
		return 0, 0, true, err
	}
	swept := map[digest.Digest]bool{}
	err = reg.blobs.Walk(ctx, func(in content.Info) error {
		if marked[in.Digest] || in.ModTime.After(cutoff) {
			return nil
		}
		reg.o.gcHook("sweep")
		gone, err := reg.sweep(ctx, in.Digest)
		if err != nil || !gone {
			return err
		}
		swept[in.Digest] = true
		n++
		size += in.Size
		return nil
	})
	if err != nil {
		return n, size, true, err
	}
	for _, l := range links {
		if swept[l.d] {
			if err := reg.unlinkSwept(ctx, l); err != nil {
				return n, size, true, err
			}
		}
	}
	return n, size, true, nil
}

// sweep deletes blob d unless a request pinned it since the collection
// began.
func (reg *Registry) sweep(ctx context.Context, d digest.Digest) (bool, error) {
	p := &reg.pins
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.seen[d] || p.n[d] > 0 {
		return false, nil
	}
	err := reg.blobs.Delete(ctx, d)
	if errors.Is(err, content.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// unlinkSwept removes the layer link of a swept blob, unless the blob
// came back meanwhile (pushed again, under the repository's lock).
func (reg *Registry) unlinkSwept(ctx context.Context, l layerLink) error {
	defer reg.lock(l.repo)()
	if _, err := reg.blobs.Stat(ctx, l.d); err == nil {
		return nil
	}
	return removeFile(reg.layerLink(l.repo, l.d))
}

// layerLink is a blob link of a repository.
type layerLink struct {
	repo string
	d    digest.Digest
}

// mark walks every repository: the manifests it links and what they
// reference, and the blobs it linked after cutoff, are marked. links are
// all its blob links (those of swept blobs are removed afterwards).
func (reg *Registry) mark(ctx context.Context, cutoff time.Time) (map[digest.Digest]bool, []layerLink, error) {
	marked := map[digest.Digest]bool{}
	var links []layerLink
	root := reg.reposDir()
	err := filepath.WalkDir(root, func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if !de.IsDir() || p == root || de.Name()[0] != '_' {
			return nil
		}
		rel, _ := filepath.Rel(root, filepath.Dir(p))
		repo := filepath.ToSlash(rel)
		switch de.Name() {
		case "_manifests":
			ds, err := digestFiles(p)
			if err != nil {
				return err
			}
			for _, d := range ds {
				reg.o.gcHook("mark")
				if err := reg.markManifest(ctx, d, marked); err != nil {
					return err
				}
			}
		case "_layers":
			ds, err := digestFiles(p)
			if err != nil {
				return err
			}
			for _, d := range ds {
				links = append(links, layerLink{repo, d})
				fi, err := os.Stat(reg.layerLink(repo, d))
				if err == nil && fi.ModTime().After(cutoff) {
					marked[d] = true
				}
			}
		}
		return filepath.SkipDir
	})
	if errors.Is(err, fs.ErrNotExist) {
		err = nil
	}
	return marked, links, err
}

// markManifest marks manifest d and what it references, an index's
// children and a subject with what they reference in turn. A reference
// that is not a stored manifest (a blob, or absent) marks only itself.
func (reg *Registry) markManifest(ctx context.Context, d digest.Digest, marked map[digest.Digest]bool) error {
	if marked[d] {
		return nil
	}
	marked[d] = true
	body, err := reg.readManifest(ctx, d)
	var re *Error
	if errors.As(err, &re) {
		return nil // its blob is gone
	}
	if err != nil {
		return err
	}
	var j manifestJSON
	if json.Unmarshal(body, &j) != nil {
		return nil
	}
	blobs := j.Layers
	if j.Config != nil {
		blobs = append(blobs, *j.Config)
	}
	for _, ref := range blobs {
		if rd, err := content.ParseDigest(ref.Digest); err == nil {
			marked[rd] = true
		}
	}
	manifests := j.Manifests
	if j.Subject != nil {
		manifests = append(manifests, *j.Subject)
	}
	for _, ref := range manifests {
		if rd, err := content.ParseDigest(ref.Digest); err == nil {
			if err := reg.markManifest(ctx, rd, marked); err != nil {
				return err
			}
		}
	}
	return nil
}

// digestFiles reads the digests named by dir/<alg>/<hex>. An error
// stops the collection: a blob it did not see referenced must not go.
func digestFiles(dir string) ([]digest.Digest, error) {
	var out []digest.Digest
	algs, err := listDir(dir)
	if err != nil {
		return nil, err
	}
	for _, alg := range algs {
		hexes, err := listDir(filepath.Join(dir, alg))
		if err != nil {
			return nil, err
		}
		for _, h := range hexes {
			if strings.HasPrefix(h, ".") {
				continue
			}
			if d, err := content.ParseDigest(alg + ":" + h); err == nil {
				out = append(out, d)
			}
		}
	}
	return out, nil
}
