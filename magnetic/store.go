package magnetic

import (
	"github.com/tidaldb/tidal/internal/fileutil"
	"github.com/tidaldb/tidal/query/scan"

	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tidaldb/tidal/catalog"
)

var (
	// ErrCorrupt reports a part file whose bytes do not follow
	// docs/format/part.md, or whose checksums do not match.
	ErrCorrupt = errors.New("magnetic: corrupt part")
	// ErrUnsupportedVersion reports a part of a format version this
	// package does not read.
	ErrUnsupportedVersion = errors.New("magnetic: unsupported part format version")
	// ErrClosed reports a call on a closed Store.
	ErrClosed = errors.New("magnetic: store closed")
	// ErrUnknownTable reports a scan of a table the catalog does not know.
	ErrUnknownTable = scan.ErrUnknownTable
	// ErrBadMatcher reports a matcher without the value its operation
	// needs.
	ErrBadMatcher = errors.New("magnetic: matcher without a value")
)

// Options configures Open.
type Options struct {
	// Dir holds the parts; created if missing. Required.
	Dir string
	// Catalog maps table names to IDs for Scan and supplies retention.
	// Without it Scan fails and ApplyRetention does nothing.
	Catalog Catalog
	// FS is the file system parts are written through. Default
	// fileutil.OS; tests inject faults through it.
	FS fileutil.FS
	// CacheBytes bounds the cache of decompressed chunks; 0 means 64 MiB,
	// a negative value disables the cache.
	CacheBytes int
	// Logger receives background errors and part events; nil discards.
	Logger *slog.Logger
	// Registerer receives the store's metrics; nil registers nothing.
	Registerer prometheus.Registerer
	// Now is the clock of the background retention; default time.Now.
	Now func() time.Time
	// MergeInterval is the period of the background merge and retention
	// loop; 0 starts no loop (callers run Merge and ApplyRetention).
	MergeInterval time.Duration

	// PartitionWidth, when not 0, forces the partition width of tables
	// whose width is not chosen yet (tests, benchmarks): it must be
	// HourPartitionWidth, DefaultPartitionWidth or WeekPartitionWidth.
	// Tables that already have a width keep it.
	PartitionWidth time.Duration
	// HourPartitionRowsPerDay and WeekPartitionRowsPerDay are the
	// thresholds of the width rule applied to a table's first WritePart:
	// its rows per day (rows divided by their time span, at least an
	// hour) above HourPartitionRowsPerDay give one-hour partitions, below
	// WeekPartitionRowsPerDay one-week partitions, else one-day. 0 means
	// DefaultHourPartitionRowsPerDay and DefaultWeekPartitionRowsPerDay.
	HourPartitionRowsPerDay int64
	WeekPartitionRowsPerDay int64

	// Deletes, when set, supplies the tombstones every written part
	// (flushes, merges) leaves out, and RewriteDeleted applies.
	Deletes Deletes
	// Object, when set, keeps the parts of old partitions in an object
	// store (object.go).
	Object *ObjectOptions

	// maintained, when set (tests), is called after each background
	// retention or merge pass.
	maintained func()
}

// PartInfo describes one part for listings such as `tidal admin parts`.
type PartInfo struct {
	TableID uint64
	// Partition is the start of the part's partition (UTC).
	Partition time.Time
	// PartitionWidth is the width of the part's table's partitions.
	PartitionWidth time.Duration
	// Name is the part's file name.
	Name string
	// Level is 0 for written parts and grows with each merge.
	Level   int
	Series  int
	Rows    int64
	MinTime int64 // ns, inclusive
	MaxTime int64 // ns, inclusive
	// Bytes is the size on disk.
	Bytes int64
	// RawBytes is 16 bytes per row (a timestamp and a value), the usual
	// reference for compression ratios.
	RawBytes int64
	Created  time.Time
	Creator  string
	// Object is the part's key in the object store, "" for a local part.
	Object string
}

// BytesPerSample returns Bytes divided by Rows (0 for an empty part).
func (pi PartInfo) BytesPerSample() float64 {
	if pi.Rows == 0 {
		return 0
	}
	return float64(pi.Bytes) / float64(pi.Rows)
}

// partition is one time partition of one table.
type partition struct {
	tableID uint64
	start   int64
	width   time.Duration
	dir     string
	parts   []*part // ascending meta.order
}

// tableLayout is the partition width of one table; onDisk is false for
// format version 1 tables, whose width is implied by the missing file.
type tableLayout struct {
	width  time.Duration
	onDisk bool
}

type metrics struct {
	cacheHits, cacheMisses prometheus.Counter
	partsWritten           prometheus.Counter
	bytesWritten           prometheus.Counter
	rowsWritten            prometheus.Counter
	merges                 prometheus.Counter
	rowsMerged             prometheus.Counter
	partitionsDropped      prometheus.Counter
	rewrites               prometheus.Counter
}

// Catalog is what the magnetic tier needs of the catalog: tables by name
// (Scan) and by ID (retention), and notice of table changes (retention
// updates and deletes wake the maintenance loop). *catalog.Catalog has it.
type Catalog interface {
	Table(db, name string) (catalog.Table, error)
	TableByID(id uint64) (catalog.Table, bool)
	Subscribe(fn func(catalog.Table)) (unsubscribe func())
}

// Store is the magnetic tier of one server: every table's parts under
// Options.Dir. Safe for concurrent use.
type Store struct {
	opts   Options
	log    *slog.Logger
	now    func() time.Time
	cache  *blockCache
	m      metrics
	om     objectMetrics
	seq    atomic.Uint64   // last part sequence number used
	ctx    context.Context // ends at Close
	cancel context.CancelFunc
	wg     sync.WaitGroup
	kick   chan struct{}
	unsub  func() // ends the catalog subscription
	fs     fileutil.FS

	maintMu  sync.Mutex // Serialises Merge, ApplyRetention and Close.
	layoutMu sync.Mutex // Serialises choosing and persisting table widths.

	// writers tracks WritePart calls for RewriteDeleted (delete.go).
	writers writers

	mu     sync.RWMutex // Guards everything below.
	tables map[uint64]map[int64]*partition
	widths map[uint64]tableLayout // tables whose width is known
	closed bool
}

// Open loads every part under opts.Dir, removes temporary files and parts
// replaced by a completed merge, and starts the background loop.
func Open(opts Options) (*Store, error) {
	if opts.Dir == "" {
		return nil, errors.New("magnetic: open store: Options.Dir is empty")
	}
	if opts.CacheBytes == 0 {
		opts.CacheBytes = 64 << 20
	}
	if opts.PartitionWidth != 0 && !validWidth(opts.PartitionWidth) {
		return nil, fmt.Errorf("magnetic: open store: Options.PartitionWidth %v is not 1h, 24h or 168h", opts.PartitionWidth)
	}
	if opts.HourPartitionRowsPerDay == 0 {
		opts.HourPartitionRowsPerDay = DefaultHourPartitionRowsPerDay
	}
	if opts.WeekPartitionRowsPerDay == 0 {
		opts.WeekPartitionRowsPerDay = DefaultWeekPartitionRowsPerDay
	}
	s := &Store{opts: opts, log: opts.Logger, now: opts.Now, tables: map[uint64]map[int64]*partition{},
		widths: map[uint64]tableLayout{}, kick: make(chan struct{}, 1), fs: opts.FS}
	if s.fs == nil {
		s.fs = fileutil.OS
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if err := s.initMetrics(opts.Registerer); err != nil {
		return nil, err
	}
	s.cache = newBlockCache(opts.CacheBytes, s.m.cacheHits, s.m.cacheMisses)
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	if opts.Object != nil {
		if opts.Object.Store == nil {
			return nil, errors.New("magnetic: open store: Options.Object.Store is nil")
		}
		if err := s.initObjects(opts.Registerer); err != nil {
			return nil, err
		}
		if err := s.prepareObjects(context.Background()); err != nil {
			return nil, err
		}
	}
	if err := s.load(); err != nil {
		return nil, errors.Join(err, s.releaseAll())
	}
	if opts.Object != nil {
		// Orphans cost only space: an unreachable bucket must not keep
		// the server from starting; the next Open sweeps again.
		if err := s.sweepObjects(context.Background()); err != nil {
			s.log.Warn("sweep orphaned objects", "err", err)
		}
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if opts.Catalog != nil {
		s.unsub = opts.Catalog.Subscribe(func(catalog.Table) {
			select {
			case s.kick <- struct{}{}:
			default:
			}
		})
	}

	return s, nil
}

func (s *Store) initMetrics(reg prometheus.Registerer) error {
	c := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Namespace: "tidal", Subsystem: "magnetic", Name: name, Help: help})
	}
	s.m = metrics{
		cacheHits:         c("cache_hits_total", "Chunk reads served by the decompressed-block cache."),
		cacheMisses:       c("cache_misses_total", "Chunk reads that went to disk."),
		partsWritten:      c("parts_written_total", "Parts written by flushes, late writes and merges."),
		bytesWritten:      c("bytes_written_total", "Bytes of part files written."),
		rowsWritten:       c("rows_written_total", "Rows written into parts, merges included."),
		merges:            c("merges_total", "Merges completed."),
		rowsMerged:        c("rows_merged_total", "Rows written by merges."),
		partitionsDropped: c("partitions_dropped_total", "Partitions dropped by retention or table deletion."),
		rewrites:          c("delete_rewrites_total", "Parts rewritten to apply deletions."),
	}
	if reg == nil {
		return nil
	}
	cs := []prometheus.Collector{s.m.cacheHits, s.m.cacheMisses, s.m.partsWritten, s.m.bytesWritten, s.m.rowsWritten,
		s.m.merges, s.m.rowsMerged, s.m.partitionsDropped, s.m.rewrites,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "tidal", Subsystem: "magnetic", Name: "cache_bytes",
			Help: "Bytes held by the decompressed-block cache."}, func() float64 { return float64(s.cache.bytes()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "tidal", Subsystem: "magnetic", Name: "parts",
			Help: "Live parts."}, func() float64 { return float64(len(s.Parts())) }),
	}
	for _, col := range cs {
		if err := reg.Register(col); err != nil {
			return fmt.Errorf("magnetic: register metrics: %w", err)
		}
	}
	return nil
}

// load opens every part on disk.
func (s *Store) load() error {
	tdirs, err := os.ReadDir(s.opts.Dir)
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	var maxSeq uint64
	for _, td := range tdirs {
		id, err := strconv.ParseUint(td.Name(), 10, 64)
		if err != nil || !td.IsDir() {
			continue
		}
		tdir := filepath.Join(s.opts.Dir, td.Name())
		// A layout file is durable before the first partition directory
		// exists, so a leftover temporary one belongs to a table without
		// partitions: remove it and let the next write choose again.
		if err := os.Remove(filepath.Join(tdir, layoutFile+tmpSuffix)); err == nil {
			s.log.Info("removed incomplete layout", s.tableAttrs(id)...)
			if err := syncDir(s.fs, tdir); err != nil {
				return fmt.Errorf("open store: %w", err)
			}
		} else if !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("open store: remove incomplete layout: %w", err)
		}
		width, err := readLayout(tdir)
		if err != nil {
			return fmt.Errorf("open store: %w", err)
		}
		if width != 0 {
			s.widths[id] = tableLayout{width: width, onDisk: true}
		}
		pdirs, err := os.ReadDir(tdir)
		if err != nil {
			return fmt.Errorf("open store: %w", err)
		}
		for _, pd := range pdirs {
			start, w, ok := parsePartitionName(pd.Name())
			if !ok || !pd.IsDir() {
				continue
			}
			if width == 0 && w == DefaultPartitionWidth {
				// Format version 1: no layout file, day partitions.
				width = DefaultPartitionWidth
				s.widths[id] = tableLayout{width: width}
			}
			if w != width {
				return fmt.Errorf("open store: partition %s of table %d does not have the table's width %v: %w",
					pd.Name(), id, width, ErrBadLayout)
			}
			pt, err := s.loadPartition(id, start, filepath.Join(tdir, pd.Name()), &maxSeq)
			if err != nil {
				return err
			}
			if pt == nil {
				continue
			}
			pt.width = w
			if s.tables[id] == nil {
				s.tables[id] = map[int64]*partition{}
			}
			s.tables[id][pt.start] = pt
		}
	}
	s.seq.Store(maxSeq)
	return nil
}

func (s *Store) loadPartition(tableID uint64, start int64, dir string, maxSeq *uint64) (*partition, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("open partition %s: %w", dir, err)
	}
	pt := &partition{tableID: tableID, start: start, dir: dir}
	changed := false
	for _, e := range ents {
		name := e.Name()
		if strings.HasSuffix(name, tmpSuffix) {
			if err := os.Remove(filepath.Join(dir, name)); err != nil {
				return nil, fmt.Errorf("remove incomplete part: %w", err)
			}
			s.log.Info("removed incomplete part", "part", filepath.Join(dir, name))
			changed = true
			continue
		}
		seq, ok := parsePartName(name)
		open := func() (*part, error) { return openPart(filepath.Join(dir, name), seq, s.cache) }
		if !ok && s.opts.Object != nil {
			if seq, ok = parseRemoteName(name); ok {
				open = func() (*part, error) { return s.openRemotePart(filepath.Join(dir, name), seq) }
			}
		}
		if !ok && s.opts.Object == nil && strings.HasSuffix(name, remoteSuffix) {
			return nil, errors.Join(fmt.Errorf("open store: %s is a part in an object store, and none is configured", filepath.Join(dir, name)),
				releaseParts(pt.parts))
		}
		if !ok {
			continue
		}
		*maxSeq = max(*maxSeq, seq)
		p, err := open()
		if err != nil {
			return nil, errors.Join(fmt.Errorf("open store: %w", err), releaseParts(pt.parts))
		}
		pt.parts = append(pt.parts, p)
	}
	// A merged part is durable before its inputs are deleted; finish the
	// deletion a crash interrupted.
	replaced := map[string]bool{}
	for _, p := range pt.parts {
		for _, r := range p.meta.replaces {
			replaced[r] = true
		}
	}
	live := pt.parts[:0]
	for _, p := range pt.parts {
		if replaced[p.name] {
			p.removed.Store(true)
			if err := p.decRef(); err != nil {
				return nil, err
			}
			s.log.Info("removed part replaced by a merge", "part", p.path)
			changed = true
			continue
		}
		live = append(live, p)
	}
	pt.parts = live
	if changed {
		if err := syncDir(s.fs, dir); err != nil {
			return nil, err
		}
	}
	if len(pt.parts) == 0 {
		_ = os.Remove(dir) // an empty partition directory is not needed
		return nil, nil
	}
	sortParts(pt.parts)
	return pt, nil
}

func sortParts(ps []*part) {
	slices.SortFunc(ps, func(a, b *part) int {
		switch {
		case a.meta.order != b.meta.order:
			if a.meta.order < b.meta.order {
				return -1
			}
			return 1
		case a.seq < b.seq:
			return -1
		case a.seq > b.seq:
			return 1
		}
		return 0
	})
}

func releaseParts(ps []*part) error {
	var errs []error
	for _, p := range ps {
		errs = append(errs, p.decRef())
	}
	return errors.Join(errs...)
}

// releaseAll drops the store's reference on every part.
func (s *Store) releaseAll() error {
	s.mu.Lock()
	tables := s.tables
	s.tables = map[uint64]map[int64]*partition{}
	s.mu.Unlock()
	var errs []error
	for _, pts := range tables {
		for _, pt := range pts {
			errs = append(errs, releaseParts(pt.parts))
		}
	}
	return errors.Join(errs...)
}

// Close stops the background loop, waits for it, and releases the parts.
// Scans still open keep their parts readable until they are closed.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	if s.unsub != nil {
		s.unsub()
	}
	s.cancel()
	s.wg.Wait()
	s.maintMu.Lock()
	defer s.maintMu.Unlock()
	return s.releaseAll()
}

// Run runs the maintenance loop (retention, merges; every
// Options.MergeInterval and on catalog changes) until ctx ends or the store
// is closed. With no MergeInterval it only waits. It is the store's
// long-running component: the server starts it in its run group.
func (s *Store) Run(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	defer context.AfterFunc(s.ctx, stop)()
	if s.opts.MergeInterval <= 0 {
		<-ctx.Done()
		return nil
	}
	s.loop(ctx)
	return nil
}

func (s *Store) loop(ctx context.Context) {
	t := time.NewTicker(s.opts.MergeInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.kick:
			if err := s.ApplyRetention(s.now()); err != nil && !errors.Is(err, ErrClosed) {
				s.log.Error("apply retention", "err", err)
			}
			if s.opts.maintained != nil {
				s.opts.maintained()
			}
		case <-t.C:
			if err := s.ApplyRetention(s.now()); err != nil && !errors.Is(err, ErrClosed) {
				s.log.Error("apply retention", "err", err)
			}
			for range 16 {
				n, err := s.Merge(ctx)
				if err != nil {
					if !errors.Is(err, ErrClosed) && ctx.Err() == nil {
						s.log.Error("merge parts", "err", err)
					}
					break
				}
				if n == 0 {
					break
				}
			}
			if _, err := s.Upload(ctx, s.now()); err != nil && !errors.Is(err, ErrClosed) && ctx.Err() == nil {
				s.log.Error("upload parts", "err", err)
			}
			if s.opts.maintained != nil {
				s.opts.maintained()
			}
		}
	}
}

// Parts lists every live part, by table, partition and order.
func (s *Store) Parts() []PartInfo {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []PartInfo
	for id, pts := range s.tables {
		for _, pt := range pts {
			for _, p := range pt.parts {
				out = append(out, p.info(id, pt.start, pt.width))
			}
		}
	}
	slices.SortFunc(out, func(a, b PartInfo) int {
		switch {
		case a.TableID != b.TableID:
			return cmpU(a.TableID, b.TableID)
		case !a.Partition.Equal(b.Partition):
			return a.Partition.Compare(b.Partition)
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out
}

func cmpU(a, b uint64) int {
	if a < b {
		return -1
	}
	return 1
}

func (p *part) info(tableID uint64, start int64, width time.Duration) PartInfo {
	return PartInfo{TableID: tableID, Partition: time.Unix(0, start).UTC(), PartitionWidth: width, Name: p.name, Level: int(p.meta.level),
		Series: len(p.meta.series), Rows: int64(p.meta.rows), MinTime: p.meta.minT, MaxTime: p.meta.maxT,
		Bytes: p.size, RawBytes: 16 * int64(p.meta.rows), Created: time.Unix(0, p.meta.created).UTC(), Creator: p.meta.creator,
		Object: p.object}
}

// partitionDir returns the directory of a table's partition.
func (s *Store) partitionDir(tableID uint64, start int64, w time.Duration) string {
	return filepath.Join(s.opts.Dir, strconv.FormatUint(tableID, 10), partitionName(start, w))
}

// tableWidth returns the partition width of a table, choosing it for a
// first write of rows rows spanning [minT, maxT] and making the choice
// durable before any partition directory of the table exists.
func (s *Store) tableWidth(tableID uint64, rows int, minT, maxT int64) (time.Duration, error) {
	s.mu.RLock()
	tl, ok := s.widths[tableID]
	s.mu.RUnlock()
	if ok && tl.onDisk {
		return tl.width, nil
	}
	s.layoutMu.Lock()
	defer s.layoutMu.Unlock()
	s.mu.RLock()
	tl, ok = s.widths[tableID]
	s.mu.RUnlock()
	if ok && tl.onDisk {
		return tl.width, nil
	}
	if !ok {
		tl.width = s.opts.PartitionWidth
		if tl.width == 0 {
			tl.width = chooseWidth(rows, minT, maxT, s.opts.HourPartitionRowsPerDay, s.opts.WeekPartitionRowsPerDay)
		}
	}
	// Version 1 tables get their implied day width written down too, so
	// that it survives retention emptying the table.
	tdir := filepath.Join(s.opts.Dir, strconv.FormatUint(tableID, 10))
	if err := writeLayout(s.fs, tdir, tl.width); err != nil {
		return 0, err
	}
	tl.onDisk = true
	s.mu.Lock()
	s.widths[tableID] = tl
	s.mu.Unlock()
	s.log.Info("chose partition width", s.tableAttrs(tableID, "width", tl.width, "rows", rows)...)
	return tl.width, nil
}

// tableAttrs are the log attributes naming a table: "table" is db.table
// while the catalog knows the id (the id itself after a drop), "table_id"
// the directory under magnetic/ that holds its parts.
func (s *Store) tableAttrs(id uint64, more ...any) []any {
	name := strconv.FormatUint(id, 10)
	if s.opts.Catalog != nil {
		if t, ok := s.opts.Catalog.TableByID(id); ok {
			name = t.Database + "." + t.Name
		}
	}
	return append([]any{"table", name, "table_id", id}, more...)
}
