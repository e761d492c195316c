// Package ingesttest is the acceptance suite every ingestor runs, as
// query/scan/scantest is for scan sources. An ingestor's test wires it to
// the suite's Store (an ingest.Appender that records what it is given) and
// says how to deliver records in its wire format; Run then checks the
// promises every ingestor makes:
//
//   - malformed input gets a clear error, and the good records of the same
//     delivery are stored (a poison item never takes good ones down);
//   - redelivery of the same batch is idempotent: the same records, stored
//     once, and no error;
//   - back-pressure (the append path failing or overloaded) is reported to
//     the sender as retryable, and nothing is acknowledged.
package ingesttest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tidaldb/tidal/ingest"
)

// Outcome is what the sender of one delivery was told.
type Outcome struct {
	// Retryable says the sender is told to retry the whole delivery (an
	// HTTP 5xx or 429, an uncommitted offset, a missing PUBACK).
	Retryable bool
	// Refused counts the items refused as bad input.
	Refused int
	// Message is the error text the sender got ("" on full success).
	Message string
}

// Target is an ingestor under test.
type Target interface {
	// Send delivers recs as one delivery (a request, a message, a batch)
	// in the ingestor's wire format. With malformed set, the delivery also
	// carries one item the ingestor must refuse, placed among the good
	// ones.
	Send(t *testing.T, recs []ingest.Record, malformed bool) Outcome
}

// Harness describes an ingestor for Run.
type Harness struct {
	// New builds the ingestor over app, writing to Database.Table.
	New func(t *testing.T, app ingest.Appender) Target
	// Database and Table the ingestor writes to.
	Database, Table string
	// Records returns n good records the wire format can carry; the
	// default is single-measure DOUBLE records of series m{host}, one
	// second apart, in the last hour.
	Records func(n int) []ingest.Record
}

// Run runs the acceptance suite.
func Run(t *testing.T, h Harness) {
	if h.Records == nil {
		h.Records = DoubleRecords
	}
	t.Run("MalformedKeepsGood", func(t *testing.T) {
		st := NewStore()
		tg := h.New(t, st)
		recs := h.Records(10)
		out := tg.Send(t, clone(recs), true)
		if out.Refused < 1 || out.Message == "" {
			t.Fatalf("malformed delivery: %+v, want a refused item with a message", out)
		}
		if out.Retryable {
			t.Errorf("malformed input reported as retryable (%q): the sender would retry it forever", out.Message)
		}
		st.MustHold(t, h.Database, h.Table, recs)
	})
	t.Run("RedeliveryIdempotent", func(t *testing.T) {
		st := NewStore()
		tg := h.New(t, st)
		recs := h.Records(20)
		for i := range 2 {
			if out := tg.Send(t, clone(recs), false); out.Retryable || out.Refused > 0 || out.Message != "" {
				t.Fatalf("delivery %d: %+v, want full success", i+1, out)
			}
		}
		st.MustHold(t, h.Database, h.Table, recs)
	})
	t.Run("BackPressureRetryable", func(t *testing.T) {
		st := NewStore()
		st.Fail(errors.New("append path overloaded"))
		tg := h.New(t, st)
		out := tg.Send(t, h.Records(5), false)
		if !out.Retryable || out.Message == "" {
			t.Fatalf("append failure: %+v, want a retryable refusal with a message", out)
		}
		st.Fail(nil)
		if n := st.Len(h.Database, h.Table); n != 0 {
			t.Fatalf("%d records stored from a failed delivery", n)
		}
	})
}

// DoubleRecords returns n single-measure DOUBLE records of series
// m{host="h<i%3>"}, one second apart, ending a minute ago.
func DoubleRecords(n int) []ingest.Record {
	base := time.Now().Add(-time.Minute).Truncate(time.Millisecond).Add(-time.Duration(n) * time.Second)
	out := make([]ingest.Record, n)
	for i := range out {
		out[i] = ingest.Record{
			Time:        base.Add(time.Duration(i) * time.Second).UnixNano(),
			Dimensions:  []ingest.Dimension{{Name: "host", Value: fmt.Sprintf("h%d", i%3)}},
			MeasureName: "m",
			Value:       ingest.Float(float64(i) + 0.5),
		}
	}
	return out
}

func clone(recs []ingest.Record) []ingest.Record {
	out := make([]ingest.Record, len(recs))
	for i, r := range recs {
		r.Dimensions = slices.Clone(r.Dimensions)
		r.Measures = slices.Clone(r.Measures)
		out[i] = r
	}
	return out
}

// Store is an ingest.Appender that keeps records by identity (table,
// series, time) the way the write path does: a redelivered record replaces
// itself. It checks each record with ingest.ValidateRecord and rejects bad
// ones as the write path would.
type Store struct {
	mu   sync.Mutex
	rows map[string]map[string]ingest.Record // db.table -> identity -> record
	fail error
}

// NewStore returns an empty Store.
func NewStore() *Store { return &Store{rows: map[string]map[string]ingest.Record{}} }

// Fail makes every later Append return err (nil heals).
func (s *Store) Fail(err error) {
	s.mu.Lock()
	s.fail = err
	s.mu.Unlock()
}

// Append implements ingest.Appender.
func (s *Store) Append(_ context.Context, db, table string, recs []ingest.Record, _ ingest.AppendOptions) (ingest.Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return ingest.Result{}, s.fail
	}
	var res ingest.Result
	key := db + "." + table
	if s.rows[key] == nil {
		s.rows[key] = map[string]ingest.Record{}
	}
	for i := range recs {
		r := recs[i]
		if reason := ingest.ValidateRecord(&r); reason != "" {
			res.Rejected = append(res.Rejected, ingest.Rejection{Index: i, Reason: reason})
			continue
		}
		r.Dimensions = slices.Clone(r.Dimensions)
		r.Measures = slices.Clone(r.Measures)
		s.rows[key][identity(&r)] = r
		res.MemoryStore++
	}
	return res, nil
}

// Len returns the number of distinct records stored in db.table.
func (s *Store) Len(db, table string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.rows[db+"."+table])
}

// MustHold fails t unless db.table holds exactly want (by identity, with
// equal values; float values compared exactly, times in nanoseconds).
func (s *Store) MustHold(t *testing.T, db, table string, want []ingest.Record) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	got := s.rows[db+"."+table]
	if len(got) != len(want) {
		t.Fatalf("%s.%s holds %d records, want %d", db, table, len(got), len(want))
	}
	for i := range want {
		w := want[i]
		g, ok := got[identity(&w)]
		if !ok {
			t.Fatalf("record %d (%s) missing", i, identity(&w))
		}
		if !sameValues(&g, &w) {
			t.Fatalf("record %d (%s): stored %+v, want %+v", i, identity(&w), g, w)
		}
	}
}

func identity(r *ingest.Record) string {
	dims := slices.Clone(r.Dimensions)
	slices.SortFunc(dims, func(a, b ingest.Dimension) int { return strings.Compare(a.Name, b.Name) })
	var b strings.Builder
	b.WriteString(r.MeasureName)
	for _, d := range dims {
		fmt.Fprintf(&b, ",%s=%s", d.Name, d.Value)
	}
	fmt.Fprintf(&b, "@%d", r.Time)
	return b.String()
}

func sameValues(a, b *ingest.Record) bool {
	eq := func(x, y ingest.Value) bool {
		if x.Type == ingest.TypeDouble && y.Type == ingest.TypeDouble {
			fx, fy := x.Float(), y.Float()
			return fx == fy || (math.IsNaN(fx) && math.IsNaN(fy))
		}
		return x.Equal(y)
	}
	if !eq(a.Value, b.Value) || len(a.Measures) != len(b.Measures) {
		return false
	}
	for i := range a.Measures {
		if a.Measures[i].Name != b.Measures[i].Name || !eq(a.Measures[i].Value, b.Measures[i].Value) {
			return false
		}
	}
	return true
}
