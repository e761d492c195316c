package memstore

import (
	"context"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/query/scan"
)

// modelRow is a row of the reference model of TestOutOfOrderMatchesModel.
type modelRow struct {
	ver  int64
	vals map[string]ingest.Value
}

// upsertModel applies Timestream's rules to the model and reports whether
// the record is rejected.
func upsertModel(m map[int64]modelRow, at, ver int64, vals map[string]ingest.Value, rewrite bool) bool {
	ver = max(ver, 1)
	cur, ok := m[at]
	switch {
	case !ok:
		m[at] = modelRow{ver: ver, vals: vals}
	case maps.Equal(cur.vals, vals):
		if ver > cur.ver {
			m[at] = modelRow{ver: ver, vals: vals}
		}
	case ver > cur.ver, rewrite && ver == cur.ver:
		m[at] = modelRow{ver: ver, vals: vals}
	default:
		return true
	}
	return false
}

// TestOutOfOrderMatchesModel writes random batches of in-order, late and
// overlapping rows (random versions and values, repeated times, several
// chunks per series, out-of-order buffers merged by threshold, by scans and
// by checkpoints) and checks the accepted and rejected records and every
// scan, and the data after a restart, against a model of Timestream's
// upsert rules.
func TestOutOfOrderMatchesModel(t *testing.T) {
	tests := []struct {
		name    string
		multi   bool
		rewrite bool
		seed    uint64
	}{
		{"single", false, false, 1},
		{"single rewrite", false, true, 2},
		{"multi", true, false, 3},
		{"multi rewrite", true, true, 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			f := openFixture(t, dir)
			if _, err := f.cat.CreateDatabase("testdb", "", nil); err != nil {
				t.Fatal(err)
			}
			if _, err := f.cat.CreateTable(catalog.Table{Database: "testdb", Name: "tbl",
				Retention: catalog.Retention{MemoryHours: 6, MagneticDays: 30}}); err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(tc.seed, 99))
			hosts := []string{"a", "b"}
			model := map[string]map[int64]modelRow{}
			for _, h := range hosts {
				model[h+"/m"] = map[int64]modelRow{}
			}
			const slots = 1200 // 5 chunks of a full series
			newRec := func(h string, k int) (ingest.Record, map[string]ingest.Value) {
				at := ts(-2*time.Hour + time.Duration(k)*time.Second)
				ver := int64(rng.IntN(3) + 1)
				v := float64(rng.IntN(3))
				r := ingest.Record{Time: at, Dimensions: []ingest.Dimension{{Name: "host", Value: h}}, MeasureName: "m", Version: ver}
				if !tc.multi {
					r.Value = ingest.Float(v)
					return r, map[string]ingest.Value{measureValueCol: r.Value}
				}
				vals := map[string]ingest.Value{}
				for len(r.Measures) == 0 {
					if rng.IntN(3) > 0 {
						r.Measures = append(r.Measures, ingest.Measure{Name: "x", Value: ingest.Float(v)})
					}
					if rng.IntN(3) > 0 {
						r.Measures = append(r.Measures, ingest.Measure{Name: "s", Value: ingest.String([]string{"p", "q"}[rng.IntN(2)])})
					}
				}
				for _, m := range r.Measures {
					vals[m.Name] = m.Value
				}
				return r, vals
			}
			write := func(recs []ingest.Record, vals []map[string]ingest.Value) {
				t.Helper()
				var want []int
				for i, r := range recs {
					h, _ := dimValue(r.Dimensions, "host")
					if upsertModel(model[h+"/m"], r.Time, r.Version, vals[i], tc.rewrite) {
						want = append(want, i)
					}
				}
				res, err := f.db.Append(context.Background(), "testdb", "tbl", recs, ingest.AppendOptions{IdempotentRewrite: tc.rewrite})
				if err != nil {
					t.Fatal(err)
				}
				if len(res.Rejected) != len(want) {
					t.Fatalf("rejected %d records, want %d: %+v", len(res.Rejected), len(want), res.Rejected)
				}
				for i, r := range res.Rejected {
					if r.Index != want[i] {
						t.Fatalf("rejected record %d, want %d", r.Index, want[i])
					}
				}
			}
			check := func(f *fixture, when string) {
				t.Helper()
				got := scanAll(t, f.db)
				for key, rows := range model {
					g := got[key]
					if len(g) != len(rows) {
						t.Fatalf("%s: %s has %d rows, want %d", when, key, len(g), len(rows))
					}
					for _, r := range g {
						w, ok := rows[r.t]
						if !ok || w.ver != r.ver || !maps.Equal(w.vals, r.v) {
							t.Fatalf("%s: %s@%d = ver %d %v, want %+v", when, key, r.t, r.ver, r.v, w)
						}
					}
				}
			}
			// In order first: every other slot of the first two thirds.
			for k := 0; k < 2*slots/3; k += 20 {
				var recs []ingest.Record
				var vals []map[string]ingest.Value
				for _, h := range hosts {
					for j := k; j < k+20; j += 2 {
						r, v := newRec(h, j)
						recs, vals = append(recs, r), append(vals, v)
					}
				}
				write(recs, vals)
			}
			// Then random batches anywhere: late, repeated and new rows.
			for b := range 120 {
				n := 1 + rng.IntN(60)
				var recs []ingest.Record
				var vals []map[string]ingest.Value
				base := rng.IntN(slots)
				for range n {
					k := min(max(base+rng.IntN(80)-40, 0), slots-1)
					r, v := newRec(hosts[rng.IntN(len(hosts))], k)
					recs, vals = append(recs, r), append(vals, v)
				}
				write(recs, vals)
				switch b % 17 {
				case 5:
					check(f, "scan")
				case 11:
					if err := f.db.Checkpoint(); err != nil {
						t.Fatal(err)
					}
				}
			}
			check(f, "end")
			if err := f.db.Close(); err != nil {
				t.Fatal(err)
			}
			g := openFixture(t, dir)
			defer g.db.Close()
			check(g, "after restart")
		})
	}
}

// TestConcurrentOutOfOrderWriters has two writers race on the same series,
// each writing every other point (so that about half the rows land before
// the series' last one and go through the out-of-order buffer), while a
// reader scans; at the end every row is there once with its value, and
// the same after a restart.
func TestConcurrentOutOfOrderWriters(t *testing.T) {
	dir := t.TempDir()
	f := openFixture(t, dir)
	if _, err := f.cat.CreateDatabase("testdb", "", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := f.cat.CreateTable(catalog.Table{Database: "testdb", Name: "tbl",
		Retention: catalog.Retention{MemoryHours: 6, MagneticDays: 30}}); err != nil {
		t.Fatal(err)
	}
	const points = 600
	at := func(p int) int64 { return ts(-2*time.Hour + time.Duration(p)*time.Second) }
	errs := make(chan error, 3)
	done := make(chan struct{})
	for w := range 2 {
		go func() {
			for p := w; p < points; p += 2 {
				recs := []ingest.Record{rec("a", "m", at(p), ingest.Float(float64(p)), 1), rec("b", "m", at(p), ingest.Float(float64(-p)), 1)}
				res, err := f.db.Append(context.Background(), "testdb", "tbl", recs, ingest.AppendOptions{})
				if err == nil && res.MemoryStore != 2 {
					err = fmt.Errorf("point %d: %+v", p, res)
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	go func() {
		for {
			select {
			case <-done:
				errs <- nil
				return
			default:
			}
			cur, err := f.db.Scan(context.Background(), &scan.Request{Database: "testdb", Table: "tbl", MinTime: math.MinInt64, MaxTime: math.MaxInt64})
			if err != nil {
				errs <- err
				return
			}
			for cur.Next() {
				b := cur.Batch()
				for i := 1; i < len(b.Time); i++ {
					if b.Time[i] <= b.Time[i-1] {
						errs <- fmt.Errorf("scan: times not ascending at %d", i)
						return
					}
				}
			}
			if err := cur.Err(); err != nil {
				errs <- err
				return
			}
		}
	}()
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	check := func(f *fixture, when string) {
		t.Helper()
		got := scanAll(t, f.db)
		for _, host := range []string{"a", "b"} {
			rows := got[host+"/m"]
			if len(rows) != points {
				t.Fatalf("%s: %s has %d rows, want %d", when, host, len(rows), points)
			}
			for p, r := range rows {
				want := float64(p)
				if host == "b" {
					want = -want
				}
				if r.t != at(p) || r.v[measureValueCol].Float() != want {
					t.Fatalf("%s: %s row %d = %+v", when, host, p, r)
				}
			}
		}
	}
	check(f, "end")
	if err := f.db.Close(); err != nil {
		t.Fatal(err)
	}
	g := openFixture(t, dir)
	defer g.db.Close()
	check(g, "after restart")
}
