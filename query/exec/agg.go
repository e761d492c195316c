package exec

import (
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/tidaldb/tidal/query/parser"
	"github.com/tidaldb/tidal/query/scan"
)

// aggState accumulates one aggregate for one group.
type aggState interface {
	add(args []Value) error
	merge(o aggState)
	result() Value
}

// aggDef describes an aggregate function: its result type for argument
// types and a state constructor.
type aggDef struct {
	minArgs, maxArgs int
	// skipNulls: rows whose first argument is NULL are not passed to add.
	skipNulls bool
	typ       func(args []Type) (Type, error)
	state     func(c *aggCall) aggState
}

// aggCall is one bound aggregate call of a query.
type aggCall struct {
	text     string
	name     string
	def      *aggDef
	args     []*expr
	argTypes []Type
	distinct bool
	filter   *expr
	typ      Type
	consts   []Value // constant extra arguments (percentile, weight...)
}

func (b *binder) bindAggCall(c *parser.Call, in *scope) (*aggCall, error) {
	name := strings.ToLower(c.Name.Parts[0].Value)
	def := aggDefs[name]
	call := &aggCall{text: parser.Format(c), name: name, def: def, distinct: c.Distinct}
	if c.Star {
		if name != "count" {
			return nil, validationf(c.Line, c.Col, "%s(*) is not allowed", name)
		}
	} else {
		for _, a := range c.Args {
			if containsAgg(a) {
				p := a.Position()
				return nil, validationf(p.Line, p.Col, "Cannot nest aggregations inside aggregation '%s'", name)
			}
			e, err := b.bindExpr(a, in)
			if err != nil {
				return nil, err
			}
			call.args = append(call.args, e)
			call.argTypes = append(call.argTypes, e.typ)
		}
	}
	if !c.Star && (len(call.args) < def.minArgs || len(call.args) > def.maxArgs) {
		return nil, validationf(c.Line, c.Col, "Function %s does not accept %d arguments", name, len(call.args))
	}
	if c.Filter != nil {
		f, err := b.bindExpr(c.Filter, in)
		if err != nil {
			return nil, err
		}
		if call.filter, err = b.expectBool(f); err != nil {
			return nil, err
		}
	}
	t, err := def.typ(call.argTypes)
	if err != nil {
		return nil, validationf(c.Line, c.Col, "Unexpected parameters (%s) for function %s: %v", typeList(call.argTypes), name, err)
	}
	call.typ = t
	for _, a := range call.args[min(1, len(call.args)):] {
		if a.konst {
			call.consts = append(call.consts, a.val)
		}
	}
	return call, nil
}

func typeList(ts []Type) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = t.String()
	}
	return strings.Join(s, ", ")
}

// aggNode is a hash aggregation: output rows are the group keys followed
// by the aggregates. Without GROUP BY it emits one row even for no input.
type aggNode struct {
	child  node
	groups []*expr
	aggs   []*aggCall
	cols   []colRef
	global bool
	// seriesGroup marks group expressions that are constant per series
	// when the child is a scan; they are evaluated once per batch.
	seriesGroup []bool
}

func (b *binder) newAggNode(child node, as *aggScope) node {
	n := &aggNode{child: child, aggs: as.aggs, global: len(as.groups) == 0}
	for _, g := range as.groups {
		n.groups = append(n.groups, g.e)
		n.cols = append(n.cols, colRef{name: g.text, typ: g.e.typ})
	}
	for _, a := range as.aggs {
		n.cols = append(n.cols, colRef{name: a.text, typ: a.typ})
	}
	return n
}

func (n *aggNode) columns() []colRef { return n.cols }

type group struct {
	keys   []Value
	states []aggState
}

// aggTable is one worker's hash table.
type aggTable struct {
	n      *aggNode
	q      *qctx
	index  map[string]*group
	order  []*group
	key    []byte
	keyv   []Value
	args   []Value
	active []*expr // per aggregate: its first argument for this batch, nil to skip
	skip   []bool
	// prefix is the encoded series-constant part of the key for the
	// current batch; last caches the group of the previous row.
	prefix   []byte
	lastKey  []byte
	last     *group
	perBatch bool
	plan     batchPlan
}

func (n *aggNode) newTable(q *qctx) *aggTable {
	t := &aggTable{n: n, q: q, index: map[string]*group{}, keyv: make([]Value, len(n.groups)),
		active: make([]*expr, len(n.aggs)), skip: make([]bool, len(n.aggs))}
	for i, a := range n.aggs {
		if len(a.args) > 0 {
			t.active[i] = a.args[0]
		}
	}
	return t
}

func (t *aggTable) lookup(row []Value) (*group, error) {
	t.key = append(t.key[:0], t.prefix...)
	for i, g := range t.n.groups {
		if t.perBatch && t.n.seriesGroup[i] {
			continue
		}
		v, err := g.eval(row)
		if err != nil {
			return nil, err
		}
		t.keyv[i] = v
		t.key = appendKey(t.key, v)
	}
	if t.last != nil && string(t.key) == string(t.lastKey) {
		return t.last, nil
	}
	if g, ok := t.index[string(t.key)]; ok {
		t.last, t.lastKey = g, append(t.lastKey[:0], t.key...)
		return g, nil
	}
	return t.newGroup()
}

// newGroup adds the group of t.key and t.keyv.
func (t *aggTable) newGroup() (*group, error) {
	g := &group{keys: slices.Clone(t.keyv), states: make([]aggState, len(t.n.aggs))}
	for i, a := range t.n.aggs {
		g.states[i] = newState(a)
	}
	if err := t.q.grow(int64(len(t.key)) + 96 + rowSize(g.keys) + int64(len(g.states))*64); err != nil {
		return nil, err
	}
	t.index[string(t.key)] = g
	t.order = append(t.order, g)
	t.last, t.lastKey = g, append(t.lastKey[:0], t.key...)
	return g, nil
}

func (t *aggTable) add(row []Value) error {
	g, err := t.lookup(row)
	if err != nil {
		return err
	}
	for i, a := range t.n.aggs {
		if t.skip[i] {
			continue
		}
		if a.filter != nil {
			v, err := a.filter.eval(row)
			if err != nil {
				return err
			}
			if v.Null || !v.B {
				continue
			}
		}
		t.args = t.args[:0]
		for j, e := range a.args {
			if j == 0 {
				e = t.active[i]
			}
			v, err := e.eval(row)
			if err != nil {
				return err
			}
			t.args = append(t.args, v)
		}
		if a.def.skipNulls && len(t.args) > 0 && t.args[0].Null {
			continue
		}
		if err := g.states[i].add(t.args); err != nil {
			return err
		}
	}
	return nil
}

// onBatch resolves per-series CASE arms of the aggregate arguments: an
// argument that is NULL for the whole series is skipped.
func (t *aggTable) onBatch(st *batchState) error {
	t.perBatch = true
	t.prefix = t.prefix[:0]
	for i, g := range t.n.groups {
		if !t.n.seriesGroup[i] {
			continue
		}
		v, err := g.eval(st.row)
		if err != nil {
			return err
		}
		t.keyv[i] = v
		t.prefix = appendKey(t.prefix, v)
	}
	for i, a := range t.n.aggs {
		t.skip[i] = false
		if len(a.args) == 0 {
			continue
		}
		e, err := resolveSeries(a.args[0], st.row)
		if err != nil {
			return err
		}
		t.active[i] = e
		if e.konst && e.val.Null && a.def.skipNulls {
			t.skip[i] = true
		}
	}
	return nil
}

// resolveSeries picks the arm of a CASE whose conditions are constant for
// the current series (they read only dimension and measure_name columns,
// which hold the series' values in row).
func resolveSeries(e *expr, row []Value) (*expr, error) {
	for e.cases != nil && !e.konst {
		c := e.cases
		var next *expr
		for i, cond := range c.conds {
			if !cond.seriesOnly {
				if seriesFalse(cond, row) {
					continue // this arm never holds for the series
				}
				return e, nil
			}
			v, err := cond.eval(row)
			if err != nil {
				return e, nil //nolint:nilerr // not foldable per series: evaluate per row, where the error surfaces
			}
			if !v.Null && v.B {
				next = c.results[i]
				break
			}
		}
		if next == nil {
			next = c.els
		}
		e = next
	}
	return e, nil
}

// seriesFalse reports whether cond is FALSE or NULL for every row of the
// current series: it is an AND with a conjunct that reads only series
// columns and does not hold.
func seriesFalse(cond *expr, row []Value) bool {
	if cond.seriesOnly {
		v, err := cond.eval(row)
		return err == nil && (v.Null || !v.B)
	}
	for _, x := range cond.and {
		if seriesFalse(x, row) {
			return true
		}
	}
	return false
}

// mergeTables merges the groups of per-worker tables by key value.
func mergeTables(tables []*aggTable) []*group {
	var live []*aggTable
	for _, t := range tables {
		if t != nil {
			live = append(live, t)
		}
	}
	switch len(live) {
	case 0:
		return nil
	case 1:
		return live[0].order
	}
	index := map[string]*group{}
	var order []*group
	var key []byte
	for _, t := range live {
		for _, g := range t.order {
			key = key[:0]
			for _, v := range g.keys {
				key = appendKey(key, v)
			}
			if x, ok := index[string(key)]; ok {
				for i := range x.states {
					x.states[i].merge(g.states[i])
				}
				continue
			}
			index[string(key)] = g
			order = append(order, g)
		}
	}
	return order
}

func (n *aggNode) run(q *qctx, emit func([]Value) error) error {
	var table *aggTable
	sc, isScan := n.child.(*scanNode)
	workers := q.e.opts.Parallelism
	if isScan {
		markSeriesOnly(n, sc)
		if n.batchable(sc) && len(sc.measures) < workers {
			// Copying batches to workers costs more than the batch path.
			workers = 1
		}
		tables := make([]*aggTable, max(workers, 1))
		err := sc.runWorkers(q, workers, func(w int) (batchHook, func([]Value) error) {
			t := n.newTable(q)
			tables[w] = t
			return func(st *batchState, b *scan.Batch) (bool, error) {
				if err := t.onBatch(st); err != nil {
					return false, err
				}
				if t.planBatch(sc, st); !t.plan.ok {
					return false, nil
				}
				return true, t.addBatch(b)
			}, t.add
		})
		if err != nil {
			return err
		}
		table = n.newTable(q)
		table.order = mergeTables(tables)
	} else {
		table = n.newTable(q)
		if err := n.child.run(q, table.add); err != nil {
			return err
		}
	}
	if n.global && len(table.order) == 0 {
		g := &group{states: make([]aggState, len(n.aggs))}
		for i, a := range n.aggs {
			g.states[i] = newState(a)
		}
		table.order = append(table.order, g)
	}
	out := make([]Value, len(n.cols))
	for i, g := range table.order {
		if i&1023 == 0 {
			if err := q.check(); err != nil {
				return err
			}
		}
		copy(out, g.keys)
		for j, s := range g.states {
			out[len(g.keys)+j] = s.result()
		}
		if err := emit(out); err != nil {
			return err
		}
	}
	return nil
}

// markSeriesOnly flags CASE conditions of aggregate arguments that read
// only series columns of sc.
func markSeriesOnly(n *aggNode, sc *scanNode) {
	// Series-constant group keys come first in the encoded key, so the
	// key layout differs from the row-at-a-time path; both are internal
	// to one table and merged by values, not bytes.
	n.seriesGroup = make([]bool, len(n.groups))
	for i, g := range n.groups {
		only := !g.volatile
		for _, r := range g.refs {
			if !sc.isSeriesCol(r) {
				only = false
			}
		}
		n.seriesGroup[i] = only && len(g.refs) > 0
	}
	var mark func(e *expr)
	mark = func(e *expr) {
		if e == nil || e.cases == nil {
			return
		}
		var markCond func(c *expr)
		markCond = func(c *expr) {
			only := true
			for _, r := range c.refs {
				if !sc.isSeriesCol(r) {
					only = false
				}
			}
			c.seriesOnly = only && !c.volatile
			if !c.seriesOnly {
				for _, x := range c.and {
					markCond(x)
				}
			}
		}
		for _, c := range e.cases.conds {
			markCond(c)
		}
		for _, r := range e.cases.results {
			mark(r)
		}
		mark(e.cases.els)
	}
	for _, a := range n.aggs {
		if len(a.args) > 0 {
			mark(a.args[0])
		}
	}
}

func newState(a *aggCall) aggState {
	s := a.def.state(a)
	if a.distinct {
		return &distinctState{inner: s, seen: map[string][]Value{}}
	}
	return s
}

// ---- states ----

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
		var mean float64
		for _, v := range s.vals {
			mean += v[0].asFloat()
		}
		mean /= n
		var m2, m3, m4 float64
		for _, v := range s.vals {
			d := v[0].asFloat() - mean
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

// ---- definitions ----

func numericArg(args []Type) (Type, error) {
	if len(args) == 0 || !(isNumeric(args[0].Kind) || args[0].Kind == KindUnknown) {
		return Type{}, errNotNumeric
	}
	return args[0], nil
}

type typeError string

func (e typeError) Error() string { return string(e) }

const errNotNumeric = typeError("expected a numeric argument")

func fixed(t Type) func([]Type) (Type, error) {
	return func([]Type) (Type, error) { return t, nil }
}

func sameAsArg(args []Type) (Type, error) { return args[0], nil }

var aggDefs map[string]*aggDef

func init() {
	moment := func(name string) *aggDef {
		return &aggDef{1, 1, true, func(a []Type) (Type, error) {
			if _, err := numericArg(a); err != nil {
				return Type{}, err
			}
			return TypeDouble, nil
		}, func(c *aggCall) aggState { return &momentState{name: name} }}
	}
	pair := func(name string) *aggDef {
		return &aggDef{2, 2, true, fixed(TypeDouble), func(c *aggCall) aggState { return &pairState{name: name} }}
	}
	collect := func(minA, maxA int, skip bool, typ func([]Type) (Type, error)) *aggDef {
		return &aggDef{minA, maxA, skip, typ, func(c *aggCall) aggState { return &collectState{call: c} }}
	}
	aggDefs = map[string]*aggDef{
		"count": {0, 1, true, fixed(TypeBigint), func(*aggCall) aggState { return &countState{} }},
		"count_if": {1, 1, true, func(a []Type) (Type, error) {
			if a[0].Kind != KindBoolean {
				return Type{}, typeError("expected boolean")
			}
			return TypeBigint, nil
		}, func(*aggCall) aggState { return &countIfState{} }},
		"sum": {1, 1, true, func(a []Type) (Type, error) {
			if a[0].Kind == KindIntervalDayToSecond {
				return a[0], nil
			}
			t, err := numericArg(a)
			if t.Kind == KindInteger || t.Kind == KindUnknown {
				t = TypeBigint
			}
			return t, err
		}, func(c *aggCall) aggState { return &sumState{kind: c.typ.Kind} }},
		"avg": {1, 1, true, func(a []Type) (Type, error) {
			if a[0].Kind == KindIntervalDayToSecond {
				return a[0], nil
			}
			if _, err := numericArg(a); err != nil {
				return Type{}, err
			}
			return TypeDouble, nil
		}, func(c *aggCall) aggState { return &avgState{kind: c.typ.Kind} }},
		"min":             {1, 1, true, sameAsArg, func(c *aggCall) aggState { return &minMaxState{kind: c.typ.Kind} }},
		"max":             {1, 1, true, sameAsArg, func(c *aggCall) aggState { return &minMaxState{max: true, kind: c.typ.Kind} }},
		"min_by":          {2, 2, false, sameAsArg, func(c *aggCall) aggState { return &byState{kind: c.typ.Kind} }},
		"max_by":          {2, 2, false, sameAsArg, func(c *aggCall) aggState { return &byState{max: true, kind: c.typ.Kind} }},
		"arbitrary":       {1, 1, true, sameAsArg, func(c *aggCall) aggState { return &arbitraryState{kind: c.typ.Kind} }},
		"any_value":       {1, 1, true, sameAsArg, func(c *aggCall) aggState { return &arbitraryState{kind: c.typ.Kind} }},
		"bool_and":        {1, 1, true, fixed(TypeBoolean), func(*aggCall) aggState { return &boolState{and: true} }},
		"every":           {1, 1, true, fixed(TypeBoolean), func(*aggCall) aggState { return &boolState{and: true} }},
		"bool_or":         {1, 1, true, fixed(TypeBoolean), func(*aggCall) aggState { return &boolState{} }},
		"stddev":          moment("stddev"),
		"stddev_samp":     moment("stddev_samp"),
		"stddev_pop":      moment("stddev_pop"),
		"variance":        moment("variance"),
		"var_samp":        moment("var_samp"),
		"var_pop":         moment("var_pop"),
		"geometric_mean":  moment("geometric_mean"),
		"corr":            pair("corr"),
		"covar_pop":       pair("covar_pop"),
		"covar_samp":      pair("covar_samp"),
		"regr_slope":      pair("regr_slope"),
		"regr_intercept":  pair("regr_intercept"),
		"array_agg":       collect(1, 1, false, func(a []Type) (Type, error) { return ArrayOf(a[0]), nil }),
		"approx_distinct": collect(1, 2, true, fixed(TypeBigint)),
		"approx_percentile": collect(2, 3, true, func(a []Type) (Type, error) {
			if a[len(a)-1].Kind == KindArray {
				return ArrayOf(a[0]), nil
			}
			return a[0], nil
		}),
		"histogram": collect(1, 1, true, func(a []Type) (Type, error) {
			return ArrayOf(Type{Kind: KindRow, Fields: []Field{{Name: "value", Type: a[0]}, {Name: "count", Type: TypeBigint}}}), nil
		}),
		"skewness": collect(1, 1, true, fixed(TypeDouble)),
		"kurtosis": collect(1, 1, true, fixed(TypeDouble)),
		"create_time_series": collect(2, 2, true, func(a []Type) (Type, error) {
			if a[0].Kind != KindTimestamp {
				return Type{}, typeError("first argument must be a timestamp")
			}
			return TimeSeriesOf(a[1]), nil
		}),
	}
}
