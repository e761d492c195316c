package memstore

import (
	"fmt"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/tidaldb/tidal/ingest"
)

// Out-of-order rows. A row after the last one of a series is appended to
// the head chunk in place. A row at or before it (a late sample, a rewrite,
// a backfill) would have to decode and re-encode the chunk that covers it;
// doing that per row is what made overlapping writes 20-50x slower than
// in-order ones. Such rows go to the series' out-of-order buffer instead:
// sorted by time, one row per time, and merged into the chunks in bulk
// (each affected chunk decoded and re-encoded once) when the buffer reaches
// oooMergeRows, when the DB's buffers together exceed oooBudgetRows, and
// before anything reads the chunks (scans, flushes, checkpoints), so that
// readers always see every committed row.
const (
	// oooMergeRows is the buffer length at which a series merges.
	oooMergeRows = 64
	// oooBudgetRows bounds the rows buffered in a DB: past it, a commit
	// merges the buffers of the series it wrote.
	oooBudgetRows = 1 << 18
)

// oooRowBytes estimates the heap of a buffered row (Stats).
const oooRowBytes = 96

// oooRow is one buffered row. A single-measure row keeps its value in v
// (names nil); a multi-measure row has parallel names and vals.
type oooRow struct {
	t, ver int64
	v      ingest.Value
	names  []string
	vals   []ingest.Value
}

// oooBuffer is the out-of-order rows of one series, ascending by time with
// unique times.
type oooBuffer struct {
	rows []oooRow
}

// values returns the row's columns and values.
func (r *oooRow) values() ([]string, []ingest.Value) {
	if r.names == nil {
		return singleName, []ingest.Value{r.v}
	}
	return r.names, r.vals
}

var singleName = []string{measureValueCol}

// newOOORow copies a row into buffer form: the buffer outlives the record,
// so strings are cloned.
func newOOORow(t, ver int64, names []string, vals []ingest.Value) oooRow {
	if len(names) == 1 && names[0] == measureValueCol {
		return oooRow{t: t, ver: ver, v: cloneValue(vals[0])}
	}
	r := oooRow{t: t, ver: ver, names: make([]string, len(names)), vals: make([]ingest.Value, len(vals))}
	for i := range names {
		r.names[i] = strings.Clone(names[i])
		r.vals[i] = cloneValue(vals[i])
	}
	return r
}

func cloneValue(v ingest.Value) ingest.Value {
	if v.Str != "" {
		v.Str = strings.Clone(v.Str)
	}
	return v
}

// apply writes a committed row under the replay rule: at a time the series
// already has, the row with the higher version wins, and of equal versions
// the later write (so a rewrite with the same version replaces, and an
// identical rewrite changes nothing). It returns how many rows it added to
// the out-of-order buffer (0 or 1; merging reports through buffered). The
// caller holds s.mu.
func (s *memSeries) apply(t, ver int64, names []string, vals []ingest.Value, buffered *atomic.Int64) error {
	s.noteChange(t)
	if n := len(s.chunks); n == 0 || t > s.chunks[n-1].maxT {
		if n == 0 || s.chunks[n-1].n >= maxChunkRows || s.chunks[n-1].sealed {
			s.seal()
			s.chunks = append(s.chunks, &chunk{})
		}
		s.chunks[len(s.chunks)-1].appendRow(t, ver, names, vals)
		return nil
	}
	if s.ooo == nil {
		s.ooo = &oooBuffer{}
	}
	b := s.ooo
	i := len(b.rows)
	if i > 0 && b.rows[i-1].t >= t {
		i = sort.Search(len(b.rows), func(j int) bool { return b.rows[j].t >= t })
	}
	switch {
	case i < len(b.rows) && b.rows[i].t == t:
		if ver >= b.rows[i].ver {
			b.rows[i] = newOOORow(t, ver, names, vals)
		}
	default:
		b.rows = append(b.rows, oooRow{})
		copy(b.rows[i+1:], b.rows[i:])
		b.rows[i] = newOOORow(t, ver, names, vals)
		buffered.Add(1)
	}
	if len(b.rows) >= oooMergeRows {
		return s.mergeOOO(buffered)
	}
	return nil
}

// bufferedRow returns the buffered row at t. The caller holds s.mu.
func (s *memSeries) bufferedRow(t int64) (*oooRow, bool) {
	if s.ooo == nil {
		return nil, false
	}
	rows := s.ooo.rows
	i := sort.Search(len(rows), func(j int) bool { return rows[j].t >= t })
	if i < len(rows) && rows[i].t == t {
		return &rows[i], true
	}
	return nil, false
}

// mergeOOO merges the out-of-order buffer into the chunks: each chunk that
// gets rows is decoded, merged and re-encoded once. Rows before the first
// chunk go to the first chunk. The caller holds s.mu.
func (s *memSeries) mergeOOO(buffered *atomic.Int64) error {
	if s.ooo == nil || len(s.ooo.rows) == 0 {
		return nil
	}
	rows := s.ooo.rows
	// Group the buffered rows by target chunk, then merge from the last
	// group to the first so that splitting a chunk does not move the
	// indexes of the groups still to merge.
	type group struct{ ci, from, to int }
	var groups []group
	for i := 0; i < len(rows); {
		ci := sort.Search(len(s.chunks), func(j int) bool { return s.chunks[j].minT > rows[i].t }) - 1
		ci = max(ci, 0)
		j := i + 1
		if ci+1 < len(s.chunks) {
			next := s.chunks[ci+1].minT
			for j < len(rows) && rows[j].t < next {
				j++
			}
		} else {
			j = len(rows)
		}
		groups = append(groups, group{ci, i, j})
		i = j
	}
	for g := len(groups) - 1; g >= 0; g-- {
		gr := groups[g]
		if err := s.mergeChunk(gr.ci, rows[gr.from:gr.to]); err != nil {
			return err
		}
	}
	buffered.Add(-int64(len(rows)))
	s.ooo = nil
	return nil
}

// mergeChunk merges buffered rows (ascending, unique times) into chunk ci.
func (s *memSeries) mergeChunk(ci int, add []oooRow) error {
	cnames, old, err := s.chunks[ci].decodeRows()
	if err != nil {
		return fmt.Errorf("series %d: merge out-of-order rows: %w", s.ref, err)
	}
	names := cnames
	for i := range add {
		ns, _ := add[i].values()
		for _, n := range ns {
			if indexOf(names, n) < 0 {
				if len(names) == len(cnames) {
					names = append([]string(nil), cnames...)
				}
				names = append(names, n)
			}
		}
	}
	if len(names) != len(cnames) {
		for i := range old {
			v := make([]ingest.Value, len(names))
			copy(v, old[i].vals)
			old[i].vals = v
		}
	}
	// The buffered rows' values, aligned with names, in one backing array.
	backing := make([]ingest.Value, len(add)*len(names))
	merged := make([]row, 0, len(old)+len(add))
	i := 0
	for k := range add {
		a := &add[k]
		vals := backing[k*len(names) : (k+1)*len(names) : (k+1)*len(names)]
		ns, vs := a.values()
		for j, n := range ns {
			vals[indexOf(names, n)] = vs[j]
		}
		for i < len(old) && old[i].t < a.t {
			merged = append(merged, old[i])
			i++
		}
		if i < len(old) && old[i].t == a.t {
			if a.ver < old[i].ver {
				merged = append(merged, old[i])
				i++
				continue
			}
			i++
		}
		merged = append(merged, row{t: a.t, ver: a.ver, vals: vals})
	}
	merged = append(merged, old[i:]...)
	s.replaceChunk(ci, names, merged)
	return nil
}

// oooRows is the number of rows in the series' out-of-order buffer. The
// caller holds s.mu.
func (s *memSeries) oooRows() int {
	if s.ooo == nil {
		return 0
	}
	return len(s.ooo.rows)
}
