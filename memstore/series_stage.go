package memstore

import (
	"fmt"
	"slices"
	"sort"

	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/memstore/chunkenc"
)

// stagedRow is one row an appender has decided to write: its record holds
// the values.
type stagedRow struct {
	t, ver int64
	rec    *ingest.Record
}

// stagedRun is the rows one Append stages for one series, in record order.
// It is reachable from the series (memSeries.staged) from staging until the
// Append commits or discards it; both its fields and the series' list are
// guarded by the series lock.
type stagedRun struct {
	s          *memSeries
	rows       []stagedRow
	minT, maxT int64
	log        bool // the run's series definition goes to the WAL with it
}

func (r *stagedRun) add(t, ver int64, rec *ingest.Record) {
	if len(r.rows) == 0 || t < r.minT {
		r.minT = t
	}
	if len(r.rows) == 0 || t > r.maxT {
		r.maxT = t
	}
	r.rows = append(r.rows, stagedRow{t: t, ver: ver, rec: rec})
}

// unstage takes run off the series' staged list. The caller holds s.mu.
func (s *memSeries) unstage(run *stagedRun) {
	if i := slices.Index(s.staged, run); i >= 0 {
		s.staged = slices.Delete(s.staged, i, i+1)
	}
}

// decision is what writing a row would do.
type decision struct {
	outcome  upsertOutcome
	existing int64  // version of the row it conflicts with (rejected)
	reason   string // why it is rejected
	// log says the row must be written to the WAL: every applied row, and
	// an unchanged row whose match is only staged by another appender (not
	// yet durable): acknowledging it without its own WAL record would
	// promise what a crash can still take away.
	log bool
}

// decide applies Timestream's upsert rules to the row against the committed
// rows and the rows staged by appenders in flight, without changing
// anything. rc, when not nil, keeps the chunk it decodes for the next call.
// The caller holds s.mu.
func (s *memSeries) decide(t, ver int64, names []string, vals []ingest.Value, rewrite bool, rc *rowCache) (decision, error) {
	cur, found, err := s.committedRow(t, rc)
	if err != nil {
		return decision{}, err
	}
	staged := false
	for _, run := range s.staged {
		if t < run.minT || t > run.maxT {
			continue
		}
		for i := range run.rows {
			r := &run.rows[i]
			if r.t != t {
				continue
			}
			// Staged rows apply in WAL order with replay's rule: a version
			// at least as high replaces.
			if !found || r.ver >= cur.ver {
				cur = rowView{ver: r.ver}
				cur.names, cur.vals = recordValues(r.rec, nil, nil)
				found, staged = true, true
			}
		}
	}
	if !found {
		return decision{outcome: upsertApplied, log: true}, nil
	}
	if cur.equal(names, vals) {
		if ver <= cur.ver {
			return decision{outcome: upsertUnchanged, log: staged}, nil
		}
		return decision{outcome: upsertApplied, log: true}, nil
	}
	switch {
	case ver > cur.ver, rewrite && ver == cur.ver:
		return decision{outcome: upsertApplied, log: true}, nil
	case ver == cur.ver:
		return decision{outcome: upsertRejected, existing: cur.ver, reason: reasonSameVersion()}, nil
	default:
		return decision{outcome: upsertRejected, existing: cur.ver, reason: reasonLowerVersion(ver, cur.ver)}, nil
	}
}

// rowView is a row with its column names.
type rowView struct {
	ver   int64
	names []string
	vals  []ingest.Value
}

// equal compares the row with names/vals; a column one side lacks is NULL.
func (v rowView) equal(names []string, vals []ingest.Value) bool {
	get := func(ns []string, vs []ingest.Value, n string) ingest.Value {
		if i := indexOf(ns, n); i >= 0 {
			return vs[i]
		}
		return ingest.Value{}
	}
	for i, n := range names {
		if !get(v.names, v.vals, n).Equal(vals[i]) {
			return false
		}
	}
	for i, n := range v.names {
		if indexOf(names, n) < 0 && !v.vals[i].Equal(ingest.Value{}) {
			return false
		}
	}
	return true
}

// rowCache keeps the decoded rows of the chunk an appender looked a row up
// in last, so that the rows of one Append that land in one chunk decode it
// once. A chunk is identified by its pointer and row count: sealed chunks
// never change, and the head changes in place only by appending rows.
//
// Most lookups of late rows find no row at their time (a sample that
// arrives after a later one): for those only the times are decoded, into a
// buffer the cache reuses.
type rowCache struct {
	c     *chunk // the chunk times and rows belong to
	n     int
	times []int64
	names []string
	rows  []row // nil until a lookup finds its time in c
}

// committedRow returns the committed row at t: the one in the chunks or in
// the out-of-order buffer, whichever wins under the replay rule (see apply).
// The caller holds s.mu. Rows after the last one, the case of in-order
// writes, cost nothing.
func (s *memSeries) committedRow(t int64, rc *rowCache) (rowView, bool, error) {
	n := len(s.chunks)
	if n == 0 || t > s.chunks[n-1].maxT {
		// The buffer holds only rows at or before the head's last.
		return rowView{}, false, nil
	}
	var cur rowView
	found := false
	ci := sort.Search(n, func(i int) bool { return s.chunks[i].minT > t }) - 1
	c := (*chunk)(nil)
	if ci >= 0 && t <= s.chunks[ci].maxT {
		c = s.chunks[ci]
	}
	if c != nil && !c.sealed {
		// The head: a time between its last two rows (the sample that
		// arrives just after the next one) is not there.
		if last, prev, ok := c.times.LastTwo(); ok && t > prev && t < last {
			c = nil
		}
	}
	if c != nil {
		if rc == nil {
			rc = &rowCache{}
		}
		if rc.c != c || rc.n != c.n {
			times, err := chunkenc.DecodeTimes(rc.times[:0], c.timeBytes(), c.n)
			if err != nil {
				*rc = rowCache{}
				return rowView{}, false, fmt.Errorf("series %d: decode times: %w", s.ref, err)
			}
			*rc = rowCache{c: c, n: c.n, times: times}
		}
		if i, ok := slices.BinarySearch(rc.times, t); ok {
			if rc.rows == nil {
				names, rows, err := c.decodeRows()
				if err != nil {
					rc.c = nil
					return rowView{}, false, fmt.Errorf("series %d: %w", s.ref, err)
				}
				rc.names, rc.rows = names, rows
			}
			cur, found = rowView{ver: rc.rows[i].ver, names: rc.names, vals: rc.rows[i].vals}, true
		}
	}
	if b, ok := s.bufferedRow(t); ok && (!found || b.ver >= cur.ver) {
		names, vals := b.values()
		cur, found = rowView{ver: b.ver, names: names, vals: vals}, true
	}
	return cur, found, nil
}
