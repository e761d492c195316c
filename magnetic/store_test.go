package magnetic

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/query/scan"
	"github.com/tidaldb/tidal/query/scan/scantest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// day0 is a partition boundary: 2026-11-25T00:00:00Z.
var day0 = time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC).UnixNano()

// newCatalog returns an in-memory catalog with table scantest.Database.Table.
func newCatalog(t testing.TB) (*catalog.Catalog, uint64) {
	t.Helper()
	cat, err := catalog.Open(catalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cat.CreateDatabase(scantest.Database, "", nil); err != nil {
		t.Fatal(err)
	}
	tbl, err := cat.CreateTable(catalog.Table{Database: scantest.Database, Name: scantest.Table,
		Retention: catalog.Retention{MemoryHours: 1, MagneticDays: 10}})
	if err != nil {
		t.Fatal(err)
	}
	return cat, tbl.ID
}

func openStore(t testing.TB, dir string, cat *catalog.Catalog) *Store {
	t.Helper()
	s, err := Open(Options{PartitionWidth: DefaultPartitionWidth, Dir: dir, Catalog: cat, Now: coldNow})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// coldNow is a clock for tests: two days after day0, so that the
// partitions of the test data are cold and merge eagerly.
func coldNow() time.Time { return time.Unix(0, day0+2*int64(24*time.Hour)) }

// recordBatch converts one record to a one-row batch.
func recordBatch(r *ingest.Record) *scan.Batch {
	dims := slices.Clone(r.Dimensions)
	sort.Slice(dims, func(i, j int) bool { return dims[i].Name < dims[j].Name })
	b := &scan.Batch{Series: scan.Series{Key: string(scan.AppendSeriesKey(nil, r.MeasureName, dims)), Dimensions: dims, MeasureName: r.MeasureName},
		Time: []int64{r.Time}, Version: []int64{max(r.Version, 1)}}
	add := func(name string, v ingest.Value) {
		c := scan.Column{Name: name, Type: v.Type}
		switch v.Type {
		case ingest.TypeDouble:
			c.F = []float64{v.Float()}
		case ingest.TypeBigint, ingest.TypeTimestamp:
			c.I = []int64{v.Int()}
		case ingest.TypeVarchar:
			c.S = []string{v.Str}
		case ingest.TypeBoolean:
			c.B = []bool{v.Bool()}
		}
		b.Columns = append(b.Columns, c)
	}
	if r.IsMulti() {
		for _, m := range r.Measures {
			add(m.Name, m.Value)
		}
	} else {
		add(scan.ColMeasureValue, r.Value)
	}
	return b
}

func recordBatches(recs []ingest.Record) *scan.Slice {
	bs := make([]*scan.Batch, len(recs))
	for i := range recs {
		bs[i] = recordBatch(&recs[i])
	}
	return scan.NewSlice(bs)
}

func writeRecords(t testing.TB, s *Store, tableID uint64, recs []ingest.Record) []PartInfo {
	t.Helper()
	infos, err := s.WritePart(context.Background(), tableID, recordBatches(recs))
	if err != nil {
		t.Fatal(err)
	}
	return infos
}

func mergeAll(t testing.TB, s *Store) int {
	t.Helper()
	total := 0
	for {
		n, err := s.Merge(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return total
		}
		total += n
	}
}

func TestScanAcceptance(t *testing.T) {
	for _, tc := range []struct {
		name   string
		writes int
		merge  bool
		cache  int
	}{
		{"one part", 1, false, 0},
		{"overlapping parts", 4, false, 0},
		{"overlapping parts merged", 4, true, 0},
		{"many parts merged without cache", 9, true, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			open := func(t *testing.T, recs []ingest.Record) scan.Source {
				cat, id := newCatalog(t)
				s, err := Open(Options{PartitionWidth: DefaultPartitionWidth, Dir: t.TempDir(), Catalog: cat, CacheBytes: tc.cache, Now: coldNow})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = s.Close() })
				rng := rand.New(rand.NewPCG(7, 7))
				groups := scantest.Split(rng, recs, tc.writes)
				for i, g := range groups {
					writeRecords(t, s, id, g)
					if tc.merge && i == len(groups)/2 {
						mergeAll(t, s)
					}
				}
				if tc.merge {
					mergeAll(t, s)
				}
				if got := len(s.Parts()); tc.writes > 1 && got < 2 {
					t.Fatalf("%d parts, want several (two partitions)", got)
				}
				return s
			}
			// Half an hour before midnight: the data spans two partitions.
			scantest.Run(t, scantest.DefaultConfig(day0-1800e9), open)
		})
	}
}

// collect drains a scan of the test table into per-series rows.
func collect(t testing.TB, s *Store, req *scan.Request) []scantest.Row {
	t.Helper()
	if req.Database == "" {
		req.Database, req.Table = scantest.Database, scantest.Table
	}
	rows, err := scantest.Collect(context.Background(), s, req)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func all() *scan.Request { return &scan.Request{MinTime: math.MinInt64, MaxTime: math.MaxInt64} }

func TestRoundTripTypes(t *testing.T) {
	cat, id := newCatalog(t)
	s := openStore(t, t.TempDir(), cat)
	dims := []ingest.Dimension{{Name: "host", Value: "a"}}
	var recs []ingest.Record
	floats := []float64{math.NaN(), math.Copysign(0, -1), 0, math.Inf(1), math.Inf(-1), math.MaxFloat64, math.SmallestNonzeroFloat64, 1.5}
	for i, f := range floats {
		recs = append(recs, ingest.Record{MeasureName: "f", Dimensions: dims, Time: day0 + int64(i), Value: ingest.Float(f)})
	}
	ints := []int64{math.MinInt64, math.MaxInt64, 0, -1}
	for i, v := range ints {
		recs = append(recs, ingest.Record{MeasureName: "i", Dimensions: dims, Time: day0 + int64(i), Value: ingest.Int(v)})
		recs = append(recs, ingest.Record{MeasureName: "ts", Dimensions: dims, Time: day0 + int64(i), Value: ingest.Timestamp(v)})
	}
	strs := []string{"", "x", "✓ unicode", strings.Repeat("long", 1000)}
	for i, v := range strs {
		recs = append(recs, ingest.Record{MeasureName: "s", Dimensions: dims, Time: day0 + int64(i), Value: ingest.String(v)})
		recs = append(recs, ingest.Record{MeasureName: "b", Dimensions: dims, Time: day0 + int64(i), Value: ingest.Bool(i%3 == 0)})
	}
	// Multi-measure rows with NULLs: "x" only in rows 0 and 2, "y" in 1.
	recs = append(recs,
		ingest.Record{MeasureName: "m", Dimensions: dims, Time: day0, Measures: []ingest.Measure{{Name: "x", Value: ingest.Float(math.NaN())}}},
		ingest.Record{MeasureName: "m", Dimensions: dims, Time: day0 + 1, Measures: []ingest.Measure{{Name: "y", Value: ingest.String("only y")}}},
		ingest.Record{MeasureName: "m", Dimensions: dims, Time: day0 + 2, Measures: []ingest.Measure{{Name: "x", Value: ingest.Float(-2)}, {Name: "y", Value: ingest.String("")}}},
	)
	writeRecords(t, s, id, recs)

	cur, err := s.Scan(context.Background(), &scan.Request{Database: scantest.Database, Table: scantest.Table, MinTime: math.MinInt64, MaxTime: math.MaxInt64})
	if err != nil {
		t.Fatal(err)
	}
	defer cur.Close()
	seen := map[string]bool{}
	for cur.Next() {
		b := cur.Batch()
		seen[b.Series.MeasureName] = true
		if b.Series.Dimensions[0] != dims[0] {
			t.Errorf("series %s: dimensions %v", b.Series.MeasureName, b.Series.Dimensions)
		}
		switch b.Series.MeasureName {
		case "f":
			c := b.Column(scan.ColMeasureValue)
			for i, f := range floats {
				if math.Float64bits(c.F[i]) != math.Float64bits(f) {
					t.Errorf("float %d: got %x want %x", i, math.Float64bits(c.F[i]), math.Float64bits(f))
				}
			}
		case "i", "ts":
			c := b.Column(scan.ColMeasureValue)
			if !slices.Equal(c.I, ints) || (b.Series.MeasureName == "ts") != (c.Type == ingest.TypeTimestamp) {
				t.Errorf("%s: got %v (%v), want %v", b.Series.MeasureName, c.I, c.Type, ints)
			}
		case "s":
			if c := b.Column(scan.ColMeasureValue); !slices.Equal(c.S, strs) {
				t.Errorf("strings: got %q", c.S)
			}
		case "b":
			if c := b.Column(scan.ColMeasureValue); !slices.Equal(c.B, []bool{true, false, false, true}) {
				t.Errorf("bools: got %v", c.B)
			}
		case "m":
			x, y := b.Column("x"), b.Column("y")
			if x == nil || y == nil {
				t.Fatalf("multi: columns %v", b.Columns)
			}
			if !slices.Equal(x.Null, []bool{false, true, false}) || !math.IsNaN(x.F[0]) || x.F[2] != -2 {
				t.Errorf("multi x: %v null %v", x.F, x.Null)
			}
			if !slices.Equal(y.Null, []bool{true, false, false}) || y.S[1] != "only y" || y.S[2] != "" {
				t.Errorf("multi y: %q null %v", y.S, y.Null)
			}
			if b.Columns[0].Name != "x" || b.Columns[1].Name != "y" {
				t.Errorf("multi: column order %s, %s", b.Columns[0].Name, b.Columns[1].Name)
			}
		}
		if b.Version != nil {
			t.Errorf("%s: versions %v, want nil (all 1)", b.Series.MeasureName, b.Version)
		}
	}
	if err := cur.Err(); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 6 {
		t.Errorf("saw series %v, want 6", seen)
	}
}

func TestDedupAcrossParts(t *testing.T) {
	cat, id := newCatalog(t)
	s := openStore(t, t.TempDir(), cat)
	dims := []ingest.Dimension{{Name: "host", Value: "a"}}
	rec := func(at, ver int64, v float64) ingest.Record {
		return ingest.Record{MeasureName: "cpu", Dimensions: dims, Time: day0 + at, Version: ver, Value: ingest.Float(v)}
	}
	// Part 1: versions 3 at t=1, 1 at t=2, 2 at t=3.
	writeRecords(t, s, id, []ingest.Record{rec(1, 3, 10), rec(2, 1, 20), rec(3, 2, 30)})
	// Part 2: lower version at t=1 (loses), higher at t=2 (wins), equal at
	// t=3 (newer part wins), new t=4.
	writeRecords(t, s, id, []ingest.Record{rec(1, 2, 11), rec(2, 5, 21), rec(3, 2, 31), rec(4, 1, 41)})
	// Within one write: equal version, the later record wins.
	writeRecords(t, s, id, []ingest.Record{rec(5, 1, 50), rec(5, 1, 51), rec(6, 9, 60), rec(6, 8, 61)})
	want := []scantest.Row{
		{Time: day0 + 1, Version: 3, Values: "DOUBLE:4024000000000000"},
		{Time: day0 + 2, Version: 5, Values: "DOUBLE:4035000000000000"},
		{Time: day0 + 3, Version: 2, Values: "DOUBLE:403f000000000000"},
		{Time: day0 + 4, Version: 1, Values: "DOUBLE:4044800000000000"},
		{Time: day0 + 5, Version: 1, Values: "DOUBLE:4049800000000000"},
		{Time: day0 + 6, Version: 9, Values: "DOUBLE:404e000000000000"},
	}
	for i := range want {
		want[i].Series = "cpu,host=a"
		want[i].Values = "measure_value=" + want[i].Values
	}
	check := func(stage string) {
		t.Helper()
		if d := scantest.Diff(want, collect(t, s, all())); d != "" {
			t.Errorf("%s:\n%s", stage, d)
		}
	}
	check("three parts")
	if n := mergeAll(t, s); n != 1 || len(s.Parts()) != 1 {
		t.Fatalf("merges %d, parts %d; want 1 and 1", n, len(s.Parts()))
	}
	check("merged")
	// A write after the merge with an equal version still wins: it is
	// newer than every input of the merged part.
	writeRecords(t, s, id, []ingest.Record{rec(3, 2, 32)})
	want[2].Values = "measure_value=DOUBLE:4040000000000000"
	check("write after merge")
}

func TestPickMerge(t *testing.T) {
	for _, tc := range []struct {
		sizes    []int64
		minParts int
		ratio    int64
		lo, hi   int
		ok       bool
	}{
		{nil, 2, 2, 0, 0, false},
		{[]int64{10}, 2, 2, 0, 0, false},
		{[]int64{10, 12}, 2, 2, 0, 2, true},
		{[]int64{100, 10}, 2, 2, 0, 0, false},    // the big part dominates
		{[]int64{100, 10, 10}, 2, 2, 1, 3, true}, // small ones merge first
		{[]int64{100, 60, 50}, 2, 2, 0, 3, true}, // 100 <= 2*110
		{[]int64{10, 100, 10, 10, 10}, 2, 2, 2, 5, true},
		{[]int64{10, 10, 10}, 4, 1, 0, 0, false},     // hot: too few parts
		{[]int64{10, 10, 10, 10}, 4, 1, 0, 4, true},  // hot: four equal parts
		{[]int64{40, 10, 10, 10}, 4, 1, 0, 0, false}, // hot: 40 > 30
		{[]int64{40, 10, 10, 10, 10}, 4, 1, 0, 5, true},
		{[]int64{5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5}, 2, 2, 0, 16, true}, // fan-in bound
	} {
		ps := make([]*part, len(tc.sizes))
		for i, sz := range tc.sizes {
			ps[i] = &part{size: sz}
		}
		lo, hi, ok := pickMerge(ps, tc.minParts, tc.ratio)
		if lo != tc.lo || hi != tc.hi || ok != tc.ok {
			t.Errorf("pickMerge(%v, %d, %d) = %d, %d, %v; want %d, %d, %v", tc.sizes, tc.minParts, tc.ratio, lo, hi, ok, tc.lo, tc.hi, tc.ok)
		}
	}
}

// TestMergePolicyHotAndCold checks that a partition memstore may still
// flush into waits for four parts, and a cold one merges two.
func TestMergePolicyHotAndCold(t *testing.T) {
	cat, id := newCatalog(t) // MemoryHours 1
	now := day0
	s, err := Open(Options{PartitionWidth: DefaultPartitionWidth, Dir: t.TempDir(), Catalog: cat, Now: func() time.Time { return time.Unix(0, now) }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range 3 {
		writeRecords(t, s, id, []ingest.Record{{MeasureName: "x", Time: day0 + int64(i), Value: ingest.Int(1)}})
	}
	if n := mergeAll(t, s); n != 0 {
		t.Fatalf("hot partition with 3 parts: %d merges", n)
	}
	writeRecords(t, s, id, []ingest.Record{{MeasureName: "x", Time: day0 + 3, Value: ingest.Int(1)}})
	if n := mergeAll(t, s); n != 1 || len(s.Parts()) != 1 {
		t.Fatalf("hot partition with 4 equal parts: %d merges, %d parts left", n, len(s.Parts()))
	}
	for i := range 2 {
		writeRecords(t, s, id, []ingest.Record{{MeasureName: "x", Time: day0 + 10 + int64(i), Value: ingest.Int(1)}})
	}
	if n := mergeAll(t, s); n != 0 {
		t.Fatalf("hot partition with a merged part and 2 small ones: %d merges", n)
	}
	now = day0 + 2*dayNs // 26 h after the partition ended: cold
	if n := mergeAll(t, s); n == 0 || len(s.Parts()) != 1 {
		t.Fatalf("cold partition: %d merges, %d parts left", n, len(s.Parts()))
	}
}

func all2() *scan.Request {
	r := all()
	r.Database, r.Table = scantest.Database, scantest.Table
	return r
}

// TestMergeLongSeries merges a series longer than two blocks, written
// interleaved across two parts, so that the merge streams block by block.
func TestMergeLongSeries(t *testing.T) {
	cat, id := newCatalog(t)
	s := openStore(t, t.TempDir(), cat)
	var even, odd []ingest.Record
	const n = 3*BlockRows + 100
	for i := range n {
		r := ingest.Record{MeasureName: "m", Dimensions: []ingest.Dimension{{Name: "h", Value: "x"}}, Time: day0 + int64(i)*1e9,
			Measures: []ingest.Measure{{Name: "v", Value: ingest.Int(int64(i))}}}
		if i%5 == 0 {
			r.Measures = append(r.Measures, ingest.Measure{Name: "w", Value: ingest.String("s" + strings.Repeat("x", i%7))})
		}
		if i%2 == 0 {
			even = append(even, r)
		} else {
			odd = append(odd, r)
		}
	}
	writeRecords(t, s, id, even)
	writeRecords(t, s, id, odd)
	want := scantest.NewModel(append(slices.Clone(even), odd...)).Rows(all())
	if mergeAll(t, s) != 1 {
		t.Fatal("no merge")
	}
	if d := scantest.Diff(want, collect(t, s, all())); d != "" {
		t.Fatal(d)
	}
	parts := s.Parts()
	if len(parts) != 1 || parts[0].Rows != n {
		t.Fatalf("parts %+v", parts)
	}
	s.mu.RLock()
	var blocks []int
	for _, pt := range s.tables[id] {
		for _, b := range pt.parts[0].meta.series[0].blocks {
			blocks = append(blocks, b.rows)
		}
	}
	s.mu.RUnlock()
	// Full blocks while streaming, the remainder split in two.
	if !slices.Equal(blocks, []int{BlockRows, BlockRows, 4146, 4146}) {
		t.Errorf("block sizes %v", blocks)
	}
	// The newest row of random windows (Request.Last, which decodes the
	// newest block with a row in the window only) is the full scan's.
	rng := rand.New(rand.NewPCG(3, 3))
	for range 50 {
		a, b := day0+rng.Int64N(n+200)*1e9-100e9, day0+rng.Int64N(n+200)*1e9-100e9
		req := &scan.Request{MinTime: min(a, b), MaxTime: max(a, b), Columns: [][]string{nil, {"v"}, {"w"}, {}}[rng.IntN(4)]}
		want := scantest.Newest(collect(t, s, req))
		req.Last = true
		got := collect(t, s, req)
		if d := scantest.Diff(want, got); d != "" {
			t.Fatalf("last in [%d, %d]: %s", req.MinTime, req.MaxTime, d)
		}
	}
}

// TestMergedScanColumnOrder checks that a scan merging several parts keeps
// the request's column order, and name order when all columns are asked.
func TestMergedScanColumnOrder(t *testing.T) {
	cat, id := newCatalog(t)
	s := openStore(t, t.TempDir(), cat)
	rec := func(at int64, ms ...ingest.Measure) ingest.Record {
		return ingest.Record{MeasureName: "m", Dimensions: []ingest.Dimension{{Name: "h", Value: "a"}}, Time: day0 + at, Measures: ms}
	}
	writeRecords(t, s, id, []ingest.Record{rec(1, ingest.Measure{Name: "x", Value: ingest.Int(1)}, ingest.Measure{Name: "y", Value: ingest.Int(2)})})
	writeRecords(t, s, id, []ingest.Record{rec(2, ingest.Measure{Name: "z", Value: ingest.Int(3)}, ingest.Measure{Name: "x", Value: ingest.Int(4)})})
	for _, tc := range []struct {
		cols []string
		want []string
	}{
		{nil, []string{"x", "y", "z"}},
		{[]string{"z", "x"}, []string{"z", "x"}},
		{[]string{"y", "nope"}, []string{"y"}},
	} {
		req := all2()
		req.Columns = tc.cols
		cur, err := s.Scan(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		if !cur.Next() {
			t.Fatalf("columns %v: no batch (%v)", tc.cols, cur.Err())
		}
		b := cur.Batch()
		var got []string
		for _, c := range b.Columns {
			got = append(got, c.Name)
		}
		if !slices.Equal(got, tc.want) || !slices.Equal(b.Time, []int64{day0 + 1, day0 + 2}) {
			t.Errorf("columns %v: got %v times %v, want %v", tc.cols, got, b.Time, tc.want)
		}
		if x := b.Column("x"); x != nil && (!slices.Equal(x.I, []int64{1, 4}) || x.Null != nil) {
			t.Errorf("x = %v null %v", x.I, x.Null)
		}
		if y := b.Column("y"); y != nil && !slices.Equal(y.Null, []bool{false, true}) {
			t.Errorf("y null %v", y.Null)
		}
		if cur.Next() {
			t.Errorf("columns %v: a second batch", tc.cols)
		}
		if err := cur.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
