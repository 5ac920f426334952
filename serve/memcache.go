package serve

import (
	"sync"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// memCache is a least-recently-used cache of manifests bounded by the
// bytes it holds (and by maxMemEntries entries). It keeps recent tailored
// answers and source indexes in memory: a tailored answer is served, and
// pulled by digest, even when the store cannot write (disk full).
type memCache[K comparable] struct {
	mu       sync.Mutex
	lru      *simplelru.LRU[K, *manifest]
	bytes    int64
	maxBytes int64
}

// maxMemEntries bounds the entries of a memCache whatever their size.
const maxMemEntries = 65536

func newMemCache[K comparable](maxBytes int64) *memCache[K] {
	c := &memCache[K]{maxBytes: maxBytes}
	c.lru, _ = simplelru.NewLRU(maxMemEntries, func(_ K, m *manifest) { c.bytes -= int64(len(m.body)) })
	return c
}

func (c *memCache[K]) get(k K) (*manifest, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Get(k)
}

// add keeps m under k; one larger than a quarter of the bound is not kept.
func (c *memCache[K]) add(k K, m *manifest) {
	n := int64(len(m.body))
	if n > c.maxBytes/4 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.lru.Peek(k); ok {
		c.bytes -= int64(len(old.body))
	}
	c.lru.Add(k, m)
	c.bytes += n
	for c.bytes > c.maxBytes {
		c.lru.RemoveOldest()
	}
}
