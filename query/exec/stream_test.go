package exec

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/query/scan"
)

// countingSource counts the batches its scans hand out.
type countingSource struct {
	scan.Source
	batches atomic.Int64
}

type countingBatches struct {
	scan.Batches
	n *atomic.Int64
}

func (c *countingSource) Scan(ctx context.Context, req *scan.Request) (scan.Batches, error) {
	b, err := c.Source.Scan(ctx, req)
	if err != nil {
		return nil, err
	}
	return &countingBatches{Batches: b, n: &c.batches}, nil
}

func (c *countingBatches) Next() bool {
	if !c.Batches.Next() {
		return false
	}
	c.n.Add(1)
	return true
}

// streamDB is 40 series (hosts) of 250 rows each.
func streamDB(t *testing.T) (*testDB, *countingSource) {
	db := newTestDB(t)
	var recs []ingest.Record
	for h := range 40 {
		for i := range 250 {
			recs = append(recs, ingest.Record{MeasureName: "cpu", Time: tsbsStart + int64(i)*1e9,
				Dimensions: []ingest.Dimension{{Name: "host", Value: fmt.Sprintf("h%02d", h)}},
				Value:      ingest.Float(float64(h*1000 + i))})
		}
	}
	db.load(t, "sdb", "cpu", recs)
	return db, &countingSource{Source: db}
}

// collectSink keeps what a stream delivers.
type collectSink struct {
	cols []Column
	rows [][]Value
	row  func(n int) error // called before keeping row n
}

func (s *collectSink) Columns(c []Column) error { s.cols = c; return nil }

func (s *collectSink) Row(r []Value) error {
	if s.row != nil {
		if err := s.row(len(s.rows)); err != nil {
			return err
		}
	}
	s.rows = append(s.rows, CloneRow(r))
	return nil
}

// TestStreamMatchesQuery: Query is a collector over Stream, so both give
// the same columns and rows for every kind of plan.
func TestStreamMatchesQuery(t *testing.T) {
	db, src := streamDB(t)
	e := New(db.cat, src, Options{Now: func() time.Time { return scriptNow }})
	for _, sql := range []string{
		"SELECT host, time, measure_value::double FROM sdb.cpu WHERE host IN ('h01', 'h07')",
		"SELECT host, avg(measure_value::double) FROM sdb.cpu GROUP BY host ORDER BY 2 DESC LIMIT 5",
		"SELECT a.host, count(*) FROM sdb.cpu a JOIN sdb.cpu b ON a.host = b.host AND a.time = b.time WHERE a.host < 'h03' GROUP BY 1",
		"SELECT x FROM (VALUES 1, 2, 3) AS t(x) WHERE x > 1",
		"SHOW MEASURES FROM sdb.cpu",
	} {
		res, err := e.Query(context.Background(), sql, nil)
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		var s collectSink
		stats, err := e.Stream(context.Background(), sql, nil, &s)
		if err != nil {
			t.Fatalf("stream %s: %v", sql, err)
		}
		if !reflect.DeepEqual(s.cols, res.Columns) || len(s.rows) != len(res.Rows) || (len(s.rows) > 0 && !reflect.DeepEqual(s.rows, res.Rows)) {
			t.Fatalf("%s: stream gave %v %d rows, query %v %d rows", sql, s.cols, len(s.rows), res.Columns, len(res.Rows))
		}
		if stats.RowsScanned != res.Stats.RowsScanned {
			t.Errorf("%s: stream scanned %d rows, query %d", sql, stats.RowsScanned, res.Stats.RowsScanned)
		}
	}
}

// TestStreamBackPressure: while the sink holds a row, the scan does not
// run ahead; the sink's error stops the query and comes back from Stream.
func TestStreamBackPressure(t *testing.T) {
	db, src := streamDB(t)
	e := New(db.cat, src, Options{})
	stop := errors.New("enough")
	var atRow10 int64
	s := &collectSink{row: func(n int) error {
		if n == 10 {
			// The consumer is slow: every batch read so far is all the
			// query has read.
			atRow10 = src.batches.Load()
		}
		if n == 300 {
			return stop
		}
		return nil
	}}
	_, err := e.Stream(context.Background(), "SELECT host, time, measure_value::double FROM sdb.cpu", nil, s)
	if !errors.Is(err, stop) {
		t.Fatalf("Stream = %v, want the sink's error", err)
	}
	if atRow10 != 1 {
		t.Errorf("%d batches read when the sink held row 10; want 1 (the scan must wait for the sink)", atRow10)
	}
	if got := src.batches.Load(); got > 3 {
		t.Errorf("%d of 40 batches read for 300 rows; the stream did not stop", got)
	}
	if len(s.rows) != 300 {
		t.Errorf("%d rows kept, want 300", len(s.rows))
	}
}

// TestStreamCancel: cancelling the context stops the query with the
// engine's cancellation error (Query was canceled).
func TestStreamCancel(t *testing.T) {
	db, src := streamDB(t)
	e := New(db.cat, src, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := &collectSink{row: func(n int) error {
		if n == 5 {
			cancel()
		}
		return nil
	}}
	_, err := e.Stream(ctx, "SELECT host, time, measure_value::double FROM sdb.cpu", nil, s)
	var qe *Error
	if !errors.As(err, &qe) || qe.Kind != ErrCanceled {
		t.Fatalf("Stream = %v, want the engine's cancellation error", err)
	}
	if got := src.batches.Load(); got >= 40 {
		t.Errorf("all %d batches read after cancel", got)
	}
}
