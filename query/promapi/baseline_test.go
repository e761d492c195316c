package promapi

import (
	"context"
	"fmt"
	"sort"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/tsdb/chunks"
	"github.com/prometheus/prometheus/util/annotations"

	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/query/scan"
)

// baselineQueryable is the Select path as it was before the sample
// iterator and the concurrent scans: every Select scans eagerly on the
// engine's goroutine, series are read through storage.ListSeriesIterator.
// BenchmarkPromQL runs it next to Queryable for before/after ratios, and
// TestBaselineAgreement checks the two answer alike.
type baselineQueryable struct{ q *Queryable }

func (b baselineQueryable) Querier(mint, maxt int64) (storage.Querier, error) {
	return &baselineQuerier{querier: &querier{q: b.q, mint: mint, maxt: maxt}}, nil
}

type baselineQuerier struct{ *querier }

func (qr *baselineQuerier) Select(ctx context.Context, sortSeries bool, hints *storage.SelectHints, ms ...*labels.Matcher) storage.SeriesSet {
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
		lset := baselineLabels(&sb, &b.Series)
		if !baselineMatchesAll(lset, ms) {
			continue
		}
		s := &listSeries{lset: lset, samples: make(fsamples, 0, len(b.Time))}
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
	return &baselineSet{series: out, i: -1}
}

func baselineLabels(b *labels.ScratchBuilder, s *scan.Series) labels.Labels {
	b.Reset()
	b.Add("__name__", s.MeasureName)
	for _, d := range s.Dimensions {
		b.Add(d.Name, d.Value)
	}
	b.Sort()
	return b.Labels()
}

func baselineMatchesAll(lset labels.Labels, ms []*labels.Matcher) bool {
	for _, m := range ms {
		if !m.Matches(lset.Get(m.Name)) {
			return false
		}
	}
	return true
}

type listSeries struct {
	lset    labels.Labels
	samples fsamples
}

func (s *listSeries) add(ms int64, f float64) {
	if n := len(s.samples); n > 0 && s.samples[n-1].t == ms {
		s.samples[n-1].f = f
		return
	}
	s.samples = append(s.samples, fsample{t: ms, f: f})
}

func (s *listSeries) Labels() labels.Labels { return s.lset }

func (s *listSeries) Iterator(chunkenc.Iterator) chunkenc.Iterator {
	return storage.NewListSeriesIterator(s.samples)
}

// *fsample implements chunks.Sample for the list iterator.
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

type baselineSet struct {
	series []storage.Series
	i      int
}

func (ss *baselineSet) Next() bool                        { ss.i++; return ss.i < len(ss.series) }
func (ss *baselineSet) At() storage.Series                { return ss.series[ss.i] }
func (ss *baselineSet) Err() error                        { return nil }
func (ss *baselineSet) Warnings() annotations.Annotations { return nil }
