package magnetic

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/tidaldb/tidal/internal/tombstone"
	"github.com/tidaldb/tidal/magnetic/encoding"
	"github.com/tidaldb/tidal/query/scan"
)

// Deletes is what the magnetic tier needs of deletions (package
// internal/tombstone's Set has it): the live tombstones of a table, and the
// ID of the newest tombstone.
type Deletes interface {
	Table(tableID uint64) *tombstone.Table
	List() []tombstone.Tombstone
	LastID() uint64
}

// writers tracks the WritePart calls in flight and the newest tombstone
// each saw when it started: a write that started before a tombstone may
// install rows of it, so RewriteDeleted cannot call that tombstone clean
// until the write is done.
type writers struct {
	mu   sync.Mutex
	next uint64
	seen map[uint64]uint64 // write token → Deletes.LastID at its start
}

// beginWrite registers a write and returns the tombstones it must apply and
// the function that ends it.
func (s *Store) beginWrite(tableID uint64) (*tombstone.Table, func()) {
	if s.opts.Deletes == nil {
		return nil, func() {}
	}
	w := &s.writers
	w.mu.Lock()
	if w.seen == nil {
		w.seen = map[uint64]uint64{}
	}
	w.next++
	tok := w.next
	// LastID before Table: the tombstones applied are at least those up to
	// the ID recorded.
	w.seen[tok] = s.opts.Deletes.LastID()
	w.mu.Unlock()
	d := s.opts.Deletes.Table(tableID)
	return d, func() {
		w.mu.Lock()
		delete(w.seen, tok)
		w.mu.Unlock()
	}
}

// settledID is the newest tombstone ID that every write in flight has
// applied (math.MaxUint64 when none is in flight).
func (s *Store) settledID() uint64 {
	w := &s.writers
	w.mu.Lock()
	defer w.mu.Unlock()
	id := uint64(math.MaxUint64)
	for _, v := range w.seen {
		id = min(id, v)
	}
	return id
}

// deleteFilter drops the rows that d deletes from batches; the ranges of
// the current series are cached.
type deleteFilter struct {
	d   *tombstone.Table
	key string
	rs  []tombstone.Range
	set bool
}

func (f *deleteFilter) apply(b *scan.Batch) *scan.Batch {
	if f == nil || f.d == nil {
		return b
	}
	if !f.set || b.Series.Key != f.key || b.Series.Key == "" {
		f.key, f.rs, f.set = b.Series.Key, f.d.Ranges(&b.Series), true
	}
	return tombstone.Filter(b, f.rs)
}

// RewriteDeleted implements tombstone.Rewriter: it rewrites, one by one,
// the parts that hold rows of a live tombstone (each part alone, so
// deleting a range inside a part rewrites only that part; the new part
// takes the old one's place in order) and returns the IDs of the
// tombstones whose rows no part holds now. Parts whose every row is deleted
// are removed.
func (s *Store) RewriteDeleted(ctx context.Context) ([]uint64, error) {
	if s.opts.Deletes == nil {
		return nil, nil
	}
	s.maintMu.Lock()
	defer s.maintMu.Unlock()
	settled := s.settledID()
	live := s.opts.Deletes.List()
	if len(live) == 0 {
		return nil, nil
	}
	plans, err := s.planRewrites()
	if err != nil {
		return nil, err
	}
	for i, pl := range plans {
		err := ctx.Err()
		if err == nil {
			err = s.mergeParts(ctx, pl)
		}
		err = errors.Join(err, releaseParts(pl.inputs))
		if err != nil {
			for _, rest := range plans[i+1:] {
				err = errors.Join(err, releaseParts(rest.inputs))
			}
			return nil, fmt.Errorf("rewrite deleted rows: %w", err)
		}
		s.m.rewrites.Inc()
	}
	var clean []uint64
	for _, t := range live {
		if t.ID <= settled {
			clean = append(clean, t.ID)
		}
	}
	return clean, nil
}

// planRewrites returns one single-part plan per part holding deleted rows.
func (s *Store) planRewrites() ([]mergePlan, error) {
	type cand struct {
		tableID uint64
		pt      *partition
		p       *part
		d       *tombstone.Table
	}
	var cands []cand
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return nil, ErrClosed
	}
	for id, pts := range s.tables {
		d := s.opts.Deletes.Table(id)
		if d == nil {
			continue
		}
		for _, pt := range pts {
			for _, p := range pt.parts {
				p.incRef()
				cands = append(cands, cand{id, pt, p, d})
			}
		}
	}
	s.mu.RUnlock()
	var plans []mergePlan
	var errs []error
	for _, c := range cands {
		hit, err := partHoldsDeleted(c.p, c.d)
		if err != nil || !hit {
			errs = append(errs, err, c.p.decRef())
			continue
		}
		plans = append(plans, mergePlan{tableID: c.tableID, start: c.pt.start, width: c.pt.width,
			inputs: []*part{c.p}, creator: "delete"})
	}
	if err := errors.Join(errs...); err != nil {
		for _, pl := range plans {
			err = errors.Join(err, releaseParts(pl.inputs))
		}
		return nil, fmt.Errorf("plan rewrites: %w", err)
	}
	return plans, nil
}

// partHoldsDeleted reports whether p has a row that d deletes; it reads
// the timestamps of the blocks whose time span meets a deleted range.
func partHoldsDeleted(p *part, d *tombstone.Table) (bool, error) {
	var ts []int64
	for i := range p.meta.series {
		sm := &p.meta.series[i]
		rs := d.Ranges(&scan.Series{Key: sm.key, Dimensions: sm.dims, MeasureName: sm.measure})
		if !tombstone.Overlaps(rs, sm.minT, sm.maxT) {
			continue
		}
		for bi := range sm.blocks {
			b := &sm.blocks[bi]
			if !tombstone.Overlaps(rs, b.minT, b.maxT) {
				continue
			}
			if !b.time.valid() {
				ts = appendRegularTimes(ts[:0], b)
			} else {
				raw, err := p.readChunk(false, b.time)
				if err != nil {
					return false, err
				}
				if ts, err = encoding.DecodeTimestamps(ts[:0], raw); err != nil {
					return false, fmt.Errorf("decode times of part %s: %w", p.name, err)
				}
			}
			for _, t := range ts {
				if tombstone.Deleted(rs, t) {
					return true, nil
				}
			}
		}
	}
	return false, nil
}

// removeEmpty takes p, a part with no rows that install put in place of
// its inputs, out of the store.
func (s *Store) removeEmpty(tableID uint64, start int64, p *part) error {
	s.mu.Lock()
	found := false
	if pt := s.tables[tableID][start]; pt != nil {
		for i, q := range pt.parts {
			if q == p {
				pt.parts = append(pt.parts[:i], pt.parts[i+1:]...)
				found = true
				break
			}
		}
	}
	s.mu.Unlock()
	if !found {
		return nil
	}
	p.removed.Store(true)
	return p.decRef()
}
