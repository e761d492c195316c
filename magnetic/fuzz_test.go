package magnetic

import (
	"context"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/query/scan"
	"github.com/tidaldb/tidal/query/scan/scantest"
)

// FuzzOpenPart feeds arbitrary bytes to the part decoder and, when the
// index decodes, reads every block: nothing may panic, and a part that
// opens never yields more rows than its index claims.
func FuzzOpenPart(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(goldenV1Dir, "*", "*", "*.part"))
	v2, _ := filepath.Glob(filepath.Join(goldenV2Dir, "*", "*", "*.part"))
	files = append(files, v2...)
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)-1])
		f.Add(b[:len(b)/2])
		flipped := append([]byte(nil), b...)
		flipped[len(flipped)/3] ^= 0x40
		f.Add(flipped)
	}
	f.Add([]byte{})
	f.Add([]byte(headerMagic + "\x01\x00\x00\x00\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := newMemPart(data)
		if err != nil {
			return
		}
		req := &scan.Request{MinTime: math.MinInt64, MaxTime: math.MaxInt64}
		cur := newPartCursor(context.Background(), p, req)
		rows := 0
		for cur.Next() {
			b := cur.Batch()
			rows += b.Len()
			for _, c := range b.Columns {
				if c.Len() != b.Len() || c.Null != nil && len(c.Null) != b.Len() {
					t.Fatalf("column %s: %d values for %d rows", c.Name, c.Len(), b.Len())
				}
			}
		}
		if cur.Err() == nil && uint64(rows) != p.meta.rows {
			t.Fatalf("read %d rows, index says %d", rows, p.meta.rows)
		}
	})
}

// fuzzRecords turns bytes into records: each 9-byte group is one row of
// one of three series, with a time, a float from arbitrary bits (NaN
// payloads included), and in multi-measure series sparse attributes.
//
// As in Timestream, a second record with the same identity and version is
// not written (the model keeps the first; the store would keep the newer).
func fuzzRecords(data []byte) []ingest.Record {
	var recs []ingest.Record
	type ident struct {
		series byte
		at     int64
		ver    int64
	}
	seen := map[ident]bool{}
	for len(data) >= 9 {
		g := data[:9]
		data = data[9:]
		bits := binary.LittleEndian.Uint64(g[1:])
		at := day0 + int64(binary.LittleEndian.Uint16(g[1:]))*1e6
		dims := []ingest.Dimension{{Name: "s", Value: strconv.Itoa(int(g[0] % 3))}}
		r := ingest.Record{Time: at, Dimensions: dims, Version: int64(g[0] >> 6)}
		id := ident{g[0] % 3, at, max(r.Version, 1)}
		if seen[id] {
			continue
		}
		seen[id] = true
		switch g[0] % 3 {
		case 0:
			r.MeasureName, r.Value = "f", ingest.Float(math.Float64frombits(bits))
		case 1:
			r.MeasureName, r.Value = "i", ingest.Int(int64(bits))
		default:
			r.MeasureName = "m"
			if g[0]&8 != 0 {
				r.Measures = append(r.Measures, ingest.Measure{Name: "x", Value: ingest.Float(math.Float64frombits(bits))})
			}
			if g[0]&16 != 0 {
				r.Measures = append(r.Measures, ingest.Measure{Name: "y", Value: ingest.String(string(g[3 : 3+g[2]%7]))})
			}
			if g[0]&32 != 0 || len(r.Measures) == 0 {
				r.Measures = append(r.Measures, ingest.Measure{Name: "z", Value: ingest.Bool(g[8]&1 == 1)})
			}
		}
		recs = append(recs, r)
	}
	return recs
}

// FuzzPartRoundTrip writes fuzzed rows as parts (two writes, so that
// upserts cross parts) and checks that a scan returns exactly the model's
// rows, bit for bit.
func FuzzPartRoundTrip(f *testing.F) {
	f.Add([]byte("0123456789abcdefghijklmnopqrstuvwxyz"))
	f.Add([]byte{0x48, 0, 0, 0, 0, 0, 0xf8, 0x7f, 1, 0x49, 0, 0, 0, 0, 0, 0xf8, 0x7f, 1, 0xd8, 0, 0, 2, 'a', 'b', 0, 0, 0})
	nan := make([]byte, 0, 9*40)
	for i := range 40 {
		nan = append(nan, byte(i), byte(i*7), byte(i), 0, 0, 0, 0, 0xf0, 0x7f)
	}
	f.Add(nan)
	f.Fuzz(func(t *testing.T, data []byte) {
		recs := fuzzRecords(data)
		cat, id := newCatalog(t)
		s, err := Open(Options{PartitionWidth: DefaultPartitionWidth, Dir: t.TempDir(), Catalog: cat, Now: coldNow})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		half := len(recs) / 2
		for _, g := range [][]ingest.Record{recs[:half], recs[half:]} {
			if _, err := s.WritePart(context.Background(), id, recordBatches(g)); err != nil {
				t.Fatal(err)
			}
		}
		want := scantest.NewModel(recs).Rows(all())
		for round := range 2 {
			got := collect(t, s, all())
			if d := scantest.Diff(want, got); d != "" {
				t.Fatalf("round %d:\n%s", round, d)
			}
			if _, err := s.Merge(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
	})
}
