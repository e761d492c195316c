package wal

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"

	"github.com/tidaldb/tidal/internal/fileutil"
)

// Replay calls fn for every record in the segments with index >= from, in
// the order they were appended. seg is the index of the record's segment;
// rec is valid only during the call. An error from fn stops the replay and
// is returned wrapped. Replay returns a *CorruptionError if a segment no
// longer reads as it did at Open.
//
// Replay is meant for start-up: it must not run concurrently with Append or
// Cut, whose records it may or may not see.
func (w *WAL) Replay(from int, fn func(seg int, rec []byte) error) error {
	w.mu.Lock()
	closed := w.closed
	w.mu.Unlock()
	if closed {
		return ErrClosed
	}
	w.segMu.Lock()
	segs := slices.Clone(w.segs)
	w.segMu.Unlock()
	if len(segs) > 0 {
		// The active segment's recorded size lags its writes.
		segs[len(segs)-1].size = w.written.Load()
	}
	var buf []byte
	for _, s := range segs {
		if s.index < from {
			continue
		}
		var err error
		buf, err = replaySegment(w.opts.FS, w.opts.Dir, s, buf, fn)
		if err != nil {
			return err
		}
	}
	return nil
}

// replaySegment replays the first s.size bytes of segment s.index, which Open
// has validated. It returns the frame buffer for reuse.
func replaySegment(fsys fileutil.FS, dir string, s segment, buf []byte, fn func(seg int, rec []byte) error) ([]byte, error) {
	f, err := fileutil.Open(fsys, filepath.Join(dir, segmentName(s.index)))
	if err != nil {
		return buf, fmt.Errorf("wal: replay segment %d: %w", s.index, err)
	}
	defer f.Close() // read-only; a close error loses nothing
	r := newSegmentReader(f, s.size, s.index, buf)
	if err := r.readHeader(); err != nil {
		return r.buf, &CorruptionError{Segment: s.index, Offset: 0, Err: err}
	}
	call := func(rec []byte) error { return fn(s.index, rec) }
	for {
		body, count, err := r.next()
		if errors.Is(err, io.EOF) {
			return r.buf, nil
		}
		if err != nil {
			return r.buf, &CorruptionError{Segment: s.index, Offset: r.off, Err: err}
		}
		if err := decodeBody(body, count, call); err != nil {
			return r.buf, fmt.Errorf("wal: replay segment %d: %w", s.index, err)
		}
	}
}
