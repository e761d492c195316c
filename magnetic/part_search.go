package magnetic

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/magnetic/encoding"
	"github.com/tidaldb/tidal/query/scan"
)

// partCursor yields one batch per block of each matching series, pruning
// series by time and matchers and blocks by time, and decoding only the
// requested columns.
type partCursor struct {
	ctx context.Context
	p   *part
	req *scan.Request
	si  int // current series; -1 before the first
	// ranges are the index ranges of series whose measure the request
	// names, ascending, when ranged (see measureRanges).
	ranges [][2]int
	ranged bool
	// sets are the request's long IN lists as sets (see scan.ValueSets).
	sets []map[string]struct{}
	bi   int // next block of the current series
	want []colDesc
	out  scan.Batch
	err  error
	// noCache reads chunks without using or filling the block cache.
	noCache bool

	ts, vers []int64
	present  []bool
	cols     []scan.Column // scratch, one per wanted column
	fs       []float64
	is       []int64
	ss       []string
	bs       []bool
}

func newPartCursor(ctx context.Context, p *part, req *scan.Request) *partCursor {
	c := &partCursor{ctx: ctx, p: p, req: req, si: -1, sets: scan.ValueSets(req.Where)}
	if !disableMeasureRanges {
		c.ranges, c.ranged = measureRanges(p.meta.series, req.Where), hasMeasureSet(req.Where)
	}
	return c
}

// disableMeasureRanges makes part cursors check every series (benchmarks
// compare).
var disableMeasureRanges bool

// hasMeasureSet reports whether where names the measures it selects
// (measure_name = x or IN (...)).
func hasMeasureSet(where []scan.Matcher) bool {
	for i := range where {
		if m := &where[i]; m.Name == scan.ColMeasureName && (m.Op == scan.MatchEqual || m.Op == scan.MatchIn) {
			return true
		}
	}
	return false
}

// measureRanges returns, in ascending order, the index ranges [lo, hi) of
// series (sorted by key) whose measure a measure_name = x or IN (...)
// matcher of where admits, found by bisection: a key starts with its
// measure name (scan.AppendSeriesKey), so one measure's series are
// contiguous. Nil when where has no such matcher (every series is a
// candidate); the other matchers are still checked per series.
func measureRanges(series []seriesMeta, where []scan.Matcher) [][2]int {
	var names []string
	for i := range where {
		m := &where[i]
		if m.Name != scan.ColMeasureName || (m.Op != scan.MatchEqual && m.Op != scan.MatchIn) {
			continue
		}
		vals := m.Values
		if m.Op == scan.MatchEqual {
			vals = vals[:min(len(vals), 1)]
		}
		if names == nil { // the first such matcher; later ones are checked per series
			names = append([]string{}, vals...)
		}
	}
	if names == nil {
		return nil
	}
	slices.Sort(names)
	names = slices.Compact(names)
	out := [][2]int{}
	var prefix []byte
	for _, name := range names {
		prefix = scan.AppendSeriesKey(prefix[:0], name, nil)
		p := string(prefix)
		lo := sort.Search(len(series), func(i int) bool { return series[i].key >= p })
		hi := lo + sort.Search(len(series)-lo, func(i int) bool {
			k := series[lo+i].key
			return !strings.HasPrefix(k, p)
		})
		if lo < hi {
			out = append(out, [2]int{lo, hi})
		}
	}
	slices.SortFunc(out, func(a, b [2]int) int { return a[0] - b[0] })
	return out
}

// nextSeries moves si to the next series index to consider: the next one,
// or the start of the next measure range; len(series) when none is left.
func (c *partCursor) nextSeries(n int) {
	c.si++
	if !c.ranged {
		return
	}
	for len(c.ranges) > 0 && c.si >= c.ranges[0][1] {
		c.ranges = c.ranges[1:]
	}
	switch {
	case len(c.ranges) == 0:
		c.si = n
	case c.si < c.ranges[0][0]:
		c.si = c.ranges[0][0]
	}
}

// Next implements scan.Batches.
func (c *partCursor) Next() bool {
	series := c.p.meta.series
	for c.err == nil {
		if c.si >= 0 && c.si < len(series) && c.req.Last && c.bi < len(series[c.si].blocks) {
			if ok := c.lastBlock(&series[c.si]); ok || c.err != nil {
				return ok
			}
		} else if c.si >= 0 && c.si < len(series) && !c.req.Last {
			s := &series[c.si]
			for c.bi < len(s.blocks) {
				b := &s.blocks[c.bi]
				c.bi++
				if b.maxT < c.req.MinTime || b.minT > c.req.MaxTime {
					continue
				}
				if err := c.decodeBlock(b); err != nil {
					c.err = fmt.Errorf("scan series %d of part %s: %w", c.si, c.p.name, err)
					return false
				}
				if len(c.out.Time) > 0 {
					return true
				}
			}
		}
		c.nextSeries(len(series))
		if c.si >= len(series) {
			return false
		}
		if c.si%64 == 0 {
			if err := c.ctx.Err(); err != nil {
				c.err = err
				return false
			}
		}
		s := &series[c.si]
		if s.maxT < c.req.MinTime || s.minT > c.req.MaxTime || !seriesMatches(s, c.req.Where, c.sets) {
			c.bi = len(s.blocks)
			continue
		}
		c.bi = 0
		c.startSeries(s)
	}
	return false
}

// lastBlock is Next for a request with Last: it decodes the series' blocks
// newest first (they ascend in time without overlap) until one has a row
// in range, and keeps that block's last such row. It reports whether it
// found one; the series is done either way.
func (c *partCursor) lastBlock(s *seriesMeta) bool {
	for i := len(s.blocks) - 1; i >= 0; i-- {
		b := &s.blocks[i]
		if b.minT > c.req.MaxTime {
			continue
		}
		if b.maxT < c.req.MinTime {
			break
		}
		if err := c.decodeBlock(b); err != nil {
			c.err = fmt.Errorf("scan series %d of part %s: %w", c.si, c.p.name, err)
			return false
		}
		if len(c.out.Time) > 0 {
			c.out.KeepLast()
			c.bi = len(s.blocks)
			return true
		}
	}
	c.bi = len(s.blocks)
	return false
}

// seriesMatches reports whether s satisfies every matcher of where; sets,
// when not nil, are where's scan.ValueSets.
func seriesMatches(s *seriesMeta, where []scan.Matcher, sets []map[string]struct{}) bool {
	for i := range where {
		m := &where[i]
		var v string
		var ok bool
		if m.Name == scan.ColMeasureName {
			v, ok = s.measure, true
		} else {
			for _, d := range s.dims {
				if d.Name == m.Name {
					v, ok = d.Value, true
					break
				}
			}
		}
		if sets != nil && sets[i] != nil {
			_, in := sets[i][v]
			match := ok && in // MatchIn
			if m.Op == scan.MatchNotIn {
				match = !ok || !in
			}
			if !match {
				return false
			}
			continue
		}
		if !m.Matches(v, ok) {
			return false
		}
	}
	return true
}

func (c *partCursor) startSeries(s *seriesMeta) {
	c.out.Series = scan.Series{Key: s.key, Dimensions: s.dims, MeasureName: s.measure}
	c.want = c.want[:0]
	if c.req.Columns == nil {
		c.want = append(c.want, s.cols...)
		return
	}
	for _, name := range c.req.Columns {
		if slices.ContainsFunc(c.want, func(d colDesc) bool { return d.name == name }) {
			continue
		}
		for _, d := range s.cols {
			if d.name == name {
				c.want = append(c.want, d)
			}
		}
	}
}

func (c *partCursor) decodeBlock(b *blockMeta) error {
	var raw []byte
	var err error
	if !b.time.valid() {
		c.ts = appendRegularTimes(c.ts[:0], b)
	} else {
		if raw, err = c.p.readChunk(!c.noCache, b.time); err != nil {
			return err
		}
		if c.ts, err = encoding.DecodeTimestamps(c.ts[:0], raw); err != nil {
			return fmt.Errorf("decode times: %w", err)
		}
	}
	if len(c.ts) != b.rows {
		return fmt.Errorf("decode times: %w: %d rows, index says %d", ErrCorrupt, len(c.ts), b.rows)
	}
	lo := sort.Search(len(c.ts), func(i int) bool { return c.ts[i] >= c.req.MinTime })
	hi := sort.Search(len(c.ts), func(i int) bool { return c.ts[i] > c.req.MaxTime })
	c.out.Time, c.out.Version, c.out.Columns = nil, nil, c.out.Columns[:0]
	if lo >= hi {
		return nil
	}
	c.out.Time = c.ts[lo:hi]
	if b.version.valid() {
		if raw, err = c.p.readChunk(!c.noCache, b.version); err != nil {
			return err
		}
		if c.vers, err = encoding.DecodeInts(c.vers[:0], raw); err != nil {
			return fmt.Errorf("decode versions: %w", err)
		}
		if len(c.vers) != b.rows {
			return fmt.Errorf("decode versions: %w: %d rows, index says %d", ErrCorrupt, len(c.vers), b.rows)
		}
		c.out.Version = c.vers[lo:hi]
	}
	for len(c.cols) < len(c.want) {
		c.cols = append(c.cols, scan.Column{})
	}
	for i, d := range c.want {
		col := &c.cols[i]
		if err := c.decodeColumn(b, d, col, lo, hi); err != nil {
			return fmt.Errorf("decode column %s: %w", d.name, err)
		}
		c.out.Columns = append(c.out.Columns, *col)
	}
	return nil
}

// decodeColumn fills col with rows [lo, hi) of column d of block b.
func (c *partCursor) decodeColumn(b *blockMeta, d colDesc, col *scan.Column, lo, hi int) error {
	n := hi - lo
	*col = scan.Column{Name: d.name, Type: d.typ, F: col.F[:0], I: col.I[:0], S: col.S[:0], B: col.B[:0], Null: col.Null[:0]}
	var cm *colMeta
	for i := range b.cols {
		if b.cols[i].name == d.name && b.cols[i].typ == d.typ {
			cm = &b.cols[i]
			break
		}
	}
	if cm == nil { // NULL in every row of this block
		for range n {
			col.Null = append(col.Null, true)
		}
		switch d.typ {
		case ingest.TypeDouble:
			col.F = append(col.F, make([]float64, n)...)
		case ingest.TypeBigint, ingest.TypeTimestamp:
			col.I = append(col.I, make([]int64, n)...)
		case ingest.TypeVarchar:
			col.S = append(col.S, make([]string, n)...)
		default:
			col.B = append(col.B, make([]bool, n)...)
		}
		return nil
	}
	c.present = c.present[:0]
	nvals := b.rows
	if cm.nulls.valid() {
		raw, err := c.p.readChunk(!c.noCache, cm.nulls)
		if err != nil {
			return err
		}
		if c.present, err = encoding.DecodeBools(c.present, raw); err != nil {
			return fmt.Errorf("decode null bitmap: %w", err)
		}
		if len(c.present) != b.rows {
			return fmt.Errorf("decode null bitmap: %w: %d rows, index says %d", ErrCorrupt, len(c.present), b.rows)
		}
		nvals = 0
		for _, p := range c.present {
			if p {
				nvals++
			}
		}
	}
	raw, err := c.p.readChunk(!c.noCache, cm.values)
	if err != nil {
		return err
	}
	var got int
	switch d.typ {
	case ingest.TypeDouble:
		c.fs, err = encoding.DecodeFloats(c.fs[:0], raw)
		got = len(c.fs)
		if err == nil && got == nvals {
			col.F = expand(col.F, c.fs, c.present, lo, hi)
		}
	case ingest.TypeBigint, ingest.TypeTimestamp:
		c.is, err = encoding.DecodeInts(c.is[:0], raw)
		got = len(c.is)
		if err == nil && got == nvals {
			col.I = expand(col.I, c.is, c.present, lo, hi)
		}
	case ingest.TypeVarchar:
		c.ss, err = encoding.DecodeStrings(c.ss[:0], raw)
		got = len(c.ss)
		if err == nil && got == nvals {
			col.S = expand(col.S, c.ss, c.present, lo, hi)
		}
	default:
		c.bs, err = encoding.DecodeBools(c.bs[:0], raw)
		got = len(c.bs)
		if err == nil && got == nvals {
			col.B = expand(col.B, c.bs, c.present, lo, hi)
		}
	}
	if err != nil {
		return fmt.Errorf("decode values: %w", err)
	}
	if got != nvals {
		return fmt.Errorf("decode values: %w: %d values, want %d", ErrCorrupt, got, nvals)
	}
	if len(c.present) > 0 && slices.Contains(c.present[lo:hi], false) {
		for _, p := range c.present[lo:hi] {
			col.Null = append(col.Null, !p)
		}
	} else {
		col.Null = nil
	}
	return nil
}

// expand appends rows [lo, hi) to dst, taking dense values for present rows
// and zero values for the others; present nil means every row is present.
func expand[T any](dst, dense []T, present []bool, lo, hi int) []T {
	if len(present) == 0 {
		return append(dst, dense[lo:hi]...)
	}
	var zero T
	j := 0
	for i := 0; i < lo; i++ {
		if present[i] {
			j++
		}
	}
	for i := lo; i < hi; i++ {
		if present[i] {
			dst = append(dst, dense[j])
			j++
		} else {
			dst = append(dst, zero)
		}
	}
	return dst
}

// Batch implements scan.Batches.
func (c *partCursor) Batch() *scan.Batch { return &c.out }

// Err implements scan.Batches.
func (c *partCursor) Err() error { return c.err }

// Close implements scan.Batches; the part reference belongs to the caller.
func (c *partCursor) Close() error { return nil }
