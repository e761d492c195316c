package memstore

import (
	"bytes"
	"math"
	"sync/atomic"
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
	// A record with chunk entries (checkpoints): doubles, and a multi-measure
	// chunk with versions, NULLs and every column type.
	enc = getWALEncoder()
	s := testSeries(1, 1, "m", ingest.Dimension{Name: "h", Value: "1"})
	var buffered atomic.Int64
	for i := range 300 {
		if err := s.apply(int64(i)*10, 1, []string{measureValueCol}, []ingest.Value{ingest.Float(float64(i % 7))}, &buffered); err != nil {
			f.Fatal(err)
		}
	}
	c2 := &chunk{}
	for i := range 20 {
		vals := []ingest.Value{ingest.Int(int64(i)), ingest.String("s" + string(rune('a'+i%3))), ingest.Bool(i%2 == 0), {}}
		if i%4 == 0 {
			vals[3] = ingest.Timestamp(int64(i) << 20)
		}
		c2.appendRow(int64(i)*7, int64(1+i%3), []string{"a", "b", "c", "d"}, vals)
	}
	c2.compact()
	for _, c := range append(s.chunks, c2) {
		if c.sealed {
			enc.chunk(1, c)
		}
	}
	f.Add(append([]byte(nil), enc.finish()...))
	putWALEncoder(enc)
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
		// A chunk that decodes reads back whole, and re-encodes to itself.
		_ = decodeWALRecord(rec, func(e *walEntry) error {
			if e.kind != entryChunk {
				return nil
			}
			c := e.chunk
			names, rows, err := c.decodeRows()
			if err != nil || len(rows) != c.n || len(names) != len(c.cols) {
				t.Fatalf("decoded chunk of %d rows reads %d rows, %v", c.n, len(rows), err)
			}
			enc := getWALEncoder()
			defer putWALEncoder(enc)
			enc.chunk(e.ref, c)
			var again *chunk
			if err := decodeWALRecord(append([]byte(nil), enc.buf...), func(e2 *walEntry) error { again = e2.chunk; return nil }); err != nil || again == nil {
				t.Fatalf("re-encoded chunk does not decode: %v", err)
			}
			if again.n != c.n || again.minT != c.minT || again.maxT != c.maxT || !bytes.Equal(again.frozen, c.frozen) || len(again.cols) != len(c.cols) {
				t.Fatalf("chunk round trip: %+v, want %+v", again, c)
			}
			return nil
		})
	})
}
