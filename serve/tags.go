package serve

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/opencontainers/go-digest"
)

// tagRecords keep, per upstream tag, the manifest it named when it was
// last read: when the upstream is down, a tag pulled before still
// resolves (DESIGN.md §4). One file per tag under <storage>/cache/tags/,
// named by the hash of (upstream, repository, tag), written atomically and
// only when the tag moved. At most maxTagRecords are kept, the least
// recently read removed first (order rebuilt from the files' times at
// start). With a content cache, a record holds the digest only: the
// manifest itself is in the cache (put there when it was fetched), once
// however many tags name it, and bounded by --cache-size; without one,
// the records hold the manifests, at most maxTagRecordBytes of them.
type tagRecords struct {
	dir   string
	cache *cache // the content cache; nil when off

	mu    sync.Mutex
	known *lru.Cache[string, recordInfo] // file name -> what is stored
	bytes int64                          // file bytes of the known records
}

// recordInfo is what a record file holds: the digest ("" unknown) and
// the file's size.
type recordInfo struct {
	d    digest.Digest
	size int64
}

// Bounds of the tag records: how many, and their bytes on disk.
const (
	maxTagRecords     = 65536
	maxTagRecordBytes = 64 << 20
)

// tagRecord is a file's content.
type tagRecord struct {
	Upstream  string `json:"upstream"`
	Repo      string `json:"repo"`
	Tag       string `json:"tag"`
	MediaType string `json:"mediaType"`
	Digest    string `json:"digest"`
	Body      []byte `json:"body"`
}

func newTagRecords(storage string) (*tagRecords, error) {
	dir := filepath.Join(storage, "cache", "tags")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("tag records: %w", err)
	}
	t := &tagRecords{dir: dir}
	t.known, _ = lru.NewWithEvict(maxTagRecords, func(name string, ri recordInfo) {
		t.bytes -= ri.size
		_ = os.Remove(filepath.Join(dir, name))
	})
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("tag records: %w", err)
	}
	type aged struct {
		name string
		mod  int64
		size int64
	}
	var files []aged
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".tmp-") {
			_ = os.Remove(filepath.Join(dir, e.Name()))
			continue
		}
		if info, err := e.Info(); err == nil && info.Mode().IsRegular() {
			files = append(files, aged{e.Name(), info.ModTime().UnixNano(), info.Size()})
		}
	}
	slices.SortFunc(files, func(a, b aged) int { return int(a.mod - b.mod) })
	for _, f := range files {
		t.add(f.name, recordInfo{size: f.size})
	}
	return t, nil
}

func tagFile(upstream, repo, tag string) string {
	h := sha256.Sum256([]byte(upstream + "\x00" + repo + "\x00" + tag))
	return hex.EncodeToString(h[:])
}

// add notes a record (the caller holds t.mu, or is New), removing the
// least recently read while the records are over their bytes.
func (t *tagRecords) add(name string, ri recordInfo) {
	if old, ok := t.known.Peek(name); ok {
		t.bytes -= old.size
	}
	t.known.Add(name, ri)
	t.bytes += ri.size
	for t.bytes > maxTagRecordBytes && t.known.Len() > 1 {
		t.known.RemoveOldest()
	}
}

// put records that tag named m, unless that is what is recorded.
func (t *tagRecords) put(upstream, repo, tag string, m *manifest) error {
	name := tagFile(upstream, repo, tag)
	t.mu.Lock()
	ri, ok := t.known.Get(name)
	t.mu.Unlock()
	if ok && ri.d == m.digest {
		return nil
	}
	rec := tagRecord{Upstream: upstream, Repo: repo, Tag: tag, MediaType: m.mediaType, Digest: m.digest.String()}
	if t.cache == nil {
		rec.Body = m.body
	}
	data, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(t.dir, filepath.Join(t.dir, name), data); err != nil {
		return fmt.Errorf("tag record %s/%s:%s: %w", upstream, repo, tag, unwrapPath(err))
	}
	t.mu.Lock()
	t.add(name, recordInfo{d: m.digest, size: int64(len(data))})
	t.mu.Unlock()
	return nil
}

// get is the manifest tag named when last read, nil when none is known.
func (t *tagRecords) get(upstream, repo, tag string) (*manifest, error) {
	name := tagFile(upstream, repo, tag)
	data, err := os.ReadFile(filepath.Join(t.dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("tag record %s/%s:%s: %w", upstream, repo, tag, unwrapPath(err))
	}
	var r tagRecord
	if err := json.Unmarshal(data, &r); err != nil || r.Upstream != upstream || r.Repo != repo || r.Tag != tag {
		return nil, nil // damaged or not this tag's: as if unknown
	}
	d, err := digest.Parse(r.Digest)
	if err != nil {
		return nil, nil
	}
	m := &manifest{body: r.Body, mediaType: r.MediaType, digest: d}
	if len(r.Body) == 0 && t.cache != nil {
		if m = t.cache.manifest(context.Background(), d); m == nil {
			return nil, nil // evicted from the cache: unknown
		}
		if r.MediaType != "" {
			m.mediaType = r.MediaType
		}
	}
	if d.Algorithm().FromBytes(m.body) != d {
		return nil, nil
	}
	t.mu.Lock()
	t.add(name, recordInfo{d: d, size: int64(len(data))})
	t.mu.Unlock()
	return m, nil
}

// unwrapPath drops the path of an os error (errors may reach a log that
// clients see excerpts of; paths are the server's business).
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return fmt.Errorf("%s: %w", le.Op, le.Err)
	}
	return err
}
