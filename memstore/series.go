package memstore

import (
	"fmt"
	"sort"
	"sync"

	"github.com/tidaldb/tidal/ingest"
)

// memSeries is one series of one table: its identity and its chunks.
type memSeries struct {
	// Immutable after construction; read without the lock.
	ref         uint64
	tableID     uint64
	key         string
	dims        []ingest.Dimension // sorted by name
	measureName string

	mu sync.Mutex // Guards everything below.
	// chunks are sorted by time and never overlap; the last is the head,
	// the only one appended to in place.
	chunks []*chunk
	// walLogged is true once the series definition is durable in the WAL
	// (or in a checkpoint).
	walLogged bool
	// mutations counts changes, so that a flush can tell whether the rows
	// it wrote are still the rows in memory.
	mutations uint64
	// changedFrom is the earliest row time changed since a flush last read
	// the series (math.MaxInt64: none), so that a flush can still drop the
	// rows it wrote when the changes since were all newer than its cutoff:
	// under steady writes every series changes while a flush runs.
	changedFrom int64
	// removed is set when a flush emptied the series and took it out of
	// the index; appenders holding it must look the series up again.
	removed bool
	// staged lists the rows appenders have decided to write and are
	// logging to the WAL: not yet in chunks, so not visible to scans,
	// flushes or checkpoints. Appenders decide against them too (decide),
	// so that two writes of one row in flight agree with each other.
	staged []*stagedRun
}

// upsertOutcome says what an upsert did.
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

// upsert stores the row (t, ver, names/vals) under Timestream's rules: a new
// (series, time) is inserted; the same values are accepted as they are (the
// version rises if ver is higher); different values replace the stored ones
// only with a higher version, or with the same version when rewrite is set.
// The caller holds s.mu.
func (s *memSeries) upsert(t, ver int64, names []string, vals []ingest.Value, rewrite bool) (upsertOutcome, int64, string, error) {
	s.mutations++
	s.changedFrom = min(s.changedFrom, t)
	if n := len(s.chunks); n == 0 || t > s.chunks[n-1].maxT {
		if n == 0 || s.chunks[n-1].n >= maxChunkRows {
			s.seal()
			s.chunks = append(s.chunks, &chunk{})
		}
		s.chunks[len(s.chunks)-1].appendRow(t, ver, names, vals)
		return upsertApplied, 0, "", nil
	}
	// The row lands inside existing data: decode the chunk that covers t,
	// modify, re-encode.
	ci := sort.Search(len(s.chunks), func(i int) bool { return s.chunks[i].minT > t }) - 1
	if ci < 0 {
		ci = 0
	}
	c := s.chunks[ci]
	cnames, rows, err := c.decodeRows()
	if err != nil {
		return 0, 0, "", fmt.Errorf("series %d: %w", s.ref, err)
	}
	allNames, rows := unionNames(cnames, rows, names)
	newVals := make([]ingest.Value, len(allNames))
	for i, name := range names {
		newVals[indexOf(allNames, name)] = vals[i]
	}
	idx := findRow(rows, t)
	if idx < len(rows) && rows[idx].t == t {
		old := &rows[idx]
		if sameValues(old.vals, newVals) {
			if ver <= old.ver {
				return upsertUnchanged, old.ver, "", nil
			}
			old.ver = ver
		} else {
			switch {
			case ver > old.ver, rewrite && ver == old.ver:
				old.ver = ver
				old.vals = newVals
			case ver == old.ver:
				return upsertRejected, old.ver, reasonSameVersion(), nil
			default:
				return upsertRejected, old.ver, reasonLowerVersion(ver, old.ver), nil
			}
		}
	} else {
		rows = append(rows, row{})
		copy(rows[idx+1:], rows[idx:])
		rows[idx] = row{t: t, ver: ver, vals: newVals}
	}
	s.replaceChunk(ci, allNames, rows)
	return upsertApplied, 0, "", nil
}

// replaceChunk re-encodes rows in place of chunk ci, splitting it when it has
// grown past twice the nominal size.
func (s *memSeries) replaceChunk(ci int, names []string, rows []row) {
	head := ci == len(s.chunks)-1
	if len(rows) <= 2*maxChunkRows {
		nc := buildChunk(names, rows)
		if !head {
			nc.compact()
		}
		s.chunks[ci] = nc
		return
	}
	half := len(rows) / 2
	a, b := buildChunk(names, rows[:half]), buildChunk(names, rows[half:])
	a.compact()
	if !head {
		b.compact()
	}
	s.chunks = append(s.chunks, nil)
	copy(s.chunks[ci+2:], s.chunks[ci+1:])
	s.chunks[ci], s.chunks[ci+1] = a, b
}

// seal compacts the current head before a new head is started.
func (s *memSeries) seal() {
	if n := len(s.chunks); n > 0 {
		s.chunks[n-1].compact()
	}
}

// unionNames extends the decoded rows with columns that names adds.
func unionNames(cnames []string, rows []row, names []string) ([]string, []row) {
	all := cnames
	for _, n := range names {
		if indexOf(all, n) < 0 {
			all = append(all, n)
		}
	}
	if len(all) != len(cnames) {
		for i := range rows {
			v := make([]ingest.Value, len(all))
			copy(v, rows[i].vals)
			rows[i].vals = v
		}
	}
	return all, rows
}

func indexOf(names []string, n string) int {
	for i, x := range names {
		if x == n {
			return i
		}
	}
	return -1
}

func sameValues(a, b []ingest.Value) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].Equal(b[i]) {
			return false
		}
	}
	return true
}
