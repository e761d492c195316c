package timestreamapi

import (
	"context"
	"math"
	"sync"
	"time"

	"github.com/tidaldb/tidal/query/exec"
)

// StreamEngine is an Engine that can push a result as it is produced
// (*exec.Engine does). The API pages such results from the stream instead
// of keeping them whole.
type StreamEngine interface {
	Stream(ctx context.Context, sql string, params map[string]exec.Value, sink exec.Sink) (exec.Stats, error)
}

// stream is the paging window over a streamed query: the rows from the
// oldest page a live NextToken can still ask for up to what the query has
// produced. It is the query's exec.Sink: the query pauses (back-pressure)
// while the window holds limit bytes, and resumes when the client moves
// on and older rows are released. The query's deadline runs only while
// the query is not paused, so a slow reader is bounded by the cursor's
// idle expiry, not by the query timeout.
type stream struct {
	limit int64 // window bytes at which the query pauses

	// chunk is where Row encodes rows: the window keeps each row as its
	// response JSON, a slice of a chunk, not as values. A value row is
	// three times the size of its JSON and full of pointers for the
	// collector to trace; its JSON is written once and scanned never.
	// Only Row (the query's goroutine) touches chunk.
	chunk     []byte
	enc       *rowEncoder // set by Columns
	chunkSize int
	lastRow   int // bytes of the last row encoded

	mu sync.Mutex
	// Chunks Row has filled, oldest first, until release drops their
	// last row; then they go to free for Row to fill again, so a long
	// result allocates about a window of chunks, not one per 256 KiB.
	retired []retiredChunk
	free    [][]byte
	changed chan struct{} // closed and replaced on a change once watched
	watched bool          // someone waits on changed since it was made
	// A row wakes the watchers only once the window reaches wakeRows
	// (result offset) or wakeBytes: the least a waiting page needs.
	wakeRows  int
	wakeBytes int64
	cols      []exec.Column
	types     []exec.Type
	colInfo   []byte   // encoded ColumnInfo of cols
	base      int      // result offset of rows[0]
	rows      [][]byte // each an encoded Row (AppendRow)
	bytes     int64    // size of rows
	paused    bool     // the query waits for room
	done      bool     // the query finished (err says how)
	err       error
	stats     exec.Stats
	ctx       context.Context

	// The query's deadline, stopped while paused.
	timer     *time.Timer
	remaining time.Duration
	resumed   time.Time
	timedOut  bool
}

func newStream(ctx context.Context, cancel context.CancelFunc, limit int64, timeout time.Duration) *stream {
	st := &stream{limit: limit, changed: make(chan struct{}), ctx: ctx, remaining: timeout, resumed: time.Now(),
		wakeRows: math.MaxInt, wakeBytes: math.MaxInt64, chunkSize: int(min(max(limit/16, 4<<10), 256<<10))}
	st.timer = time.AfterFunc(timeout, func() {
		st.mu.Lock()
		st.timedOut = true
		st.mu.Unlock()
		cancel()
	})
	// A cancelled query wakes from a pause.
	context.AfterFunc(ctx, func() {
		st.mu.Lock()
		st.notifyLocked()
		st.mu.Unlock()
	})
	return st
}

// notifyLocked wakes whoever waits for a change. A change nobody
// watches costs nothing: Row changes the window once per row.
func (st *stream) notifyLocked() {
	if !st.watched {
		return
	}
	close(st.changed)
	st.changed = make(chan struct{})
	st.watched = false
	st.wakeRows, st.wakeBytes = math.MaxInt, math.MaxInt64
}

// watchPageLocked is watchLocked for a page at offset that readyLocked
// does not find ready yet: rows that cannot make it ready wake nobody
// (a waiting client would otherwise be woken once per row).
func (st *stream) watchPageLocked(offset, maxRows, maxPageBytes int) <-chan struct{} {
	if maxRows > 0 {
		st.wakeRows = min(st.wakeRows, offset+maxRows+1)
	}
	st.wakeBytes = min(st.wakeBytes, 2*int64(maxPageBytes)+1)
	return st.watchLocked()
}

// watchLocked returns the channel the next notifyLocked closes.
func (st *stream) watchLocked() <-chan struct{} {
	st.watched = true
	return st.changed
}

// Columns implements exec.Sink.
func (st *stream) Columns(cols []exec.Column) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.cols = cols
	st.types = make([]exec.Type, len(cols))
	for i := range cols {
		st.types[i] = cols[i].Type
	}
	st.colInfo = appendColumnInfo(nil, cols)
	st.enc = newRowEncoder(st.types)
	st.notifyLocked()
	return nil
}

// Row implements exec.Sink: it keeps a copy of r and pauses the query
// while the window is full.
func (st *stream) Row(r []exec.Value) error {
	// Columns has set types before the first row and does not change
	// them after.
	// A row that outgrows the chunk copies it whole: start a new one
	// unless twice the last row fits. Chunks grow from 4 KiB, so a small
	// result does not pay for a big one.
	if st.chunk == nil || cap(st.chunk)-len(st.chunk) < 2*st.lastRow {
		st.newChunk(max(min(max(2*cap(st.chunk), 4<<10), st.chunkSize), 4*st.lastRow))
	}
	start := len(st.chunk)
	if st.enc == nil { // no Columns: encode by the values' kinds
		st.enc = newRowEncoder(nil)
	}
	st.chunk = st.enc.appendRow(st.chunk, r)
	row := st.chunk[start:len(st.chunk):len(st.chunk)]
	st.lastRow = len(row)
	size := int64(len(row)) + rowOverhead
	st.mu.Lock()
	defer st.mu.Unlock()
	st.rows = append(st.rows, row)
	st.bytes += size
	if st.base+len(st.rows) >= st.wakeRows || st.bytes >= st.wakeBytes || st.bytes >= st.limit {
		st.notifyLocked()
	}
	for st.bytes >= st.limit && st.ctx.Err() == nil {
		if !st.paused {
			st.paused = true
			if st.timer.Stop() {
				st.remaining -= time.Since(st.resumed)
			}
		}
		ch := st.watchLocked()
		st.mu.Unlock()
		<-ch
		st.mu.Lock()
	}
	if st.paused {
		st.paused = false
		st.resumed = time.Now()
		if !st.timedOut {
			st.timer.Reset(max(st.remaining, 0))
		}
	}
	return st.ctx.Err()
}

// retiredChunk is a filled chunk whose rows all precede result offset end.
type retiredChunk struct {
	buf []byte
	end int
}

// maxFreeChunks bounds the chunks a stream keeps for reuse.
const maxFreeChunks = 4

// newChunk retires st.chunk and starts one of at least size bytes, a
// free one when one is that big.
func (st *stream) newChunk(size int) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.chunk != nil {
		st.retired = append(st.retired, retiredChunk{buf: st.chunk[:0], end: st.base + len(st.rows)})
	}
	for len(st.free) > 0 {
		c := st.free[len(st.free)-1]
		st.free[len(st.free)-1] = nil
		st.free = st.free[:len(st.free)-1]
		if cap(c) >= size {
			st.chunk = c
			return
		}
	}
	st.chunk = make([]byte, 0, size)
}

// rowOverhead is what the window counts for a row besides its JSON.
const rowOverhead = 24

// finish records the query's outcome.
func (st *stream) finish(stats exec.Stats, err error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.timer.Stop()
	if err != nil && st.timedOut {
		err = &exec.Error{Kind: exec.ErrTimeout, Msg: "Query timed out"}
	}
	st.done, st.err, st.stats = true, err, stats
	st.notifyLocked()
}

// release drops the rows before offset: no live NextToken can ask for
// them any more. It lets a paused query go on.
func (st *stream) release(offset int) {
	st.mu.Lock()
	defer st.mu.Unlock()
	n := min(offset-st.base, len(st.rows))
	if n <= 0 {
		return
	}
	for _, r := range st.rows[:n] {
		st.bytes -= int64(len(r)) + rowOverhead
	}
	clear(st.rows[:n])
	st.rows = st.rows[n:]
	st.base += n
	for len(st.retired) > 0 && st.retired[0].end <= st.base {
		if len(st.free) < maxFreeChunks {
			st.free = append(st.free, st.retired[0].buf)
		}
		st.retired[0] = retiredChunk{}
		st.retired = st.retired[1:]
	}
	st.notifyLocked()
}

// readyLocked reports whether a page starting at offset can be served
// now: the query finished or paused, or the window holds more than a
// page of rows after offset (so the page knows whether another follows).
func (st *stream) readyLocked(offset, maxRows, maxPageBytes int) bool {
	if st.done || st.paused {
		return true
	}
	avail := st.base + len(st.rows) - offset
	if maxRows > 0 && avail > maxRows {
		return true
	}
	return st.bytes > 2*int64(maxPageBytes)
}

// wait blocks until a page at offset is ready (true), or until timeout or
// ctx ends (false).
func (st *stream) wait(ctx context.Context, offset, maxRows, maxPageBytes int, timeout time.Duration) (bool, error) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		st.mu.Lock()
		ready := st.readyLocked(offset, maxRows, maxPageBytes)
		ch := st.watchPageLocked(offset, maxRows, maxPageBytes)
		st.mu.Unlock()
		if ready {
			return true, nil
		}
		select {
		case <-ch:
		case <-timer.C:
			return false, nil
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
}

// isPaused reports whether the query waits for room in the window.
func (st *stream) isPaused() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.paused
}

// isDone reports whether the query has finished.
func (st *stream) isDone() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.done
}
