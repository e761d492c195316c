package magnetic

import (
	"context"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/query/scan"
)

// sortedSlice is a scan.Slice that declares itself a SortedSource.
type sortedSlice struct {
	*scan.Slice
	rows       int
	minT, maxT int64
	// atEnd, if set, runs when the cursor is drained.
	atEnd func()
}

func (s *sortedSlice) SeriesSorted() bool               { return true }
func (s *sortedSlice) Bounds() (rows int, lo, hi int64) { return s.rows, s.minT, s.maxT }
func (s *sortedSlice) Next() bool {
	ok := s.Slice.Next()
	if !ok && s.atEnd != nil {
		s.atEnd()
		s.atEnd = nil
	}
	return ok
}

// genSeries builds batches of n series in key order, each of rows rows
// step apart from day0, cut into pieces batches; with dups, every second
// row of each series comes again with version 2 and another value.
func genSeries(n, rows, pieces int, step int64, dups bool) ([]*scan.Batch, int, int64, int64) {
	var out []*scan.Batch
	total := 0
	for i := range n {
		dims := []ingest.Dimension{{Name: "host", Value: "h" + strconv.Itoa(1000+i)}}
		key := string(scan.AppendSeriesKey(nil, "cpu", dims))
		per := (rows + pieces - 1) / pieces
		for lo := 0; lo < rows; lo += per {
			hi := min(lo+per, rows)
			b := &scan.Batch{Series: scan.Series{Key: key, Dimensions: dims, MeasureName: "cpu"}}
			col := scan.Column{Name: scan.ColMeasureValue, Type: ingest.TypeDouble}
			for r := lo; r < hi; r++ {
				b.Time = append(b.Time, day0+int64(r)*step)
				b.Version = append(b.Version, 1)
				col.F = append(col.F, float64(i*rows+r))
				if dups && r%2 == 0 {
					b.Time = append(b.Time, day0+int64(r)*step)
					b.Version = append(b.Version, 2)
					col.F = append(col.F, -float64(r))
				}
			}
			b.Columns = []scan.Column{col}
			total += len(b.Time)
			out = append(out, b)
		}
	}
	return out, total, day0, day0 + int64(rows-1)*step
}

// TestWriteSortedMatchesBuffered writes the same input through the
// buffered WritePart and the streaming one for sorted sources and checks
// that both stores hold the same rows in the same partitions.
func TestWriteSortedMatchesBuffered(t *testing.T) {
	day := int64(24 * 3600e9)
	tests := []struct {
		name                string
		series, rows, piece int
		step                int64
		dups                bool
	}{
		{"one partition", 30, 500, 1, 10e9, false},
		{"three partitions, pieces", 20, 600, 4, day / 200, false},
		{"more partitions than open writes", 5, 40, 3, day / 2, false},
		{"versions and duplicates", 10, 300, 2, 60e9, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bs, total, lo, hi := genSeries(tt.series, tt.rows, tt.piece, tt.step, tt.dups)
			cat, id := newCatalog(t)
			buffered := openStore(t, t.TempDir(), cat)
			bInfos, err := buffered.WritePart(context.Background(), id, scan.NewSlice(bs))
			if err != nil {
				t.Fatal(err)
			}
			sorted := openStore(t, t.TempDir(), cat)
			sInfos, err := sorted.WritePart(context.Background(), id, &sortedSlice{Slice: scan.NewSlice(bs), rows: total, minT: lo, maxT: hi})
			if err != nil {
				t.Fatal(err)
			}
			want, got := collect(t, buffered, all()), collect(t, sorted, all())
			wantRows := tt.series * tt.rows
			if len(want) != wantRows || !reflect.DeepEqual(got, want) {
				t.Fatalf("sorted write: %d rows, buffered %d (want %d); equal %v", len(got), len(want), wantRows, reflect.DeepEqual(got, want))
			}
			partitions := func(infos []PartInfo) map[int64]int64 {
				m := map[int64]int64{}
				for _, in := range infos {
					m[in.Partition.UnixNano()] += in.Rows
				}
				return m
			}
			if pb, ps := partitions(bInfos), partitions(sInfos); !reflect.DeepEqual(pb, ps) {
				t.Errorf("rows per partition: sorted %v, buffered %v", ps, pb)
			}
			if len(partitions(sInfos)) > maxOpenWrites && len(sInfos) <= len(partitions(sInfos)) {
				t.Errorf("%d parts over %d partitions: want more parts than partitions past %d open writes", len(sInfos), len(partitions(sInfos)), maxOpenWrites)
			}
		})
	}
}

// TestWriteSortedUnsortedInput checks that a source breaking its promise
// (keys out of order, a series coming twice) still gets every row written,
// the later batch winning, in extra parts.
func TestWriteSortedUnsortedInput(t *testing.T) {
	bs, total, lo, hi := genSeries(4, 10, 1, 10e9, false)
	again := *bs[1]
	again.Columns = []scan.Column{{Name: scan.ColMeasureValue, Type: ingest.TypeDouble, F: make([]float64, len(again.Time))}}
	bs[0], bs[2] = bs[2], bs[0]
	bs = append(bs, &again)
	cat, id := newCatalog(t)
	buffered := openStore(t, t.TempDir(), cat)
	if _, err := buffered.WritePart(context.Background(), id, scan.NewSlice(bs)); err != nil {
		t.Fatal(err)
	}
	s := openStore(t, t.TempDir(), cat)
	infos, err := s.WritePart(context.Background(), id, &sortedSlice{Slice: scan.NewSlice(bs), rows: total, minT: lo, maxT: hi})
	if err != nil {
		t.Fatal(err)
	}
	want, got := collect(t, buffered, all()), collect(t, s, all())
	if len(got) != 40 || !reflect.DeepEqual(got, want) {
		t.Fatalf("unsorted input: %d rows, buffered %d; equal %v", len(got), len(want), reflect.DeepEqual(got, want))
	}
	zeros := 0
	for _, r := range got {
		if strings.HasSuffix(r.Values, ":0") {
			zeros++
		}
	}
	if zeros != 10+1 { // the rewritten series, and row 0 of series 0
		t.Errorf("%d zero values, want 11: the later batch of a series wins", zeros)
	}
	if len(infos) < 3 {
		t.Errorf("%d parts: want one per sorted run (3)", len(infos))
	}
}

// liveHeap returns the heap in use after a full collection.
func liveHeap() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// TestWritePartHeldHeap measures the heap WritePart holds once it has
// drained its source (before writing): the buffered path holds every row,
// the sorted path one series. It prints both figures.
func TestWritePartHeldHeap(t *testing.T) {
	const series, rows = 400, 2000
	bs, total, lo, hi := genSeries(series, rows, 1, 10e9, false)
	held := func(sorted bool) int64 {
		cat, id := newCatalog(t)
		s := openStore(t, t.TempDir(), cat)
		var at int64
		src := &sortedSlice{Slice: scan.NewSlice(bs), rows: total, minT: lo, maxT: hi}
		var in scan.Batches = src
		if !sorted {
			in = &endHook{Batches: src.Slice, atEnd: func() { at = liveHeap() }}
		} else {
			src.atEnd = func() { at = liveHeap() }
		}
		base := liveHeap()
		if _, err := s.WritePart(context.Background(), id, in); err != nil {
			t.Fatal(err)
		}
		return at - base
	}
	buffered, sorted := held(false), held(true)
	t.Logf("heap held at the end of the input, %d series x %d rows: buffered %d KiB, sorted %d KiB (%.1fx less)",
		series, rows, buffered>>10, sorted>>10, float64(buffered)/float64(max(sorted, 1)))
	// The rows alone are 16 bytes each (time and value).
	if buffered < int64(series*rows*16) {
		t.Errorf("buffered path holds %d bytes, less than the %d bytes of its rows", buffered, series*rows*16)
	}
	if sorted*8 > buffered {
		t.Errorf("sorted path holds %d bytes, want under 1/8 of the buffered path's %d", sorted, buffered)
	}
}

// endHook runs atEnd when the wrapped cursor is drained; it hides any
// SortedSource methods of the cursor.
type endHook struct {
	scan.Batches
	atEnd func()
}

func (e *endHook) Next() bool {
	ok := e.Batches.Next()
	if !ok && e.atEnd != nil {
		e.atEnd()
		e.atEnd = nil
	}
	return ok
}
