package wal

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"
)

// maxSpareBuffer bounds the round buffer kept for reuse, so that one huge
// group does not pin its memory for the life of the WAL.
const maxSpareBuffer = 4 << 20

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
// wrapping ctx.Err(), and the group may or may not become durable. After a
// write or fsync error every later Append returns that error: the state of
// the file is unknown, and the database must restart and replay.
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
	if w.err != nil {
		err := w.err
		w.mu.Unlock()
		return err
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
			if w.dirty {
				w.setErr(w.sync())
			}
		case req := <-w.ctl:
			w.flushPending()
			switch req.op {
			case opCut:
				err := w.stickyErr()
				if err == nil {
					err = w.rotate()
					w.setErr(err)
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
	err := w.err
	w.mu.Unlock()

	if err == nil {
		err = w.writeRound(r)
		if err == nil && w.opts.Sync == SyncBatch {
			err = w.sync()
		}
		w.setErr(err)
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
	return nil
}

// sync fsyncs the active segment.
func (w *WAL) sync() error {
	start := time.Now()
	err := w.fsync(w.f)
	w.m.fsyncDuration.Observe(time.Since(start).Seconds())
	w.fsyncs.Add(1)
	if err != nil {
		return fmt.Errorf("wal: sync segment %d: %w", w.active, err)
	}
	w.dirty = false
	return nil
}

// finishActive fsyncs and closes the active segment and records its size.
// The segment is fsynced whatever the policy, so that a WAL written with
// SyncNever is durable once it is closed or rotated.
func (w *WAL) finishActive() error {
	if w.f == nil {
		return nil // an earlier rotation failed after closing it
	}
	err := w.sync()
	if cerr := w.f.Close(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("wal: close segment %d: %w", w.active, cerr))
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

func (w *WAL) setErr(err error) {
	if err == nil {
		return
	}
	w.mu.Lock()
	if w.err == nil {
		w.err = err
	}
	w.mu.Unlock()
}

func (w *WAL) stickyErr() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}
