package memstore

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/memstore/wal"
)

// openLimited is newFixture with a series limit (0: none).
func openLimited(t *testing.T, maxSeries int) *fixture {
	t.Helper()
	dir := t.TempDir()
	cat, err := catalog.Open(catalog.Options{Dir: dir, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	opts := DefaultOptions(dir + "/memstore")
	opts.Now = func() time.Time { return testNow }
	opts.CheckpointInterval = 0
	opts.MaxSeries = maxSeries
	opts.WAL = wal.Options{Sync: wal.SyncNever}
	db, err := Open(cat, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := cat.CreateDatabase("testdb", "", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := cat.CreateTable(catalog.Table{Database: "testdb", Name: "tbl",
		Retention: catalog.Retention{MemoryHours: 6, MagneticDays: 30}}); err != nil {
		t.Fatal(err)
	}
	return &fixture{dir: dir, cat: cat, db: db}
}

// sharedRun returns records of one series that share one dimension slice,
// as remote-write ingestors build them; vals[i] is the value at minute -i.
func sharedRun(dims []ingest.Dimension, measure string, vals ...ingest.Value) []ingest.Record {
	out := make([]ingest.Record, len(vals))
	for i, v := range vals {
		out[i] = ingest.Record{Time: ts(-time.Duration(len(vals)-i) * time.Minute), Dimensions: dims, MeasureName: measure, Value: v, Version: 1}
	}
	return out
}

func unsorted(host string) []ingest.Dimension {
	return []ingest.Dimension{{Name: "z", Value: "1"}, {Name: "host", Value: host}}
}

// TestAppendSharedDimensions checks that records sharing a dimension slice
// (the same-series fast path of Append) are stored and rejected exactly as
// the same records with a slice each.
func TestAppendSharedDimensions(t *testing.T) {
	for _, tc := range []struct {
		name      string
		maxSeries int
		batches   func() [][]ingest.Record
		rejected  int // over all batches
	}{
		{"runs of new and known series", 0, func() [][]ingest.Record {
			a, b := unsorted("a"), unsorted("b")
			first := append(sharedRun(a, "m", ingest.Float(1), ingest.Float(2), ingest.Float(3)),
				sharedRun(b, "m", ingest.Float(4), ingest.Float(5))...)
			second := append(sharedRun(a, "m", ingest.Float(6), ingest.Float(7)),
				sharedRun(b, "n", ingest.Float(8), ingest.Float(9))...)
			return [][]ingest.Record{first, second}
		}, 2}, // a's last two times again with other values: version conflicts
		{"bad records inside a run", 0, func() [][]ingest.Record {
			d := unsorted("a")
			recs := sharedRun(d, "m", ingest.Float(1), ingest.Int(2), ingest.Float(3), ingest.Timestamp(4), ingest.Float(5), ingest.Float(6))
			recs[2].Version = -1                    // bad version
			recs[4].Time = ts(-10 * time.Hour)      // outside the window
			recs[5].Value = ingest.Value{Type: 200} // unknown type
			return [][]ingest.Record{recs}
		}, 5},
		{"run whose first record has a schema conflict", 0, func() [][]ingest.Record {
			d := unsorted("a")
			return [][]ingest.Record{
				{rec("x", "m", ts(-time.Hour), ingest.Int(1), 1)},
				sharedRun(d, "m", ingest.Float(1), ingest.Int(2), ingest.Int(3)),
			}
		}, 1},
		{"run with bad dimensions", 0, func() [][]ingest.Record {
			dup := []ingest.Dimension{{Name: "host", Value: "a"}, {Name: "host", Value: "b"}}
			empty := []ingest.Dimension{{Name: "host", Value: ""}}
			reserved := []ingest.Dimension{{Name: "ts_host", Value: "a"}}
			recs := append(sharedRun(dup, "m", ingest.Float(1), ingest.Float(2)), sharedRun(empty, "m", ingest.Float(3), ingest.Float(4))...)
			recs = append(recs, sharedRun(reserved, "m", ingest.Float(5), ingest.Float(6))...)
			return [][]ingest.Record{recs}
		}, 6},
		{"run with a reserved measure name", 0, func() [][]ingest.Record {
			return [][]ingest.Record{sharedRun(unsorted("a"), "measure_value::double", ingest.Float(1), ingest.Float(2))}
		}, 2},
		{"one dimension slice, measures and types changing", 0, func() [][]ingest.Record {
			d := unsorted("a")
			return [][]ingest.Record{
				sharedRun(d, "m", ingest.Float(1), ingest.Float(2)),
				sharedRun(d, "n", ingest.Float(3), ingest.Float(4)),
				sharedRun(d, "m", ingest.Int(5), ingest.Float(6)),
				sharedRun(d, "n", ingest.Float(7), ingest.Int(8)),
			}
		}, 4}, // the Ints (type conflicts) and the rewrites of m and n with new values
		{"series limit", 2, func() [][]ingest.Record {
			recs := append(sharedRun(unsorted("a"), "m", ingest.Float(1), ingest.Float(2)),
				sharedRun(unsorted("b"), "m", ingest.Float(3), ingest.Float(4))...)
			recs = append(recs, sharedRun(unsorted("c"), "m", ingest.Float(5), ingest.Float(6))...)
			return [][]ingest.Record{recs}
		}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			shared, copied := openLimited(t, tc.maxSeries), openLimited(t, tc.maxSeries)
			// hinted gets the shared records with a SeriesHint per
			// dimension slice, as remote-write sends them; misHinted with
			// one hint for every record, which must cost lookups only.
			hinted, misHinted := openLimited(t, tc.maxSeries), openLimited(t, tc.maxSeries)
			hints := map[*ingest.Dimension]*ingest.SeriesHint{}
			oneHint := &ingest.SeriesHint{}
			rejected := 0
			for bi, batch := range tc.batches() {
				for _, h := range []struct {
					db   *DB
					hint func(*ingest.Record) *ingest.SeriesHint
				}{
					{hinted.db, func(r *ingest.Record) *ingest.SeriesHint {
						if hints[&r.Dimensions[0]] == nil {
							hints[&r.Dimensions[0]] = &ingest.SeriesHint{}
						}
						return hints[&r.Dimensions[0]]
					}},
					{misHinted.db, func(*ingest.Record) *ingest.SeriesHint { return oneHint }},
				} {
					// Twice: the second time every hint is set.
					for range 2 {
						recs := make([]ingest.Record, len(batch))
						for i, r := range batch {
							r.Hint = h.hint(&r)
							recs[i] = r
						}
						if _, err := h.db.Append(context.Background(), "testdb", "tbl", recs, ingest.AppendOptions{}); err != nil {
							t.Fatal(err)
						}
					}
				}
				own := make([]ingest.Record, len(batch))
				for i, r := range batch {
					r.Dimensions = append([]ingest.Dimension(nil), r.Dimensions...)
					own[i] = r
				}
				want, err := copied.db.Append(context.Background(), "testdb", "tbl", own, ingest.AppendOptions{})
				if err != nil {
					t.Fatal(err)
				}
				got, err := shared.db.Append(context.Background(), "testdb", "tbl", batch, ingest.AppendOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("batch %d: shared dimensions give %+v, copies %+v", bi, got, want)
				}
				rejected += len(got.Rejected)
				for _, rj := range got.Rejected {
					if rj.Reason == "" {
						t.Errorf("batch %d: record %d rejected without a reason", bi, rj.Index)
					}
				}
			}
			if rejected != tc.rejected {
				t.Errorf("%d records rejected, want %d", rejected, tc.rejected)
			}
			got, want := scanAll(t, shared.db), scanAll(t, copied.db)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("shared dimensions stored %v, copies %v", got, want)
			}
			for name, f := range map[string]*fixture{"hinted": hinted, "one hint for all": misHinted} {
				if got := scanAll(t, f.db); !reflect.DeepEqual(got, want) {
					t.Errorf("%s: stored %v, want %v", name, got, want)
				}
			}
		})
	}
}
