package magnetic

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/tidaldb/tidal/query/scan"
)

// maxMergeParts bounds the fan-in of one merge.
const maxMergeParts = 16

type mergePlan struct {
	tableID uint64
	start   int64
	inputs  []*part // ascending order, references held
}

// Merge runs one merge round now: in every partition it merges at most one
// run of parts chosen by the size-tiered policy (pickMerge), streaming
// series by series, and returns the number of merges done. Rows with equal
// (series, time) are de-duplicated as in a scan.
func (s *Store) Merge(ctx context.Context) (int, error) {
	s.maintMu.Lock()
	defer s.maintMu.Unlock()
	plans, err := s.planMerges()
	if err != nil {
		return 0, err
	}
	n := 0
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
			return n, fmt.Errorf("merge parts: %w", err)
		}
		n++
	}
	return n, nil
}

func (s *Store) planMerges() ([]mergePlan, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrClosed
	}
	var plans []mergePlan
	for id, pts := range s.tables {
		for start, pt := range pts {
			lo, hi, ok := pickMerge(pt.parts)
			if !ok {
				continue
			}
			in := append([]*part(nil), pt.parts[lo:hi]...)
			for _, p := range in {
				p.incRef()
			}
			plans = append(plans, mergePlan{tableID: id, start: start, inputs: in})
		}
	}
	return plans, nil
}

// pickMerge chooses a run ps[lo:hi] of 2 to maxMergeParts parts, adjacent
// in order (so that the merged part can take the largest order without
// changing which row wins a tie), in which no part is larger than twice all
// the others together. The output is then at least 1.5 times as large as
// its largest input, so a row is rewritten at most log1.5(partition size /
// first part size) times: write amplification is logarithmic in the
// partition size. Among candidate runs the one with the most parts wins,
// then the smallest.
func pickMerge(ps []*part) (int, int, bool) {
	bestLo, bestHi := 0, 0
	var bestSize int64
	for lo := range ps {
		var sum, biggest int64
		for hi := lo + 1; hi <= len(ps) && hi-lo <= maxMergeParts; hi++ {
			sz := ps[hi-1].size
			sum += sz
			biggest = max(biggest, sz)
			if hi-lo < 2 || biggest > 2*(sum-biggest) {
				continue
			}
			n, best := hi-lo, bestHi-bestLo
			if n > best || n == best && sum < bestSize {
				bestLo, bestHi, bestSize = lo, hi, sum
			}
		}
	}
	return bestLo, bestHi, bestHi > bestLo
}

// mergeParts writes the merge of pl.inputs as one part and swaps it in.
func (s *Store) mergeParts(ctx context.Context, pl mergePlan) error {
	meta := partMeta{tableID: pl.tableID, partStart: pl.start, creator: "merge"}
	for _, p := range pl.inputs {
		meta.level = max(meta.level, p.meta.level+1)
		meta.order = max(meta.order, p.meta.order)
		meta.replaces = append(meta.replaces, p.name)
	}
	req := &scan.Request{MinTime: math.MinInt64, MaxTime: math.MaxInt64}
	ins := make([]*mergeInput, len(pl.inputs))
	for i, p := range pl.inputs {
		cur := newPartCursor(ctx, p, req)
		cur.noCache = true // a merge reads each chunk once
		ins[i] = &mergeInput{cur: cur}
		ins[i].next()
	}
	seq := s.seq.Add(1)
	p, err := s.writePart(pl.tableID, pl.start, seq, meta, func(w *partWriter) error {
		return mergeInto(ctx, w, ins)
	})
	if err != nil {
		return err
	}
	s.m.merges.Inc()
	s.m.rowsMerged.Add(float64(p.meta.rows))
	s.log.Debug("merged parts", "table", pl.tableID, "part", p.path, "inputs", len(pl.inputs), "rows", p.meta.rows)
	return s.install(pl.tableID, pl.start, p, pl.inputs)
}

// mergeInput is one part being merged: its cursor yields one block of one
// series at a time, and pos is the next row of that block.
type mergeInput struct {
	cur *partCursor
	ok  bool
	pos int
}

func (in *mergeInput) next() { in.ok, in.pos = in.cur.Next(), 0 }

func (in *mergeInput) key() string { return in.cur.out.Series.Key }

// mergeInto streams the merge of ins (ascending order: later inputs are
// newer) into w: series in key order, rows of a series by a k-way merge on
// time keeping the highest version and, on equal versions, the newer
// input. At most one decoded block per input and two blocks of output are
// held in memory.
func mergeInto(ctx context.Context, w *partWriter, ins []*mergeInput) error {
	var buf rowBuffer
	active := make([]*mergeInput, 0, len(ins))
	for n := 0; ; n++ {
		key, found := "", false
		for _, in := range ins {
			if in.ok && (!found || in.key() < key) {
				key, found = in.key(), true
			}
		}
		if !found {
			break
		}
		if n%64 == 63 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		active = active[:0]
		for _, in := range ins {
			if in.ok && in.key() == key {
				active = append(active, in)
			}
		}
		if err := w.beginSeries(key); err != nil {
			return err
		}
		buf.reset()
		for len(active) > 0 {
			var win *mergeInput
			var t, ver int64
			for _, in := range active {
				b := &in.cur.out
				ti, vi := b.Time[in.pos], int64(1)
				if b.Version != nil {
					vi = b.Version[in.pos]
				}
				if win == nil || ti < t || ti == t && vi >= ver {
					win, t, ver = in, ti, vi
				}
			}
			buf.appendRow(&win.cur.out, win.pos)
			keep := active[:0]
			for _, in := range active {
				if in.cur.out.Time[in.pos] == t {
					in.pos++
					if in.pos == len(in.cur.out.Time) {
						in.next()
						if !in.ok || in.key() != key {
							if err := in.cur.Err(); err != nil {
								return err
							}
							continue
						}
					}
				}
				keep = append(keep, in)
			}
			active = keep
			if len(buf.time) >= 2*BlockRows {
				if err := w.writeRows(&buf, 0, BlockRows); err != nil {
					return err
				}
				buf.discard(BlockRows)
			}
		}
		if err := w.writeRows(&buf, 0, len(buf.time)); err != nil {
			return err
		}
		w.endSeries()
	}
	for _, in := range ins {
		if err := in.cur.Err(); err != nil {
			return err
		}
	}
	return nil
}
