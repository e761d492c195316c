package scheduled

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/timestreamquery/types"

	"github.com/tidaldb/tidal/bench/tsbs"
	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/internal/cputime"
)

// BenchmarkRollupRun measures one run of a 10-second-to-1-minute rollup
// over one hour of the bench "small" devops preset (100 hosts, cpu-only,
// 10 s interval; the hour holds 36,000 multi-measure points) writing 6,000
// rows back through the memstore: the cost of a scheduled query run, query
// and write-back together.
func BenchmarkRollupRun(b *testing.B) {
	const hosts = 100
	clock := &fakeClock{t: t0.Add(3 * time.Hour)}
	e := newEnv(b, b.TempDir(), clock, Options{})
	if _, err := e.cat.CreateDatabase("devops", "", nil); err != nil {
		b.Fatal(err)
	}
	for _, name := range []string{"cpu", "cpu_1m"} {
		if _, err := e.cat.CreateTable(catalog.Table{Database: "devops", Name: name,
			Retention: catalog.Retention{MemoryHours: 24 * 7, MagneticDays: 365}}); err != nil {
			b.Fatal(err)
		}
	}
	g, err := tsbs.New(tsbs.Config{UseCase: "cpu-only", Scale: hosts, Start: t0, End: t0.Add(3 * time.Hour), Interval: 10 * time.Second, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	var p tsbs.Point
	var recs []ingest.Record
	for g.Next(&p) {
		recs = tsbs.AppendRecords(recs, &p, true)
		if len(recs) >= 10000 {
			e.append("cpu", recs)
			recs = recs[:0]
		}
	}
	e.append("cpu", recs)

	in := rollupInput("rollup-1m")
	in.QueryString = aws.String(`SELECT hostname, bin(time, 1m) AS minute, avg(usage_user) AS avg_user,
		max(usage_user) AS max_user, avg(usage_system) AS avg_system, count(*) AS samples
		FROM devops.cpu WHERE time >= @scheduled_runtime - 1h AND time < @scheduled_runtime
		GROUP BY hostname, bin(time, 1m)`)
	tc := in.TargetConfiguration.TimestreamConfiguration
	tc.TableName, tc.TimeColumn = aws.String("cpu_1m"), aws.String("minute")
	tc.MultiMeasureMappings.MultiMeasureAttributeMappings = []types.MultiMeasureAttributeMapping{
		{SourceColumn: aws.String("avg_user"), MeasureValueType: types.ScalarMeasureValueTypeDouble},
		{SourceColumn: aws.String("max_user"), MeasureValueType: types.ScalarMeasureValueTypeDouble},
		{SourceColumn: aws.String("avg_system"), MeasureValueType: types.ScalarMeasureValueTypeDouble},
		{SourceColumn: aws.String("samples"), MeasureValueType: types.ScalarMeasureValueTypeBigint},
	}
	out, err := e.client.CreateScheduledQuery(context.Background(), in)
	if err != nil {
		b.Fatal(err)
	}
	base, _ := e.sched.Get(aws.ToString(out.Arn))
	inv := t0.Add(2 * time.Hour)
	run := func(b *testing.B, table string) int64 {
		q := base
		tc := *q.TargetConfiguration.TimestreamConfiguration
		tc.TableName = table
		q.TargetConfiguration = &TargetConfiguration{TimestreamConfiguration: &tc}
		sum, _ := e.sched.execute(context.Background(), &q, inv)
		if sum.Failed() || sum.ExecutionStats.RecordsIngested != hosts*60 {
			b.Fatalf("run %+v", sum)
		}
		return sum.ExecutionStats.RecordsIngested
	}
	// first: each run writes into an empty table (the usual case, new
	// rows appended); rerun: the same invocation again, every row an
	// upsert of an existing point.
	// query: the query alone, results drained, nothing written.
	b.Run("query", func(b *testing.B) {
		cpu := cputime.Process()
		for b.Loop() {
			rows, err := e.sched.opts.Querier.Query(context.Background(), base.QueryString, inv)
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for rows.Next() {
				n++
			}
			if err := rows.Close(); err != nil || n != hosts*60 {
				b.Fatalf("%d rows, %v", n, err)
			}
		}
		reportCPU(b, cpu)
	})
	tables := 0
	b.Run("first", func(b *testing.B) {
		var written int64
		var elapsed, cpu time.Duration
		for b.Loop() {
			b.StopTimer()
			tables++
			table := fmt.Sprintf("cpu_1m_%d", tables)
			if _, err := e.cat.CreateTable(catalog.Table{Database: "devops", Name: table,
				Retention: catalog.Retention{MemoryHours: 24 * 7, MagneticDays: 365}}); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			start, startCPU := time.Now(), cputime.Process()
			written += run(b, table)
			elapsed += time.Since(start)
			cpu += cputime.Process() - startCPU
		}
		b.ReportMetric(float64(written)/elapsed.Seconds(), "rows/s")
		b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/op")
	})
	b.Run("rerun", func(b *testing.B) {
		run(b, "cpu_1m")
		var written int64
		start, cpu := time.Now(), cputime.Process()
		for b.Loop() {
			written += run(b, "cpu_1m")
		}
		b.ReportMetric(float64(written)/time.Since(start).Seconds(), "rows/s")
		reportCPU(b, cpu)
	})
}

// reportCPU reports the process CPU time per iteration since start, a
// figure that holds up on a busy machine where wall time does not.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64((cputime.Process()-start).Microseconds())/1000/float64(b.N), "cpu-ms/op")
}
