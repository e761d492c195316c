package memstore

import (
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// memSeries is one series of one table: its identity and its chunks. (One
// per active series: the layout keeps it in the 112-byte size class.)
type memSeries struct {
	// Immutable after construction; read without the lock.
	ref     uint64
	tableID uint64
	// key holds the measure name and the dimensions, sorted by name
	// (seriesKey; decode with keyDimsRest and nextKeyDim or a dimSlab).
	key string

	mu sync.Mutex // Guards everything below.
	// chunks are sorted by time and never overlap; the last is the head,
	// the only one appended to in place.
	chunks []*chunk
	// changedMin is the minute (Unix time / 1 min, rounded down) of the
	// earliest row changed since a flush last read the series;
	// math.MaxUint32 when none, 0 before the first read. A flush drops the
	// rows it wrote only if every change since is at or after its cutoff,
	// so that under steady writes (every series changes while a flush
	// runs) memory still drains. Minutes keep it in 32 bits, and the
	// series struct in its size class; rounding down only ever keeps rows.
	changedMin uint32
	// walLogged is true once the series definition is durable in the WAL
	// (or in a checkpoint).
	walLogged bool
	// removed is set when a flush emptied the series and took it out of
	// the index; appenders holding it must look the series up again.
	removed bool
	// staged lists the rows appenders have decided to write and are
	// logging to the WAL: not yet in chunks, so not visible to scans,
	// flushes or checkpoints. Appenders decide against them too (decide),
	// so that two writes of one row in flight agree with each other.
	staged []*stagedRun
	// ooo holds committed rows that landed inside the chunks' time range
	// (out of order or rewrites), until they are merged into the chunks in
	// bulk (see apply and mergeOOO); nil while there are none.
	ooo *oooBuffer
}

// noteChange records a change of the row at t (see changedMin). The
// caller holds s.mu.
func (s *memSeries) noteChange(t int64) {
	m := uint32(0)
	if t > 0 {
		m = uint32(t / int64(time.Minute)) // < 2^28 for any int64 t
	}
	s.changedMin = min(s.changedMin, m)
}

// unchangedBefore reports whether no row before cutoff changed since a
// flush last read the series. The caller holds s.mu.
func (s *memSeries) unchangedBefore(cutoff int64) bool {
	return s.changedMin == math.MaxUint32 || int64(s.changedMin)*int64(time.Minute) >= cutoff
}

// measure returns the series' measure name (from its key).
func (s *memSeries) measure() string { return keyMeasure(s.key) }

// upsertOutcome says what writing a row does (see decide).
type upsertOutcome uint8

const (
	upsertApplied   upsertOutcome = iota // a new row or a replaced value
	upsertUnchanged                      // identical row already stored
	upsertRejected                       // version conflict
)

// Timestream's reasons for version conflicts.
func reasonSameVersion() string {
	return "A record already exists with the same time, dimensions, measure name, and record version. " +
		"A higher record version must be specified in order to update the measure value."
}

func reasonLowerVersion(ver, existing int64) string {
	return fmt.Sprintf("The record version %d is lower than the existing version %d. "+
		"A higher version is required to update the measure value.", ver, existing)
}

// replaceChunk re-encodes rows in place of chunk ci, split into chunks of
// at most maxChunkRows rows (one chunk up to twice that). Every chunk but
// the series' head is sealed.
func (s *memSeries) replaceChunk(ci int, names []string, rows []row) {
	head := ci == len(s.chunks)-1
	k := 1
	if len(rows) > 2*maxChunkRows {
		k = (len(rows) + maxChunkRows - 1) / maxChunkRows
	}
	if k > 1 {
		s.chunks = slices.Insert(s.chunks, ci+1, make([]*chunk, k-1)...)
	}
	for j := range k {
		nc := buildChunk(names, rows[j*len(rows)/k:(j+1)*len(rows)/k])
		if !head || j < k-1 {
			nc.compact()
		}
		s.chunks[ci+j] = nc
	}
}

// seal compacts the current head before a new head is started.
func (s *memSeries) seal() {
	if n := len(s.chunks); n > 0 {
		s.chunks[n-1].compact()
	}
}

func indexOf(names []string, n string) int {
	for i, x := range names {
		if x == n {
			return i
		}
	}
	return -1
}

// loadChunk adds sealed chunk c (from a checkpoint) to the series: at the
// end when it starts after the last chunk, else row by row as out-of-order
// rows. The caller holds s.mu.
func (s *memSeries) loadChunk(c *chunk, buffered *atomic.Int64) error {
	if n := len(s.chunks); n == 0 || c.minT > s.chunks[n-1].maxT {
		s.noteChange(c.minT)
		s.seal()
		s.chunks = append(s.chunks, c)
		return nil
	}
	names, rows, err := c.decodeRows()
	if err != nil {
		return fmt.Errorf("load chunk: %w", err)
	}
	for _, r := range rows {
		if err := s.apply(r.t, r.ver, names, r.vals, buffered); err != nil {
			return err
		}
	}
	return nil
}
