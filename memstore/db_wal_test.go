package memstore

import (
	"math"
	"testing"

	"github.com/tidaldb/tidal/ingest"
)

// TestWALRecordRoundTrip encodes series and rows of every type and decodes
// them bit for bit.
func TestWALRecordRoundTrip(t *testing.T) {
	dims := []ingest.Dimension{{Name: "host", Value: "h-1"}, {Name: "rack", Value: ""}}
	s := testSeries(7, 3, "cpu", dims...)
	rows := []struct {
		t     int64
		ver   int64
		names []string
		vals  []ingest.Value
	}{
		{1_700_000_000_000_000_000, 1, []string{measureValueCol}, []ingest.Value{ingest.Float(math.Copysign(0, -1))}},
		{1_700_000_010_000_000_000, 2, []string{measureValueCol}, []ingest.Value{{Type: ingest.TypeDouble, Bits: 0x7ff0000000000002}}},
		{-5, 9, []string{"a", "b", "c", "d", "e", "f"}, []ingest.Value{ingest.Int(-1 << 63), ingest.String("ünï\x00"), ingest.Bool(true), ingest.Timestamp(1<<63 - 1), {}, ingest.Float(1e308)}},
	}
	for _, compress := range []bool{false, true} {
		enc := getWALEncoder()
		enc.series(s)
		n := 1
		if compress {
			n = 200 // enough rows to cross walCompressMin
		}
		for range n {
			for _, r := range rows {
				enc.row(s.ref, r.t, r.ver, r.names, r.vals)
			}
		}
		rec := enc.finish()
		if compress != (rec[0] == walSnappy) {
			t.Fatalf("compress=%v but format byte %d", compress, rec[0])
		}
		var got []walEntry
		err := decodeWALRecord(rec, func(e *walEntry) error {
			c := *e
			c.dims = append([]ingest.Dimension(nil), e.dims...)
			c.names = append([]string(nil), e.names...)
			c.vals = append([]ingest.Value(nil), e.vals...)
			got = append(got, c)
			return nil
		})
		putWALEncoder(enc)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1+n*len(rows) {
			t.Fatalf("%d entries", len(got))
		}
		if g := got[0]; g.kind != entrySeries || g.tableID != 3 || g.ref != 7 || g.measureName != "cpu" || len(g.dims) != 2 || g.dims[1] != dims[1] {
			t.Fatalf("series entry %+v", g)
		}
		for i, e := range got[1:] {
			w := rows[i%len(rows)]
			if e.kind != entryRow || e.ref != 7 || e.t != w.t || e.ver != w.ver || len(e.vals) != len(w.vals) {
				t.Fatalf("row %d = %+v", i, e)
			}
			for j := range w.vals {
				if e.names[j] != w.names[j] || !e.vals[j].Equal(w.vals[j]) {
					t.Fatalf("row %d value %d = %s %+v, want %s %+v", i, j, e.names[j], e.vals[j], w.names[j], w.vals[j])
				}
			}
		}
	}
}

// FuzzDecodeWALRecord checks that arbitrary WAL payloads never panic and
// that decoding is deterministic.
func FuzzDecodeWALRecord(f *testing.F) {
	enc := getWALEncoder()
	enc.series(testSeries(1, 1, "m", ingest.Dimension{Name: "h", Value: "1"}))
	enc.row(1, 10, 1, []string{measureValueCol}, []ingest.Value{ingest.Float(1)})
	enc.row(1, 20, 2, []string{"x", "y"}, []ingest.Value{ingest.String("s"), ingest.Bool(true)})
	f.Add(append([]byte(nil), enc.finish()...))
	f.Add([]byte{walSnappy, 0xff, 0xff})
	f.Add([]byte{walRaw, entryRow, 0x80})
	f.Fuzz(func(t *testing.T, rec []byte) {
		count := func() (int, error) {
			n := 0
			err := decodeWALRecord(rec, func(*walEntry) error { n++; return nil })
			return n, err
		}
		n1, err1 := count()
		n2, err2 := count()
		if n1 != n2 || (err1 == nil) != (err2 == nil) {
			t.Fatalf("not deterministic: %d %v / %d %v", n1, err1, n2, err2)
		}
	})
}
