package memstore

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/internal/fileutil"
	"github.com/tidaldb/tidal/memstore/wal"
)

// openFaulty opens a DB in dir whose WAL writes through ffs.
func openFaulty(t *testing.T, dir string, ffs fileutil.FS, sync wal.SyncPolicy) *fixture {
	t.Helper()
	cat, err := catalog.Open(catalog.Options{Dir: dir, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	opts := DefaultOptions(dir + "/memstore")
	opts.Now = func() time.Time { return testNow }
	opts.CheckpointInterval = 0
	opts.WAL = wal.Options{Sync: sync, FS: ffs}
	db, err := Open(cat, opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cat.CreateDatabase("testdb", "", nil); err != nil && !errors.As(err, new(*catalog.Error)) {
		t.Fatal(err)
	}
	if _, err := cat.CreateTable(catalog.Table{Database: "testdb", Name: "tbl",
		Retention: catalog.Retention{MemoryHours: 6, MagneticDays: 30}}); err != nil && !errors.As(err, new(*catalog.Error)) {
		t.Fatal(err)
	}
	return &fixture{dir: dir, cat: cat, db: db}
}

func batch(n int, at time.Duration) []ingest.Record {
	dims := []ingest.Dimension{{Name: "host", Value: "a"}}
	recs := make([]ingest.Record, n)
	for i := range recs {
		recs[i] = ingest.Record{Time: ts(at + time.Duration(i)*time.Second), Dimensions: dims, MeasureName: "m",
			Value: ingest.Float(float64(i)), Version: 1}
	}
	return recs
}

func rowCount(t *testing.T, f *fixture) int {
	t.Helper()
	return len(scanAll(t, f.db)["a/m"])
}

// TestFailedWALAppendIsNeitherVisibleNorKept: the WAL fails on a write or an
// fsync. The Append fails; its rows are not visible to scans, a checkpoint
// taken after the disk recovers does not contain them, and a retry of the
// same batch is logged and survives a reopen (the bug was a retry that found
// the failed rows in memory and was acknowledged without a WAL record).
func TestFailedWALAppendIsNeitherVisibleNorKept(t *testing.T) {
	for _, fault := range []struct {
		name string
		op   fileutil.Op
		err  error
	}{
		{"ENOSPC on write", fileutil.OpWrite, syscall.ENOSPC},
		{"EIO on fsync", fileutil.OpSync, syscall.EIO},
	} {
		t.Run(fault.name, func(t *testing.T) {
			dir := t.TempDir()
			ffs := fileutil.NewFaultFS(fileutil.OS)
			f := openFaulty(t, dir, ffs, wal.SyncBatch)
			if _, err := f.db.Append(context.Background(), "testdb", "tbl", batch(10, -time.Hour), ingest.AppendOptions{}); err != nil {
				t.Fatal(err)
			}
			ffs.Inject(fileutil.Fault{Op: fault.op, Path: filepath.Join(dir, "memstore", "wal", "0000"), Err: fault.err})
			failed := batch(10, 0)
			if _, err := f.db.Append(context.Background(), "testdb", "tbl", failed, ingest.AppendOptions{}); !errors.Is(err, fault.err) {
				t.Fatalf("Append on a failing WAL = %v, want %v", err, fault.err)
			}
			if err := f.db.Health(); !errors.Is(err, fault.err) {
				t.Fatalf("Health() = %v, want the WAL failure", err)
			}
			if n := rowCount(t, f); n != 10 {
				t.Fatalf("scan sees %d rows after the failed append, want the 10 acknowledged", n)
			}
			// Still failing: a retry fails as well (not acknowledged).
			if _, err := f.db.Append(context.Background(), "testdb", "tbl", batch(10, 0), ingest.AppendOptions{}); err == nil {
				t.Fatal("retry on a still-failing WAL was acknowledged")
			}
			ffs.Clear()
			if err := f.db.Checkpoint(); err != nil {
				t.Fatalf("checkpoint after recovery: %v", err)
			}
			if err := f.db.Health(); err != nil {
				t.Fatalf("Health() after recovery = %v", err)
			}
			if err := f.db.Close(); err != nil {
				t.Fatal(err)
			}
			g := openFaulty(t, dir, fileutil.OS, wal.SyncBatch)
			if n := rowCount(t, g); n != 10 {
				t.Fatalf("after reopen %d rows, want 10 (the failed rows must not be kept)", n)
			}
			// The client's retry now succeeds and is durable.
			if _, err := g.db.Append(context.Background(), "testdb", "tbl", batch(10, 0), ingest.AppendOptions{}); err != nil {
				t.Fatal(err)
			}
			if err := g.db.Close(); err != nil {
				t.Fatal(err)
			}
			h := openFaulty(t, dir, fileutil.OS, wal.SyncBatch)
			defer h.db.Close()
			if n := rowCount(t, h); n != 20 {
				t.Fatalf("after the retry and a reopen %d rows, want 20", n)
			}
		})
	}
}

// TestRetryWhileFirstFsyncPendingIsLogged: a client retries a batch while
// the first attempt waits for its fsync, which then fails. The retry must
// not be acknowledged on the strength of the first attempt's rows: it logs
// its own and, once acknowledged, survives a reopen.
func TestRetryWhileFirstFsyncPendingIsLogged(t *testing.T) {
	dir := t.TempDir()
	ffs := fileutil.NewFaultFS(fileutil.OS)
	f := openFaulty(t, dir, ffs, wal.SyncBatch)
	stalled := make(chan struct{})
	ffs.Inject(fileutil.Fault{Op: fileutil.OpSync, Path: filepath.Join(dir, "memstore", "wal", "0000"),
		Err: syscall.EIO, Delay: 300 * time.Millisecond, Times: 1, Notify: func() { close(stalled) }})
	var wg sync.WaitGroup
	var firstErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, firstErr = f.db.Append(context.Background(), "testdb", "tbl", batch(50, 0), ingest.AppendOptions{})
	}()
	// Wait until the first attempt's rows are staged and its fsync stalls.
	<-stalled
	staged := false
	f.db.eachSeries(func(s *memSeries) {
		s.mu.Lock()
		staged = staged || len(s.staged) > 0
		s.mu.Unlock()
	})
	if !staged {
		t.Fatal("the first attempt's rows are not staged while its fsync runs")
	}
	_, retryErr := f.db.Append(context.Background(), "testdb", "tbl", batch(50, 0), ingest.AppendOptions{})
	wg.Wait()
	if !errors.Is(firstErr, syscall.EIO) {
		t.Fatalf("first attempt = %v, want EIO", firstErr)
	}
	if retryErr != nil {
		t.Fatalf("retry after the fault = %v, want success", retryErr)
	}
	if err := f.db.Close(); err != nil {
		t.Fatal(err)
	}
	g := openFaulty(t, dir, fileutil.OS, wal.SyncBatch)
	defer g.db.Close()
	if n := rowCount(t, g); n != 50 {
		t.Fatalf("after reopen %d rows, want the 50 the retry acknowledged", n)
	}
}

// TestConcurrentDuplicatesAllDurable: many writers append the same batch
// at once; every one that is acknowledged is durable, and memory agrees
// with a replay.
func TestConcurrentDuplicatesAllDurable(t *testing.T) {
	dir := t.TempDir()
	ffs := fileutil.NewFaultFS(fileutil.OS,
		fileutil.Fault{Op: fileutil.OpSync, Path: filepath.Join(dir, "memstore", "wal", "0000"), Delay: 5 * time.Millisecond})
	f := openFaulty(t, dir, ffs, wal.SyncBatch)
	var wg sync.WaitGroup
	errs := make([]error, 16)
	for w := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[w] = f.db.Append(context.Background(), "testdb", "tbl", batch(100, 0), ingest.AppendOptions{})
		}()
	}
	wg.Wait()
	for w, err := range errs {
		if err != nil {
			t.Fatalf("writer %d: %v", w, err)
		}
	}
	before := scanAll(t, f.db)["a/m"]
	if err := f.db.Close(); err != nil {
		t.Fatal(err)
	}
	g := openFaulty(t, dir, fileutil.OS, wal.SyncBatch)
	defer g.db.Close()
	after := scanAll(t, g.db)["a/m"]
	if len(before) != 100 || len(after) != 100 {
		t.Fatalf("rows before reopen %d, after %d, want 100", len(before), len(after))
	}
	for i := range after {
		if after[i].t != before[i].t || !after[i].v[measureValueCol].Equal(before[i].v[measureValueCol]) {
			t.Fatalf("row %d differs after replay: %+v vs %+v", i, before[i], after[i])
		}
	}
}

// TestStagedConflictsFollowTimestreamRules: a row staged by one appender
// counts for the next one's decision: the same values are accepted (and
// logged again), a different value with the same version is rejected.
func TestStagedConflictsFollowTimestreamRules(t *testing.T) {
	f := newFixture(t)
	tbl, err := f.db.table("testdb", "tbl", false)
	if err != nil {
		t.Fatal(err)
	}
	s, err := f.db.createSeries(tbl, seriesKey(nil, "m", []ingest.Dimension{{Name: "host", Value: "a"}}),
		&ingest.Record{MeasureName: "m", Dimensions: []ingest.Dimension{{Name: "host", Value: "a"}}})
	if err != nil || s == nil {
		t.Fatalf("create series: %v", err)
	}
	r := rec("a", "m", ts(0), ingest.Float(1), 1)
	run := &stagedRun{s: s}
	run.add(r.Time, 1, &r)
	s.mu.Lock()
	s.staged = append(s.staged, run)
	same, _ := s.decide(r.Time, 1, []string{measureValueCol}, []ingest.Value{ingest.Float(1)}, false, nil)
	diff, _ := s.decide(r.Time, 1, []string{measureValueCol}, []ingest.Value{ingest.Float(2)}, false, nil)
	higher, _ := s.decide(r.Time, 2, []string{measureValueCol}, []ingest.Value{ingest.Float(2)}, false, nil)
	s.unstage(run)
	fresh, _ := s.decide(r.Time, 1, []string{measureValueCol}, []ingest.Value{ingest.Float(1)}, false, nil)
	s.mu.Unlock()
	if same.outcome != upsertUnchanged || !same.log {
		t.Errorf("same values as a staged row: %+v, want unchanged and logged", same)
	}
	if diff.outcome != upsertRejected || diff.existing != 1 {
		t.Errorf("different value, same version: %+v, want rejected against version 1", diff)
	}
	if higher.outcome != upsertApplied || !higher.log {
		t.Errorf("higher version: %+v, want applied", higher)
	}
	if fresh.outcome != upsertApplied {
		t.Errorf("after unstage: %+v, want applied (nothing committed)", fresh)
	}
}

// TestAppendAppliesSharedRules: the memstore applies ingest.ValidateRecord
// itself, so a writer that skipped it cannot get a 129-dimension record or
// an out-of-range time into the table; the good record of the batch stays.
func TestAppendAppliesSharedRules(t *testing.T) {
	f := newFixture(t)
	wide := rec("w", "m", ts(0), ingest.Float(1), 1)
	for i := range 129 {
		wide.Dimensions = append(wide.Dimensions, ingest.Dimension{Name: "d" + string(rune('a'+i%26)) + string(rune('a'+i/26)), Value: "v"})
	}
	bad := rec("a", "m", ts(0), ingest.Float(1), 1)
	bad.Value = ingest.String(string([]byte{0xff, 0xfe}))
	res := f.append(t, wide, bad, rec("good", "m", ts(0), ingest.Float(2), 1))
	if res.MemoryStore != 1 || len(res.Rejected) != 2 || res.Rejected[0].Index != 0 || res.Rejected[1].Index != 1 {
		t.Fatalf("result %+v, want records 0 and 1 rejected and the good one stored", res)
	}
	if got := scanAll(t, f.db); len(got) != 1 || len(got["good/m"]) != 1 {
		t.Fatalf("table holds %v, want only good/m", got)
	}
}
