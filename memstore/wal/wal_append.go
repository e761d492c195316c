package wal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"time"
)

// maxSpareBuffer bounds the round buffer kept for reuse, so that one huge
// group does not pin its memory for the life of the WAL.
const maxSpareBuffer = 4 << 20

// maxUnsynced bounds the bytes SyncInterval and SyncNever may write between
// fsyncs: past it a round is fsynced at once, so that the copy kept for
// repair stays small.
const maxUnsynced = 64 << 20

// repairInterval is how often a failed WAL tries to repair itself when no
// append asks it to.
const repairInterval = time.Second

// errNoSegment says a failed rotation left the WAL without an active segment.
var errNoSegment = errors.New("no active segment (a rotation failed)")

type ctlOp int

const (
	opCut ctlOp = iota
	opClose
)

type ctlRequest struct {
	op    ctlOp
	reply chan ctlReply
}

type ctlReply struct {
	index int
	err   error
}

// Append writes recs as one group: after a crash either all of them are
// replayed or none. It returns once the group is durable under the sync
// policy: fsynced for SyncBatch, written for SyncInterval and SyncNever.
// Append does not retain recs. An Append without records does nothing.
//
// If ctx ends while Append waits for the flusher, Append returns an error
// wrapping ctx.Err(), and the group may or may not become durable.
//
// A write or fsync error fails the round it hit: every Append in it returns
// the error and none of their groups is acknowledged. The WAL is then failed
// (Err reports it) until the flusher has repaired the active segment: it
// cuts it back to the end of the last acknowledged round, rewrites from its
// own copy what the last successful fsync did not cover (an fsync error is
// never retried as if the page cache still held the data) and fsyncs. Repair
// is tried before the next round and once a second, so a WAL whose disk
// filled up writes again by itself once space returns.
func (w *WAL) Append(ctx context.Context, recs ...[]byte) error {
	if len(recs) == 0 {
		return nil
	}
	bodyLen, err := checkGroup(recs)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("wal: append: %w", err)
	}
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return ErrClosed
	}
	r := w.pending
	r.buf = appendFrame(r.buf, recs, bodyLen)
	r.ends = append(r.ends, len(r.buf))
	r.records += len(recs)
	w.mu.Unlock()

	select {
	case w.kick <- struct{}{}:
	default: // the flusher is already due to run
	}
	select {
	case <-r.done:
		return r.err
	case <-ctx.Done():
		return fmt.Errorf("wal: append: outcome unknown: %w", ctx.Err())
	}
}

// Cut flushes pending appends, closes the active segment and starts a new
// one. It returns the index of the new segment: every record acknowledged
// before Cut is in a segment with a smaller index.
func (w *WAL) Cut() (int, error) {
	rep, err := w.control(opCut)
	if err != nil {
		return 0, err
	}
	return rep.index, rep.err
}

// Close writes and fsyncs pending appends, whatever the sync policy, closes
// the active segment and stops the flusher. It returns any write or fsync
// error the WAL has met. Closing a closed WAL returns nil.
func (w *WAL) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	w.mu.Unlock()
	rep := ctlReply{err: ErrClosed}
	reply := make(chan ctlReply, 1)
	select {
	case w.ctl <- ctlRequest{op: opClose, reply: reply}:
		rep = <-reply
	case <-w.done:
	}
	w.wg.Wait()
	return rep.err
}

func (w *WAL) control(op ctlOp) (ctlReply, error) {
	w.mu.Lock()
	closed := w.closed
	w.mu.Unlock()
	if closed {
		return ctlReply{}, ErrClosed
	}
	reply := make(chan ctlReply, 1)
	select {
	case w.ctl <- ctlRequest{op: op, reply: reply}:
		return <-reply, nil
	case <-w.done:
		return ctlReply{}, ErrClosed
	}
}

// flushLoop is the flusher goroutine. It alone touches w.f after Open.
func (w *WAL) flushLoop() {
	defer w.wg.Done()
	defer close(w.done)
	var tick <-chan time.Time
	if w.opts.Sync == SyncInterval {
		t := time.NewTicker(w.opts.SyncInterval)
		defer t.Stop()
		tick = t.C
	}
	retry := time.NewTicker(repairInterval)
	defer retry.Stop()
	for {
		select {
		case <-w.kick:
			if win := w.opts.GroupCommitWindow; win > 0 {
				t := time.NewTimer(win)
				<-t.C
			} else {
				// Let the appenders the last round woke enqueue again, so
				// that they join this round instead of waiting for the next.
				runtime.Gosched()
			}
			w.flushPending()
		case <-tick:
			if w.dirty && w.stickyErr() == nil {
				if err := w.sync(); err != nil {
					w.fail(err)
				}
			}
		case <-retry.C:
			if w.stickyErr() != nil {
				_ = w.recoverFailed() // logged; the next round tries again
			}
		case req := <-w.ctl:
			w.flushPending()
			switch req.op {
			case opCut:
				err := w.recoverFailed()
				if err == nil {
					if err = w.rotate(); err != nil {
						w.fail(err)
					}
				}
				req.reply <- ctlReply{index: w.active, err: err}
			case opClose:
				req.reply <- ctlReply{err: w.closeActive()}
				return
			}
		}
	}
}

// flushPending writes the pending round, fsyncs it under SyncBatch and wakes
// its appenders.
func (w *WAL) flushPending() {
	w.mu.Lock()
	r := w.pending
	if len(r.ends) == 0 {
		w.mu.Unlock()
		return
	}
	w.pending = newRound(w.spare)
	w.spare = nil
	w.mu.Unlock()

	err := w.recoverFailed()
	if err == nil {
		err = w.writeRound(r)
		if err == nil && (w.opts.Sync == SyncBatch || len(w.unsynced) > maxUnsynced) {
			err = w.sync()
		}
		if err != nil {
			w.fail(err)
		} else {
			w.good = w.written.Load()
		}
	}
	r.err = err
	close(r.done)

	if cap(r.buf) <= maxSpareBuffer {
		w.mu.Lock()
		w.spare = r.buf[:0]
		w.mu.Unlock()
	}
}

// writeRound writes the frames of r, starting a new segment before a frame
// that would push the active one past SegmentSize.
func (w *WAL) writeRound(r *round) error {
	start, prev := 0, 0
	written := w.written.Load()
	for _, end := range r.ends {
		frame := int64(end - prev)
		pos := written + int64(prev-start)
		if pos > headerSize && pos+frame > w.opts.SegmentSize {
			if err := w.write(r.buf[start:prev]); err != nil {
				return err
			}
			if err := w.rotate(); err != nil {
				return err
			}
			start = prev
			written = w.written.Load()
		}
		prev = end
	}
	if err := w.write(r.buf[start:]); err != nil {
		return err
	}
	w.records.Add(int64(r.records))
	w.m.records.Add(float64(r.records))
	return nil
}

func (w *WAL) write(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	if w.f == nil {
		return fmt.Errorf("wal: write segment %d: %w", w.active, errNoSegment)
	}
	n, err := w.f.Write(b)
	w.written.Add(int64(n))
	w.size.Add(int64(n))
	w.m.bytes.Add(float64(n))
	if n > 0 {
		w.dirty = true
	}
	if err != nil {
		return fmt.Errorf("wal: write segment %d: %w", w.active, err)
	}
	if w.opts.Sync != SyncBatch {
		w.unsynced = append(w.unsynced, b...)
	}
	return nil
}

// sync fsyncs the active segment.
func (w *WAL) sync() error {
	start := time.Now()
	if w.f == nil {
		return fmt.Errorf("wal: sync segment %d: %w", w.active, errNoSegment)
	}
	err := w.fsync(w.f)
	w.m.fsyncDuration.Observe(time.Since(start).Seconds())
	w.fsyncs.Add(1)
	if err != nil {
		return fmt.Errorf("wal: sync segment %d: %w", w.active, err)
	}
	w.dirty = false
	w.synced = w.written.Load()
	w.unsynced = w.unsynced[:0]
	return nil
}

// finishActive fsyncs and closes the active segment and records its size.
// The segment is fsynced whatever the policy, so that a WAL written with
// SyncNever is durable once it is closed or rotated.
func (w *WAL) finishActive() error {
	if w.f == nil {
		return nil // an earlier rotation failed after closing it
	}
	// A failed fsync leaves the segment open, so that repair can cut it
	// back and rewrite what the fsync did not cover.
	if err := w.sync(); err != nil {
		return err
	}
	var err error
	if cerr := w.f.Close(); cerr != nil {
		err = fmt.Errorf("wal: close segment %d: %w", w.active, cerr)
	}
	w.f = nil
	w.segMu.Lock()
	w.segs[len(w.segs)-1].size = w.written.Load()
	w.segMu.Unlock()
	return err
}

// rotate closes the active segment and creates the next one.
func (w *WAL) rotate() error {
	if err := w.finishActive(); err != nil {
		return err
	}
	return w.createSegment(w.active + 1)
}

func (w *WAL) closeActive() error {
	err := w.finishActive()
	if sticky := w.stickyErr(); sticky != nil {
		// The sticky error comes first: it is why the data may be missing.
		err = errors.Join(sticky, err)
	}
	return err
}

// fail puts the WAL in the failed state with err (the first error stays).
func (w *WAL) fail(err error) {
	w.mu.Lock()
	first := w.err == nil
	if first {
		w.err = err
	}
	w.mu.Unlock()
	w.m.failures.Inc()
	if first {
		w.m.failed.Set(1)
		w.logger.Error("wal failed; appends are refused until it is repaired", "err", err)
	}
}

// Err returns the error the WAL failed with, or nil while it is healthy.
func (w *WAL) Err() error { return w.stickyErr() }

// recoverFailed repairs a failed WAL (see Append) and clears its error. It
// returns nil when the WAL is healthy afterwards. Only the flusher calls it.
func (w *WAL) recoverFailed() error {
	failed := w.stickyErr()
	if failed == nil {
		return nil
	}
	if err := w.repair(); err != nil {
		return fmt.Errorf("%w (repair: %w)", failed, err)
	}
	w.mu.Lock()
	w.err = nil
	w.mu.Unlock()
	w.m.failed.Set(0)
	w.logger.Info("wal repaired; appends resume", "segment", w.active, "after", failed)
	return nil
}

// repair makes the active segment end at the last acknowledged round with
// every acknowledged byte fsynced: it truncates the segment to the last
// successful fsync, rewrites the acknowledged bytes written since from
// w.unsynced and fsyncs. A segment lost to a failed rotation is created anew.
func (w *WAL) repair() error {
	if w.f == nil {
		return w.createSegment(w.active + 1)
	}
	keep := w.good - w.synced
	if keep < 0 || keep > int64(len(w.unsynced)) {
		return fmt.Errorf("wal: repair segment %d: %d acknowledged bytes past the last fsync, %d kept", w.active, keep, len(w.unsynced))
	}
	if err := w.f.Truncate(w.synced); err != nil {
		return fmt.Errorf("wal: repair segment %d: truncate: %w", w.active, err)
	}
	if _, err := w.f.Seek(w.synced, io.SeekStart); err != nil {
		return fmt.Errorf("wal: repair segment %d: seek: %w", w.active, err)
	}
	w.size.Add(w.synced - w.written.Load())
	w.written.Store(w.synced)
	rewrite := w.unsynced[:keep]
	w.unsynced = nil // write appends what it writes again
	if err := w.write(rewrite); err != nil {
		w.unsynced = rewrite
		return err
	}
	if err := w.sync(); err != nil {
		return err
	}
	w.good = w.written.Load()
	return nil
}

func (w *WAL) stickyErr() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}
