package lineproto

import (
	"hash/maphash"
	"sync"

	"github.com/tidaldb/tidal/ingest"
)

// SeriesCache remembers, across Decode calls, what the measurement and tag
// set of a line parsed to, keyed by their raw text: a line of a known series
// skips tokenising, unescaping and interning its tags and re-validating its
// dimensions. Agents send the same series every interval, so after the
// first interval nearly every line hits. A SeriesCache is safe for
// concurrent use; its entries are immutable once stored and bounded in
// number (a full shard is emptied and refilled).
type SeriesCache struct {
	seed   maphash.Seed
	shards [cacheShards]cacheShard
}

const (
	cacheShards   = 64
	cacheShardMax = 4096 // 262,144 series in all
)

type cacheShard struct {
	mu sync.RWMutex
	m  map[string]*seriesEntry
}

// NewSeriesCache returns an empty cache.
func NewSeriesCache() *SeriesCache { return &SeriesCache{seed: maphash.MakeSeed()} }

func (c *SeriesCache) shard(raw []byte) *cacheShard {
	return &c.shards[maphash.Bytes(c.seed, raw)%cacheShards]
}

func (c *SeriesCache) get(raw []byte) *seriesEntry {
	s := c.shard(raw)
	s.mu.RLock()
	e := s.m[string(raw)]
	s.mu.RUnlock()
	return e
}

func (c *SeriesCache) put(raw []byte, e *seriesEntry) {
	s := c.shard(raw)
	s.mu.Lock()
	if s.m == nil || len(s.m) >= cacheShardMax {
		s.m = make(map[string]*seriesEntry)
	}
	s.m[string(raw)] = e
	s.mu.Unlock()
}

// seriesEntry is a parsed series. It is never modified once in a cache.
type seriesEntry struct {
	table string
	// dims are the series' dimensions in line order; points get copies, as
	// an Appender may sort a record's dimensions in place.
	dims []ingest.Dimension
	// measureName is the measure name the verdict was given for, and
	// reason ingest.ValidateSeries's verdict.
	measureName, reason string
	// fields are the field keys of the line that made the entry, in line
	// order: later lines compare their keys with them before interning.
	fields []string
}
