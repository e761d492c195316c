package magnetic

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/query/scan"
)

// WritePart drains src, the rows of table tableID, and writes one new part
// per partition the rows touch. Batches of a series may come in several
// pieces and series in any order; rows with equal (series, time) keep the
// highest version, and on equal versions the one that came last. Every
// part is durable when WritePart returns; the parts of different partitions
// are made durable one after the other, so after a crash a retried write
// may find some of them present, which de-duplication makes harmless.
//
// WritePart holds the input in memory (it must be sorted), so memory is
// bounded by the size of src, unless src is a SortedSource that says its
// series come sorted: then it holds one series at a time. It does not
// close src.
func (s *Store) WritePart(ctx context.Context, tableID uint64, src scan.Batches) ([]PartInfo, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	if ss, ok := src.(SortedSource); ok && ss.SeriesSorted() {
		return s.writeSorted(ctx, tableID, ss)
	}
	d, done := s.beginWrite(tableID)
	defer done()
	del := &deleteFilter{d: d}
	bySeries := map[string]*rowBuffer{}
	for n := 0; src.Next(); n++ {
		if n%256 == 255 {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("write part: %w", err)
			}
		}
		b := src.Batch()
		key := b.Series.Key
		if key == "" {
			dims := slices.Clone(b.Series.Dimensions)
			slices.SortFunc(dims, func(a, b ingest.Dimension) int { return strings.Compare(a.Name, b.Name) })
			key = string(scan.AppendSeriesKey(nil, b.Series.MeasureName, dims))
		}
		if d != nil { // rows of live tombstones are not written
			bb := *b
			bb.Series.Key = key
			if b = del.apply(&bb); b.Len() == 0 {
				continue
			}
		}
		rb := bySeries[key]
		if rb == nil {
			rb = &rowBuffer{}
			bySeries[key] = rb
		}
		rb.appendBatch(b)
	}
	if err := src.Err(); err != nil {
		return nil, fmt.Errorf("write part: read batches: %w", err)
	}
	type piece struct {
		key    string
		buf    *rowBuffer
		lo, hi int
	}
	rows, minT, maxT := 0, int64(math.MaxInt64), int64(math.MinInt64)
	for _, rb := range bySeries {
		rb.sortDedup()
		if n := len(rb.time); n > 0 {
			rows += n
			minT, maxT = min(minT, rb.time[0]), max(maxT, rb.time[n-1])
		}
	}
	if rows == 0 {
		return nil, nil
	}
	width, err := s.tableWidth(tableID, rows, minT, maxT)
	if err != nil {
		return nil, fmt.Errorf("write part: %w", err)
	}
	byPartition := map[int64][]piece{}
	for key, rb := range bySeries {
		for lo := 0; lo < len(rb.time); {
			start, ok := partitionStart(rb.time[lo], width)
			if !ok {
				return nil, fmt.Errorf("write part: time %d is before the first partition of width %v", rb.time[lo], width)
			}
			last := partitionLast(start, width)
			hi := lo + sort.Search(len(rb.time)-lo, func(i int) bool { return rb.time[lo+i] > last })
			byPartition[start] = append(byPartition[start], piece{key, rb, lo, hi})
			lo = hi
		}
	}
	starts := make([]int64, 0, len(byPartition))
	for st := range byPartition {
		starts = append(starts, st)
	}
	slices.Sort(starts)
	var infos []PartInfo
	for _, start := range starts {
		pieces := byPartition[start]
		slices.SortFunc(pieces, func(a, b piece) int { return cmp.Compare(a.key, b.key) })
		seq := s.seq.Add(1)
		meta := partMeta{tableID: tableID, partStart: start, creator: "write", order: seq}
		p, err := s.writePart(tableID, start, width, seq, meta, func(w *partWriter) error {
			for _, pc := range pieces {
				if err := w.addSeries(pc.key, pc.buf, pc.lo, pc.hi); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return infos, err
		}
		info := p.info(tableID, start, width)
		if err := s.install(tableID, start, width, p, nil); err != nil {
			return infos, err
		}
		infos = append(infos, info)
	}
	return infos, nil
}

func (s *Store) checkOpen() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	return nil
}

// writePart writes and opens part seq of a partition; fill adds the series.
func (s *Store) writePart(tableID uint64, start int64, width time.Duration, seq uint64, meta partMeta, fill func(*partWriter) error) (*part, error) {
	w, err := s.createPartition(tableID, start, width, seq, meta)
	if err != nil {
		return nil, err
	}
	if err := fill(w); err != nil {
		w.abort()
		return nil, err
	}
	return s.completePart(tableID, seq, w)
}

// createPartition starts writing part seq of a partition, creating the
// partition's directory if needed.
func (s *Store) createPartition(tableID uint64, start int64, width time.Duration, seq uint64, meta partMeta) (*partWriter, error) {
	dir := s.partitionDir(tableID, start, width)
	if err := ensureDir(s.fs, dir); err != nil {
		return nil, fmt.Errorf("write part: %w", err)
	}
	meta.created = s.now().UnixNano()
	name := partName(seq)
	w, err := createPart(s.fs, dir, name, meta)
	if errors.Is(err, os.ErrNotExist) {
		// Retention removed the emptied partition directory meanwhile.
		if err = ensureDir(s.fs, dir); err == nil {
			w, err = createPart(s.fs, dir, name, meta)
		}
	}
	if err != nil {
		return nil, err
	}
	return w, nil
}

// completePart finishes w, making the part durable, and opens it.
func (s *Store) completePart(tableID, seq uint64, w *partWriter) (*part, error) {
	name := w.name
	size, err := w.finish()
	if err != nil {
		return nil, err
	}
	p, err := openPart(filepath.Join(w.dir, name), seq, s.cache)
	if err != nil {
		return nil, fmt.Errorf("reopen written part: %w", err)
	}
	s.m.partsWritten.Inc()
	s.m.bytesWritten.Add(float64(size))
	s.m.rowsWritten.Add(float64(p.meta.rows))
	s.log.Debug("wrote part", s.tableAttrs(tableID, "part", p.path, "rows", p.meta.rows, "bytes", size)...)
	return p, nil
}

// install adds p (holding the store's reference) to its partition, and
// removes the parts it replaces. It fails only on a closed store, in which
// case the part stays on disk for the next Open.
func (s *Store) install(tableID uint64, start int64, width time.Duration, p *part, replaces []*part) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return errorsJoin(ErrClosed, p.decRef())
	}
	pts := s.tables[tableID]
	if pts == nil {
		pts = map[int64]*partition{}
		s.tables[tableID] = pts
	}
	pt := pts[start]
	if pt == nil {
		pt = &partition{tableID: tableID, start: start, width: width, dir: p.dir}
		pts[start] = pt
	}
	var dropped []*part
	if len(replaces) > 0 {
		live := pt.parts[:0]
		for _, q := range pt.parts {
			if slices.Contains(replaces, q) {
				dropped = append(dropped, q)
				continue
			}
			live = append(live, q)
		}
		pt.parts = live
	}
	pt.parts = append(pt.parts, p)
	sortParts(pt.parts)
	s.mu.Unlock()
	var errs []error
	for _, q := range dropped {
		q.removed.Store(true)
		errs = append(errs, q.decRef())
	}
	return errorsJoin(errs...)
}
