package scan

import (
	"context"
	"errors"
	"slices"

	"github.com/tidaldb/tidal/ingest"
)

// Merge returns a Source that scans every src and merges them: each series
// comes once, its rows in ascending time, and rows with the same (series,
// time) in several sources are resolved to the highest Version (on a tie,
// the source later in srcs wins). This is how the query layer reads both
// tiers, and how a tier merges its own parts.
func Merge(srcs ...Source) Source { return merged(srcs) }

type merged []Source

// ListSeries implements SeriesLister: the union of every source's series.
func (m merged) ListSeries(ctx context.Context, req *Request) ([]Series, error) {
	seen := map[string]bool{}
	var out []Series
	for _, s := range m {
		ss, err := ListSeries(ctx, s, req)
		if err != nil {
			return nil, err
		}
		for _, x := range ss {
			if !seen[x.Key] {
				seen[x.Key] = true
				out = append(out, x)
			}
		}
	}
	return out, nil
}

func (m merged) Scan(ctx context.Context, req *Request) (Batches, error) {
	if len(m) == 1 {
		return m[0].Scan(ctx, req)
	}
	mc := &mergeCursor{last: req.Last}
	for _, s := range m {
		b, err := s.Scan(ctx, req)
		if err != nil {
			return nil, errors.Join(err, mc.Close())
		}
		in := &mergeInput{b: b}
		in.advance()
		mc.inputs = append(mc.inputs, in)
	}
	return mc, nil
}

type mergeInput struct {
	b    Batches
	ok   bool // b.Batch() is valid
	done bool
}

func (in *mergeInput) advance() {
	in.ok = in.b.Next()
	in.done = !in.ok
}

type mergeCursor struct {
	inputs []*mergeInput
	last   bool // the request's Last: emit each series' newest row only
	out    Batch
	err    error
	// bufs are the copies of the current series' batches, reused from
	// series to series (the output is valid until the next Next).
	bufs  []*Batch
	parts []*Batch
}

// cloneParts makes Next deep-copy every batch afresh, as it did before
// the copies were reused (benchmarks compare).
var cloneParts bool

// Next assembles the next series: it takes every input whose current batch
// has the smallest key, drains that key's batches from each, and merges.
func (mc *mergeCursor) Next() bool {
	if mc.err != nil {
		return false
	}
	key, found := "", false
	for _, in := range mc.inputs {
		if in.ok && (!found || in.b.Batch().Series.Key < key) {
			key, found = in.b.Batch().Series.Key, true
		}
	}
	if !found {
		for _, in := range mc.inputs {
			if err := in.b.Err(); err != nil {
				mc.err = err
			}
		}
		return false
	}
	parts := mc.parts[:0] // copies, in input order
	for _, in := range mc.inputs {
		for in.ok && in.b.Batch().Series.Key == key {
			if cloneParts {
				parts = append(parts, in.b.Batch().Clone())
			} else {
				if len(parts) == len(mc.bufs) {
					mc.bufs = append(mc.bufs, new(Batch))
				}
				buf := mc.bufs[len(parts)]
				copyBatch(buf, in.b.Batch())
				parts = append(parts, buf)
			}
			in.advance()
		}
		if in.done {
			if err := in.b.Err(); err != nil {
				mc.err = err
				return false
			}
		}
	}
	mc.parts = parts
	if mc.last {
		mergeLast(&mc.out, parts)
		return true
	}
	mergeBatches(&mc.out, parts)
	return true
}

// copyBatch deep-copies src into dst, reusing dst's slices. The series'
// dimensions are copied afresh: a caller may keep a Series.
func copyBatch(dst, src *Batch) {
	dst.Series = src.Series
	dst.Series.Dimensions = slices.Clone(src.Series.Dimensions)
	dst.Time = reuse(dst.Time, src.Time)
	dst.Version = reuse(dst.Version, src.Version)
	if cap(dst.Columns) < len(src.Columns) {
		dst.Columns = append(dst.Columns[:cap(dst.Columns)], make([]Column, len(src.Columns)-cap(dst.Columns))...)
	}
	dst.Columns = dst.Columns[:len(src.Columns)]
	for i := range src.Columns {
		s, d := &src.Columns[i], &dst.Columns[i]
		d.Name, d.Type = s.Name, s.Type
		d.F, d.I, d.S, d.B = reuse(d.F, s.F), reuse(d.I, s.I), reuse(d.S, s.S), reuse(d.B, s.B)
		d.Null = reuse(d.Null, s.Null)
	}
}

// reuse copies src into dst's storage; nil for a nil src.
func reuse[T any](dst, src []T) []T {
	if src == nil {
		return nil
	}
	return append(dst[:0], src...)
}

func (mc *mergeCursor) Batch() *Batch { return &mc.out }
func (mc *mergeCursor) Err() error    { return mc.err }

func (mc *mergeCursor) Close() error {
	var errs []error
	for _, in := range mc.inputs {
		errs = append(errs, in.b.Close())
	}
	return errors.Join(errs...)
}

// mergeLast writes into out the newest row of parts (as mergeBatches
// would resolve it): only the rows at the greatest time take part.
func mergeLast(out *Batch, parts []*Batch) {
	var maxT int64
	found := false
	for _, b := range parts {
		if n := len(b.Time); n > 0 && (!found || b.Time[n-1] > maxT) {
			maxT, found = b.Time[n-1], true
		}
	}
	top := parts[:0:0]
	for _, b := range parts {
		if n := len(b.Time); n > 0 && b.Time[n-1] == maxT {
			b.KeepLast()
			top = append(top, b)
		}
	}
	if len(top) == 0 {
		*out = *parts[0]
		return
	}
	mergeBatches(out, top)
}

// mergeBatches writes into out the rows of parts (batches of one series,
// each ascending in time) in time order; for equal times the highest
// version wins, and on equal versions the later part.
func mergeBatches(out *Batch, parts []*Batch) {
	if len(parts) == 1 {
		*out = *parts[0]
		return
	}
	type ref struct{ p, i int }
	var rows []ref
	for p, b := range parts {
		for i := range b.Time {
			rows = append(rows, ref{p, i})
		}
	}
	ver := func(r ref) int64 {
		if v := parts[r.p].Version; v != nil {
			return v[r.i]
		}
		return 1
	}
	slices.SortStableFunc(rows, func(a, b ref) int {
		ta, tb := parts[a.p].Time[a.i], parts[b.p].Time[b.i]
		switch {
		case ta < tb:
			return -1
		case ta > tb:
			return 1
		}
		return 0
	})
	// Keep one row per time: the highest version, later part on ties.
	kept := rows[:0]
	for _, r := range rows {
		if n := len(kept); n > 0 && parts[kept[n-1].p].Time[kept[n-1].i] == parts[r.p].Time[r.i] {
			if ver(r) >= ver(kept[n-1]) {
				kept[n-1] = r
			}
			continue
		}
		kept = append(kept, r)
	}
	// Union of columns in first-seen order.
	*out = Batch{Series: parts[0].Series}
	colIdx := map[string]int{}
	for _, b := range parts {
		for _, c := range b.Columns {
			if _, ok := colIdx[c.Name]; !ok {
				colIdx[c.Name] = len(out.Columns)
				out.Columns = append(out.Columns, Column{Name: c.Name, Type: c.Type})
			}
		}
	}
	anyVer := false
	for _, b := range parts {
		anyVer = anyVer || b.Version != nil
	}
	for _, r := range kept {
		b := parts[r.p]
		out.Time = append(out.Time, b.Time[r.i])
		if anyVer {
			out.Version = append(out.Version, ver(r))
		}
		row := len(out.Time) - 1
		for ci := range out.Columns {
			oc := &out.Columns[ci]
			src := b.Column(oc.Name)
			var v ingest.Value // NULL
			if src != nil && src.Type == oc.Type {
				v = src.Value(r.i)
			}
			oc.Append(v, row)
		}
	}
}
