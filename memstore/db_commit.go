package memstore

import (
	"context"
	"fmt"
	"sync"

	"github.com/tidaldb/tidal/ingest"
)

// staging is one Append's rows between decision and commit.
type staging struct {
	db   *DB
	runs []stagedRun // capacity fixed up front: runs are referenced by pointer
	rows []stagedRow // backing store of the runs' rows, same rule
	enc  *walEncoder
	// defined are the series not yet in the WAL whose definition enc
	// holds: a series' rows may come in many runs (its records
	// interleaved with others'), its definition only once.
	defined map[*memSeries]struct{}

	memory, magnetic, samples int
	done                      bool
}

// stage decides every accepted record against its series (phase 2 of
// Append): it finds or creates the series, applies the upsert rules against
// committed and staged rows, records rejections, and stages and encodes the
// rows to write. Staged rows are not visible; commit or discard ends them.
func (db *DB) stage(t *table, recs []ingest.Record, status []recStatus, opts ingest.AppendOptions, reject func(int, string, int64)) (*staging, error) {
	st := getStaging(db, len(recs))
	var (
		keyBuf  []byte
		names   = make([]string, 0, 8)
		vals    = make([]ingest.Value, 0, 8)
		lastRec *ingest.Record
		lastS   *memSeries
		rc      rowCache
		run     *stagedRun // the open run: rows of one series in a row
		err     error
	)
	maxSeries := func(i int) {
		status[i].rejected = true
		reject(i, fmt.Sprintf("The memory store holds its maximum of %d series (memstore.max_series); the record would create a new one.", db.opts.MaxSeries), 0)
	}
	for i := range recs {
		if status[i].rejected {
			continue
		}
		r := &recs[i]
		// A late record (older than the memory window) is logged and held
		// like any other, and the next flush writes it to the magnetic
		// tier with the other rows of its table: one large part, not a
		// small one per request. As in Timestream, its version conflicts
		// are not reported: the higher version wins, and of equal versions
		// the later write.
		late := status[i].magnetic && db.opts.PartWriter != nil
		s := status[i].s
		if s == nil && lastS != nil && sameSeries(r, lastRec) {
			s = lastS
		}
		if s == nil {
			// A series an earlier record of this batch created: its hint
			// names it.
			if h := matchHint(r, t); h != nil {
				s = h.s
			}
		}
		if s == nil {
			keyBuf = seriesKey(keyBuf[:0], r.MeasureName, r.Dimensions)
			// Late rows leave memory at the next flush: MaxSeries, which
			// bounds the memory tier, does not apply to them.
			if s, err = db.createSeriesLimit(t, keyBuf, r, !late); err != nil {
				st.discard()
				return nil, err
			}
			if s == nil {
				maxSeries(i)
				continue
			}
		}
		names, vals = recordValues(r, names[:0], vals[:0])
		ver := max(r.Version, 1)
		s.mu.Lock()
		for s.removed {
			// A flush emptied the series and took it out of the index.
			s.mu.Unlock()
			keyBuf = seriesKey(keyBuf[:0], r.MeasureName, r.Dimensions)
			if s, err = db.createSeriesLimit(t, keyBuf, r, !late); err != nil || s == nil {
				break
			}
			s.mu.Lock()
		}
		if err != nil {
			st.discard()
			return nil, err
		}
		if s == nil {
			maxSeries(i)
			continue
		}
		lastRec, lastS = r, s
		setHint(r, t, s)
		d, err := s.decide(r.Time, ver, names, vals, opts.IdempotentRewrite || late, &rc)
		if late && d.outcome == upsertRejected {
			// A lower version than the row held: accepted, and the read
			// sees the higher version.
			d = decision{outcome: upsertUnchanged}
		}
		if err == nil && d.log {
			if run == nil || run.s != s {
				st.runs = append(st.runs, stagedRun{s: s, rows: st.rows[len(st.rows):len(st.rows)]})
				run = &st.runs[len(st.runs)-1]
				s.staged = append(s.staged, run)
				if _, done := st.defined[s]; !s.walLogged && !done {
					st.enc.series(s)
					run.log = true
					if st.defined == nil {
						st.defined = map[*memSeries]struct{}{}
					}
					st.defined[s] = struct{}{}
				}
			}
			st.rows = append(st.rows, stagedRow{})
			run.add(r.Time, ver, r)
			st.enc.row(s.ref, r.Time, ver, names, vals)
		}
		s.mu.Unlock()
		if err != nil {
			st.discard()
			return nil, err
		}
		if d.outcome == upsertRejected {
			status[i].rejected = true
			reject(i, d.reason, d.existing)
			continue
		}
		st.samples += len(vals)
		if status[i].magnetic {
			st.magnetic++
		} else {
			st.memory++
		}
	}
	return st, nil
}

// commit logs the staged rows to the WAL and, once they are durable, applies
// them to their series (phase 3 of Append). If the WAL append fails the rows
// are discarded: they were never visible, and the error is returned.
//
// Appenders hold db.commitMu shared from before their WAL append until their
// rows are applied, and Checkpoint takes it exclusively around its WAL cut:
// every row logged before the cut is in the series when the checkpoint
// reads them.
func (db *DB) commit(ctx context.Context, t *table, st *staging) error {
	if st.enc.rows == 0 {
		st.discard()
		return nil
	}
	db.commitMu.RLock()
	defer db.commitMu.RUnlock()
	if err := db.wal.Append(ctx, st.enc.finish()); err != nil {
		st.discard()
		return fmt.Errorf("memstore: append wal: %w", err)
	}
	names := make([]string, 0, 8)
	vals := make([]ingest.Value, 0, 8)
	var keyBuf []byte
	for i := range st.runs {
		run := &st.runs[i]
		s := run.s
		s.mu.Lock()
		s.unstage(run)
		if run.log {
			s.walLogged = true
		}
		if s.removed {
			// A flush emptied the series while the rows were logged: they
			// go to the series that now holds its key (same key, so replay
			// puts them in the same place).
			s.mu.Unlock()
			r := run.rows[0].rec
			keyBuf = seriesKey(keyBuf[:0], r.MeasureName, r.Dimensions)
			// The rows are durable and a replay restores them whatever
			// MaxSeries says, so the limit does not apply here.
			ns, err := db.createSeriesLimit(t, keyBuf, r, false)
			if err != nil {
				st.discardFrom(i + 1)
				return fmt.Errorf("memstore: commit logged rows: %w", err)
			}
			s = ns
			s.mu.Lock()
		}
		for _, row := range run.rows {
			names, vals = recordValues(row.rec, names[:0], vals[:0])
			// Replay's rule (a version at least as high replaces), so that
			// memory after commit is what a replay of the WAL gives.
			if err := s.apply(row.t, row.ver, names, vals, &db.oooBuffered); err != nil {
				s.mu.Unlock()
				st.discardFrom(i + 1)
				return fmt.Errorf("memstore: commit logged rows: %w", err)
			}
		}
		if s.ooo != nil && db.oooBuffered.Load() > oooBudgetRows {
			if err := s.mergeOOO(&db.oooBuffered); err != nil {
				s.mu.Unlock()
				st.discardFrom(i + 1)
				return fmt.Errorf("memstore: commit logged rows: %w", err)
			}
		}
		s.mu.Unlock()
	}
	st.done = true
	return nil
}

// discard drops every staged run that is still staged.
func (st *staging) discard() { st.discardFrom(0) }

func (st *staging) discardFrom(from int) {
	if st.done {
		return
	}
	for i := from; i < len(st.runs); i++ {
		run := &st.runs[i]
		run.s.mu.Lock()
		run.s.unstage(run)
		run.s.mu.Unlock()
	}
	st.done = true
}

// release returns the staging and its buffers for reuse.
func (st *staging) release() {
	st.discard()
	putWALEncoder(st.enc)
	clear(st.runs)
	clear(st.rows)
	clear(st.defined)
	*st = staging{runs: st.runs[:0], rows: st.rows[:0], defined: st.defined}
	if reuseAppendBuffers && cap(st.runs) <= maxPooledRecords {
		stagings.Put(st)
	}
}

// reuseAppendBuffers turns the reuse of per-Append buffers on; only a
// benchmark turns it off, to measure what it saves.
var reuseAppendBuffers = true

// maxPooledRecords bounds the batch size whose per-Append buffers are kept
// for reuse, so that one huge batch does not pin its memory.
const maxPooledRecords = 1 << 16

// stagings reuses stagings and their slices: a remote-write request of
// thousands of records otherwise allocates them anew every time, and the
// garbage collector pays for it again.
var stagings = sync.Pool{New: func() any { return new(staging) }}

// getStaging returns an empty staging for n records.
func getStaging(db *DB, n int) *staging {
	st := new(staging)
	if reuseAppendBuffers {
		st = stagings.Get().(*staging)
	}
	st.db, st.enc = db, getWALEncoder()
	// Capacity is fixed up front: runs and rows are referenced by pointer.
	if cap(st.runs) < n {
		st.runs, st.rows = make([]stagedRun, 0, n), make([]stagedRow, 0, n)
	}
	return st
}

// statuses reuses the per-record status slices of validate.
var statuses = sync.Pool{New: func() any { return new([]recStatus) }}

// getStatus returns a zeroed status slice of n records.
func getStatus(n int) []recStatus {
	if !reuseAppendBuffers {
		return make([]recStatus, n)
	}
	p := statuses.Get().(*[]recStatus)
	if cap(*p) < n {
		return make([]recStatus, n)
	}
	s := (*p)[:n]
	clear(s)
	return s
}

// putStatus returns a slice of getStatus.
func putStatus(s []recStatus) {
	if !reuseAppendBuffers || cap(s) > maxPooledRecords {
		return
	}
	clear(s)
	s = s[:0]
	statuses.Put(&s)
}
