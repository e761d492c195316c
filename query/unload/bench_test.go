package unload_test

import (
	"context"
	"fmt"
	"testing"

	qexec "github.com/tidaldb/tidal/query/exec"
	"github.com/tidaldb/tidal/query/unload"
)

type discard struct{ n int64 }

func (d *discard) Columns([]qexec.Column) error { return nil }
func (d *discard) Row([]qexec.Value) error      { d.n++; return nil }

// BenchmarkUnload measures UNLOAD throughput (rows/s) of a devops table
// of 100,000 rows to local files, per format.
func BenchmarkUnload(b *testing.B) {
	eng := newEngine(b, 10, 10000)
	u, _ := newFileEngine(b, eng)
	// The SELECT alone, to a sink that drops the rows: what UNLOAD adds is
	// the difference.
	b.Run("select only", func(b *testing.B) {
		var rows int64
		for b.Loop() {
			var s discard
			if _, err := eng.Stream(context.Background(), `SELECT hostname, time, usage_user, usage_system, usage_count, note FROM devops.cpu`, nil, &s); err != nil {
				b.Fatal(err)
			}
			rows += s.n
		}
		b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
	})
	for _, with := range []string{
		`format = 'PARQUET'`,
		`format = 'PARQUET', compression = 'NONE'`,
		`format = 'CSV'`,
		`format = 'CSV', compression = 'NONE'`,
		`format = 'PARQUET', partitioned_by = ARRAY['hostname']`,
	} {
		b.Run(with, func(b *testing.B) {
			var rows int64
			for i := 0; b.Loop(); i++ {
				res, _, err := u.Unload(context.Background(), fmt.Sprintf(`UNLOAD (SELECT hostname, time, usage_user, usage_system, usage_count, note
					FROM devops.cpu) TO 'file:///bench/%d/' WITH (%s)`, i, with), nil)
				if err != nil {
					b.Fatal(err)
				}
				rows += res.Rows
			}
			b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// rowsInner streams n generated devops rows without a query engine, so
// BenchmarkWrite measures UNLOAD's own work: encoding, compression, files.
type rowsInner struct{ n int }

func (r rowsInner) Stream(_ context.Context, _ string, _ map[string]qexec.Value, sink qexec.Sink) (qexec.Stats, error) {
	cols := []qexec.Column{
		{Name: "hostname", Type: qexec.Type{Kind: qexec.KindVarchar}},
		{Name: "time", Type: qexec.Type{Kind: qexec.KindTimestamp}},
		{Name: "usage_user", Type: qexec.Type{Kind: qexec.KindDouble}},
		{Name: "usage_system", Type: qexec.Type{Kind: qexec.KindDouble}},
		{Name: "usage_count", Type: qexec.Type{Kind: qexec.KindBigint}},
	}
	if err := sink.Columns(cols); err != nil {
		return qexec.Stats{}, err
	}
	hosts := make([]string, 100)
	for i := range hosts {
		hosts[i] = fmt.Sprintf("host_%d", i)
	}
	row := make([]qexec.Value, len(cols))
	for i := range r.n {
		row[0] = qexec.Varchar(hosts[i%100])
		row[1] = qexec.Timestamp(start.UnixNano() + int64(i/100)*10e9)
		row[2] = qexec.Double(float64(i%1000) / 7)
		row[3] = qexec.Double(float64(i % 13))
		row[4] = qexec.Bigint(int64(i))
		if err := sink.Row(row); err != nil {
			return qexec.Stats{}, err
		}
	}
	return qexec.Stats{}, nil
}

func (rowsInner) Query(context.Context, string, map[string]qexec.Value) (*qexec.Result, error) {
	return nil, fmt.Errorf("query: not supported")
}

func (rowsInner) Prepare(string) ([]qexec.Column, []qexec.Param, error) { return nil, nil, nil }

// BenchmarkWrite measures UNLOAD's writing alone (rows/s, 200,000 rows).
func BenchmarkWrite(b *testing.B) {
	u := unload.New(rowsInner{n: 200_000}, unload.Options{FileRoot: b.TempDir()})
	for _, with := range []string{`format = 'PARQUET'`, `format = 'PARQUET', compression = 'NONE'`, `format = 'CSV'`, `format = 'CSV', compression = 'NONE'`} {
		b.Run(with, func(b *testing.B) {
			var rows int64
			for i := 0; b.Loop(); i++ {
				res, _, err := u.Unload(context.Background(), fmt.Sprintf(`UNLOAD (SELECT 1) TO 'file:///w/%d/' WITH (%s)`, i, with), nil)
				if err != nil {
					b.Fatal(err)
				}
				rows += res.Rows
			}
			b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
