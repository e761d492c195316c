package scan_test

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/query/scan"
	"github.com/tidaldb/tidal/query/scan/scantest"
)

// TestMergeAcceptance splits random data over three sources and checks that
// their merge answers like one source holding everything.
func TestMergeAcceptance(t *testing.T) {
	for seed := int64(1); seed <= 3; seed++ {
		cfg := scantest.DefaultConfig(1_700_000_000e9)
		cfg.Seed = seed
		scantest.Run(t, cfg, func(t *testing.T, recs []ingest.Record) scan.Source {
			groups := scantest.Split(rand.New(rand.NewPCG(uint64(seed), 5)), recs, 3)
			var srcs []scan.Source
			for _, g := range groups {
				srcs = append(srcs, scantest.NewModel(g))
			}
			return scan.Merge(srcs...)
		})
	}
}

// TestMergeVersions checks the tie-breaking rules on a hand-made case.
func TestMergeVersions(t *testing.T) {
	dims := []ingest.Dimension{{Name: "h", Value: "1"}}
	r := func(at int64, v float64, ver int64) ingest.Record {
		return ingest.Record{Time: at, Dimensions: dims, MeasureName: "m", Value: ingest.Float(v), Version: ver}
	}
	a := scantest.NewModel([]ingest.Record{r(1, 10, 1), r(2, 20, 3), r(3, 30, 1)})
	b := scantest.NewModel([]ingest.Record{r(1, 11, 2), r(2, 21, 2), r(3, 31, 1), r(4, 41, 1)})
	rows, err := scantest.Collect(t.Context(), scan.Merge(a, b), &scan.Request{Database: "testdb", Table: "tbl", MinTime: 0, MaxTime: 10})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		at  int64
		ver int64
		v   float64
	}{{1, 2, 11}, {2, 3, 20}, {3, 1, 31}, {4, 1, 41}}
	if len(rows) != len(want) {
		t.Fatalf("rows %+v", rows)
	}
	for i, w := range want {
		wantVals := "measure_value=DOUBLE:" + formatBits(w.v)
		if rows[i].Time != w.at || rows[i].Version != w.ver || rows[i].Values != wantVals {
			t.Fatalf("row %d = %+v, want %+v", i, rows[i], w)
		}
	}
}

func formatBits(f float64) string {
	return strconv.FormatUint(math.Float64bits(f), 16)
}
