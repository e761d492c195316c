package exec

import (
	"context"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/tidaldb/tidal/query/scan/scantest"
)

// TestAgainstScanModel runs queries over scantest's reference model (one
// batch per series, upserts resolved by version) and over the test table
// (1000-row batches) holding the same records: results must agree.
func TestAgainstScanModel(t *testing.T) {
	cfg := scantest.DefaultConfig(tsbsStart)
	cfg.Rows = 5000
	recs := scantest.Generate(rand.New(rand.NewPCG(5, 6)), cfg)
	db := newTestDB(t)
	db.load(t, scantest.Database, scantest.Table, recs)
	model := scantest.NewModel(recs)
	viaTable := New(db.cat, db, Options{})
	viaModel := New(db.cat, model, Options{Parallelism: 1})
	queries := []string{
		"SELECT count(*), count(measure_value::double), sum(measure_value::bigint), max(measure_value::varchar), count_if(measure_value::boolean) FROM testdb.tbl",
		"SELECT host, region, rack, measure_name, count(*), avg(measure_value::double), min(time), max(time) FROM testdb.tbl GROUP BY 1, 2, 3, 4",
		"SELECT bin(time, 10m), host, max(CASE WHEN measure_name = 'cpu' THEN measure_value::double END), avg(load), sum(procs), max(boot) FROM testdb.tbl GROUP BY 1, 2",
		"SELECT * FROM testdb.tbl WHERE host LIKE 'web%' AND time BETWEEN '2024-01-01 00:10:00' AND '2024-01-01 00:20:00'",
		"SELECT note, count(*) FROM testdb.tbl WHERE measure_name = 'metrics' AND note IS NOT NULL GROUP BY note",
		"SELECT a.host, a.time, a.measure_value::double, b.load FROM testdb.tbl a JOIN testdb.tbl b ON a.host = b.host AND bin(a.time, 1m) = bin(b.time, 1m) WHERE a.measure_name = 'cpu' AND b.measure_name = 'metrics' AND b.load > 1",
		"SELECT DISTINCT region, rack FROM testdb.tbl WHERE rack IS NULL OR rack <> '1'",
	}
	for _, q := range queries {
		a, err := viaTable.Query(context.Background(), q, nil)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		b, err := viaModel.Query(context.Background(), q, nil)
		if err != nil {
			t.Fatalf("%s over the model: %v", q, err)
		}
		if len(a.Rows) == 0 {
			t.Fatalf("%s: no rows", q)
		}
		ga, gb := roundedRows(a), roundedRows(b)
		if strings.Join(ga, "\n") != strings.Join(gb, "\n") {
			t.Fatalf("%s: table and model disagree (%d vs %d rows)\n%s\n---\n%s", q, len(ga), len(gb),
				strings.Join(ga[:min(len(ga), 5)], "\n"), strings.Join(gb[:min(len(gb), 5)], "\n"))
		}
	}
}

// roundedRows formats rows sorted, doubles to 9 significant digits, so
// that sums added in a different order by parallel workers compare equal.
func roundedRows(r *Result) []string {
	var out []string
	for _, row := range r.Rows {
		var cells []string
		for _, v := range row {
			if v.Kind == KindDouble && !v.Null {
				cells = append(cells, strconv.FormatFloat(v.F, 'g', 9, 64))
				continue
			}
			cells = append(cells, v.String())
		}
		out = append(out, strings.Join(cells, " | "))
	}
	sort.Strings(out)
	return out
}
