package memstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/memstore/wal"
)

// Options configures a DB.
type Options struct {
	// Dir holds the WAL (Dir/wal) and checkpoints (Dir/checkpoint.N).
	Dir string
	// WAL options; Dir is set from Options.Dir.
	WAL wal.Options
	// CheckpointInterval is how often the WAL is checkpointed and
	// truncated; 0 disables the periodic checkpoint.
	CheckpointInterval time.Duration
	// FutureWindow is how far ahead of now a record may be (Timestream: 15
	// minutes).
	FutureWindow time.Duration
	// PartWriter receives aged rows (the magnetic tier); nil keeps every
	// row in memory.
	PartWriter PartWriter
	// FlushInterval is how often rows older than their table's memory
	// retention move to the PartWriter (default 1m).
	FlushInterval time.Duration
	// MaxChunkBytes flushes everything when the chunks outgrow it; 0 never.
	MaxChunkBytes int64
	// MaxSeries bounds the series in memory; records that would create
	// more are rejected. 0 means unlimited.
	MaxSeries  int
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	Now        func() time.Time
}

// DefaultOptions returns the options tidal server uses.
func DefaultOptions(dir string) Options {
	return Options{
		Dir:                dir,
		CheckpointInterval: 5 * time.Minute,
		FutureWindow:       15 * time.Minute,
	}
}

// Validate reports the first invalid option.
func (o *Options) Validate() error {
	switch {
	case o.Dir == "":
		return errors.New("memstore: options: Dir is empty")
	case o.CheckpointInterval < 0:
		return errors.New("memstore: options: CheckpointInterval is negative")
	case o.FutureWindow < 0:
		return errors.New("memstore: options: FutureWindow is negative")
	case o.MaxSeries < 0:
		return errors.New("memstore: options: MaxSeries is negative")
	}
	return nil
}

// Catalog is what the memstore needs of the catalog: tables by name (and
// creation for writers that ask for it), by ID (replay, flush), schema
// columns, and notice of table changes. *catalog.Catalog has it.
type Catalog interface {
	Table(db, name string) (catalog.Table, error)
	TableByID(id uint64) (catalog.Table, bool)
	EnsureTable(db, name string) (catalog.Table, error)
	ImplicitTable(db, name string) (catalog.Table, error)
	AddColumns(tableID uint64, cols []catalog.Column) error
	Subscribe(fn func(catalog.Table)) (unsubscribe func())
}

// DB is the memory tier. It implements ingest.Appender and scan.Source.
type DB struct {
	opts   Options
	cat    Catalog
	unsub  func() // ends the catalog subscription
	wal    *wal.WAL
	logger *slog.Logger
	now    func() time.Time

	nextRef atomic.Uint64
	nseries atomic.Int64 // series in memory, for MaxSeries
	// oooBuffered counts the rows in the series' out-of-order buffers.
	oooBuffered atomic.Int64
	// lateRows counts the late rows (older than the memory window, for
	// the magnetic tier) written since the last flush; past lateFlushRows
	// flushNow asks the flush loop to flush at once.
	lateRows atomic.Int64
	flushNow chan struct{}

	mu     sync.RWMutex // Guards tables and byID.
	tables map[string]*table
	byID   map[uint64]*table

	// checkpointMu serialises checkpoints with each other.
	checkpointMu sync.Mutex
	// commitMu is held shared by appenders from their WAL append until
	// their rows are in the series, and exclusively by Checkpoint around
	// its WAL cut (see commit).
	commitMu sync.RWMutex
	// flushMu serialises flushes.
	flushMu sync.Mutex

	m metrics

	stop chan struct{}
	wg   sync.WaitGroup // Run
	// runMu orders Run's start against Close.
	runMu sync.Mutex
}

type metrics struct {
	records     *prometheus.CounterVec
	samples     prometheus.Counter
	checkpoints prometheus.Counter
	replayed    prometheus.Counter
	flushedRows prometheus.Counter
	seriesGauge prometheus.GaugeFunc
	memoryBytes prometheus.GaugeFunc
}

// Open opens the memstore in opts.Dir, loading the latest checkpoint and
// replaying the WAL after it.
func Open(cat Catalog, opts Options) (*DB, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("memstore: create dir: %w", err)
	}
	db := &DB{
		opts:   opts,
		cat:    cat,
		logger: opts.Logger,
		now:    opts.Now,
		tables: map[string]*table{},
		byID:   map[uint64]*table{},
		stop:   make(chan struct{}),

		flushNow: make(chan struct{}, 1),
	}
	db.initMetrics(opts.Registerer)

	start := time.Now()
	cpSeg, err := db.loadCheckpoint()
	if err != nil {
		return nil, err
	}
	wopts := opts.WAL
	wopts.Dir = filepath.Join(opts.Dir, "wal")
	if wopts.Logger == nil {
		wopts.Logger = opts.Logger
	}
	if wopts.Registerer == nil {
		wopts.Registerer = opts.Registerer
	}
	w, err := wal.Open(wopts)
	if err != nil {
		return nil, fmt.Errorf("memstore: open wal: %w", err)
	}
	db.wal = w
	n, err := db.replayWAL(cpSeg)
	if err != nil {
		return nil, errors.Join(err, w.Close())
	}
	db.logger.Info("memstore replayed", "checkpoint_segment", cpSeg, "wal_entries", n,
		"series", db.SeriesCount(), "duration", time.Since(start).Round(time.Millisecond))

	db.unsub = cat.Subscribe(db.onTableChange)
	if opts.PartWriter != nil && opts.FlushInterval <= 0 {
		db.opts.FlushInterval = time.Minute
	}
	return db, nil
}

// Close stops background work and closes the WAL. Data is already durable.
func (db *DB) Close() error {
	select {
	case <-db.stop:
		return nil
	default:
	}
	db.runMu.Lock()
	close(db.stop)
	db.runMu.Unlock()
	db.unsub()
	db.wg.Wait()
	if err := db.wal.Close(); err != nil {
		return fmt.Errorf("memstore: close wal: %w", err)
	}
	return nil
}

// Run runs the background work, checkpoints every CheckpointInterval and
// flushes to the magnetic tier every FlushInterval (with a PartWriter),
// until ctx ends or the DB is closed. It is the memstore's long-running
// component: the server starts it in its run group, and stops it before
// Close.
func (db *DB) Run(ctx context.Context) error {
	db.runMu.Lock()
	select {
	case <-db.stop:
		db.runMu.Unlock()
		return ErrClosed
	default:
	}
	db.wg.Add(1)
	db.runMu.Unlock()
	defer db.wg.Done()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-db.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	var wg sync.WaitGroup
	if db.opts.CheckpointInterval > 0 {
		wg.Add(1)
		go func() { defer wg.Done(); db.checkpointLoop(ctx) }()
	}
	if db.opts.PartWriter != nil {
		wg.Add(1)
		go func() { defer wg.Done(); db.flushLoop(ctx) }()
	}
	wg.Wait()
	return nil
}

func (db *DB) checkpointLoop(ctx context.Context) {
	tk := time.NewTicker(db.opts.CheckpointInterval)
	defer tk.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tk.C:
			if err := db.checkpoint(ctx); err != nil {
				if ctx.Err() != nil {
					db.logger.Info("memstore checkpoint abandoned at shutdown; the wal keeps its rows")
					return
				}
				db.logger.Error("memstore checkpoint", "err", err)
			}
		}
	}
}

// table returns the memstore state of db.name, creating it from the catalog
// (and the catalog table itself when create is set).
func (db *DB) table(dbName, name string, create bool) (*table, error) {
	key := dbName + "\x00" + name
	db.mu.RLock()
	t := db.tables[key]
	db.mu.RUnlock()
	if t != nil {
		return t, nil
	}
	var ct catalog.Table
	var err error
	if create {
		ct, err = db.cat.EnsureTable(dbName, name)
	} else {
		ct, err = db.cat.Table(dbName, name)
	}
	if err != nil {
		return nil, err
	}
	return db.tableFromCatalog(ct), nil
}

// tableByID returns the memstore state of the catalog table id, or nil if
// the table no longer exists.
func (db *DB) tableByID(id uint64) *table {
	db.mu.RLock()
	t := db.byID[id]
	db.mu.RUnlock()
	if t != nil {
		return t
	}
	ct, ok := db.cat.TableByID(id)
	if !ok {
		return nil
	}
	return db.tableFromCatalog(ct)
}

func (db *DB) tableFromCatalog(ct catalog.Table) *table {
	db.mu.Lock()
	defer db.mu.Unlock()
	if t := db.byID[ct.ID]; t != nil {
		return t
	}
	t := newTable(ct.ID, ct.Database, ct.Name)
	t.refresh(ct)
	db.tables[ct.Database+"\x00"+ct.Name] = t
	db.byID[ct.ID] = t
	return t
}

// refresh copies the catalog's properties and schema into t.
func (t *table) refresh(ct catalog.Table) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.memoryHours = ct.Retention.MemoryHours
	t.magneticDays = ct.Retention.MagneticDays
	t.magneticWrites = ct.MagneticWrites.Enabled
	for _, c := range ct.Columns {
		t.schema[c.Name] = schemaCol{kind: uint8(c.Kind), typ: c.Type}
	}
}

// onTableChange follows catalog changes: retention updates apply at once, a
// deleted table's series are dropped.
func (db *DB) onTableChange(ct catalog.Table) {
	cur, ok := db.cat.TableByID(ct.ID)
	db.mu.Lock()
	t := db.byID[ct.ID]
	if t != nil && !ok {
		delete(db.byID, ct.ID)
		delete(db.tables, t.database+"\x00"+t.name)
	}
	db.mu.Unlock()
	if t == nil {
		return
	}
	if ok {
		t.refresh(cur)
		return
	}
	t.mu.Lock()
	t.dropped = true
	n := len(t.byRef)
	for _, s := range t.byRef {
		s.mu.Lock()
		if s.ooo != nil {
			db.oooBuffered.Add(-int64(len(s.ooo.rows)))
			s.ooo = nil
		}
		s.mu.Unlock()
	}
	t.series, t.byRef, t.postings = map[string]*memSeries{}, map[uint64]*memSeries{}, map[string]map[string][]uint64{}
	t.mu.Unlock()
	db.nseries.Add(-int64(n))
	db.logger.Info("memstore dropped table", "table", t.database+"."+t.name, "series", n)
}

// SeriesCount is the number of series in memory.
func (db *DB) SeriesCount() int {
	n := 0
	db.mu.RLock()
	defer db.mu.RUnlock()
	for _, t := range db.byID {
		t.mu.RLock()
		n += len(t.byRef)
		t.mu.RUnlock()
	}
	return n
}

// Stats describes the memory the DB holds.
type Stats struct {
	Series int
	Rows   int64
	// ChunkBytes is the heap held by compressed chunks.
	ChunkBytes int64
	// IndexBytes estimates series identities, postings and cache entries.
	IndexBytes int64
}

// Stats walks every series; it is meant for metrics and benchmarks, not for
// hot paths.
func (db *DB) Stats() Stats {
	var st Stats
	db.eachSeries(func(s *memSeries) { s.addStats(&st) })
	return st
}

func (db *DB) initMetrics(reg prometheus.Registerer) {
	db.m.records = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tidal_memstore_records_total",
		Help: "Records offered to the memstore, by result (memory, magnetic, rejected).",
	}, []string{"result"})
	db.m.samples = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "tidal_memstore_samples_appended_total",
		Help: "Measure values appended (a multi-measure record counts each value).",
	})
	db.m.checkpoints = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "tidal_memstore_checkpoints_total",
		Help: "WAL checkpoints written.",
	})
	db.m.replayed = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "tidal_memstore_replayed_rows_total",
		Help: "Rows applied from the checkpoint and WAL at start-up.",
	})
	db.m.flushedRows = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "tidal_memstore_flushed_rows_total",
		Help: "Rows moved to the magnetic tier.",
	})
	db.m.seriesGauge = prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "tidal_memstore_series",
		Help: "Series held in memory.",
	}, func() float64 { return float64(db.SeriesCount()) })
	db.m.memoryBytes = prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "tidal_memstore_chunk_bytes",
		Help: "Heap bytes held by compressed chunks.",
	}, func() float64 { return float64(db.Stats().ChunkBytes) })
	if reg != nil {
		reg.MustRegister(db.m.records, db.m.samples, db.m.checkpoints, db.m.replayed, db.m.flushedRows, db.m.seriesGauge, db.m.memoryBytes)
	}
}

// Health reports why the memstore cannot acknowledge writes right now (its
// WAL failed and is not yet repaired), or nil when it can.
func (db *DB) Health() error {
	if err := db.wal.Err(); err != nil {
		return fmt.Errorf("memstore: wal failed: %w", err)
	}
	return nil
}

// each calls fn for every series (under the stripe read locks).
// eachSeries calls fn for every series in memory, table by table, with
// the table's lock held for reading. (The tables' byRef maps are the only
// list of every series: a DB-wide map of them cost ~30 bytes per series.)
func (db *DB) eachSeries(fn func(*memSeries)) {
	db.mu.RLock()
	tables := make([]*table, 0, len(db.byID))
	for _, t := range db.byID {
		tables = append(tables, t)
	}
	db.mu.RUnlock()
	for _, t := range tables {
		t.mu.RLock()
		for _, s := range t.byRef {
			fn(s)
		}
		t.mu.RUnlock()
	}
}

// TableStats is Stats for one table (zero when the table has nothing in
// memory); like Stats it walks the table's series.
func (db *DB) TableStats(dbName, name string) Stats {
	db.mu.RLock()
	t := db.tables[dbName+"\x00"+name]
	db.mu.RUnlock()
	var st Stats
	if t == nil {
		return st
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	for _, s := range t.series {
		s.addStats(&st)
	}
	return st
}

// addStats adds s to st.
func (s *memSeries) addStats(st *Stats) {
	st.Series++
	s.mu.Lock()
	for _, c := range s.chunks {
		st.Rows += int64(c.n)
		st.ChunkBytes += int64(c.size())
	}
	if n := s.oooRows(); n > 0 {
		// Buffered rows may replace chunk rows; the count is an upper
		// bound until they are merged.
		st.Rows += int64(n)
		st.ChunkBytes += int64(n) * oooRowBytes
	}
	s.mu.Unlock()
	// series struct, key, map entries and postings.
	st.IndexBytes += int64(200 + 2*len(s.key) + 16*keyNumDims(s.key))
}
