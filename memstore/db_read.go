package memstore

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/memstore/chunkenc"
	"github.com/tidaldb/tidal/query/scan"
)

// Scan implements scan.Source: one batch per matching series with rows in
// [req.MinTime, req.MaxTime]. Series are selected through the dimension
// postings, chunks are pruned by their time range, and only the requested
// columns are decoded.
func (db *DB) Scan(ctx context.Context, req *scan.Request) (scan.Batches, error) {
	db.mu.RLock()
	var t *table
	for _, x := range db.byID {
		if x.database == req.Database && x.name == req.Table {
			t = x
			break
		}
	}
	db.mu.RUnlock()
	if t == nil {
		// The table may exist in the catalog with nothing in memory yet.
		if _, err := db.cat.Table(req.Database, req.Table); err != nil {
			return nil, err
		}
		return scan.NewSlice(nil), nil
	}
	return &seriesCursor{ctx: ctx, req: req, series: t.selectSeries(req.Where, db.nextRef.Load()), buffered: &db.oooBuffered}, nil
}

// ListSeries implements scan.SeriesLister from the series index: every
// series in memory that req.Where selects, whatever its time range.
func (db *DB) ListSeries(ctx context.Context, req *scan.Request) ([]scan.Series, error) {
	db.mu.RLock()
	var t *table
	for _, x := range db.byID {
		if x.database == req.Database && x.name == req.Table {
			t = x
			break
		}
	}
	db.mu.RUnlock()
	if t == nil {
		return nil, ctx.Err()
	}
	sel := t.selectSeries(req.Where, db.nextRef.Load())
	out := make([]scan.Series, len(sel))
	var dims dimSlab
	for i, s := range sel {
		out[i] = scan.Series{Key: s.key, Dimensions: dims.decode(s.key), MeasureName: s.measure()}
	}
	return out, ctx.Err()
}

// seriesCursor decodes one series per Next.
type seriesCursor struct {
	ctx    context.Context
	req    *scan.Request
	series []*memSeries
	i      int
	batch  scan.Batch
	err    error
	// buffered is the DB's count of out-of-order rows, which fill merges.
	buffered *atomic.Int64
	// dims decodes the batches' dimensions from the series keys.
	dims dimSlab
}

func (c *seriesCursor) Next() bool {
	for c.err == nil && c.i < len(c.series) {
		if c.i%64 == 0 {
			if err := c.ctx.Err(); err != nil {
				c.err = err
				return false
			}
		}
		s := c.series[c.i]
		c.i++
		ok, err := s.fill(&c.batch, c.req, c.buffered, &c.dims)
		if err != nil {
			c.err = err
			return false
		}
		if ok {
			return true
		}
	}
	return false
}

func (c *seriesCursor) Batch() *scan.Batch { return &c.batch }
func (c *seriesCursor) Err() error         { return c.err }
func (c *seriesCursor) Close() error       { return nil }

// fill decodes the rows of s inside the request's time range into b. It
// reports false when the series has no such rows.
func (s *memSeries) fill(b *scan.Batch, req *scan.Request, buffered *atomic.Int64, dims *dimSlab) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fillLocked(b, req, buffered, dims)
}

// fillLocked is fill with s.mu held. It merges the series' out-of-order
// rows first, so that the batch has every committed row.
func (s *memSeries) fillLocked(b *scan.Batch, req *scan.Request, buffered *atomic.Int64, dims *dimSlab) (bool, error) {
	if err := s.mergeOOO(buffered); err != nil {
		return false, fmt.Errorf("memstore: scan: %w", err)
	}
	if req.Last {
		// Chunks ascend in time without overlap (out-of-order rows were
		// merged above): the newest chunk with a row in range holds the
		// newest row.
		for i := len(s.chunks) - 1; i >= 0; i-- {
			c := s.chunks[i]
			if c.maxT < req.MinTime {
				break
			}
			if c.minT > req.MaxTime {
				continue
			}
			ok, err := s.fillChunks(b, req, s.chunks[i:i+1], dims)
			if err != nil || ok {
				b.KeepLast()
				return ok, err
			}
		}
		return false, nil
	}
	var sel []*chunk
	for _, c := range s.chunks {
		if c.maxT >= req.MinTime && c.minT <= req.MaxTime {
			sel = append(sel, c)
		}
	}
	return s.fillChunks(b, req, sel, dims)
}

// fillChunks decodes into b the rows of chunks sel (ascending) inside the
// request's time range; it reports false when there are none.
func (s *memSeries) fillChunks(b *scan.Batch, req *scan.Request, sel []*chunk, dims *dimSlab) (bool, error) {
	b.Series = scan.Series{Key: s.key, MeasureName: s.measure()}
	b.Time, b.Version = b.Time[:0], nil
	b.Columns = b.Columns[:0]
	if len(sel) == 0 {
		return false, nil
	}
	// Columns present in any selected chunk, in request order (or chunk
	// order when all are wanted).
	b.Series.Dimensions = dims.decode(s.key)
	var names []string
	var types []ingest.ValueType
	add := func(n string, t ingest.ValueType) {
		if indexOf(names, n) < 0 {
			names = append(names, n)
			types = append(types, t)
		}
	}
	if req.Columns != nil {
		for _, want := range req.Columns {
			for _, c := range sel {
				if i := c.col(want); i >= 0 {
					add(want, c.cols[i].typ)
					break
				}
			}
		}
	} else {
		for _, c := range sel {
			for _, cl := range c.cols {
				add(cl.name, cl.typ)
			}
		}
	}
	for i, n := range names {
		// Reuse the previous batch's buffers: a batch is valid only
		// until the next call to Next.
		var col scan.Column
		if len(b.Columns) < cap(b.Columns) {
			old := b.Columns[: len(b.Columns)+1 : cap(b.Columns)][len(b.Columns)]
			col.F, col.I = old.F[:0], old.I[:0]
		}
		col.Name, col.Type = n, types[i]
		b.Columns = append(b.Columns, col)
	}
	var anyVersion bool
	for _, c := range sel {
		if c.versionBytes() != nil {
			anyVersion = true
		}
	}
	var ts, vers []int64
	var err error
	for _, c := range sel {
		if ts, err = chunkenc.DecodeTimes(ts[:0], c.timeBytes(), c.n); err != nil {
			return false, fmt.Errorf("memstore: scan series %d: %w", s.ref, err)
		}
		lo, hi := 0, len(ts)
		for lo < hi && ts[lo] < req.MinTime {
			lo++
		}
		for hi > lo && ts[hi-1] > req.MaxTime {
			hi--
		}
		if lo == hi {
			continue
		}
		base := len(b.Time)
		b.Time = append(b.Time, ts[lo:hi]...)
		if anyVersion {
			if vb := c.versionBytes(); vb != nil {
				if vers, err = chunkenc.DecodeInts(vers[:0], vb, c.n); err != nil {
					return false, fmt.Errorf("memstore: scan series %d: %w", s.ref, err)
				}
				b.Version = append(b.Version, vers[lo:hi]...)
			} else {
				for range hi - lo {
					b.Version = append(b.Version, 1)
				}
			}
		}
		for ci := range b.Columns {
			col := &b.Columns[ci]
			if err := appendColumn(col, c, base, lo, hi); err != nil {
				return false, fmt.Errorf("memstore: scan series %d: %w", s.ref, err)
			}
		}
	}
	return len(b.Time) > 0, nil
}

// appendColumn appends rows [lo, hi) of chunk c's column col.Name to col,
// which already holds base rows.
func appendColumn(col *scan.Column, c *chunk, base, lo, hi int) error {
	i := c.col(col.Name)
	if i >= 0 && c.cols[i].typ == col.Type && (col.Type == ingest.TypeDouble || col.Type == ingest.TypeBigint || col.Type == ingest.TypeTimestamp) {
		return appendNumbers(col, c.cols[i], c.n, base, lo, hi)
	}
	var vals []ingest.Value
	if i >= 0 {
		var err error
		if vals, err = c.cols[i].decode(c.n); err != nil {
			return err
		}
		vals = vals[lo:hi]
	}
	n := hi - lo
	for r := range n {
		var v ingest.Value
		if vals != nil {
			v = vals[r]
		}
		if v.IsNull() && col.Null == nil {
			col.Null = make([]bool, base+r, base+n)
		}
		if col.Null != nil {
			col.Null = append(col.Null, v.IsNull())
		}
		switch col.Type {
		case ingest.TypeDouble:
			col.F = append(col.F, v.Float())
		case ingest.TypeBigint, ingest.TypeTimestamp:
			col.I = append(col.I, v.Int())
		case ingest.TypeVarchar:
			col.S = append(col.S, v.Str)
		case ingest.TypeBoolean:
			col.B = append(col.B, v.Bool())
		}
	}
	return nil
}

// appendNumbers is appendColumn for a DOUBLE, BIGINT or TIMESTAMP column
// the chunk has: the values decode straight into col's slice, with no
// ingest.Value per row.
func appendNumbers(col *scan.Column, cc *column, n, base, lo, hi int) error {
	var nulls []bool
	if nb := cc.nullBytes(); nb != nil {
		var err error
		if nulls, err = chunkenc.DecodeBools(nil, nb, n); err != nil {
			return fmt.Errorf("decode nulls of %q: %w", cc.name, err)
		}
		nulls = nulls[lo:hi]
	}
	var err error
	if col.Type == ingest.TypeDouble {
		if col.F, err = chunkenc.DecodeXOR(col.F, cc.valueBytes(), n); err != nil {
			return fmt.Errorf("decode %q: %w", cc.name, err)
		}
		if lo > 0 || hi < n {
			copy(col.F[base:], col.F[base+lo:base+hi])
			col.F = col.F[:base+hi-lo]
		}
		for r, null := range nulls {
			if null {
				col.F[base+r] = 0
			}
		}
	} else {
		if col.I, err = chunkenc.DecodeInts(col.I, cc.valueBytes(), n); err != nil {
			return fmt.Errorf("decode %q: %w", cc.name, err)
		}
		if lo > 0 || hi < n {
			copy(col.I[base:], col.I[base+lo:base+hi])
			col.I = col.I[:base+hi-lo]
		}
		for r, null := range nulls {
			if null {
				col.I[base+r] = 0
			}
		}
	}
	anyNull := false
	for _, null := range nulls {
		if null {
			anyNull = true
			break
		}
	}
	switch {
	case col.Null != nil && nulls != nil:
		col.Null = append(col.Null, nulls...)
	case col.Null != nil:
		for range hi - lo {
			col.Null = append(col.Null, false)
		}
	case anyNull:
		col.Null = make([]bool, base, base+hi-lo)
		col.Null = append(col.Null, nulls...)
	}
	return nil
}
