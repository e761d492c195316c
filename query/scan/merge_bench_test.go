package scan

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/internal/cputime"
)

// BenchmarkMergeOneTier merges two sources where every series is in one
// of them (the common case: a series' recent rows in the memory tier, or
// all of it in one tier), 1000 series x 1000 rows, and reports, per path,
// the mean CPU ms per full scan and the median per-round wall ratio
// after/before: before deep-copies every batch afresh (Clone), after
// copies into buffers reused from series to series.
func BenchmarkMergeOneTier(b *testing.B) {
	const series, rows = 1000, 1000
	var hot, cold []*Batch
	for s := range series {
		bt := &Batch{Series: Series{Key: "k" + strconv.Itoa(100000+s), MeasureName: "m",
			Dimensions: []ingest.Dimension{{Name: "host", Value: strconv.Itoa(s)}}}}
		for i := range rows {
			bt.Time = append(bt.Time, int64(i))
		}
		bt.Columns = []Column{{Name: ColMeasureValue, Type: ingest.TypeDouble, F: make([]float64, rows)}}
		if s%2 == 0 {
			hot = append(hot, bt)
		} else {
			cold = append(cold, bt)
		}
	}
	run := func(clone bool) (time.Duration, time.Duration) {
		cloneParts = clone
		defer func() { cloneParts = false }()
		start, cpu := time.Now(), cputime.Process()
		cur, err := Merge(sliceSource(hot), sliceSource(cold)).Scan(context.Background(), &Request{})
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for cur.Next() {
			n += cur.Batch().Len()
		}
		if n != series*rows {
			b.Fatalf("%d rows, want %d", n, series*rows)
		}
		return time.Since(start), cputime.Process() - cpu
	}
	var cpu [2]time.Duration
	var ratio []float64
	round := 0
	for b.Loop() {
		var wall [2]time.Duration
		for k := range 2 {
			i := (k + round) % 2
			var c time.Duration
			wall[i], c = run(i == 0)
			cpu[i] += c
		}
		ratio = append(ratio, float64(wall[1])/float64(max(wall[0], 1)))
		round++
	}
	slices.Sort(ratio)
	b.ReportMetric(cpu[0].Seconds()*1e3/float64(round), "before-cpu-ms")
	b.ReportMetric(cpu[1].Seconds()*1e3/float64(round), "after-cpu-ms")
	b.ReportMetric(ratio[len(ratio)/2], "after/before")
}

type sliceSource []*Batch

func (s sliceSource) Scan(context.Context, *Request) (Batches, error) { return NewSlice(s), nil }
