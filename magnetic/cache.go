package magnetic

import (
	"container/list"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// cacheKey names one chunk of one part; part sequence numbers are unique
// within a store.
type cacheKey struct {
	seq, off uint64
}

type cacheEntry struct {
	key cacheKey
	val []byte
}

// blockCache is a byte-sized LRU of decompressed chunks. Values are shared
// and must not be modified. Safe for concurrent use.
type blockCache struct {
	max          int
	hits, misses prometheus.Counter
	mu           sync.Mutex // Guards everything below.
	size         int
	lru          *list.List // front: most recent
	items        map[cacheKey]*list.Element
}

func newBlockCache(maxBytes int, hits, misses prometheus.Counter) *blockCache {
	return &blockCache{max: maxBytes, hits: hits, misses: misses, lru: list.New(), items: map[cacheKey]*list.Element{}}
}

func (c *blockCache) get(k cacheKey) ([]byte, bool) {
	if c.max <= 0 {
		c.misses.Inc()
		return nil, false
	}
	c.mu.Lock()
	e, ok := c.items[k]
	if ok {
		c.lru.MoveToFront(e)
	}
	c.mu.Unlock()
	if !ok {
		c.misses.Inc()
		return nil, false
	}
	c.hits.Inc()
	return e.Value.(*cacheEntry).val, true
}

func (c *blockCache) put(k cacheKey, v []byte) {
	cost := len(v) + 64
	if c.max <= 0 || cost > c.max/8 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.items[k]; ok {
		return
	}
	c.items[k] = c.lru.PushFront(&cacheEntry{key: k, val: v})
	c.size += cost
	for c.size > c.max {
		e := c.lru.Back()
		ent := e.Value.(*cacheEntry)
		c.lru.Remove(e)
		delete(c.items, ent.key)
		c.size -= len(ent.val) + 64
	}
}

// bytes returns the accounted size of the cache.
func (c *blockCache) bytes() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.size
}
