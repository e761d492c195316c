package exec

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tidaldb/tidal/ingest"
)

func fuzzDB(t testing.TB) *testDB {
	db := newTestDB(t)
	var recs []ingest.Record
	for i := range 20 {
		dims := []ingest.Dimension{{Name: "host", Value: []string{"a", "b", "c"}[i%3]}}
		recs = append(recs,
			ingest.Record{MeasureName: "cpu", Dimensions: dims, Time: tsbsStart + int64(i)*10e9, Value: ingest.Float(float64(i) * 1.5)},
			ingest.Record{MeasureName: "n", Dimensions: dims, Time: tsbsStart + int64(i)*10e9, Value: ingest.Int(int64(i - 10))},
			ingest.Record{MeasureName: "m", Dimensions: dims, Time: tsbsStart + int64(i)*10e9,
				Measures: []ingest.Measure{{Name: "load", Value: ingest.Float(float64(i) / 3)}, {Name: "tag", Value: ingest.String("t" + itoa(i%4))}}})
	}
	db.load(t, "fuzzdb", "tbl", recs)
	return db
}

// FuzzQuery runs random SQL against a small table: the engine must never
// panic (Query recovers panics into errors, so the test fails on an
// "internal error") and every failure must be an *Error.
func FuzzQuery(f *testing.F) {
	seeds := []string{
		"SELECT * FROM fuzzdb.tbl",
		"SELECT host, avg(measure_value::double) FROM fuzzdb.tbl WHERE measure_name = 'cpu' GROUP BY host ORDER BY 2 DESC LIMIT 2",
		"SELECT bin(time, 30s), count(*) FROM fuzzdb.tbl WHERE time > ago(1d) GROUP BY 1",
		"WITH x AS (SELECT host, max(time) AS t FROM fuzzdb.tbl GROUP BY host) SELECT * FROM x JOIN fuzzdb.tbl y ON x.host = y.host AND x.t = y.time",
		"SELECT row_number() OVER (PARTITION BY host ORDER BY time), lag(load) OVER (ORDER BY time) FROM fuzzdb.tbl",
		"SELECT CREATE_TIME_SERIES(time, measure_value::double) FROM fuzzdb.tbl WHERE measure_name = 'cpu'",
		"SELECT transform(ARRAY[1,2], x -> x / 0), try(1/0), CAST('x' AS bigint)",
		"SELECT 1 UNION SELECT 2 INTERSECT SELECT 2 EXCEPT SELECT 3",
		"SELECT host FROM fuzzdb.tbl WHERE host IN (SELECT host FROM fuzzdb.tbl WHERE tag LIKE 't%')",
		"SELECT u.x FROM UNNEST(sequence(1, 5)) AS u(x) WHERE u.x % 2 = 1",
		"SHOW MEASURES FROM fuzzdb.tbl",
		"SELECT regexp_extract(tag, '(t)([0-9])', 2), lpad(tag, 5, '*') FROM fuzzdb.tbl",
		"SELECT host, sum(load) OVER (PARTITION BY host ORDER BY time ROWS BETWEEN UNBOUNDED PRECEDING AND 1 FOLLOWING), avg(load) OVER (ORDER BY host) FROM fuzzdb.tbl",
		"SELECT host, sum(CASE WHEN measure_name = 'cpu' AND measure_value::double > 1 THEN 1 ELSE 0 END) FROM fuzzdb.tbl GROUP BY host",
		"WITH h AS (SELECT time, host FROM fuzzdb.tbl WHERE load > 0) SELECT * FROM fuzzdb.tbl a JOIN h b ON a.host = b.host AND a.time = b.time",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	db := fuzzDB(f)
	e := New(db.cat, db, Options{Timeout: 2 * time.Second, MaxMemoryBytes: 64 << 20,
		Now: func() time.Time { return time.Unix(0, tsbsStart+3600e9) }})
	f.Fuzz(func(t *testing.T, sql string) {
		res, err := e.Query(context.Background(), sql, nil)
		if err != nil {
			var qe *Error
			if !errors.As(err, &qe) {
				t.Fatalf("%q: error %T is not *Error: %v", sql, err, err)
			}
			if qe.Kind == ErrExecution && len(qe.Msg) > 15 && qe.Msg[:15] == "internal error:" {
				t.Fatalf("%q: %v", sql, err)
			}
			return
		}
		for _, r := range res.Rows {
			if len(r) != len(res.Columns) {
				t.Fatalf("%q: row of %d values for %d columns", sql, len(r), len(res.Columns))
			}
		}
	})
}
