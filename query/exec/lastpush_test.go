package exec

import (
	"context"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/internal/tombstone"
	"github.com/tidaldb/tidal/magnetic"
	"github.com/tidaldb/tidal/memstore"
	"github.com/tidaldb/tidal/memstore/wal"
	"github.com/tidaldb/tidal/query/scan"
	"github.com/tidaldb/tidal/query/scan/scantest"
)

// lastScans counts the scans that ask for each series' newest row only.
type lastScans struct {
	scan.Source
	n atomic.Int64
}

func (c *lastScans) Scan(ctx context.Context, req *scan.Request) (scan.Batches, error) {
	if req.Last {
		c.n.Add(1)
	}
	return c.Source.Scan(ctx, req)
}

// TestLastPushdownAgrees runs max(time)-per-series queries (TSBS's
// lastpoint and variants) over both real tiers with the newest-row scans
// (scan.Request.Last) and without: random long series written out of
// order, half flushed to magnetic parts and half left in memory (late rows
// and upserts on both sides), then with tombstones over the newest rows.
// The answers must be the same, and the pushdown must be used where the
// query has its shape.
func TestLastPushdownAgrees(t *testing.T) {
	now := time.Unix(0, tsbsStart).Add(12 * time.Hour)
	dir := t.TempDir()
	clock := func() time.Time { return now }
	cat, err := catalog.Open(catalog.Options{Dir: dir, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cat.CreateDatabase(scantest.Database, "", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := cat.CreateTable(catalog.Table{Database: scantest.Database, Name: scantest.Table,
		Retention: catalog.Retention{MemoryHours: 24, MagneticDays: 30}, MagneticWrites: catalog.MagneticWrites{Enabled: true}}); err != nil {
		t.Fatal(err)
	}
	mag, err := magnetic.Open(magnetic.Options{Dir: dir + "/magnetic", Catalog: cat, Now: clock, PartitionWidth: magnetic.HourPartitionWidth})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mag.Close() })
	opts := memstore.DefaultOptions(dir + "/memstore")
	opts.Now, opts.CheckpointInterval = clock, 0
	opts.WAL = wal.Options{Sync: wal.SyncNever}
	opts.PartWriter, opts.FlushInterval = magWriter{mag}, time.Hour
	mem, err := memstore.Open(cat, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mem.Close() })
	cfg := scantest.DefaultConfig(now.Add(-4 * time.Hour).UnixNano())
	cfg.Span, cfg.Long, cfg.Hosts, cfg.Rows = int64(4*time.Hour), true, 4, 8000
	recs := scantest.Generate(rand.New(rand.NewPCG(11, 12)), cfg)
	appendAll := func(rs []ingest.Record) {
		for i := 0; i < len(rs); i += 100 {
			res, err := mem.Append(context.Background(), scantest.Database, scantest.Table, rs[i:min(i+100, len(rs))], ingest.AppendOptions{})
			if err != nil || len(res.Rejected) > 0 {
				t.Fatalf("append: %+v %v", res, err)
			}
		}
	}
	half := len(recs) / 2
	appendAll(recs[:half])
	if _, err := mem.Flush(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	appendAll(recs[half:])
	tombs, err := tombstone.Open(tombstone.Options{Dir: dir + "/tombstones"})
	if err != nil {
		t.Fatal(err)
	}
	src := &lastScans{Source: tombs.Source(scan.Merge(mag, mem), cat)}
	e := New(cat, src, Options{})
	queries := []struct {
		sql  string
		push bool
	}{
		{`SELECT host, measure_name, max(time) FROM testdb.tbl GROUP BY 1, 2`, true},
		{`SELECT region, max(time) AS t FROM testdb.tbl WHERE host <> 'web-2' GROUP BY region`, true},
		{`SELECT max(time) FROM testdb.tbl WHERE time < '` + now.Add(-90*time.Minute).Format("2006-01-02 15:04:05") + `' AND measure_name = 'cpu'`, true},
		{`SELECT host, max(time), max(time) FROM testdb.tbl WHERE time BETWEEN '` + now.Add(-3*time.Hour).Format("2006-01-02 15:04:05") + `' AND '` + now.Add(-2*time.Hour).Format("2006-01-02 15:04:05") + `' GROUP BY host`, true},
		{`WITH l AS (SELECT host, measure_name, max(time) AS t FROM testdb.tbl GROUP BY 1, 2)
			SELECT b.host, b.measure_name, b.measure_value::double, b.load, b.time FROM l a JOIN testdb.tbl b
			ON a.host = b.host AND a.t = b.time AND a.measure_name = b.measure_name ORDER BY 1, 2`, true},
		{`SELECT host, max(time) FROM testdb.tbl WHERE measure_value::double > 50 GROUP BY host`, false},
		{`SELECT host, max(time), min(time) FROM testdb.tbl GROUP BY host`, false},
		{`SELECT bin(time, 1h), max(time) FROM testdb.tbl GROUP BY 1`, false},
	}
	run := func(sql string, push bool) string {
		t.Helper()
		disableLastPushdown = !push
		defer func() { disableLastPushdown = false }()
		res, err := e.Query(context.Background(), sql, nil)
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		return strings.Join(roundedRows(res), "\n")
	}
	check := func(stage string) {
		for _, q := range queries {
			want := run(q.sql, false)
			before := src.n.Load()
			got := run(q.sql, true)
			if used := src.n.Load() > before; used != q.push {
				t.Errorf("%s: %s: newest-row scan %v, want %v", stage, q.sql, used, q.push)
			}
			if got != want {
				t.Fatalf("%s: %s: answers differ\nfull scan:\n%.600s\nnewest rows:\n%.600s", stage, q.sql, want, got)
			}
			if want == "" {
				t.Fatalf("%s: %s: no rows", stage, q.sql)
			}
		}
	}
	check("two tiers")
	// Delete the last half hour of two hosts and one whole series: their
	// newest rows are gone.
	id := func() uint64 {
		tb, err := cat.Table(scantest.Database, scantest.Table)
		if err != nil {
			t.Fatal(err)
		}
		return tb.ID
	}()
	if _, err := tombs.Add([]tombstone.Tombstone{
		{TableID: id, Database: scantest.Database, Table: scantest.Table, MinTime: now.Add(-30 * time.Minute).UnixNano(), MaxTime: now.UnixNano(),
			Where: []tombstone.Matcher{{Name: "host", Op: tombstone.OpIn, Values: []string{"web-1", "web-3"}}}},
		{TableID: id, Database: scantest.Database, Table: scantest.Table, MinTime: 0, MaxTime: now.UnixNano(),
			Where: []tombstone.Matcher{{Name: "host", Op: tombstone.OpEqual, Values: []string{"db-1"}}, {Name: scan.ColMeasureName, Op: tombstone.OpEqual, Values: []string{"cpu"}}}},
	}); err != nil {
		t.Fatal(err)
	}
	// (The tombstone layer turns the hint off below this counter.)
	check("tombstones")
}

// BenchmarkLastPushdown runs TSBS lastpoint (max(time) per hostname and
// measure, joined back to the table) over the memstore tier and over the
// magnetic tier (100 hosts x 1 day), with the aggregate's scan asking for
// each series' newest row only (after) and with a full scan (before).
func BenchmarkLastPushdown(b *testing.B) {
	memCat, memDB := memstoreTable(b)
	magCat, mag := magneticTable(b)
	for _, tier := range []struct {
		name string
		e    *Engine
	}{{"memstore", New(memCat, memDB, Options{})}, {"magnetic", New(magCat, mag, Options{})}} {
		b.Run(tier.name, func(b *testing.B) {
			run := func(disable bool) func() {
				return func() {
					disableLastPushdown = disable
					defer func() { disableLastPushdown = false }()
					res, err := tier.e.Query(context.Background(), tsbsQueries["lastpoint"], nil)
					if err != nil {
						b.Fatalf("query: %v", err)
					}
					if len(res.Rows) != 1000 {
						b.Fatalf("%d rows, want 1000", len(res.Rows))
					}
				}
			}
			benchPaired(b, []string{"before", "after"}, []func(){run(true), run(false)})
		})
	}
}
