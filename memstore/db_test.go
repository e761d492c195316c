package memstore

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"sort"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/memstore/wal"
	"github.com/tidaldb/tidal/query/scan"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var testNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

type fixture struct {
	dir string
	cat *catalog.Catalog
	db  *DB
}

func openFixture(t *testing.T, dir string) *fixture {
	t.Helper()
	cat, err := catalog.Open(catalog.Options{Dir: dir, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	opts := DefaultOptions(dir + "/memstore")
	opts.Now = func() time.Time { return testNow }
	opts.CheckpointInterval = 0
	opts.WAL = wal.Options{Sync: wal.SyncNever}
	db, err := Open(cat, opts)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{dir: dir, cat: cat, db: db}
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := openFixture(t, t.TempDir())
	t.Cleanup(func() { f.db.Close() })
	if _, err := f.cat.CreateDatabase("testdb", "", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := f.cat.CreateTable(catalog.Table{Database: "testdb", Name: "tbl",
		Retention: catalog.Retention{MemoryHours: 6, MagneticDays: 30}}); err != nil {
		t.Fatal(err)
	}
	return f
}

func ts(d time.Duration) int64 { return testNow.Add(d).UnixNano() }

func rec(host, measure string, at int64, v ingest.Value, ver int64) ingest.Record {
	return ingest.Record{Time: at, Dimensions: []ingest.Dimension{{Name: "host", Value: host}},
		MeasureName: measure, Value: v, Version: ver}
}

func (f *fixture) append(t *testing.T, recs ...ingest.Record) ingest.Result {
	t.Helper()
	res, err := f.db.Append(context.Background(), "testdb", "tbl", recs, ingest.AppendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// rowsOf scans everything and returns "host/measure" -> time -> value.
type scanned struct {
	t   int64
	ver int64
	v   map[string]ingest.Value
}

func scanAll(t *testing.T, src scan.Source, where ...scan.Matcher) map[string][]scanned {
	t.Helper()
	cur, err := src.Scan(context.Background(), &scan.Request{Database: "testdb", Table: "tbl",
		MinTime: math.MinInt64, MaxTime: math.MaxInt64, Where: where})
	if err != nil {
		t.Fatal(err)
	}
	defer cur.Close()
	out := map[string][]scanned{}
	for cur.Next() {
		b := cur.Batch()
		host, _ := b.Series.Dimension("host")
		k := host + "/" + b.Series.MeasureName
		for i := range b.Time {
			r := scanned{t: b.Time[i], ver: 1, v: map[string]ingest.Value{}}
			if b.Version != nil {
				r.ver = b.Version[i]
			}
			for c := range b.Columns {
				if !b.Columns[c].IsNull(i) {
					r.v[b.Columns[c].Name] = b.Columns[c].Value(i)
				}
			}
			out[k] = append(out[k], r)
		}
	}
	if err := cur.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestAppendScanRoundTrip(t *testing.T) {
	f := newFixture(t)
	rng := rand.New(rand.NewPCG(1, 2))
	want := map[string]map[int64]float64{}
	var recs []ingest.Record
	for i := range 1000 {
		host := []string{"a", "b", "c"}[i%3]
		at := ts(-time.Duration(rng.IntN(3600)) * time.Second)
		v := rng.Float64() * 100
		if want[host] == nil {
			want[host] = map[int64]float64{}
		}
		if _, dup := want[host][at]; dup {
			continue
		}
		want[host][at] = v
		recs = append(recs, rec(host, "cpu", at, ingest.Float(v), 1))
		if len(recs) == 100 {
			res := f.append(t, recs...)
			if len(res.Rejected) != 0 || res.MemoryStore != 100 {
				t.Fatalf("result %+v", res)
			}
			recs = recs[:0]
		}
	}
	f.append(t, recs...)
	got := scanAll(t, f.db)
	for host, pts := range want {
		rows := got[host+"/cpu"]
		if len(rows) != len(pts) {
			t.Fatalf("%s: %d rows, want %d", host, len(rows), len(pts))
		}
		if !sort.SliceIsSorted(rows, func(i, j int) bool { return rows[i].t < rows[j].t }) {
			t.Fatalf("%s: rows not in time order", host)
		}
		for _, r := range rows {
			if w := pts[r.t]; math.Float64bits(w) != math.Float64bits(r.v[measureValueCol].Float()) {
				t.Fatalf("%s@%d: got %v want %v", host, r.t, r.v[measureValueCol].Float(), w)
			}
		}
	}
}

func TestUpsertRules(t *testing.T) {
	at := ts(-time.Minute)
	tests := []struct {
		name         string
		first, then  ingest.Record
		wantRejected bool
		wantExisting int64
		wantVal      float64
		wantVer      int64
	}{
		{"same value same version is idempotent", rec("h", "m", at, ingest.Float(1), 1), rec("h", "m", at, ingest.Float(1), 1), false, 0, 1, 1},
		{"same value higher version raises version", rec("h", "m", at, ingest.Float(1), 1), rec("h", "m", at, ingest.Float(1), 5), false, 0, 1, 5},
		{"same value lower version accepted unchanged", rec("h", "m", at, ingest.Float(1), 3), rec("h", "m", at, ingest.Float(1), 2), false, 0, 1, 3},
		{"new value same version rejected", rec("h", "m", at, ingest.Float(1), 1), rec("h", "m", at, ingest.Float(2), 1), true, 1, 1, 1},
		{"new value lower version rejected", rec("h", "m", at, ingest.Float(1), 7), rec("h", "m", at, ingest.Float(2), 3), true, 7, 1, 7},
		{"new value higher version replaces", rec("h", "m", at, ingest.Float(1), 1), rec("h", "m", at, ingest.Float(2), 2), false, 0, 2, 2},
		{"version 0 means 1", rec("h", "m", at, ingest.Float(1), 0), rec("h", "m", at, ingest.Float(2), 1), true, 1, 1, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.append(t, tc.first)
			res := f.append(t, tc.then)
			if got := len(res.Rejected) == 1; got != tc.wantRejected {
				t.Fatalf("rejected = %v (%+v), want %v", got, res, tc.wantRejected)
			}
			if tc.wantRejected {
				if r := res.Rejected[0]; r.Index != 0 || r.ExistingVersion != tc.wantExisting || r.Reason == "" {
					t.Fatalf("rejection %+v, want existing %d", r, tc.wantExisting)
				}
			}
			rows := scanAll(t, f.db)["h/m"]
			if len(rows) != 1 || rows[0].v[measureValueCol].Float() != tc.wantVal || rows[0].ver != tc.wantVer {
				t.Fatalf("stored %+v, want value %v version %d", rows, tc.wantVal, tc.wantVer)
			}
		})
	}
}

func TestOutOfOrderAcrossChunks(t *testing.T) {
	f := newFixture(t)
	// Fill several chunks in order, then insert into the middle of each.
	n := 3 * maxChunkRows
	for i := 0; i < n; i += 2 {
		f.append(t, rec("h", "m", ts(-time.Hour+time.Duration(i)*time.Second), ingest.Float(float64(i)), 1))
	}
	var late []ingest.Record
	for i := 1; i < n; i += 2 {
		late = append(late, rec("h", "m", ts(-time.Hour+time.Duration(i)*time.Second), ingest.Float(float64(i)), 1))
	}
	rand.New(rand.NewPCG(3, 4)).Shuffle(len(late), func(i, j int) { late[i], late[j] = late[j], late[i] })
	for i := 0; i < len(late); i += 100 {
		res := f.append(t, late[i:min(i+100, len(late))]...)
		if len(res.Rejected) > 0 {
			t.Fatalf("rejected %+v", res.Rejected[0])
		}
	}
	rows := scanAll(t, f.db)["h/m"]
	if len(rows) != n {
		t.Fatalf("%d rows, want %d", len(rows), n)
	}
	for i, r := range rows {
		if r.t != ts(-time.Hour+time.Duration(i)*time.Second) || r.v[measureValueCol].Float() != float64(i) {
			t.Fatalf("row %d = %+v", i, r)
		}
	}
}

func TestWindowAndValidation(t *testing.T) {
	f := newFixture(t)
	recs := []ingest.Record{
		rec("h", "m", ts(-time.Minute), ingest.Float(1), 1),                // 0 ok
		rec("h", "m", ts(-7*time.Hour), ingest.Float(1), 1),                // 1 older than memory retention, magnetic writes off
		rec("h", "m", ts(16*time.Minute), ingest.Float(1), 1),              // 2 beyond the future window
		rec("h", "", ts(-time.Minute), ingest.Float(1), 1),                 // 3 no measure name
		{Time: ts(-time.Minute), MeasureName: "m", Value: ingest.Float(1)}, // 4 no dimension
		rec("h", "m", ts(-2*time.Minute), ingest.Int(1), 1),                // 5 type conflict: m is DOUBLE
		rec("h", "ts_x", ts(-time.Minute), ingest.Float(1), 1),             // 6 reserved prefix
		rec("h", "m2", ts(14*time.Minute), ingest.Float(2), 1),             // 7 ok, inside the future window
	}
	res := f.append(t, recs...)
	var idx []int
	for _, r := range res.Rejected {
		idx = append(idx, r.Index)
		if r.Reason == "" {
			t.Errorf("record %d rejected without a reason", r.Index)
		}
	}
	want := []int{1, 2, 3, 4, 5, 6}
	if len(idx) != len(want) {
		t.Fatalf("rejected %v (%+v), want %v", idx, res.Rejected, want)
	}
	for i := range want {
		if idx[i] != want[i] {
			t.Fatalf("rejected %v, want %v", idx, want)
		}
	}
	if res.MemoryStore != 2 || res.MagneticStore != 0 {
		t.Fatalf("result %+v", res)
	}
}

func TestMagneticStoreWrites(t *testing.T) {
	f := newFixture(t)
	enabled := catalog.MagneticWrites{Enabled: true}
	if _, err := f.cat.UpdateTable("testdb", "tbl", catalog.TableUpdate{MagneticWrites: &enabled}); err != nil {
		t.Fatal(err)
	}
	res := f.append(t,
		rec("h", "m", ts(-7*time.Hour), ingest.Float(1), 1),     // magnetic window
		rec("h", "m", ts(-31*24*time.Hour), ingest.Float(1), 1), // beyond magnetic retention (30 d)
		rec("h", "m", ts(-time.Hour), ingest.Float(1), 1))
	if res.MagneticStore != 1 || res.MemoryStore != 1 || len(res.Rejected) != 1 || res.Rejected[0].Index != 1 {
		t.Fatalf("result %+v", res)
	}
}

func TestMultiMeasureNullsAndNewColumns(t *testing.T) {
	f := newFixture(t)
	mk := func(at int64, ms ...ingest.Measure) ingest.Record {
		return ingest.Record{Time: at, Dimensions: []ingest.Dimension{{Name: "host", Value: "h"}}, MeasureName: "metrics", Measures: ms}
	}
	res := f.append(t,
		mk(ts(-3*time.Minute), ingest.Measure{Name: "cpu", Value: ingest.Float(1.5)}, ingest.Measure{Name: "ok", Value: ingest.Bool(true)}),
		mk(ts(-2*time.Minute), ingest.Measure{Name: "cpu", Value: ingest.Float(2.5)}, ingest.Measure{Name: "state", Value: ingest.String("up")}),
		mk(ts(-4*time.Minute), ingest.Measure{Name: "at", Value: ingest.Timestamp(42)}, ingest.Measure{Name: "n", Value: ingest.Int(-7)}),
	)
	if len(res.Rejected) != 0 {
		t.Fatalf("%+v", res.Rejected)
	}
	rows := scanAll(t, f.db)["h/metrics"]
	if len(rows) != 3 {
		t.Fatalf("rows %+v", rows)
	}
	checks := []map[string]ingest.Value{
		{"at": ingest.Timestamp(42), "n": ingest.Int(-7)},
		{"cpu": ingest.Float(1.5), "ok": ingest.Bool(true)},
		{"cpu": ingest.Float(2.5), "state": ingest.String("up")},
	}
	for i, want := range checks {
		if len(rows[i].v) != len(want) {
			t.Fatalf("row %d = %+v, want %+v", i, rows[i].v, want)
		}
		for k, v := range want {
			if !rows[i].v[k].Equal(v) {
				t.Fatalf("row %d col %s = %+v, want %+v", i, k, rows[i].v[k], v)
			}
		}
	}
	tbl, err := f.cat.Table("testdb", "tbl")
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]ingest.ValueType{}
	for _, c := range tbl.Columns {
		types[c.Name] = c.Type
	}
	if types["cpu"] != ingest.TypeDouble || types["at"] != ingest.TypeTimestamp || types["metrics"] != ingest.TypeMulti || types["host"] != ingest.TypeVarchar {
		t.Fatalf("schema %+v", tbl.Columns)
	}
}

func TestScanPushdown(t *testing.T) {
	f := newFixture(t)
	var recs []ingest.Record
	for i, host := range []string{"web-1", "web-2", "db-1", "db-2"} {
		for j := range 10 {
			r := rec(host, "cpu", ts(-time.Duration(j)*time.Minute), ingest.Float(float64(i*10+j)), 1)
			r.Dimensions = append(r.Dimensions, ingest.Dimension{Name: "region", Value: []string{"eu", "us"}[i%2]})
			recs = append(recs, r)
		}
	}
	f.append(t, recs...)
	cases := []struct {
		where []scan.Matcher
		want  []string
	}{
		{[]scan.Matcher{{Name: "host", Op: scan.MatchEqual, Values: []string{"web-2"}}}, []string{"web-2"}},
		{[]scan.Matcher{{Name: "host", Op: scan.MatchIn, Values: []string{"web-1", "db-2", "zz"}}}, []string{"db-2", "web-1"}},
		{[]scan.Matcher{{Name: "host", Op: scan.MatchPrefix, Values: []string{"db"}}}, []string{"db-1", "db-2"}},
		{[]scan.Matcher{{Name: "region", Op: scan.MatchEqual, Values: []string{"us"}}, {Name: "host", Op: scan.MatchNotEqual, Values: []string{"web-2"}}}, []string{"db-2"}},
		{[]scan.Matcher{{Name: scan.ColMeasureName, Op: scan.MatchEqual, Values: []string{"mem"}}}, nil},
		{[]scan.Matcher{{Name: "rack", Op: scan.MatchAbsent}}, []string{"db-1", "db-2", "web-1", "web-2"}},
	}
	for i, c := range cases {
		got := scanAll(t, f.db, c.where...)
		var hosts []string
		for k, rows := range got {
			if len(rows) != 10 {
				t.Errorf("case %d: %s has %d rows", i, k, len(rows))
			}
			hosts = append(hosts, k[:len(k)-len("/cpu")])
		}
		sort.Strings(hosts)
		if len(hosts) != len(c.want) {
			t.Fatalf("case %d: got %v want %v", i, hosts, c.want)
		}
		for j := range hosts {
			if hosts[j] != c.want[j] {
				t.Fatalf("case %d: got %v want %v", i, hosts, c.want)
			}
		}
	}
	// Time range pruning: the last 3 minutes only, inclusive bounds.
	cur, err := f.db.Scan(context.Background(), &scan.Request{Database: "testdb", Table: "tbl",
		MinTime: ts(-3 * time.Minute), MaxTime: ts(-time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for cur.Next() {
		n += cur.Batch().Len()
		for _, tt := range cur.Batch().Time {
			if tt < ts(-3*time.Minute) || tt > ts(-time.Minute) {
				t.Fatalf("row at %d outside range", tt)
			}
		}
	}
	if n != 4*3 {
		t.Fatalf("%d rows in range, want 12", n)
	}
}

func TestReplayAndCheckpoint(t *testing.T) {
	dir := t.TempDir()
	f := openFixture(t, dir)
	if _, err := f.cat.CreateDatabase("testdb", "", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := f.cat.CreateTable(catalog.Table{Database: "testdb", Name: "tbl"}); err != nil {
		t.Fatal(err)
	}
	for i := range 500 {
		f.append(t, rec("h", "m", ts(-time.Duration(i)*time.Second), ingest.Float(float64(i)), 1))
	}
	if err := f.db.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	// After the checkpoint: an upsert and new rows, which live only in the WAL.
	f.append(t, rec("h", "m", ts(0), ingest.Float(7), 3))
	f.append(t, rec("h", "m", ts(-time.Duration(10)*time.Second), ingest.Float(99), 2))
	before := scanAll(t, f.db)
	if err := f.db.Close(); err != nil {
		t.Fatal(err)
	}
	g := openFixture(t, dir)
	defer g.db.Close()
	after := scanAll(t, g.db)
	if len(after["h/m"]) != 500 || len(before["h/m"]) != 500 {
		t.Fatalf("rows before %d after %d, want 500", len(before["h/m"]), len(after["h/m"]))
	}
	for i, r := range before["h/m"] {
		a := after["h/m"][i]
		if a.t != r.t || a.ver != r.ver || !a.v[measureValueCol].Equal(r.v[measureValueCol]) {
			t.Fatalf("row %d: before %+v after %+v", i, r, a)
		}
	}
	last := after["h/m"][499]
	if last.v[measureValueCol].Float() != 7 || last.ver != 3 {
		t.Fatalf("upsert lost: %+v", last)
	}
	// New series after restart get fresh refs and are found again.
	res, err := g.db.Append(context.Background(), "testdb", "tbl", []ingest.Record{rec("h2", "m", ts(0), ingest.Float(1), 1)}, ingest.AppendOptions{})
	if err != nil || res.MemoryStore != 1 {
		t.Fatal(res, err)
	}
	if g.db.SeriesCount() != 2 {
		t.Fatalf("series %d, want 2", g.db.SeriesCount())
	}
}

func TestDeleteTableDropsSeries(t *testing.T) {
	f := newFixture(t)
	f.append(t, rec("h", "m", ts(0), ingest.Float(1), 1))
	if _, err := f.cat.DeleteTable("testdb", "tbl"); err != nil {
		t.Fatal(err)
	}
	if n := f.db.SeriesCount(); n != 0 {
		t.Fatalf("series after delete: %d", n)
	}
	if _, err := f.cat.CreateTable(catalog.Table{Database: "testdb", Name: "tbl"}); err != nil {
		t.Fatal(err)
	}
	if got := scanAll(t, f.db); len(got) != 0 {
		t.Fatalf("recreated table has old data: %v", got)
	}
}

func TestCreateTableOption(t *testing.T) {
	f := newFixture(t)
	res, err := f.db.Append(context.Background(), "prometheus", "metrics",
		[]ingest.Record{rec("h", "up", ts(0), ingest.Float(1), 1)}, ingest.AppendOptions{CreateTable: true})
	if err != nil || res.MemoryStore != 1 {
		t.Fatal(res, err)
	}
	if _, err := f.cat.Table("prometheus", "metrics"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.Append(context.Background(), "nope", "nope",
		[]ingest.Record{rec("h", "up", ts(0), ingest.Float(1), 1)}, ingest.AppendOptions{}); !catalog.IsNotFound(err) {
		t.Fatalf("append to missing table: %v", err)
	}
}

func TestMaxSeries(t *testing.T) {
	dir := t.TempDir()
	cat, err := catalog.Open(catalog.Options{Dir: dir, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	opts := DefaultOptions(dir + "/memstore")
	opts.Now = func() time.Time { return testNow }
	opts.MaxSeries = 2
	db, err := Open(cat, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	res, err := db.Append(context.Background(), "testdb", "tbl", []ingest.Record{
		rec("a", "m", ts(0), ingest.Float(1), 1),
		rec("b", "m", ts(0), ingest.Float(1), 1),
		rec("c", "m", ts(0), ingest.Float(1), 1), // a third series: rejected
		rec("a", "m", ts(-time.Second), ingest.Float(2), 1),
	}, ingest.AppendOptions{CreateTable: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.MemoryStore != 3 || len(res.Rejected) != 1 || res.Rejected[0].Index != 2 {
		t.Fatalf("result %+v", res)
	}
}

// TestCheckpointAbandoned: a checkpoint whose context ends (shutdown)
// stops with the context's error, and nothing is lost: the WAL still
// holds every row, and the next checkpoint succeeds.
func TestCheckpointAbandoned(t *testing.T) {
	dir := t.TempDir()
	f := openFixture(t, dir)
	if _, err := f.cat.CreateDatabase("testdb", "", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := f.cat.CreateTable(catalog.Table{Database: "testdb", Name: "tbl"}); err != nil {
		t.Fatal(err)
	}
	for i := range 300 {
		f.append(t, rec(fmt.Sprintf("h%d", i), "m", ts(-time.Duration(i)*time.Second), ingest.Float(float64(i)), 1))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := f.db.checkpoint(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("checkpoint with an ended context = %v, want context.Canceled", err)
	}
	before := scanAll(t, f.db)
	if err := f.db.Close(); err != nil {
		t.Fatal(err)
	}
	g := openFixture(t, dir)
	defer g.db.Close()
	if after := scanAll(t, g.db); len(after) != 300 || !reflect.DeepEqual(after, before) {
		t.Fatalf("after restart %d series, want the 300 before", len(after))
	}
	if err := g.db.Checkpoint(); err != nil {
		t.Fatalf("checkpoint after an abandoned one: %v", err)
	}
}
