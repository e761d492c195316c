package tombstone

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/tidaldb/tidal/query/scan"
)

// BenchmarkSource scans 1,000 series of 1,000 rows through Source: with no
// tombstone on the table (the cost every query pays) and with tombstones
// deleting a range of one series in ten.
func BenchmarkSource(b *testing.B) {
	var bs []*scan.Batch
	for i := range 1000 {
		times := make([]int64, 1000)
		for j := range times {
			times[j] = int64(j)
		}
		bs = append(bs, batch(series("cpu", "host", fmt.Sprintf("h%03d", i)), times...))
	}
	cat := fakeCatalog{"db.t": 1}
	req := &scan.Request{Database: "db", Table: "t", MinTime: math.MinInt64, MaxTime: math.MaxInt64}
	for _, tc := range []struct {
		name string
		ts   []Tombstone
	}{
		{"none", nil},
		{"one_in_ten", []Tombstone{{TableID: 1, MinTime: 100, MaxTime: 199,
			Where: []Matcher{{Name: "host", Op: OpRegexp, Values: []string{"h..0"}}}}}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			s, err := Open(Options{Dir: b.TempDir()})
			if err != nil {
				b.Fatal(err)
			}
			if len(tc.ts) > 0 {
				if _, err := s.Add(tc.ts); err != nil {
					b.Fatal(err)
				}
			}
			src := s.Source(scanSlice(bs), cat)
			b.ReportAllocs()
			for b.Loop() {
				cur, err := src.Scan(context.Background(), req)
				if err != nil {
					b.Fatal(err)
				}
				rows := 0
				for cur.Next() {
					rows += cur.Batch().Len()
				}
				if err := cur.Close(); err != nil {
					b.Fatal(err)
				}
				if want := 1000*1000 - 100*len(tc.ts)*100; rows != want {
					b.Fatalf("%d rows, want %d", rows, want)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e6, "ns/row")
		})
	}
}

// scanSlice answers every scan with the same batches.
type scanSlice []*scan.Batch

func (s scanSlice) Scan(context.Context, *scan.Request) (scan.Batches, error) {
	return scan.NewSlice(s), nil
}
