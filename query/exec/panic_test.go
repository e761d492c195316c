package exec

import (
	"context"
	"strings"
	"testing"

	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/query/scan"
)

// panicSource panics in Scan when the request selects measure names, as
// the partitioned scan of each worker goroutine does, or, when onNext is
// set, in the second Batch of such a scan's cursor.
type panicSource struct {
	src    scan.Source
	onNext bool
}

func (p panicSource) Scan(ctx context.Context, req *scan.Request) (scan.Batches, error) {
	for _, m := range req.Where {
		if m.Name == scan.ColMeasureName && !p.onNext {
			panic("injected scan panic")
		}
	}
	b, err := p.src.Scan(ctx, req)
	if err != nil || !p.onNext || len(req.Where) == 0 {
		return b, err
	}
	return &panicBatches{Batches: b}, nil
}

type panicBatches struct {
	scan.Batches
	n int
}

func (p *panicBatches) Batch() *scan.Batch {
	if p.n++; p.n > 1 {
		panic("injected cursor panic")
	}
	return p.Batches.Batch()
}

// TestScanWorkerPanicFailsOnlyTheQuery checks that a panic on a scan
// worker goroutine, which Query's own recover cannot see, fails that query
// with an internal error instead of killing the process.
func TestScanWorkerPanicFailsOnlyTheQuery(t *testing.T) {
	db := newTestDB(t)
	var recs []ingest.Record
	for i := range 4000 {
		for _, m := range []string{"cpu", "mem", "disk", "net"} {
			recs = append(recs, ingest.Record{Time: int64(i) * 1e9, MeasureName: m,
				Dimensions: []ingest.Dimension{{Name: "host", Value: "h" + string(rune('a'+i%3))}}, Value: ingest.Float(float64(i))})
		}
	}
	db.load(t, "pdb", "tbl", recs)
	for _, onNext := range []bool{false, true} {
		e := New(db.cat, panicSource{src: db, onNext: onNext}, Options{Parallelism: 2})
		for _, sql := range []string{
			`SELECT measure_name, count(*) FROM pdb.tbl GROUP BY measure_name`,
			`SELECT host, avg(measure_value::double) FROM pdb.tbl GROUP BY host`,
		} {
			_, err := e.Query(context.Background(), sql, nil)
			if err == nil || !strings.Contains(err.Error(), "internal error") {
				t.Errorf("onNext=%v %s: err %v, want an internal error", onNext, sql, err)
			}
		}
		// The engine still answers.
		ok := New(db.cat, db, Options{Parallelism: 2})
		res, err := ok.Query(context.Background(), `SELECT count(*) FROM pdb.tbl`, nil)
		if err != nil || len(res.Rows) != 1 || res.Rows[0][0].String() != "16000" {
			t.Fatalf("count after the panics: %v %v", res, err)
		}
	}
}
