package memstore

import (
	"reflect"
	"testing"
	"unsafe"

	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/memstore/chunkenc"
)

// testSeries returns a series of table tableID whose key holds measure and
// dims (sorted by name).
func testSeries(ref, tableID uint64, measure string, dims ...ingest.Dimension) *memSeries {
	key := string(seriesKey(nil, measure, dims))
	return &memSeries{ref: ref, tableID: tableID, key: key}
}

// TestSeriesKeyDecode decodes the measure name and dimensions back from
// series keys, through every decoder of the key.
func TestSeriesKeyDecode(t *testing.T) {
	long := string(make([]byte, 300)) // a two-byte length prefix
	tests := []struct {
		name    string
		measure string
		dims    []ingest.Dimension
	}{
		{"no dimensions", "cpu", nil},
		{"empty measure", "", []ingest.Dimension{{Name: "host", Value: "h1"}}},
		{"empty value", "m", []ingest.Dimension{{Name: "a", Value: ""}, {Name: "b", Value: "x"}}},
		{"long strings", long, []ingest.Dimension{{Name: "host", Value: long}, {Name: long, Value: "v"}}},
		{"many", "m", []ingest.Dimension{{Name: "a", Value: "1"}, {Name: "b", Value: "2"}, {Name: "c", Value: "3"}, {Name: "d", Value: "4"}}},
	}
	var slab dimSlab
	for _, tc := range tests {
		key := string(seriesKey(nil, tc.measure, tc.dims))
		if got := keyMeasure(key); got != tc.measure {
			t.Errorf("%s: measure %q, want %q", tc.name, got, tc.measure)
		}
		if got := keyNumDims(key); got != len(tc.dims) {
			t.Errorf("%s: %d dimensions, want %d", tc.name, got, len(tc.dims))
		}
		want := append([]ingest.Dimension{}, tc.dims...)
		got := slab.decode(key)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: dimensions %v, want %v", tc.name, got, want)
		}
		if cap(got) != len(got) {
			t.Errorf("%s: decoded slice has room to append into the slab", tc.name)
		}
		for _, d := range tc.dims {
			if v, ok := keyDimValue(key, d.Name); !ok || v != d.Value {
				t.Errorf("%s: %s = %q %v, want %q", tc.name, d.Name, v, ok, d.Value)
			}
		}
		if _, ok := keyDimValue(key, "absent"); ok {
			t.Errorf("%s: absent dimension found", tc.name)
		}
	}
}

// TestDimSlabKeepsHandedOut checks that slices handed out by a dimSlab
// keep their values while the slab decodes more keys (consumers may keep
// a batch's dimensions).
func TestDimSlabKeepsHandedOut(t *testing.T) {
	var slab dimSlab
	var kept [][]ingest.Dimension
	for i := range 1000 {
		v := string(rune('a' + i%26))
		kept = append(kept, slab.decode(string(seriesKey(nil, "m", []ingest.Dimension{{Name: "h", Value: v}, {Name: "i", Value: v}}))))
	}
	for i, d := range kept {
		v := string(rune('a' + i%26))
		if len(d) != 2 || d[0] != (ingest.Dimension{Name: "h", Value: v}) || d[1] != (ingest.Dimension{Name: "i", Value: v}) {
			t.Fatalf("series %d: %v", i, d)
		}
	}
}

// TestMemSeriesSize keeps the per-series struct in the 112-byte size
// class (one per active series; see issue 20's memory target).
func TestMemSeriesSize(t *testing.T) {
	if n := unsafe.Sizeof(memSeries{}); n > 112 {
		t.Fatalf("memSeries is %d bytes, want at most 112", n)
	}
}

// TestChunkStructSizes keeps the per-column structs of a head chunk in
// their size classes: column in 80 bytes, the double encoder in 48.
func TestChunkStructSizes(t *testing.T) {
	tests := []struct {
		name      string
		size, max uintptr
	}{
		{"column", unsafe.Sizeof(column{}), 80},
		{"XORAppender", unsafe.Sizeof(chunkenc.XORAppender{}), 48},
	}
	for _, tc := range tests {
		if tc.size > tc.max {
			t.Errorf("%s is %d bytes, want at most %d", tc.name, tc.size, tc.max)
		}
	}
}
