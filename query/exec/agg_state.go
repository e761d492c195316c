package exec

// The accumulators of the aggregate functions registered in agg_funcs.go.

import (
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/tidaldb/tidal/query/parser"
)

// aggState accumulates one aggregate for one group.
type aggState interface {
	add(args []Value) error
	merge(o aggState)
	result() Value
}

func newState(a *aggCall) aggState {
	s := a.def.state(a)
	if a.distinct {
		return &distinctState{inner: s, seen: map[string][]Value{}}
	}
	return s
}

type distinctState struct {
	inner aggState
	seen  map[string][]Value
	order []string
}

func (s *distinctState) add(args []Value) error {
	k := string(appendKey(nil, args[0]))
	if _, ok := s.seen[k]; !ok {
		s.seen[k] = slices.Clone(args)
		s.order = append(s.order, k)
	}
	return nil
}

func (s *distinctState) merge(o aggState) {
	os := o.(*distinctState)
	for _, k := range os.order {
		if _, ok := s.seen[k]; !ok {
			s.seen[k] = os.seen[k]
			s.order = append(s.order, k)
		}
	}
}

func (s *distinctState) result() Value {
	for _, k := range s.order {
		_ = s.inner.add(s.seen[k])
	}
	s.order = nil
	return s.inner.result()
}

type countState struct{ n int64 }

func (s *countState) add([]Value) error { s.n++; return nil }
func (s *countState) merge(o aggState)  { s.n += o.(*countState).n }
func (s *countState) result() Value     { return Bigint(s.n) }

type countIfState struct{ n int64 }

func (s *countIfState) add(a []Value) error {
	if a[0].B {
		s.n++
	}
	return nil
}
func (s *countIfState) merge(o aggState) { s.n += o.(*countIfState).n }
func (s *countIfState) result() Value    { return Bigint(s.n) }

type sumState struct {
	kind Kind
	i    int64
	f    float64
	any  bool
	err  bool
}

func (s *sumState) add(a []Value) error {
	s.any = true
	if s.kind == KindDouble {
		s.f += a[0].asFloat()
		return nil
	}
	v, err := intArith(parser.OpAdd, s.i, a[0].I)
	if err != nil {
		return err
	}
	s.i = v.I
	return nil
}

func (s *sumState) merge(o aggState) {
	os := o.(*sumState)
	if !os.any {
		return
	}
	s.any = true
	s.f += os.f
	if v, err := intArith(parser.OpAdd, s.i, os.i); err == nil {
		s.i = v.I
	} else {
		s.err = true
	}
}

func (s *sumState) result() Value {
	if !s.any {
		return Null(s.kind)
	}
	if s.kind == KindDouble {
		return Double(s.f)
	}
	return Value{Kind: s.kind, I: s.i}
}

type avgState struct {
	sum  float64
	n    int64
	kind Kind
}

func (s *avgState) add(a []Value) error {
	s.sum += a[0].asFloat()
	s.n++
	return nil
}
func (s *avgState) merge(o aggState) { os := o.(*avgState); s.sum += os.sum; s.n += os.n }
func (s *avgState) result() Value {
	if s.n == 0 {
		return Null(s.kind)
	}
	if s.kind == KindIntervalDayToSecond {
		return intervalDS(int64(s.sum / float64(s.n)))
	}
	return Double(s.sum / float64(s.n))
}

type minMaxState struct {
	max  bool
	v    Value
	any  bool
	kind Kind
}

func (s *minMaxState) add(a []Value) error {
	x := a[0]
	if !s.any {
		s.v, s.any = x, true
		return nil
	}
	c := 0
	if x.Kind == KindDouble && s.v.Kind == KindDouble {
		// NaN never wins.
		if math.IsNaN(x.F) {
			return nil
		}
		if math.IsNaN(s.v.F) {
			s.v = x
			return nil
		}
		c = compareFloat(x.F, s.v.F)
	} else {
		c = compareValues(x, s.v)
	}
	if (s.max && c > 0) || (!s.max && c < 0) {
		s.v = x
	}
	return nil
}

func (s *minMaxState) merge(o aggState) {
	os := o.(*minMaxState)
	if os.any {
		_ = s.add([]Value{os.v})
	}
}

func (s *minMaxState) result() Value {
	if !s.any {
		return Null(s.kind)
	}
	return s.v
}

// byState is min_by / max_by: the first argument at the extreme second.
type byState struct {
	max    bool
	v, key Value
	any    bool
	kind   Kind
}

func (s *byState) add(a []Value) error {
	if a[1].Null {
		return nil
	}
	if !s.any || (s.max && compareValues(a[1], s.key) > 0) || (!s.max && compareValues(a[1], s.key) < 0) {
		s.v, s.key, s.any = a[0], a[1], true
	}
	return nil
}

func (s *byState) merge(o aggState) {
	os := o.(*byState)
	if os.any {
		_ = s.add([]Value{os.v, os.key})
	}
}

func (s *byState) result() Value {
	if !s.any {
		return Null(s.kind)
	}
	return s.v
}

type arbitraryState struct {
	v    Value
	any  bool
	kind Kind
}

func (s *arbitraryState) add(a []Value) error {
	if !s.any {
		s.v, s.any = a[0], true
	}
	return nil
}

func (s *arbitraryState) merge(o aggState) {
	if os := o.(*arbitraryState); !s.any && os.any {
		s.v, s.any = os.v, true
	}
}

func (s *arbitraryState) result() Value {
	if !s.any {
		return Null(s.kind)
	}
	return s.v
}

type boolState struct {
	and    bool
	v, any bool
}

func (s *boolState) add(a []Value) error {
	if !s.any {
		s.v, s.any = a[0].B, true
	} else if s.and {
		s.v = s.v && a[0].B
	} else {
		s.v = s.v || a[0].B
	}
	return nil
}

func (s *boolState) merge(o aggState) {
	if os := o.(*boolState); os.any {
		_ = s.add([]Value{Boolean(os.v)})
	}
}

func (s *boolState) result() Value {
	if !s.any {
		return Null(KindBoolean)
	}
	return Boolean(s.v)
}

// momentState keeps Welford moments for stddev/variance and friends.
type momentState struct {
	name     string
	n        float64
	mean, m2 float64
	sumLog   float64
}

func (s *momentState) add(a []Value) error {
	x := a[0].asFloat()
	s.n++
	d := x - s.mean
	s.mean += d / s.n
	s.m2 += d * (x - s.mean)
	s.sumLog += math.Log(x)
	return nil
}

func (s *momentState) merge(o aggState) {
	os := o.(*momentState)
	if os.n == 0 {
		return
	}
	n := s.n + os.n
	d := os.mean - s.mean
	s.m2 += os.m2 + d*d*s.n*os.n/n
	s.mean += d * os.n / n
	s.n = n
	s.sumLog += os.sumLog
}

func (s *momentState) result() Value {
	switch s.name {
	case "stddev", "stddev_samp", "variance", "var_samp":
		if s.n < 2 {
			return Null(KindDouble)
		}
		v := s.m2 / (s.n - 1)
		if strings.HasPrefix(s.name, "stddev") {
			v = math.Sqrt(v)
		}
		return Double(v)
	case "stddev_pop", "var_pop":
		if s.n < 1 {
			return Null(KindDouble)
		}
		v := s.m2 / s.n
		if s.name == "stddev_pop" {
			v = math.Sqrt(v)
		}
		return Double(v)
	case "geometric_mean":
		if s.n < 1 {
			return Null(KindDouble)
		}
		return Double(math.Exp(s.sumLog / s.n))
	}
	return Null(KindDouble)
}

// pairState keeps co-moments for corr, covar_*, regr_*.
type pairState struct {
	name                     string
	n, mx, my, m2x, m2y, cxy float64
}

func (s *pairState) add(a []Value) error {
	if a[1].Null {
		return nil
	}
	y, x := a[0].asFloat(), a[1].asFloat()
	s.n++
	dx := x - s.mx
	s.mx += dx / s.n
	dy := y - s.my
	s.my += dy / s.n
	s.m2x += dx * (x - s.mx)
	s.m2y += dy * (y - s.my)
	s.cxy += dx * (y - s.my)
	return nil
}

func (s *pairState) merge(o aggState) {
	os := o.(*pairState)
	if os.n == 0 {
		return
	}
	n := s.n + os.n
	dx, dy := os.mx-s.mx, os.my-s.my
	s.m2x += os.m2x + dx*dx*s.n*os.n/n
	s.m2y += os.m2y + dy*dy*s.n*os.n/n
	s.cxy += os.cxy + dx*dy*s.n*os.n/n
	s.mx += dx * os.n / n
	s.my += dy * os.n / n
	s.n = n
}

func (s *pairState) result() Value {
	switch s.name {
	case "corr":
		if s.n < 2 || s.m2x == 0 || s.m2y == 0 {
			return Null(KindDouble)
		}
		return Double(s.cxy / math.Sqrt(s.m2x*s.m2y))
	case "covar_pop":
		if s.n < 1 {
			return Null(KindDouble)
		}
		return Double(s.cxy / s.n)
	case "covar_samp":
		if s.n < 2 {
			return Null(KindDouble)
		}
		return Double(s.cxy / (s.n - 1))
	case "regr_slope":
		if s.n < 1 || s.m2x == 0 {
			return Null(KindDouble)
		}
		return Double(s.cxy / s.m2x)
	case "regr_intercept":
		if s.n < 1 || s.m2x == 0 {
			return Null(KindDouble)
		}
		return Double(s.my - s.cxy/s.m2x*s.mx)
	}
	return Null(KindDouble)
}

// collectState keeps every value: array_agg, approx_percentile, histogram,
// approx_distinct (exact), CREATE_TIME_SERIES, skewness, kurtosis.
type collectState struct {
	call *aggCall
	vals [][]Value
}

func (s *collectState) add(a []Value) error {
	s.vals = append(s.vals, slices.Clone(a))
	return nil
}

func (s *collectState) merge(o aggState) { s.vals = append(s.vals, o.(*collectState).vals...) }

func (s *collectState) result() Value {
	c := s.call
	switch c.name {
	case "array_agg":
		if len(s.vals) == 0 {
			return Null(KindArray)
		}
		out := make([]Value, len(s.vals))
		for i, v := range s.vals {
			out[i] = v[0]
		}
		return Value{Kind: KindArray, Elems: out}
	case "approx_distinct":
		seen := map[string]bool{}
		for _, v := range s.vals {
			seen[string(appendKey(nil, v[0]))] = true
		}
		return Bigint(int64(len(seen)))
	case "create_time_series":
		if len(s.vals) == 0 {
			return Null(KindTimeSeries)
		}
		pts := make([]Point, 0, len(s.vals))
		for _, v := range s.vals {
			if v[1].Null {
				continue
			}
			pts = append(pts, Point{Time: v[0].I, Value: v[1]})
		}
		sort.SliceStable(pts, func(i, j int) bool { return pts[i].Time < pts[j].Time })
		return Value{Kind: KindTimeSeries, Points: pts}
	case "histogram":
		if len(s.vals) == 0 {
			return Null(KindArray)
		}
		counts := map[string]int64{}
		var keys []Value
		for _, v := range s.vals {
			k := string(appendKey(nil, v[0]))
			if counts[k] == 0 {
				keys = append(keys, v[0])
			}
			counts[k]++
		}
		sort.SliceStable(keys, func(i, j int) bool { return compareValues(keys[i], keys[j]) < 0 })
		out := make([]Value, len(keys))
		for i, k := range keys {
			out[i] = Value{Kind: KindRow, Elems: []Value{k, Bigint(counts[string(appendKey(nil, k))])}}
		}
		return Value{Kind: KindArray, Elems: out}
	case "approx_percentile":
		return percentile(s.vals, c)
	case "skewness", "kurtosis":
		n := float64(len(s.vals))
		if n < 2 {
			return Null(KindDouble)
		}
		// Sorted first: the values arrive in an order that depends on which
		// worker scanned which series, and floating-point sums depend on
		// the order, so the same data would answer in different last digits.
		xs := make([]float64, len(s.vals))
		for i, v := range s.vals {
			xs[i] = v[0].asFloat()
		}
		slices.Sort(xs)
		var mean float64
		for _, x := range xs {
			mean += x
		}
		mean /= n
		var m2, m3, m4 float64
		for _, x := range xs {
			d := x - mean
			m2 += d * d
			m3 += d * d * d
			m4 += d * d * d * d
		}
		m2 /= n
		m3 /= n
		m4 /= n
		if m2 == 0 {
			return Null(KindDouble)
		}
		if c.name == "skewness" {
			return Double(m3 / math.Pow(m2, 1.5))
		}
		if n < 4 {
			return Null(KindDouble)
		}
		// Sample excess kurtosis, as Trino computes it.
		k := ((n+1)*(n-1)*m4/(m2*m2) - 3*(n-1)*(n-1)) / ((n - 2) * (n - 3))
		return Double(k)
	}
	return Null(c.typ.Kind)
}

// percentile answers approx_percentile exactly (nearest rank over the
// sorted values, weights honoured).
func percentile(vals [][]Value, c *aggCall) Value {
	if len(vals) == 0 {
		return Null(c.typ.Kind)
	}
	pIdx := 1
	weighted := len(c.args) == 3
	if weighted {
		pIdx = 2
	}
	pv := vals[0][pIdx]
	var ps []float64
	if pv.Kind == KindArray {
		for _, e := range pv.Elems {
			ps = append(ps, e.asFloat())
		}
	} else {
		ps = []float64{pv.asFloat()}
	}
	sorted := make([][]Value, len(vals))
	copy(sorted, vals)
	sort.SliceStable(sorted, func(i, j int) bool { return compareValues(sorted[i][0], sorted[j][0]) < 0 })
	var total float64
	w := func(v []Value) float64 {
		if weighted {
			return v[1].asFloat()
		}
		return 1
	}
	for _, v := range sorted {
		total += w(v)
	}
	at := func(p float64) Value {
		target := p * total
		var acc float64
		for _, v := range sorted {
			acc += w(v)
			if acc >= target && acc > 0 {
				return v[0]
			}
		}
		return sorted[len(sorted)-1][0]
	}
	if pv.Kind == KindArray {
		out := make([]Value, len(ps))
		for i, p := range ps {
			out[i] = at(p)
		}
		return Value{Kind: KindArray, Elems: out}
	}
	return at(ps[0])
}
