package magnetic

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/query/scan"
)

func errorsJoin(errs ...error) error { return errors.Join(errs...) }

// Scan implements scan.Source over every part of the table: partitions and
// parts are pruned by time, series by the matchers, blocks by time; only
// the requested columns are decoded. Rows of a series in several parts are
// merged with scan.Merge semantics (highest version, then newest part),
// streaming block by block.
// The cursor holds a reference on each part it reads until Close.
func (s *Store) Scan(ctx context.Context, req *scan.Request) (scan.Batches, error) {
	if s.opts.Catalog == nil {
		return nil, fmt.Errorf("scan %s.%s: magnetic: no catalog", req.Database, req.Table)
	}
	t, err := s.opts.Catalog.Table(req.Database, req.Table)
	if err != nil {
		if catalog.IsNotFound(err) {
			return nil, fmt.Errorf("scan %s.%s: %w", req.Database, req.Table, ErrUnknownTable)
		}
		return nil, fmt.Errorf("scan %s.%s: %w", req.Database, req.Table, err)
	}
	return s.ScanTable(ctx, t.ID, req)
}

// ScanTable is Scan for a table ID, ignoring req.Database and req.Table.
func (s *Store) ScanTable(ctx context.Context, tableID uint64, req *scan.Request) (scan.Batches, error) {
	for _, m := range req.Where {
		switch m.Op {
		case scan.MatchEqual, scan.MatchNotEqual, scan.MatchPrefix:
			if len(m.Values) == 0 {
				return nil, fmt.Errorf("scan table %d: matcher on %s: %w", tableID, m.Name, ErrBadMatcher)
			}
		}
	}
	groups, err := s.acquire(tableID, req.MinTime, req.MaxTime)
	if err != nil {
		return nil, err
	}
	cur := &tableCursor{last: req.Last}
	for _, g := range groups {
		cur.held = append(cur.held, g...)
		var in scan.Batches
		if len(g) == 1 {
			in = newPartCursor(ctx, g[0], req)
		} else {
			in = newPartsCursor(ctx, g, req)
		}
		cur.inputs = append(cur.inputs, &chainInput{b: in})
	}
	for _, in := range cur.inputs {
		in.advance()
	}
	return cur, nil
}

// acquire returns, per partition overlapping [minT, maxT] in time order,
// the parts overlapping it in ascending order, each with a reference taken.
func (s *Store) acquire(tableID uint64, minT, maxT int64) ([][]*part, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrClosed
	}
	var pts []*partition
	for _, pt := range s.tables[tableID] {
		if pt.start <= maxT && partitionLast(pt.start, pt.width) >= minT {
			pts = append(pts, pt)
		}
	}
	slices.SortFunc(pts, func(a, b *partition) int { return cmpI(a.start, b.start) })
	var out [][]*part
	for _, pt := range pts {
		var g []*part
		for _, p := range pt.parts {
			if p.meta.maxT >= minT && p.meta.minT <= maxT {
				p.incRef()
				g = append(g, p)
			}
		}
		if len(g) > 0 {
			out = append(out, g)
		}
	}
	return out, nil
}

func cmpI(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// chainInput is one partition's cursor inside a tableCursor.
type chainInput struct {
	b  scan.Batches
	ok bool
}

func (in *chainInput) advance() { in.ok = in.b.Next() }

// tableCursor concatenates partition cursors: it emits series in ascending
// key order and, for each series, the partitions' batches in time order.
// Partitions do not overlap in time, so no de-duplication is needed here.
type tableCursor struct {
	inputs  []*chainInput // ascending partition start
	held    []*part
	last    bool // the request's Last: a series comes from its newest partition only
	key     string
	cur     int  // input the last batch came from; -1 for none
	started bool // cur is valid
	err     error
	closed  bool
}

// Next implements scan.Batches.
func (c *tableCursor) Next() bool {
	if c.err != nil {
		return false
	}
	if c.started {
		in := c.inputs[c.cur]
		in.advance()
		if !in.ok {
			if err := in.b.Err(); err != nil {
				c.err = err
				return false
			}
		}
		if in.ok && in.b.Batch().Series.Key == c.key {
			return true
		}
		for i := c.cur + 1; i < len(c.inputs); i++ {
			if in := c.inputs[i]; in.ok && in.b.Batch().Series.Key == c.key {
				c.cur = i
				return true
			}
		}
	}
	c.started = false
	found := false
	for i, in := range c.inputs {
		if in.ok && (!found || in.b.Batch().Series.Key < c.key) {
			c.key, c.cur, found = in.b.Batch().Series.Key, i, true
		}
	}
	if !found {
		for _, in := range c.inputs {
			if err := in.b.Err(); err != nil {
				c.err = err
				break
			}
		}
		return false
	}
	if c.last {
		// Partitions do not overlap in time: the newest one holding the
		// series has its newest row; skip the others' batches of it.
		for i := len(c.inputs) - 1; i > c.cur; i-- {
			if in := c.inputs[i]; in.ok && in.b.Batch().Series.Key == c.key {
				c.cur = i
				break
			}
		}
		for i, in := range c.inputs {
			if i == c.cur {
				continue
			}
			for in.ok && in.b.Batch().Series.Key == c.key {
				in.advance()
			}
			if !in.ok {
				if err := in.b.Err(); err != nil {
					c.err = err
					return false
				}
			}
		}
	}
	c.started = true
	return true
}

// Batch implements scan.Batches.
func (c *tableCursor) Batch() *scan.Batch { return c.inputs[c.cur].b.Batch() }

// Err implements scan.Batches.
func (c *tableCursor) Err() error { return c.err }

// Close implements scan.Batches: it closes the inputs and releases the
// parts. It is safe to call twice.
func (c *tableCursor) Close() error {
	if c.closed {
		return nil
	}
	c.closed = true
	var errs []error
	for _, in := range c.inputs {
		errs = append(errs, in.b.Close())
	}
	for _, p := range c.held {
		errs = append(errs, p.decRef())
	}
	return errors.Join(errs...)
}

// partsCursor merges the parts of one partition for a scan with the same
// k-way merge as a background merge (mergeStep): series in key order, rows
// in time order with version de-duplication, at most one decoded block per
// part and about one block of output in memory.
type partsCursor struct {
	ctx    context.Context
	req    *scan.Request
	ins    []*mergeInput
	active []*mergeInput
	key    string
	series scan.Series
	buf    rowBuffer
	out    scan.Batch
	err    error
	n      int
}

func newPartsCursor(ctx context.Context, parts []*part, req *scan.Request) *partsCursor {
	c := &partsCursor{ctx: ctx, req: req}
	for _, p := range parts {
		in := &mergeInput{cur: newPartCursor(ctx, p, req)}
		in.next()
		c.ins = append(c.ins, in)
	}
	return c
}

// Next implements scan.Batches.
func (c *partsCursor) Next() bool {
	if c.err != nil {
		return false
	}
	c.buf.reset()
	for len(c.buf.time) == 0 {
		if len(c.active) == 0 {
			found := false
			for _, in := range c.ins {
				if in.ok && (!found || in.key() < c.key) {
					c.key, c.series, found = in.key(), in.cur.out.Series, true
				}
			}
			if !found {
				for _, in := range c.ins {
					if err := in.cur.Err(); err != nil {
						c.err = err
						break
					}
				}
				return false
			}
			if c.n++; c.n%64 == 0 {
				if err := c.ctx.Err(); err != nil {
					c.err = err
					return false
				}
			}
			for _, in := range c.ins {
				if in.ok && in.key() == c.key {
					c.active = append(c.active, in)
				}
			}
		}
		for len(c.active) > 0 && len(c.buf.time) < BlockRows {
			var err error
			if c.active, err = mergeStep(c.active, c.key, &c.buf); err != nil {
				c.err = err
				return false
			}
		}
	}
	c.emit()
	if c.req.Last {
		c.out.KeepLast()
	}
	return true
}

// emit turns the buffer into the output batch, columns in request order
// (by name when all columns were requested).
func (c *partsCursor) emit() {
	c.out = scan.Batch{Series: c.series, Time: c.buf.time, Version: c.buf.version, Columns: c.out.Columns[:0]}
	rank := func(name string) int {
		for i, n := range c.req.Columns {
			if n == name {
				return i
			}
		}
		return -1
	}
	cols := c.buf.cols
	slices.SortFunc(cols, func(a, b *colBuf) int {
		if c.req.Columns != nil {
			return rank(a.name) - rank(b.name)
		}
		return strings.Compare(a.name, b.name)
	})
	for _, col := range cols {
		c.out.Columns = append(c.out.Columns, scan.Column{Name: col.name, Type: col.typ, F: col.f, I: col.i, S: col.s, B: col.b, Null: col.null})
	}
}

// Batch implements scan.Batches.
func (c *partsCursor) Batch() *scan.Batch { return &c.out }

// Err implements scan.Batches.
func (c *partsCursor) Err() error { return c.err }

// Close implements scan.Batches; part references belong to the caller.
func (c *partsCursor) Close() error { return nil }
