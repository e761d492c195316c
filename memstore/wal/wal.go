package wal

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tidaldb/tidal/internal/fileutil"
)

// SyncPolicy says when appended records are fsynced.
type SyncPolicy int

const (
	// SyncBatch fsyncs before Append returns. Concurrent appenders share one
	// write and one fsync per group-commit round. It is the default.
	SyncBatch SyncPolicy = iota
	// SyncInterval fsyncs every Options.SyncInterval; Append returns after
	// write(2), so a machine crash can lose up to one interval of writes (a
	// process crash loses nothing).
	SyncInterval
	// SyncNever leaves fsync to the kernel except on segment rotation and
	// Close. Meant for tests and for files that are fsynced as a whole later.
	SyncNever
)

// String returns the policy name used in configuration.
func (p SyncPolicy) String() string {
	switch p {
	case SyncBatch:
		return "batch"
	case SyncInterval:
		return "interval"
	case SyncNever:
		return "never"
	default:
		return fmt.Sprintf("SyncPolicy(%d)", int(p))
	}
}

// Default option values.
const (
	DefaultSegmentSize  = 128 << 20
	DefaultSyncInterval = time.Second
)

// Options configure a WAL. The zero value of every field but Dir is usable.
type Options struct {
	// Dir holds the segment files; Open creates it.
	Dir string
	// SegmentSize is the size at which a new segment starts: a group goes to
	// a fresh segment when it would push the current one past SegmentSize.
	// A single larger group gets a segment of its own. Default 128 MiB.
	SegmentSize int64
	// Sync is the fsync policy. Default SyncBatch.
	Sync SyncPolicy
	// SyncInterval is the fsync period under SyncInterval. Default 1s.
	SyncInterval time.Duration
	// GroupCommitWindow is how long the flusher waits after the first
	// pending append of a round to gather more. Default 0: no added latency;
	// rounds still group whatever arrives while the previous fsync runs.
	GroupCommitWindow time.Duration
	// Logger receives repair warnings. Nil discards them.
	Logger *slog.Logger
	// Registerer, if set, receives the WAL metrics (tidal_wal_*). A collector
	// already registered under the same name is reused.
	Registerer prometheus.Registerer
	// FS is the file system the segments live on. Default fileutil.OS; tests
	// inject faults through it.
	FS fileutil.FS

	// noSync turns every fsync into a no-op. Tests that open thousands of
	// WALs to check parsing and repair set it; nothing else may.
	noSync bool
}

// withDefaults returns opts with zero fields set to their defaults.
func (o Options) withDefaults() Options {
	if o.SegmentSize <= 0 {
		o.SegmentSize = DefaultSegmentSize
	}
	if o.SyncInterval <= 0 {
		o.SyncInterval = DefaultSyncInterval
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.FS == nil {
		o.FS = fileutil.OS
	}
	return o
}

// Validate reports whether the options can open a WAL.
func (o Options) Validate() error {
	switch {
	case o.Dir == "":
		return errors.New("wal: options: empty Dir")
	case o.Sync < SyncBatch || o.Sync > SyncNever:
		return fmt.Errorf("wal: options: unknown sync policy %d", int(o.Sync))
	case o.GroupCommitWindow < 0:
		return fmt.Errorf("wal: options: negative group commit window %s", o.GroupCommitWindow)
	}
	return nil
}

// segment is one segment file known to the WAL.
type segment struct {
	index int
	size  int64 // bytes on disk; for the active segment, set when it is finished (WAL.written is live)
}

// WAL is an open write-ahead log. See the package documentation.
type WAL struct {
	// Immutable after Open.
	opts   Options
	logger *slog.Logger
	m      *metrics

	// mu guards the append queue and the closed flag.
	mu      sync.Mutex
	pending *round // frames waiting for the flusher
	spare   []byte // buffer of the last written round, for reuse
	closed  bool
	// err is the write or fsync error the WAL failed with. While it is set
	// the WAL is failed: before it writes again, the flusher repairs the
	// active segment (repair) and clears err only if that succeeds.
	err error

	kick chan struct{}   // wakes the flusher; capacity 1
	ctl  chan ctlRequest // Cut and Close requests to the flusher
	done chan struct{}   // closed when the flusher exits
	wg   sync.WaitGroup

	// segMu guards segs. The flusher takes it to append a segment.
	segMu sync.Mutex
	segs  []segment // ascending; the last one is active

	// Owned by the flusher goroutine after Open.
	f       fileutil.File
	active  int
	written atomic.Int64 // bytes in the active segment
	dirty   bool         // written but not fsynced
	// good is the end of the last round of the active segment whose
	// appenders were told it succeeded; synced is the end of what the last
	// successful fsync covered. unsynced holds the bytes between the two
	// (SyncInterval and SyncNever only), so that repair can rewrite them
	// after an fsync error instead of trusting the page cache.
	good, synced int64
	unsynced     []byte

	size    atomic.Int64 // bytes across all segments
	fsyncs  atomic.Int64 // data fsyncs, for tests and benchmarks
	records atomic.Int64 // records written since Open
}

// round is the set of frames one flusher pass writes and syncs together.
type round struct {
	buf     []byte
	ends    []int // end offset in buf of each frame
	records int
	done    chan struct{}
	err     error // valid after done is closed
}

func newRound(buf []byte) *round {
	return &round{buf: buf[:0], done: make(chan struct{})}
}

// Open opens or creates the WAL in opts.Dir. It validates every segment,
// repairs the damage a crash can leave (see the package documentation) and
// starts a new segment for appends. It fails only for I/O errors, bad
// options and segments from an unsupported format version.
func Open(opts Options) (*WAL, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	w := &WAL{
		opts:   opts,
		logger: opts.Logger,
		kick:   make(chan struct{}, 1),
		ctl:    make(chan ctlRequest),
		done:   make(chan struct{}),
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	w.m = m
	if err := opts.FS.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("wal: create dir: %w", err)
	}
	if err := w.recover(); err != nil {
		return nil, err
	}
	next := 1
	if n := len(w.segs); n > 0 {
		next = w.segs[n-1].index + 1
	}
	if err := w.createSegment(next); err != nil {
		return nil, err
	}
	w.pending = newRound(nil)
	w.wg.Add(1)
	go w.flushLoop()
	return w, nil
}

// recover lists, validates and repairs the segments in the directory.
func (w *WAL) recover() error {
	ents, err := w.opts.FS.ReadDir(w.opts.Dir)
	if err != nil {
		return fmt.Errorf("wal: list dir: %w", err)
	}
	var idx []int
	for _, e := range ents {
		if n, ok := parseSegmentName(e.Name()); ok && e.Type().IsRegular() {
			idx = append(idx, n)
		}
	}
	slices.Sort(idx)
	var buf []byte
	for i, index := range idx {
		if i > 0 && index != idx[i-1]+1 {
			cerr := &CorruptionError{Segment: idx[i-1], Offset: w.segs[len(w.segs)-1].size,
				Err: fmt.Errorf("segment %d missing", idx[i-1]+1)}
			w.logger.Warn("wal segment missing; dropping the segments after it",
				"segment", idx[i-1]+1, "dropped", len(idx)-i, "err", cerr)
			w.m.corruptions.Inc()
			return w.dropAfter(idx[i:])
		}
		last := i == len(idx)-1
		size, end, cerr, err := scanSegment(w.opts.FS, w.opts.Dir, index, buf)
		if err != nil {
			return err
		}
		if cerr == nil {
			w.addSegment(index, size)
			continue
		}
		if last && size == 0 {
			// A crash between creating the file and writing its header.
			w.logger.Info("wal removing empty segment", "segment", index)
			return w.repairSegment(index, 0)
		}
		w.m.corruptions.Inc()
		if last {
			w.logger.Warn("wal segment tail damaged; truncating at the last intact frame",
				"segment", index, "offset", end, "size", size, "err", cerr)
		} else {
			w.logger.Warn("wal segment corrupt; truncating it and dropping the segments after it",
				"segment", index, "offset", end, "dropped", len(idx)-i-1, "err", cerr)
		}
		if err := w.repairSegment(index, end); err != nil {
			return err
		}
		if end >= headerSize {
			w.addSegment(index, end)
		}
		if !last {
			return w.dropAfter(idx[i+1:])
		}
	}
	return nil
}

// scanSegment validates segment index. It returns the file size, the end of
// the intact prefix and, if the prefix is not the whole file, why. An intact
// prefix shorter than a header means the header itself is damaged.
func scanSegment(fsys fileutil.FS, dir string, index int, buf []byte) (size, end int64, cerr *CorruptionError, err error) {
	f, err := fileutil.Open(fsys, filepath.Join(dir, segmentName(index)))
	if err != nil {
		return 0, 0, nil, fmt.Errorf("wal: open segment %d: %w", index, err)
	}
	defer f.Close() // read-only; a close error loses nothing
	st, err := f.Stat()
	if err != nil {
		return 0, 0, nil, fmt.Errorf("wal: stat segment %d: %w", index, err)
	}
	size = st.Size()
	r := newSegmentReader(f, size, index, buf)
	if err := r.readHeader(); err != nil {
		if errors.Is(err, ErrUnsupportedVersion) {
			return 0, 0, nil, fmt.Errorf("wal: segment %d: %w", index, err)
		}
		return size, 0, &CorruptionError{Segment: index, Offset: 0, Err: err}, nil
	}
	for {
		_, _, err := r.next()
		if errors.Is(err, io.EOF) {
			return size, r.off, nil, nil
		}
		if err != nil {
			return size, r.off, &CorruptionError{Segment: index, Offset: r.off, Err: err}, nil
		}
	}
}

// repairSegment truncates segment index to end bytes, or removes it if not
// even its header is intact.
func (w *WAL) repairSegment(index int, end int64) error {
	name := filepath.Join(w.opts.Dir, segmentName(index))
	if end < headerSize {
		if err := w.opts.FS.Remove(name); err != nil {
			return fmt.Errorf("wal: remove damaged segment %d: %w", index, err)
		}
		return w.syncDir()
	}
	f, err := w.opts.FS.OpenFile(name, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("wal: open segment %d for repair: %w", index, err)
	}
	if err := f.Truncate(end); err != nil {
		return errors.Join(fmt.Errorf("wal: truncate segment %d: %w", index, err), f.Close())
	}
	if err := w.fsync(f); err != nil {
		return errors.Join(fmt.Errorf("wal: sync segment %d: %w", index, err), f.Close())
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("wal: close segment %d: %w", index, err)
	}
	return nil
}

// dropAfter removes the given segments, which follow a corruption.
func (w *WAL) dropAfter(idx []int) error {
	for _, index := range idx {
		if err := w.opts.FS.Remove(filepath.Join(w.opts.Dir, segmentName(index))); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("wal: remove segment %d: %w", index, err)
		}
	}
	return w.syncDir()
}

func (w *WAL) addSegment(index int, size int64) {
	w.segMu.Lock()
	w.segs = append(w.segs, segment{index: index, size: size})
	w.segMu.Unlock()
	w.size.Add(size)
	w.m.segments.Set(float64(w.segmentCount()))
}

func (w *WAL) segmentCount() int {
	w.segMu.Lock()
	defer w.segMu.Unlock()
	return len(w.segs)
}

// createSegment creates segment index with its header, makes it durable and
// makes it the active segment. The caller owns w.f (Open or the flusher).
func (w *WAL) createSegment(index int) error {
	name := filepath.Join(w.opts.Dir, segmentName(index))
	f, err := w.opts.FS.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("wal: create segment %d: %w", index, err)
	}
	// A segment whose header did not become durable is removed again, so
	// that a failed rotation (a full disk) leaves no half-made file behind.
	abandon := func(err error) error {
		return errors.Join(err, f.Close(), w.opts.FS.Remove(name))
	}
	hdr := appendHeader(nil, index)
	if _, err := f.Write(hdr); err != nil {
		return abandon(fmt.Errorf("wal: write segment %d header: %w", index, err))
	}
	if err := w.fsync(f); err != nil {
		return abandon(fmt.Errorf("wal: sync segment %d: %w", index, err))
	}
	if err := w.syncDir(); err != nil {
		return abandon(err)
	}
	w.f = f
	w.active = index
	w.written.Store(headerSize)
	w.good, w.synced, w.unsynced = headerSize, headerSize, w.unsynced[:0]
	w.dirty = false
	w.addSegment(index, headerSize)
	return nil
}

// syncDir fsyncs the WAL directory so that created and removed segment files
// survive a crash.
func (w *WAL) syncDir() error {
	if w.opts.noSync {
		return nil
	}
	if err := fileutil.SyncDir(w.opts.FS, w.opts.Dir); err != nil {
		return fmt.Errorf("wal: %w", err)
	}
	return nil
}

// fsync fsyncs f unless a test has turned fsync off.
func (w *WAL) fsync(f fileutil.File) error {
	if w.opts.noSync {
		return nil
	}
	return f.Sync()
}

// Segments returns the indexes of the first and the last (active) segment.
func (w *WAL) Segments() (first, last int, err error) {
	w.segMu.Lock()
	defer w.segMu.Unlock()
	if len(w.segs) == 0 {
		return 0, 0, ErrClosed
	}
	return w.segs[0].index, w.segs[len(w.segs)-1].index, nil
}

// Size returns the bytes on disk across all segments, counting what has been
// written to the active segment.
func (w *WAL) Size() int64 { return w.size.Load() }

// Truncate deletes the segments with an index below before. The active
// segment is never deleted, whatever before says.
func (w *WAL) Truncate(before int) error {
	w.segMu.Lock()
	defer w.segMu.Unlock()
	w.mu.Lock()
	closed := w.closed
	w.mu.Unlock()
	if closed {
		return ErrClosed
	}
	n := 0
	var firstErr error
	for n < len(w.segs)-1 && w.segs[n].index < before {
		s := w.segs[n]
		err := w.opts.FS.Remove(filepath.Join(w.opts.Dir, segmentName(s.index)))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			firstErr = fmt.Errorf("wal: remove segment %d: %w", s.index, err)
			break
		}
		w.size.Add(-s.size)
		n++
	}
	if n == 0 {
		return firstErr
	}
	w.segs = slices.Delete(w.segs, 0, n)
	w.m.segments.Set(float64(len(w.segs)))
	if err := w.syncDir(); err != nil {
		return errors.Join(firstErr, err)
	}
	return firstErr
}
