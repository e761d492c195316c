package unload_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/tidaldb/tidal/bench/tsbs"
	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/ingest"
	qexec "github.com/tidaldb/tidal/query/exec"
	"github.com/tidaldb/tidal/query/scan/scantest"
)

// tsbsEngine loads TSBS cpu-only data (bench/tsbs, multi-measure records as
// the Timestream loader writes them) of scale hosts over dur into
// tsbs.cpu (the model source holds one table).
func tsbsEngine(t testing.TB, scale int, dur time.Duration) *qexec.Engine {
	t.Helper()
	g, err := tsbs.New(tsbs.Config{UseCase: tsbs.UseCaseCPUOnly, Scale: scale, Start: start, End: start.Add(dur), Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	cat, err := catalog.Open(catalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cat.CreateDatabase("tsbs", "", nil); err != nil {
		t.Fatal(err)
	}
	var recs []ingest.Record
	var p tsbs.Point
	known := map[string]bool{}
	for g.Next(&p) {
		for _, r := range tsbs.ToRecords(&p, true) {
			tab, err := cat.EnsureTable("tsbs", p.Measurement)
			if err != nil {
				t.Fatal(err)
			}
			var cols []catalog.Column
			add := func(c catalog.Column) {
				if k := p.Measurement + "." + c.Name; !known[k] {
					known[k] = true
					cols = append(cols, c)
				}
			}
			for _, d := range r.Dimensions {
				add(catalog.Column{Name: d.Name, Kind: catalog.KindDimension, Type: ingest.TypeVarchar})
			}
			add(catalog.Column{Name: "measure_name", Kind: catalog.KindMeasureName, Type: ingest.TypeMulti})
			for _, m := range r.Measures {
				add(catalog.Column{Name: m.Name, Kind: catalog.KindAttribute, Type: m.Value.Type})
			}
			if len(cols) > 0 {
				if err := cat.AddColumns(tab.ID, cols); err != nil {
					t.Fatal(err)
				}
			}
			recs = append(recs, r)
		}
	}
	return qexec.New(cat, scantest.NewModel(recs), qexec.Options{Now: func() time.Time { return start.Add(dur) }})
}

// TestTSBS unloads TSBS devops cpu data to gzip Parquet partitioned by
// region and to gzip CSV, and checks with DuckDB that the Parquet files
// hold the SQL result: the same rows and the same per-host aggregates.
func TestTSBS(t *testing.T) {
	eng := tsbsEngine(t, 8, 30*time.Minute)
	u, root := newFileEngine(t, eng)
	const sel = `SELECT hostname, region, time, usage_user, usage_system, usage_idle FROM tsbs.cpu`
	ref, err := eng.Query(context.Background(), `SELECT hostname, count(*), sum(usage_user), min(time), max(usage_idle) FROM tsbs.cpu GROUP BY hostname ORDER BY hostname`, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(ref.Rows) != 8 {
		t.Fatalf("%d hosts", len(ref.Rows))
	}
	res := runUnload(t, u, `UNLOAD (`+sel+`) TO 'file:///tsbs/pq/' WITH (partitioned_by = ARRAY['region'])`)
	if res.Rows != 8*180 {
		t.Fatalf("rows = %d", res.Rows)
	}
	glob := filepath.Join(root, "tsbs", "pq", "results", "*", "*.parquet")
	_, rows := duckdb(t, `SELECT hostname, count(*), sum(usage_user), strftime(min(time), '%Y-%m-%d %H:%M:%S.%n'), max(usage_idle)
		FROM read_parquet('`+glob+`', hive_partitioning = true) GROUP BY hostname ORDER BY hostname`)
	for i, r := range ref.Rows {
		want := fmt.Sprintf("%s %d %d %s %d", r[0].S, r[1].I, r[2].I, qexec.FormatTimestamp(r[3].I), r[4].I)
		got := fmt.Sprintf("%v %v %v %v %v", rows[i]...)
		if got != want {
			t.Fatalf("host %d: duckdb %s, sql %s", i, got, want)
		}
	}
	csv := runUnload(t, u, `UNLOAD (`+sel+`) TO 'file:///tsbs/csv/' WITH (format = 'CSV', include_header = 'true')`)
	m := readManifest(t, root, csv)
	if csv.Rows != res.Rows || m.QueryMetadata.RowCount != res.Rows || len(m.ResultFiles) != 1 {
		t.Fatalf("csv manifest = %+v", m)
	}
	_, rows = duckdb(t, `SELECT count(*), count(DISTINCT hostname) FROM read_csv('`+localPath(root, m.ResultFiles[0].URL)+`', header = true)`)
	if fmt.Sprintf("%v %v", rows[0]...) != "1440 8" {
		t.Fatalf("duckdb over csv: %v", rows[0])
	}
}
