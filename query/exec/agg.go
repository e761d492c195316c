package exec

// The hash aggregation operator: groups, per-worker tables and their
// merge, and the per-series fast paths of a scan below it.

import (
	"slices"

	"github.com/tidaldb/tidal/query/scan"
)

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
	if !disableArmPushdown {
		pushMeasureArms(child, as.aggs)
	}
	return n
}

// disableArmPushdown turns pushMeasureArms off (benchmarks compare).
var disableArmPushdown bool

// pushMeasureArms restricts the scan under an aggregation to the measure
// names its aggregates can see when every aggregate skips NULLs and takes
// a CASE WHEN measure_name = 'x' THEN ... END argument (TSBS's shape):
// rows of other measures feed no aggregate, so they are not read. Such
// rows would only have made groups whose every aggregate is NULL; those
// groups are not produced.
func pushMeasureArms(child node, aggs []*aggCall) {
	sc := scanUnder(child)
	if sc == nil || len(aggs) == 0 {
		return
	}
	var names []string
	for _, a := range aggs {
		if a.arms == nil || !a.def.skipNulls || a.armCol < 0 || a.armCol >= len(sc.src) ||
			sc.src[a.armCol].src != srcMeasureName {
			return
		}
		for _, m := range a.arms {
			if !slices.Contains(names, m) {
				names = append(names, m)
			}
		}
	}
	sc.req.Where = append(sc.req.Where, scan.Matcher{Name: scan.ColMeasureName, Op: scan.MatchIn, Values: names})
	sc.measures = slices.DeleteFunc(sc.measures, func(m string) bool { return !slices.Contains(names, m) })
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
	// buckets indexes bin(time, w) groups by prefix (see bucketIndex).
	buckets map[string]*bucketIndex
	// hashed is set once every group is in index too (see hashBuckets).
	hashed bool
	alloc  groupAlloc
}

// groupAlloc carves groups, their keys and the common aggregate states
// out of blocks, so that a new group costs a few slice cuts instead of
// an allocation per state; the blocks live as long as the table.
type groupAlloc struct {
	groups []group
	keys   slab
	states []aggState
	counts []countState
	sums   []sumState
	avgs   []avgState
	minMax []minMaxState
	// protos holds a fresh state per aggregate to copy from.
	protos []aggState
}

const groupBlock = 256

// group returns a new group with t.keyv's values and fresh states.
func (a *groupAlloc) group(t *aggTable) *group {
	if len(a.groups) == 0 {
		a.groups = make([]group, groupBlock)
	}
	g := &a.groups[0]
	a.groups = a.groups[1:]
	g.keys = a.keys.clone(t.keyv)
	n := len(t.n.aggs)
	if len(a.states) < n {
		a.states = make([]aggState, max(n*groupBlock, n))
	}
	g.states, a.states = a.states[:n:n], a.states[n:]
	a.protosOf(t)
	for i, c := range t.n.aggs {
		g.states[i] = a.state(a.protos[i], c)
	}
	return g
}

// protosOf returns a fresh state per aggregate of t, made once.
func (a *groupAlloc) protosOf(t *aggTable) []aggState {
	if a.protos == nil {
		a.protos = make([]aggState, len(t.n.aggs))
		for i, c := range t.n.aggs {
			a.protos[i] = newState(c)
		}
	}
	return a.protos
}

// state returns a new state of c: a copy of the fresh state proto from a
// block when it is one of the common kinds.
func (a *groupAlloc) state(proto aggState, c *aggCall) aggState {
	switch p := proto.(type) {
	case *countState:
		if len(a.counts) == 0 {
			a.counts = make([]countState, groupBlock)
		}
		x := &a.counts[0]
		a.counts, *x = a.counts[1:], *p
		return x
	case *sumState:
		if len(a.sums) == 0 {
			a.sums = make([]sumState, groupBlock)
		}
		x := &a.sums[0]
		a.sums, *x = a.sums[1:], *p
		return x
	case *avgState:
		if len(a.avgs) == 0 {
			a.avgs = make([]avgState, groupBlock)
		}
		x := &a.avgs[0]
		a.avgs, *x = a.avgs[1:], *p
		return x
	case *minMaxState:
		if len(a.minMax) == 0 {
			a.minMax = make([]minMaxState, groupBlock)
		}
		x := &a.minMax[0]
		a.minMax, *x = a.minMax[1:], *p
		return x
	}
	return newState(c)
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
	var g *group
	if batchKernels {
		g = t.alloc.group(t)
	} else {
		g = &group{keys: slices.Clone(t.keyv), states: make([]aggState, len(t.n.aggs))}
		for i, a := range t.n.aggs {
			g.states[i] = newState(a)
		}
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
	if !t.hashed {
		t.hashBuckets()
	}
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
		sc.req.Last = lastOnly(n, sc)
		markSeriesOnly(n, sc)
		sc.splitWidth = 0
		if n.batchable(sc) && len(sc.measures) < workers {
			// Copying batches to workers costs more than the batch path;
			// a scan split by time buckets copies nothing.
			w := n.timeSplitWidth(sc)
			if k := sc.timeSplits(w, workers); w > 0 && k > 1 && !sc.req.Last && sc.wholeMeasures() && !disableTimeSplit {
				workers, sc.splitWidth = k, w
			} else {
				workers = 1
			}
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

// disableTimeSplit turns the time-split scan off (benchmarks compare).
var disableTimeSplit bool

// timeSplitWidth is the bucket width of n's one per-row group key when
// it is time or bin(time, w) (1 or w), else 0. Groups keyed by such a
// bucket never straddle a split at a bucket boundary, so each group is
// aggregated by one worker over the same rows in the same order as by
// one scan: the answers are bit-identical.
func (n *aggNode) timeSplitWidth(sc *scanNode) int64 {
	tc := sc.timeCol()
	width := int64(0)
	for i, g := range n.groups {
		if n.seriesGroup[i] {
			continue
		}
		switch {
		case width != 0:
			return 0
		case g.bin != nil && g.bin.col == tc && tc >= 0 && g.bin.width > 0:
			width = g.bin.width
		case g.col == tc && tc >= 0:
			width = 1
		default:
			return 0
		}
	}
	return width
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
