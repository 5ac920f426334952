package serve

import (
	"sync"

	"github.com/hashicorp/golang-lru/v2/simplelru"
	"github.com/opencontainers/go-digest"
)

// sourceCache keeps parsed upstream sources by digest, bounded by their
// weight: a mirror reading one 2 MiB index under 400 tags kept 400 copies
// (6.7 GiB of RSS); now every tag names its digest and one parsed source
// serves them all, and different sources stay within maxBytes.
type sourceCache struct {
	mu       sync.Mutex
	lru      *simplelru.LRU[digest.Digest, *source]
	bytes    int64
	maxBytes int64
}

// sourceMemBytes bounds the weight of the parsed sources kept in memory.
const sourceMemBytes = 64 << 20

// sourceWeight is what a source costs in memory: its bytes, and for an
// index its parsed descriptors (about twice the JSON again, measured by
// TestTagStateBounded's heap figures).
func sourceWeight(src *source) int64 {
	n := int64(len(src.m.body))
	if src.idx != nil {
		n *= 3
	}
	return n
}

func newSourceCache(maxBytes int64) *sourceCache {
	c := &sourceCache{maxBytes: maxBytes}
	c.lru, _ = simplelru.NewLRU(maxMemEntries, func(_ digest.Digest, src *source) { c.bytes -= sourceWeight(src) })
	return c
}

func (c *sourceCache) get(d digest.Digest) (*source, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Get(d)
}

// add keeps src; one heavier than a quarter of the bound is not kept.
func (c *sourceCache) add(src *source) {
	n := sourceWeight(src)
	if n > c.maxBytes/4 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.lru.Peek(src.m.digest); ok {
		return
	}
	c.lru.Add(src.m.digest, src)
	c.bytes += n
	for c.bytes > c.maxBytes {
		c.lru.RemoveOldest()
	}
}
