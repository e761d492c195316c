// Package scan is the read boundary of TidalDB: the request, the columnar
// batch and the cursor that every storage tier implements and the query layer
// consumes.
//
// memstore and magnetic both implement Source; query/exec merges them and
// neither tier knows the other exists. Flushes from memstore to magnetic use
// the same cursor, so there is one export path.
//
// Time bounds are inclusive, in nanoseconds since the Unix epoch. A Batch is
// valid until the next call to Next on its cursor; copy to retain.
package scan

import (
	"context"
	"encoding/binary"
	"errors"
	"strings"

	"github.com/tidaldb/tidal/ingest"
)

// Reserved column names of every table.
const (
	ColTime        = "time"
	ColMeasureName = "measure_name"
	// ColMeasureValue is the value column of single-measure records; the
	// SQL layer spells it measure_value::double and so on.
	ColMeasureValue = "measure_value"
)

// MatchOp is the comparison a Matcher applies to a dimension value.
type MatchOp uint8

// Matcher operations.
const (
	MatchEqual    MatchOp = iota // value == Values[0]
	MatchNotEqual                // value != Values[0] (a missing dimension matches)
	MatchIn                      // value is one of Values
	MatchPrefix                  // strings.HasPrefix(value, Values[0]) (LIKE 'x%')
	MatchNotIn                   // value is none of Values (a missing dimension matches)
	MatchPresent                 // the dimension is set (IS NOT NULL)
	MatchAbsent                  // the dimension is not set (IS NULL)
)

// Matcher is a predicate on one dimension or on measure_name (Name ==
// ColMeasureName). Matchers in a Request are ANDed.
type Matcher struct {
	Name   string
	Op     MatchOp
	Values []string
}

// Matches reports whether a series whose dimension Name has value v (ok
// false if the series lacks it) satisfies m.
func (m *Matcher) Matches(v string, ok bool) bool {
	switch m.Op {
	case MatchEqual:
		return ok && v == m.Values[0]
	case MatchNotEqual:
		return !ok || v != m.Values[0]
	case MatchIn:
		if !ok {
			return false
		}
		for _, x := range m.Values {
			if x == v {
				return true
			}
		}
		return false
	case MatchNotIn:
		if !ok {
			return true
		}
		for _, x := range m.Values {
			if x == v {
				return false
			}
		}
		return true
	case MatchPrefix:
		return ok && strings.HasPrefix(v, m.Values[0])
	case MatchPresent:
		return ok
	case MatchAbsent:
		return !ok
	}
	return false
}

// Request asks a Source for the rows of one table.
type Request struct {
	Database string
	Table    string
	// MinTime and MaxTime bound Time, inclusive, in nanoseconds.
	MinTime, MaxTime int64
	// Columns names the measure columns wanted: ColMeasureValue for
	// single-measure records and attribute names of multi-measure records.
	// Time, measure_name and dimensions always come with every batch. A nil
	// slice means every measure column.
	Columns []string
	// Where restricts series; all matchers must hold.
	Where []Matcher
	// Last asks for the newest row of each series in [MinTime, MaxTime]
	// only. It is a hint: a source may honour it by returning, for each
	// series, one batch that holds just that row (with the version and
	// column values a full scan would give it), or ignore it. Rows other
	// than the newest of a series may be missing or stale either way, so
	// a reader that sets Last uses only the newest row of each series
	// (the last row of its last batch); the answer is then the same as a
	// full scan's. lastpoint-style queries (max(time) per series, PromQL
	// at one instant) set it to skip decoding all but the newest block.
	Last bool
}

// Series identifies the series a batch belongs to.
type Series struct {
	// Key is the canonical identity of the series within its table, built
	// by AppendSeriesKey; equal keys from different sources are the same
	// series.
	Key string
	// Dimensions sorted by name.
	Dimensions  []ingest.Dimension
	MeasureName string
}

// Dimension returns the value of dimension name and whether it is set.
func (s *Series) Dimension(name string) (string, bool) {
	for _, d := range s.Dimensions {
		if d.Name == name {
			return d.Value, true
		}
	}
	return "", false
}

// Column is one measure column of a batch; exactly one of the typed slices
// is used, chosen by Type, and it has one entry per row of the batch.
type Column struct {
	Name string
	Type ingest.ValueType
	// F for DOUBLE; I for BIGINT and TIMESTAMP (ns); S for VARCHAR; B for
	// BOOLEAN.
	F []float64
	I []int64
	S []string
	B []bool
	// Null, when non-nil, marks rows that have no value in this column
	// (multi-measure records that did not set the attribute).
	Null []bool
}

// IsNull reports whether row i has no value.
func (c *Column) IsNull(i int) bool { return c.Null != nil && c.Null[i] }

// Value returns row i as an ingest.Value (zero Value for NULL).
func (c *Column) Value(i int) ingest.Value {
	if c.IsNull(i) {
		return ingest.Value{}
	}
	switch c.Type {
	case ingest.TypeDouble:
		return ingest.Float(c.F[i])
	case ingest.TypeBigint:
		return ingest.Int(c.I[i])
	case ingest.TypeTimestamp:
		return ingest.Timestamp(c.I[i])
	case ingest.TypeVarchar:
		return ingest.String(c.S[i])
	case ingest.TypeBoolean:
		return ingest.Bool(c.B[i])
	}
	return ingest.Value{}
}

// Batch is a run of rows of one series in ascending time order, without
// duplicate times. A series may span several batches; batches of one series
// from one source are consecutive and in ascending time order, and a source
// returns series in ascending Series.Key order (byte-wise), so that sources
// can be merged in one streaming pass (see Merge).
type Batch struct {
	Series Series
	Time   []int64
	// Version of each row; nil means every row has version 1.
	Version []int64
	// Columns holds the requested measure columns present in this series,
	// in the order of Request.Columns (columns the series never had are
	// omitted).
	Columns []Column
}

// Len is the number of rows.
func (b *Batch) Len() int { return len(b.Time) }

// Column returns the column named name, or nil.
func (b *Batch) Column(name string) *Column {
	for i := range b.Columns {
		if b.Columns[i].Name == name {
			return &b.Columns[i]
		}
	}
	return nil
}

// Batches is a cursor over the result of a scan, shaped like Prometheus's
// SeriesSet: call Next until it returns false, then check Err, and always
// Close.
type Batches interface {
	Next() bool
	// Batch is valid until the next call to Next.
	Batch() *Batch
	Err() error
	Close() error
}

// Source is a storage tier, or anything else that answers scans.
type Source interface {
	Scan(ctx context.Context, req *Request) (Batches, error)
}

// Slice is a Batches over an in-memory slice, for tests and small results.
type Slice struct {
	batches []*Batch
	i       int
}

// NewSlice returns a cursor over bs.
func NewSlice(bs []*Batch) *Slice { return &Slice{batches: bs, i: -1} }

// Next implements Batches.
func (s *Slice) Next() bool { s.i++; return s.i < len(s.batches) }

// Batch implements Batches.
func (s *Slice) Batch() *Batch { return s.batches[s.i] }

// Err implements Batches.
func (s *Slice) Err() error { return nil }

// Close implements Batches.
func (s *Slice) Close() error { return nil }

// AppendSeriesKey appends the canonical Series.Key of a series to dst: the
// measure name, then each dimension's name and value, each as a uvarint
// length and the bytes. dims must be sorted by name. Every source builds
// keys with this function so that equal series have equal keys.
func AppendSeriesKey(dst []byte, measureName string, dims []ingest.Dimension) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(measureName)))
	dst = append(dst, measureName...)
	for _, d := range dims {
		dst = binary.AppendUvarint(dst, uint64(len(d.Name)))
		dst = append(dst, d.Name...)
		dst = binary.AppendUvarint(dst, uint64(len(d.Value)))
		dst = append(dst, d.Value...)
	}
	return dst
}

// SeriesLister is a Source that can list the series a request selects
// without reading their rows (from its series index). The time range of
// the request may be ignored: a lister may return series with no rows in
// it.
type SeriesLister interface {
	ListSeries(ctx context.Context, req *Request) ([]Series, error)
}

// ListSeries returns the series of src that req selects, in no particular
// order and each once: from src's index when it is a SeriesLister, else by
// a scan that asks for no measure columns.
func ListSeries(ctx context.Context, src Source, req *Request) ([]Series, error) {
	if l, ok := src.(SeriesLister); ok {
		return l.ListSeries(ctx, req)
	}
	r := *req
	r.Columns = []string{}
	bs, err := src.Scan(ctx, &r)
	if err != nil {
		return nil, err
	}
	var out []Series
	last := ""
	for bs.Next() {
		s := bs.Batch().Series
		if len(out) > 0 && s.Key == last {
			continue
		}
		last = s.Key
		out = append(out, Series{Key: s.Key, Dimensions: append([]ingest.Dimension(nil), s.Dimensions...), MeasureName: s.MeasureName})
	}
	return out, errors.Join(bs.Err(), bs.Close())
}

// LongList is the length from which an IN or NOT IN matcher is checked
// through a set of its values rather than value by value (a join's dynamic
// filter lists every key of its build side: a thousand host names, checked
// against every series).
const LongList = 16

// ValueSets returns, per matcher of where, the set of its values when it is
// an IN or NOT IN list of at least LongList values, else nil; nil when
// there is none. Sources use it to check long lists in constant time.
func ValueSets(where []Matcher) []map[string]struct{} {
	var sets []map[string]struct{}
	for i := range where {
		m := &where[i]
		if (m.Op != MatchIn && m.Op != MatchNotIn) || len(m.Values) < LongList {
			continue
		}
		if sets == nil {
			sets = make([]map[string]struct{}, len(where))
		}
		set := make(map[string]struct{}, len(m.Values))
		for _, v := range m.Values {
			set[v] = struct{}{}
		}
		sets[i] = set
	}
	return sets
}
