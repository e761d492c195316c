package promapi

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/tsdb/chunks"
	"github.com/prometheus/prometheus/util/annotations"

	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/query/scan"
)

// Queryable exposes one TidalDB table to Prometheus code (the PromQL engine,
// remote-read) as a storage.Queryable. A series is a single-measure DOUBLE or
// BIGINT series of the table: __name__ is its measure_name and the other
// labels are its dimensions. Matchers on labels become scan matchers where
// the scan contract can express them (equality, absence, presence); the rest
// (regular expressions) filter the scanned series.
type Queryable struct {
	Source   scan.Source
	Database string
	Table    string
}

// Querier implements storage.Queryable.
func (q *Queryable) Querier(mint, maxt int64) (storage.Querier, error) {
	return &querier{q: q, mint: mint, maxt: maxt}, nil
}

type querier struct {
	q          *Queryable
	mint, maxt int64 // milliseconds
}

func (*querier) Close() error { return nil }

// request translates matchers into a scan request; the returned matchers
// must still be checked on every series.
func (qr *querier) request(mint, maxt int64, columns []string, ms []*labels.Matcher) *scan.Request {
	req := &scan.Request{
		Database: qr.q.Database, Table: qr.q.Table,
		MinTime: msToNs(mint), MaxTime: msToNs(maxt),
		Columns: columns,
	}
	for _, m := range ms {
		name := m.Name
		if name == model.MetricNameLabel {
			name = scan.ColMeasureName
		}
		switch m.Type {
		case labels.MatchEqual:
			if m.Value == "" {
				req.Where = append(req.Where, scan.Matcher{Name: name, Op: scan.MatchAbsent})
			} else {
				req.Where = append(req.Where, scan.Matcher{Name: name, Op: scan.MatchEqual, Values: []string{m.Value}})
			}
		case labels.MatchNotEqual:
			if m.Value == "" {
				req.Where = append(req.Where, scan.Matcher{Name: name, Op: scan.MatchPresent})
			} else {
				req.Where = append(req.Where, scan.Matcher{Name: name, Op: scan.MatchNotEqual, Values: []string{m.Value}})
			}
		case labels.MatchRegexp:
			if set := m.SetMatches(); len(set) > 0 && !slices.Contains(set, "") {
				req.Where = append(req.Where, scan.Matcher{Name: name, Op: scan.MatchIn, Values: set})
			}
		}
	}
	return req
}

func msToNs(ms int64) int64 {
	switch {
	case ms >= math.MaxInt64/1_000_000:
		return math.MaxInt64
	case ms <= math.MinInt64/1_000_000:
		return math.MinInt64
	}
	return ms * 1e6
}

// seriesLabels returns the Prometheus labels of a scanned series.
func seriesLabels(b *labels.ScratchBuilder, s *scan.Series) labels.Labels {
	b.Reset()
	b.Add(model.MetricNameLabel, s.MeasureName)
	for _, d := range s.Dimensions {
		b.Add(d.Name, d.Value)
	}
	b.Sort()
	return b.Labels()
}

func matchesAll(lset labels.Labels, ms []*labels.Matcher) bool {
	for _, m := range ms {
		if !m.Matches(lset.Get(m.Name)) {
			return false
		}
	}
	return true
}

// Select implements storage.Querier. The series are read eagerly: the scan
// cursor's batches are only valid until the next batch.
func (qr *querier) Select(ctx context.Context, sortSeries bool, hints *storage.SelectHints, ms ...*labels.Matcher) storage.SeriesSet {
	mint, maxt := qr.mint, qr.maxt
	columns := []string{scan.ColMeasureValue}
	if hints != nil {
		mint, maxt = max(mint, hints.Start), min(maxt, hints.End)
	}
	cur, err := qr.q.Source.Scan(ctx, qr.request(mint, maxt, columns, ms))
	if err != nil {
		return storage.ErrSeriesSet(fmt.Errorf("scan %s.%s: %w", qr.q.Database, qr.q.Table, err))
	}
	defer cur.Close()
	var out []storage.Series
	var sb labels.ScratchBuilder
	for cur.Next() {
		b := cur.Batch()
		lset := seriesLabels(&sb, &b.Series)
		if !matchesAll(lset, ms) {
			continue
		}
		s := &series{lset: lset, samples: make(fsamples, 0, len(b.Time))}
		col := b.Column(scan.ColMeasureValue)
		if col == nil || (col.Type != ingest.TypeDouble && col.Type != ingest.TypeBigint) {
			continue // not a numeric single-measure series
		}
		for i, ns := range b.Time {
			if col.Type == ingest.TypeBigint {
				s.add(ns/1e6, float64(col.I[i]))
			} else {
				s.add(ns/1e6, col.F[i])
			}
		}
		out = append(out, s)
	}
	if err := cur.Err(); err != nil {
		return storage.ErrSeriesSet(fmt.Errorf("scan %s.%s: %w", qr.q.Database, qr.q.Table, err))
	}
	if sortSeries {
		sort.Slice(out, func(i, j int) bool { return labels.Compare(out[i].Labels(), out[j].Labels()) < 0 })
	}
	return &seriesSet{series: out, i: -1}
}

// LabelValues implements storage.LabelQuerier.
func (qr *querier) LabelValues(ctx context.Context, name string, hints *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	set := map[string]struct{}{}
	err := qr.eachSeries(ctx, ms, func(lset labels.Labels) {
		if v := lset.Get(name); v != "" {
			set[v] = struct{}{}
		}
	})
	return limited(set, hints), nil, err
}

// LabelNames implements storage.LabelQuerier.
func (qr *querier) LabelNames(ctx context.Context, hints *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	set := map[string]struct{}{}
	err := qr.eachSeries(ctx, ms, func(lset labels.Labels) {
		lset.Range(func(l labels.Label) { set[l.Name] = struct{}{} })
	})
	return limited(set, hints), nil, err
}

func limited(set map[string]struct{}, hints *storage.LabelHints) []string {
	out := make([]string, 0, len(set))
	for v := range set {
		out = append(out, v)
	}
	sort.Strings(out)
	if hints != nil && hints.Limit > 0 && len(out) > hints.Limit {
		out = out[:hints.Limit]
	}
	return out
}

func (qr *querier) eachSeries(ctx context.Context, ms []*labels.Matcher, fn func(labels.Labels)) error {
	cur, err := qr.q.Source.Scan(ctx, qr.request(qr.mint, qr.maxt, []string{}, ms))
	if err != nil {
		return fmt.Errorf("scan %s.%s: %w", qr.q.Database, qr.q.Table, err)
	}
	defer cur.Close()
	var sb labels.ScratchBuilder
	for cur.Next() {
		lset := seriesLabels(&sb, &cur.Batch().Series)
		if matchesAll(lset, ms) {
			fn(lset)
		}
	}
	return cur.Err()
}

// series is one materialised series.
type series struct {
	lset    labels.Labels
	samples fsamples
}

// fsample is one float sample; *fsample implements chunks.Sample, so the
// list iterator reads the slice without boxing a value per sample.
type fsample struct {
	t int64 // milliseconds
	f float64
}

func (s *fsample) T() int64                      { return s.t }
func (s *fsample) ST() int64                     { return 0 }
func (s *fsample) F() float64                    { return s.f }
func (s *fsample) H() *histogram.Histogram       { return nil }
func (s *fsample) FH() *histogram.FloatHistogram { return nil }
func (s *fsample) Type() chunkenc.ValueType      { return chunkenc.ValFloat }
func (s *fsample) Copy() chunks.Sample           { c := *s; return &c }

type fsamples []fsample

func (fs fsamples) Get(i int) chunks.Sample { return &fs[i] }
func (fs fsamples) Len() int                { return len(fs) }

// add appends a sample; TidalDB keeps nanoseconds, Prometheus works in
// milliseconds, so of several samples in one millisecond the last is kept.
func (s *series) add(ms int64, f float64) {
	if n := len(s.samples); n > 0 && s.samples[n-1].t == ms {
		s.samples[n-1].f = f
		return
	}
	s.samples = append(s.samples, fsample{t: ms, f: f})
}

func (s *series) Labels() labels.Labels { return s.lset }

func (s *series) Iterator(chunkenc.Iterator) chunkenc.Iterator {
	return storage.NewListSeriesIterator(s.samples)
}

type seriesSet struct {
	series []storage.Series
	i      int
}

func (ss *seriesSet) Next() bool                        { ss.i++; return ss.i < len(ss.series) }
func (ss *seriesSet) At() storage.Series                { return ss.series[ss.i] }
func (ss *seriesSet) Err() error                        { return nil }
func (ss *seriesSet) Warnings() annotations.Annotations { return nil }
