package magnetic

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/tidaldb/tidal/query/scan"
)

// Merge policy. A partition is hot while memstore may still flush into it
// (until its end plus the table's memory retention plus an hour has
// passed): merges then wait for hotMinParts parts no larger than the others
// together, which keeps write amplification near log4 of the flush count.
// Once cold, runs of two or more parts merge when no part is more than
// twice the others together, so a partition settles into one or a few
// parts while late writes never rewrite a big part for a small one.
const (
	maxMergeParts  = 16
	hotMinParts    = 4
	hotRatio       = 1
	coldMinParts   = 2
	coldRatio      = 2
	hotGrace       = time.Hour
	defaultMemHour = 6 // Timestream's default memory retention, when unknown
)

type mergePlan struct {
	tableID uint64
	start   int64
	width   time.Duration
	inputs  []*part // ascending order, references held
	creator string  // default "merge"
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
	now := s.now().UnixNano()
	var plans []mergePlan
	for id, pts := range s.tables {
		memory := time.Duration(defaultMemHour) * time.Hour
		if s.opts.Catalog != nil {
			if t, ok := s.opts.Catalog.TableByID(id); ok && t.Retention.MemoryHours > 0 {
				memory = time.Duration(t.Retention.MemoryHours) * time.Hour
			}
		}
		for start, pt := range pts {
			minParts, ratio := coldMinParts, int64(coldRatio)
			if hotUntil := partitionLast(start, pt.width+memory+hotGrace); hotUntil >= now {
				minParts, ratio = hotMinParts, hotRatio
			}
			lo, hi, ok := pickMerge(pt.parts, minParts, ratio)
			if !ok {
				continue
			}
			in := append([]*part(nil), pt.parts[lo:hi]...)
			for _, p := range in {
				p.incRef()
			}
			plans = append(plans, mergePlan{tableID: id, start: start, width: pt.width, inputs: in})
		}
	}
	return plans, nil
}

// pickMerge chooses a run ps[lo:hi] of minParts to maxMergeParts parts,
// adjacent in order (so that the merged part can take the largest order
// without changing which row wins a tie), in which no part is larger than
// ratio times all the others together. The output is then at least
// (1+1/ratio) times as large as its largest input, so a row is rewritten
// at most log(partition size / first part size) / log(1+1/ratio) times:
// write amplification is logarithmic in the partition size. Among
// candidate runs the one with the most parts wins, then the smallest.
func pickMerge(ps []*part, minParts int, ratio int64) (int, int, bool) {
	bestLo, bestHi := 0, 0
	var bestSize int64
	for lo := range ps {
		var sum, biggest int64
		for hi := lo + 1; hi <= len(ps) && hi-lo <= maxMergeParts; hi++ {
			sz := ps[hi-1].size
			sum += sz
			biggest = max(biggest, sz)
			if hi-lo < minParts || biggest > ratio*(sum-biggest) {
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
	if pl.creator != "" {
		meta.creator = pl.creator
	}
	// Rows of live tombstones are left out of the merged part.
	var del *deleteFilter
	if s.opts.Deletes != nil {
		if d := s.opts.Deletes.Table(pl.tableID); d != nil {
			del = &deleteFilter{d: d}
		}
	}
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
		ins[i] = &mergeInput{cur: cur, del: del}
		ins[i].next()
	}
	seq := s.seq.Add(1)
	p, err := s.writePart(pl.tableID, pl.start, pl.width, seq, meta, func(w *partWriter) error {
		return mergeInto(ctx, w, ins)
	})
	if err != nil {
		return err
	}
	s.m.merges.Inc()
	s.m.rowsMerged.Add(float64(p.meta.rows))
	s.log.Debug("merged parts", s.tableAttrs(pl.tableID, "part", p.path, "inputs", len(pl.inputs), "rows", p.meta.rows)...)
	if err := s.install(pl.tableID, pl.start, pl.width, p, pl.inputs); err != nil {
		return err
	}
	if p.meta.rows == 0 { // every row was deleted
		return s.removeEmpty(pl.tableID, pl.start, p)
	}
	return nil
}

// mergeInput is one part being merged: its cursor yields one block of one
// series at a time, and pos is the next row of that block.
type mergeInput struct {
	cur *partCursor
	ok  bool
	pos int
	del *deleteFilter // nil: nothing deleted
}

// next moves to the next block that has rows left once deleted rows are
// dropped.
func (in *mergeInput) next() {
	for {
		in.ok, in.pos = in.cur.Next(), 0
		if !in.ok || in.del == nil {
			return
		}
		if b := in.del.apply(&in.cur.out); b != &in.cur.out {
			in.cur.out = *b
		}
		if len(in.cur.out.Time) > 0 {
			return
		}
	}
}

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
			var err error
			if active, err = mergeStep(active, key, &buf); err != nil {
				return err
			}
			for len(buf.time) >= 2*BlockRows {
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

// mergeStep moves the next rows of one series from the inputs active (all
// positioned on series key, ascending order) to buf, and returns the inputs
// still on that series. The head with the smallest time wins, with the
// highest version and then the newer input; when no other input has a row
// at that time, the winner's rows before the next other head are copied as
// one run.
func mergeStep(active []*mergeInput, key string, buf *rowBuffer) ([]*mergeInput, error) {
	var win *mergeInput
	var t, ver int64
	t2, ties := int64(math.MaxInt64), 0
	for _, in := range active {
		b := &in.cur.out
		ti, vi := b.Time[in.pos], int64(1)
		if b.Version != nil {
			vi = b.Version[in.pos]
		}
		switch {
		case win == nil || ti < t:
			if win != nil {
				t2 = min(t2, t)
			}
			win, t, ver, ties = in, ti, vi, 1
		case ti == t:
			ties++
			if vi >= ver {
				win, ver = in, vi
			}
		default:
			t2 = min(t2, ti)
		}
	}
	wb := &win.cur.out
	if ties == 1 {
		end := win.pos + 1
		for end < len(wb.Time) && wb.Time[end] < t2 {
			end++
		}
		buf.appendRange(wb, win.pos, end, true)
		win.pos = end
	} else {
		buf.appendRow(wb, win.pos)
		for _, in := range active {
			if in.cur.out.Time[in.pos] == t {
				in.pos++
			}
		}
	}
	keep := active[:0]
	for _, in := range active {
		if in.pos == len(in.cur.out.Time) {
			in.next()
			if !in.ok || in.key() != key {
				if err := in.cur.Err(); err != nil {
					return nil, err
				}
				continue
			}
		}
		keep = append(keep, in)
	}
	return keep, nil
}
