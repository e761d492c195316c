package tombstone

import (
	"context"
	"errors"
	"fmt"

	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/query/scan"
)

// Catalog resolves table names to the IDs tombstones are kept by;
// *catalog.Catalog has it.
type Catalog interface {
	Table(db, name string) (catalog.Table, error)
}

// Source returns src with the rows of live tombstones hidden: every scan
// sees the tombstones present when it starts. Series left with no rows are
// not returned.
func (s *Set) Source(src scan.Source, cat Catalog) scan.Source {
	return &source{set: s, src: src, cat: cat}
}

type source struct {
	set *Set
	src scan.Source
	cat Catalog
}

// deletes returns the tombstones of req's table, nil when none (or the
// table is unknown: src reports that).
func (f *source) deletes(req *scan.Request) *Table {
	if f.set.Len() == 0 { // the usual case: no catalog lookup
		return nil
	}
	t, err := f.cat.Table(req.Database, req.Table)
	if err != nil {
		return nil
	}
	return f.set.Table(t.ID)
}

func (f *source) Scan(ctx context.Context, req *scan.Request) (scan.Batches, error) {
	d := f.deletes(req)
	if d != nil && req.Last {
		// The newest row may be deleted: the tiers must return the rows
		// before it too. (The reader still uses only the newest left.)
		r := *req
		r.Last = false
		req = &r
	}
	bs, err := f.src.Scan(ctx, req)
	if err != nil || d == nil {
		return bs, err
	}
	return &filterCursor{in: bs, d: d}, nil
}

// ListSeries implements scan.SeriesLister: from src's index when the table
// has no tombstones, else by a filtered scan (an index cannot tell whether
// a series has rows left).
func (f *source) ListSeries(ctx context.Context, req *scan.Request) ([]scan.Series, error) {
	d := f.deletes(req)
	ss, err := scan.ListSeries(ctx, f.src, req)
	if err != nil || d == nil {
		return ss, err
	}
	// Series without a deleted range stand; the others are checked by one
	// filtered scan, unless their ranges cover the request's.
	out, check := ss[:0], false
	for _, s := range ss {
		rs := d.Ranges(&s)
		switch {
		case rs == nil:
			out = append(out, s)
		case covers(rs, req.MinTime, req.MaxTime):
		default:
			check = true
			out = append(out, s)
		}
	}
	if !check {
		return out, nil
	}
	left, err := scan.ListSeries(ctx, scanOnly{f}, req)
	if err != nil {
		return nil, err
	}
	has := make(map[string]bool, len(left))
	for _, s := range left {
		has[s.Key] = true
	}
	kept := out[:0]
	for _, s := range out {
		if has[s.Key] || d.Ranges(&s) == nil {
			kept = append(kept, s)
		}
	}
	return kept, nil
}

// covers reports whether rs (as Table.Ranges returns them) include every
// time in [lo, hi].
func covers(rs []Range, lo, hi int64) bool {
	for _, r := range rs {
		if r.Min <= lo && lo <= r.Max {
			if r.Max >= hi {
				return true
			}
			lo = r.Max + 1
		}
	}
	return false
}

// scanOnly hides the ListSeries method of a source.
type scanOnly struct{ s scan.Source }

func (o scanOnly) Scan(ctx context.Context, req *scan.Request) (scan.Batches, error) {
	return o.s.Scan(ctx, req)
}

// filterCursor drops deleted rows from the batches of in.
type filterCursor struct {
	in  scan.Batches
	d   *Table
	key string // series whose ranges rs are
	rs  []Range
	out *scan.Batch
}

func (c *filterCursor) Next() bool {
	for c.in.Next() {
		b := c.in.Batch()
		if b.Series.Key != c.key || c.key == "" {
			c.key, c.rs = b.Series.Key, c.d.Ranges(&b.Series)
		}
		c.out = Filter(b, c.rs)
		if c.out.Len() > 0 {
			return true
		}
	}
	return false
}

func (c *filterCursor) Batch() *scan.Batch { return c.out }
func (c *filterCursor) Err() error         { return c.in.Err() }
func (c *filterCursor) Close() error       { return c.in.Close() }

// Holder is a tier whose rows the cleaner checks before it drops a
// tombstone: the memory tier, read through its scan. Checkpoint makes its
// log forget rows it no longer holds (memstore's WAL checkpoint), so that a
// restart cannot bring back rows a dropped tombstone hid.
type Holder interface {
	scan.Source
	Checkpoint() error
}

// Rewriter is a tier that rewrites its stored data without the rows of the
// live tombstones: the magnetic tier. RewriteDeleted returns the IDs of the
// tombstones it holds no row of once it is done.
type Rewriter interface {
	RewriteDeleted(ctx context.Context) (clean []uint64, err error)
}

// Clean applies the tombstones: it has rw rewrite its parts, then drops
// every tombstone that rw reports clean and of which mem holds no row, and
// the tombstones of tables that no longer exist. It returns the number
// dropped. The server runs it after the magnetic tier's merges; Prometheus's
// clean_tombstones runs it at once.
func (s *Set) Clean(ctx context.Context, rw Rewriter, mem Holder, cat TableChecker) (int, error) {
	if s.Len() == 0 {
		return 0, nil
	}
	clean, err := rw.RewriteDeleted(ctx)
	if err != nil {
		return 0, fmt.Errorf("clean tombstones: %w", err)
	}
	var drop, cands []uint64
	live := s.List()
	for _, t := range live {
		if _, ok := cat.TableByID(t.TableID); !ok {
			drop = append(drop, t.ID)
		} else if containsID(clean, t.ID) {
			cands = append(cands, t.ID)
		}
	}
	// A candidate whose rows the memory tier no longer holds is dropped
	// once a checkpoint has made its log forget them too; rows that came
	// back meanwhile keep it.
	for round := 0; round < 2 && len(cands) > 0; round++ {
		keep := cands[:0]
		for _, t := range live {
			if !containsID(cands, t.ID) {
				continue
			}
			held, err := holds(ctx, mem, &t)
			if err != nil {
				return 0, fmt.Errorf("clean tombstones: %w", err)
			}
			if !held {
				keep = append(keep, t.ID)
			}
		}
		cands = keep
		if round == 0 && len(cands) > 0 {
			if err := mem.Checkpoint(); err != nil {
				return 0, fmt.Errorf("clean tombstones: %w", err)
			}
		}
	}
	drop = append(drop, cands...)
	if err := s.Remove(drop); err != nil {
		return 0, fmt.Errorf("clean tombstones: %w", err)
	}
	return len(drop), nil
}

// TableChecker tells whether a table still exists; *catalog.Catalog has
// it.
type TableChecker interface {
	TableByID(id uint64) (catalog.Table, bool)
}

func containsID(ids []uint64, id uint64) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// holds reports whether src has a row that t deletes.
func holds(ctx context.Context, src scan.Source, t *Tombstone) (bool, error) {
	bs, err := src.Scan(ctx, t.Request())
	if errors.Is(err, scan.ErrUnknownTable) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	found := false
	for !found && bs.Next() {
		b := bs.Batch()
		found = b.Len() > 0 && t.MatchesSeries(&b.Series)
	}
	return found, errors.Join(bs.Err(), bs.Close())
}

// Count returns the number of series of src that t selects with a row in
// its time range (the answer of a DELETE).
func Count(ctx context.Context, src scan.Source, t *Tombstone) (int, error) {
	bs, err := src.Scan(ctx, t.Request())
	if errors.Is(err, scan.ErrUnknownTable) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	n, last := 0, ""
	for bs.Next() {
		b := bs.Batch()
		if b.Len() == 0 || b.Series.Key == last || !t.MatchesSeries(&b.Series) {
			continue
		}
		last = b.Series.Key
		n++
	}
	return n, errors.Join(bs.Err(), bs.Close())
}
