package memstore

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/query/scan"
)

// PartWriter receives the rows the memstore ages out: package magnetic's
// Store, adapted in cmd/tidal. WritePart must make the rows durable before
// it returns.
type PartWriter interface {
	WritePart(ctx context.Context, tableID uint64, src scan.Batches) error
}

// FlushStats reports one flush.
type FlushStats struct {
	Tables, Series int
	Rows           int64
	// Kept counts series whose flushed rows stay in memory because rows
	// before the cutoff changed while the flush ran; the next flush writes
	// them again (the magnetic tier de-duplicates).
	Kept     int
	Duration time.Duration
}

// Flush seals every row older than its table's memory retention (all rows
// when all is set) into the PartWriter, drops them from memory, and then
// checkpoints the WAL so that it no longer holds them. A crash at any point
// loses nothing: rows leave memory only once WritePart has returned, and
// rows flushed twice are the same (series, time, version) and de-duplicate.
func (db *DB) Flush(ctx context.Context, all bool) (FlushStats, error) {
	start := time.Now()
	var st FlushStats
	if db.opts.PartWriter == nil {
		return st, fmt.Errorf("memstore: flush: no magnetic tier configured")
	}
	db.flushMu.Lock()
	defer db.flushMu.Unlock()
	db.lateRows.Store(0)
	db.mu.RLock()
	tables := make([]*table, 0, len(db.byID))
	for _, t := range db.byID {
		tables = append(tables, t)
	}
	db.mu.RUnlock()
	slices.SortFunc(tables, func(a, b *table) int { return int(a.id) - int(b.id) })
	now := db.now()
	for _, t := range tables {
		cutoff := int64(math.MaxInt64)
		if !all {
			t.mu.RLock()
			cutoff = now.Add(-time.Duration(t.memoryHours) * time.Hour).UnixNano()
			t.mu.RUnlock()
		}
		n, rows, kept, err := db.flushTable(ctx, t, cutoff)
		if err != nil {
			return st, err
		}
		if n > 0 {
			st.Tables++
			st.Series += n
			st.Rows += rows
			st.Kept += kept
		}
	}
	if st.Rows > 0 {
		if err := db.Checkpoint(); err != nil {
			return st, err
		}
	}
	st.Duration = time.Since(start)
	db.m.flushedRows.Add(float64(st.Rows))
	if st.Rows > 0 {
		db.logger.Info("memstore flushed to magnetic", "tables", st.Tables, "series", st.Series,
			"rows", st.Rows, "kept", st.Kept, "duration", st.Duration.Round(time.Millisecond))
	}
	return st, nil
}

// flushTable writes the rows of t before cutoff and drops them from memory.
func (db *DB) flushTable(ctx context.Context, t *table, cutoff int64) (series int, rows int64, kept int, err error) {
	req := &scan.Request{Database: t.database, Table: t.name, MinTime: math.MinInt64, MaxTime: cutoff - 1}
	if cutoff == math.MinInt64 {
		return 0, 0, 0, nil
	}
	// selectSeries yields the series in ascending key order (the scan
	// contract), so the cursor is a sorted source: the magnetic store
	// streams one series at a time into its parts instead of holding the
	// whole flush in memory. The slice may be a shared cache: read only.
	sel := t.selectSeries(nil, db.nextRef.Load())
	cur := &flushCursor{seriesCursor: seriesCursor{ctx: ctx, req: req, series: sel, buffered: &db.oooBuffered}, cutoff: cutoff}
	if err := db.opts.PartWriter.WritePart(ctx, t.id, cur); err != nil {
		return 0, 0, 0, fmt.Errorf("memstore: flush table %s.%s: %w", t.database, t.name, err)
	}
	if cur.err != nil {
		return 0, 0, 0, fmt.Errorf("memstore: flush table %s.%s: %w", t.database, t.name, cur.err)
	}
	for _, s := range cur.flushed {
		s.mu.Lock()
		// Nothing changed since the cursor read the series (the fill merged
		// the out-of-order rows, so the buffer is empty), or every change
		// since is at or after the cutoff: the rows it wrote are still the
		// rows in memory. Rows buffered since are then at or after the
		// cutoff, inside the head chunk's range, so a chunk stays for them.
		if s.unchangedBefore(cutoff) {
			s.dropBefore(cutoff)
		} else {
			kept++
		}
		empty := len(s.chunks) == 0
		if empty {
			s.removed = true
		}
		s.mu.Unlock()
		if empty {
			db.removeSeries(t, s)
		}
	}
	return len(cur.flushed), cur.rows, kept, nil
}

// flushCursor is the scan cursor handed to WritePart; it remembers each
// series it produced and the series' mutation count at that moment.
type flushCursor struct {
	seriesCursor
	flushed []*memSeries
	rows    int64
	cutoff  int64
}

// SeriesSorted tells the part writer (magnetic.SortedSource) that the
// cursor yields each series once, in ascending key order.
func (c *flushCursor) SeriesSorted() bool { return true }

// Bounds estimates the rows and time range of what the cursor yields from
// the chunks' headers (a chunk across the cutoff counts whole; buffered
// out-of-order rows are left out): the part writer chooses a new table's
// partition width from them.
func (c *flushCursor) Bounds() (rows int, minT, maxT int64) {
	minT, maxT = math.MaxInt64, math.MinInt64
	for _, s := range c.series {
		s.mu.Lock()
		for _, ch := range s.chunks {
			if ch.minT >= c.cutoff || ch.n == 0 {
				continue
			}
			rows += ch.n
			minT, maxT = min(minT, ch.minT), max(maxT, min(ch.maxT, c.cutoff-1))
		}
		s.mu.Unlock()
	}
	if rows == 0 {
		return 0, 0, 0
	}
	return rows, minT, maxT
}

func (c *flushCursor) Next() bool {
	for c.err == nil && c.i < len(c.series) {
		s := c.series[c.i]
		c.i++
		s.mu.Lock()
		ok, err := s.fillLocked(&c.batch, c.req, c.buffered, &c.dims)
		s.changedMin = math.MaxUint32
		s.mu.Unlock()
		if err != nil {
			c.err = err
			return false
		}
		if ok {
			c.flushed = append(c.flushed, s)
			c.rows += int64(c.batch.Len())
			return true
		}
	}
	return false
}

// dropBefore removes the rows before cutoff. The caller holds s.mu.
func (s *memSeries) dropBefore(cutoff int64) {
	keep := s.chunks[:0]
	for i, c := range s.chunks {
		switch {
		case c.maxT < cutoff:
			continue // entirely flushed
		case c.minT >= cutoff:
			keep = append(keep, c)
		default:
			names, rows, err := c.decodeRows()
			if err != nil {
				keep = append(keep, c) // keep what cannot be decoded; it was not flushed either
				continue
			}
			rows = rows[findRow(rows, cutoff):]
			nc := buildChunk(names, rows)
			if i != len(s.chunks)-1 {
				nc.compact()
			}
			keep = append(keep, nc)
		}
	}
	for i := len(keep); i < len(s.chunks); i++ {
		s.chunks[i] = nil
	}
	s.chunks = keep
}

// removeSeries takes an emptied series out of its table's index.
func (db *DB) removeSeries(t *table, s *memSeries) {
	t.mu.Lock()
	if t.series[s.key] == s {
		delete(t.series, s.key)
		delete(t.byRef, s.ref)
		t.unpost(scan.ColMeasureName, s.measure(), s.ref)
		for rest := keyDimsRest(s.key); rest != ""; {
			var d ingest.Dimension
			d, rest = nextKeyDim(rest)
			t.unpost(d.Name, d.Value, s.ref)
		}
	}
	t.mu.Unlock()
	db.nseries.Add(-1)
}

func (t *table) unpost(name, value string, ref uint64) {
	l := t.postings[name][value]
	if i, ok := slices.BinarySearch(l, ref); ok {
		l = slices.Delete(l, i, i+1)
		if len(l) == 0 {
			delete(t.postings[name], value)
		} else {
			t.postings[name][value] = l
		}
	}
}

// lateFlushRows is the number of late rows after which the flush loop does
// not wait for its next tick: a backfill flushes in parts of about this
// many rows instead of piling up in memory.
const lateFlushRows = 1 << 20

// noteLate counts n late rows and wakes the flush loop when they add up to
// lateFlushRows.
func (db *DB) noteLate(n int) {
	if db.lateRows.Add(int64(n)) >= lateFlushRows {
		select {
		case db.flushNow <- struct{}{}:
		default:
		}
	}
}

// flushLoop flushes aged rows every FlushInterval, when the late rows add
// up to lateFlushRows, and at once when the chunks outgrow MaxChunkBytes.
func (db *DB) flushLoop(ctx context.Context) {
	tk := time.NewTicker(db.opts.FlushInterval)
	defer tk.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tk.C:
		case <-db.flushNow:
		}
		all := db.opts.MaxChunkBytes > 0 && db.Stats().ChunkBytes > db.opts.MaxChunkBytes
		if _, err := db.Flush(ctx, all); err != nil && ctx.Err() == nil {
			db.logger.Error("memstore flush", "err", err)
		}
	}
}
