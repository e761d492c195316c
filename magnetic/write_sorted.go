package magnetic

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/tidaldb/tidal/query/scan"
)

// SortedSource is an optional interface of the source WritePart drains.
// When SeriesSorted reports true, every batch carries its Series.Key, keys
// come in ascending order and the batches of one series come together (a
// source that breaks this costs extra parts, not rows);
// Bounds estimates the rows and the time range of the whole input, used
// only to choose the partition width of a table's first part. WritePart
// then holds one series at a time rather than the whole input, streaming
// each series into the parts of the partitions it touches (the memory
// tier's flush hands over every series this way).
type SortedSource interface {
	scan.Batches
	SeriesSorted() bool
	Bounds() (rows int, minT, maxT int64)
}

// maxOpenWrites bounds the parts writeSorted streams at once.
const maxOpenWrites = 16

// openWrite is a part being streamed by writeSorted.
type openWrite struct {
	start int64
	seq   uint64
	w     *partWriter
}

// writeSorted is WritePart for a SortedSource: memory is one series' rows
// plus the indexes of the parts being written.
func (s *Store) writeSorted(ctx context.Context, tableID uint64, src SortedSource) (infos []PartInfo, err error) {
	d, done := s.beginWrite(tableID)
	defer done()
	del := &deleteFilter{d: d}
	var width time.Duration
	open := map[int64]*openWrite{}
	defer func() {
		if err != nil {
			for _, ow := range open {
				ow.w.abort()
			}
		}
	}()
	// completeAll makes the open parts durable, in partition order, and
	// installs them.
	completeAll := func() error {
		starts := make([]int64, 0, len(open))
		for st := range open {
			starts = append(starts, st)
		}
		slices.Sort(starts)
		for _, start := range starts {
			ow := open[start]
			delete(open, start)
			p, err := s.completePart(tableID, ow.seq, ow.w)
			if err != nil {
				return err
			}
			info := p.info(tableID, start, width)
			if err := s.install(tableID, start, width, p, nil); err != nil {
				return err
			}
			infos = append(infos, info)
		}
		return nil
	}
	rb := &rowBuffer{}
	key, have := "", false
	// series writes the buffered rows of series key to the parts of the
	// partitions they fall in.
	series := func() error {
		rb.sortDedup()
		if len(rb.time) == 0 {
			return nil
		}
		if width == 0 {
			rows, minT, maxT := src.Bounds()
			if rows < len(rb.time) {
				rows, minT, maxT = len(rb.time), rb.time[0], rb.time[len(rb.time)-1]
			}
			w, err := s.tableWidth(tableID, rows, minT, maxT)
			if err != nil {
				return err
			}
			width = w
		}
		for lo := 0; lo < len(rb.time); {
			start, ok := partitionStart(rb.time[lo], width)
			if !ok {
				return fmt.Errorf("time %d is before the first partition of width %v", rb.time[lo], width)
			}
			last := partitionLast(start, width)
			hi := lo
			for hi < len(rb.time) && rb.time[hi] <= last {
				hi++
			}
			ow := open[start]
			if ow == nil && len(open) >= maxOpenWrites {
				// A write over many partitions (a backfill of months at an
				// hour width) completes its parts in rounds, so that open
				// files and write buffers stay bounded; a later round's
				// part of a partition holds other series.
				if err := completeAll(); err != nil {
					return err
				}
			}
			if ow == nil {
				seq := s.seq.Add(1)
				meta := partMeta{tableID: tableID, partStart: start, creator: "write", order: seq}
				w, err := s.createPartition(tableID, start, width, seq, meta)
				if err != nil {
					return err
				}
				ow = &openWrite{start: start, seq: seq, w: w}
				open[start] = ow
			}
			if err := ow.w.addSeries(key, rb, lo, hi); err != nil {
				return err
			}
			lo = hi
		}
		return nil
	}
	for n := 0; src.Next(); n++ {
		if n%256 == 255 {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("write part: %w", err)
			}
		}
		b := src.Batch()
		if b.Series.Key == "" {
			return nil, fmt.Errorf("write part: sorted source: batch without a series key")
		}
		if !have || b.Series.Key != key {
			if have {
				if err := series(); err != nil {
					return nil, fmt.Errorf("write part: %w", err)
				}
			}
			if have && b.Series.Key < key {
				// The source broke its promise: complete the parts so far
				// and go on in new ones. Later parts win on equal rows, as
				// later batches do.
				s.log.Warn("sorted part source out of order; writing more parts", "table", tableID, "key", b.Series.Key, "after", key)
				if err := completeAll(); err != nil {
					return nil, fmt.Errorf("write part: %w", err)
				}
			}
			rb.reset()
			key, have = b.Series.Key, true
		}
		if d != nil { // rows of live tombstones are not written
			if b = del.apply(b); b.Len() == 0 {
				continue
			}
		}
		rb.appendBatch(b)
	}
	if err := src.Err(); err != nil {
		return nil, fmt.Errorf("write part: read batches: %w", err)
	}
	if have {
		if err := series(); err != nil {
			return nil, fmt.Errorf("write part: %w", err)
		}
	}
	if err := completeAll(); err != nil {
		return infos, err
	}
	return infos, nil
}
