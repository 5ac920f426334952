package registry

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/tailor-dev/tailor/content"
)

// Garbage: a blob no repository links (as a layer or a manifest) any
// more, after DELETEs, is removed by the janitor once it is older than
// the grace period, so deleting images gives the space back.
//
// Every request that links a blob holds reg.gc for reading from the
// moment it finds or stores the blob until the link is written; the
// collector holds it for writing, taken with TryLock so that it never
// makes pushes wait: it gives up when pushes keep it busy, and tries
// again later.

// collectGarbage removes unlinked blobs older than the grace period; it
// returns how many and their size. ran is false when pushes kept it from
// starting.
func (reg *Registry) collectGarbage(ctx context.Context) (n int, size int64, ran bool, err error) {
	deadline := time.Now().Add(10 * time.Second)
	for !reg.gc.TryLock() {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return 0, 0, false, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	defer reg.gc.Unlock()
	linked, err := reg.linkedDigests()
	if err != nil {
		return 0, 0, true, err
	}
	cutoff := reg.o.now().Add(-reg.o.orphanGrace)
	err = reg.blobs.Walk(ctx, func(in content.Info) error {
		if linked[in.Digest] || in.ModTime.After(cutoff) {
			return nil
		}
		if err := reg.blobs.Delete(ctx, in.Digest); err != nil {
			return err
		}
		n++
		size += in.Size
		return nil
	})
	return n, size, true, err
}

// linkedDigests walks every repository's _layers and _manifests.
func (reg *Registry) linkedDigests() (map[digest.Digest]bool, error) {
	linked := map[digest.Digest]bool{}
	root := reg.reposDir()
	err := filepath.WalkDir(root, func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !de.IsDir() || p == root || de.Name()[0] != '_' {
			return nil
		}
		if de.Name() == "_layers" || de.Name() == "_manifests" {
			algs, err := listDir(p)
			if err != nil {
				return err
			}
			for _, alg := range algs {
				hexes, err := listDir(filepath.Join(p, alg))
				if err != nil {
					return err
				}
				for _, h := range hexes {
					if d, err := content.ParseDigest(alg + ":" + h); err == nil {
						linked[d] = true
					}
				}
			}
		}
		return filepath.SkipDir
	})
	if os.IsNotExist(err) {
		err = nil
	}
	return linked, err
}
