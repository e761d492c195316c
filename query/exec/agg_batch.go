package exec

import (
	"slices"

	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/query/scan"
)

// The batch path aggregates a scan.Batch straight from its columns when
// the shape allows: group keys are series-constant or one bin(time, w) or
// time, aggregate arguments are plain measure columns (or time), and the
// scan has no row predicates. Rows of a batch are in time order, so the
// group changes only at bucket boundaries and most rows cost one column
// read and one typed add.

// floatAdder is implemented by states with a DOUBLE fast path.
type floatAdder interface {
	addFloat(f float64)
}

func (s *countState) addFloat(float64) { s.n++ }

func (s *sumState) addFloat(f float64) { s.any = true; s.f += f }

func (s *avgState) addFloat(f float64) { s.sum += f; s.n++ }

func (s *minMaxState) addFloat(f float64) {
	if !s.any {
		s.v, s.any = Double(f), true
		return
	}
	if f != f { // NaN never wins
		return
	}
	if s.v.F != s.v.F || (s.max && f > s.v.F) || (!s.max && f < s.v.F) {
		s.v = Double(f)
	}
}

func (s *minMaxState) addTime(ts int64) {
	if !s.any || (s.max && ts > s.v.I) || (!s.max && ts < s.v.I) {
		s.v, s.any = Timestamp(ts), true
	}
}

// batchPlan is how one worker aggregates the current batch; nil slots in
// cols mean the aggregate is skipped (NULL for the whole series).
type batchPlan struct {
	ok      bool
	timeKey int   // index of the per-row group expression, -1 if none
	width   int64 // bucket width for bin(time, w); 1 for time itself
	cols    []*scan.Column
	useTime []bool
	fuse    fusedRun
}

// planBatch decides whether the batch path applies to the current batch.
func (t *aggTable) planBatch(sc *scanNode, st *batchState) {
	p := &t.plan
	p.ok = false
	if len(sc.rowPred) > 0 {
		return
	}
	tc := sc.timeCol()
	p.timeKey, p.width = -1, 1
	for i, g := range t.n.groups {
		if t.n.seriesGroup[i] {
			continue
		}
		if p.timeKey >= 0 {
			return
		}
		switch {
		case g.bin != nil && g.bin.col == tc:
			p.timeKey, p.width = i, g.bin.width
		case g.col == tc && tc >= 0:
			p.timeKey = i
		default:
			return
		}
	}
	if cap(p.cols) < len(t.n.aggs) {
		p.cols = make([]*scan.Column, len(t.n.aggs))
		p.useTime = make([]bool, len(t.n.aggs))
	}
	p.cols, p.useTime = p.cols[:len(t.n.aggs)], p.useTime[:len(t.n.aggs)]
	for i, a := range t.n.aggs {
		p.cols[i], p.useTime[i] = nil, false
		if t.skip[i] {
			continue
		}
		if a.filter != nil || a.distinct || len(a.args) > 1 {
			return
		}
		if len(a.args) == 0 { // count(*)
			if a.name != "count" {
				return
			}
			p.useTime[i] = true
			continue
		}
		e := t.active[i]
		switch {
		case e.col >= 0 && e.col == tc:
			p.useTime[i] = true
		case e.col >= 0 && st.cols[e.col] != nil:
			c := st.cols[e.col]
			if c.Type != ingest.TypeDouble && c.Type != ingest.TypeBigint {
				return
			}
			if _, ok := newState(a).(floatAdder); !ok && c.Type == ingest.TypeDouble {
				return
			}
			if c.Type == ingest.TypeBigint && a.typ.Kind == KindDouble && a.name != "avg" {
				return
			}
			if c.Type == ingest.TypeBigint {
				return
			}
			p.cols[i] = c
		case e.col >= 0 && sc.src[e.col].src == srcMeasureValue || e.col >= 0 && sc.src[e.col].src == srcAttribute:
			// The series lacks the column: every value is NULL.
			if !a.def.skipNulls {
				return
			}
			t.skip[i] = true
		default:
			return
		}
	}
	p.ok = true
	if batchKernels {
		p.fuse.plan(t, p)
	}
}

// batchKernels selects the typed batch kernels (addRunKernel and the
// per-series bucket index); benchmarks switch them off to compare with
// the generic per-value path.
var batchKernels = true

// bucketIndex maps the time buckets of one series-constant key prefix to
// their groups: slot i holds the group of bucket base + i*width. Batches
// of a series arrive in time order and series of equal prefix revisit the
// same buckets, so most runs find their group with one subtraction and a
// division instead of building a key and hashing it.
type bucketIndex struct {
	base   int64
	groups []*group
	used   int // non-nil slots
	// spilled is set once a group of this prefix went to the hash table
	// (a bucket before base, far beyond the slots, or too sparse): from
	// then on a slot miss looks in the hash table first.
	spilled bool
}

// maxBucketSlots bounds one prefix's bucket index; buckets beyond it take
// the hash path.
const maxBucketSlots = 1 << 16

// bucketGroup returns the group of bucket in the current prefix, through
// the bucket index bi, falling back to find (which needs t.key built).
//
// Until a prefix spills, its groups live only in its slots; after, the
// slots cache the hash table (a group may be in both, never in two
// groups). A slot-only group's slot is never cleared, so a key is never
// looked up in the hash table while its group is only in a slot.
func (t *aggTable) bucketGroup(bi *bucketIndex, bucket int64) (*group, error) {
	off := bucket - bi.base
	i := off / t.plan.width
	if off >= 0 && i < int64(len(bi.groups)) && bi.groups[i] != nil {
		return bi.groups[i], nil
	}
	v := Timestamp(bucket)
	t.keyv[t.plan.timeKey] = v
	// Slots grow only while at least one in 8 is used, so a sparse
	// prefix does not cost more in slots than in groups.
	fits := off >= 0 && i < maxBucketSlots && (i < int64(len(bi.groups)) || i < 8*int64(bi.used)+64)
	if !fits || t.hashed || bi.spilled {
		t.key = append(t.key[:0], t.prefix...)
		t.key = appendKey(t.key, v)
		g, err := t.find()
		if err != nil {
			return nil, err
		}
		if !fits {
			bi.spilled = true
			return g, nil
		}
		return g, t.setBucket(bi, i, g)
	}
	g := t.alloc.group(t)
	if err := t.q.grow(int64(len(t.prefix)) + 9 + 96 + rowSize(g.keys) + int64(len(g.states))*64); err != nil {
		return nil, err
	}
	t.order = append(t.order, g)
	return g, t.setBucket(bi, i, g)
}

// hashBuckets puts the groups that live only in bucket indexes into the
// hash table, for a table whose batches do not all take the bucket path:
// the row path and the other batch paths find groups by key. From then
// on the bucket index is a cache of the hash table.
func (t *aggTable) hashBuckets() {
	if t.hashed {
		return
	}
	t.hashed = true
	var key []byte
	for _, bi := range t.buckets {
		for _, g := range bi.groups {
			if g == nil {
				continue
			}
			// The key layout of lookup: series-constant groups first.
			key = key[:0]
			for pass := range 2 {
				for k, v := range g.keys {
					if t.n.seriesGroup[k] == (pass == 0) {
						key = appendKey(key, v)
					}
				}
			}
			t.index[string(key)] = g
		}
	}
	t.last = nil
}

// setBucket stores g in slot i of bi, growing the index.
func (t *aggTable) setBucket(bi *bucketIndex, i int64, g *group) error {
	if i >= int64(len(bi.groups)) {
		n := int(i) + 1
		if n < 2*len(bi.groups) {
			n = min(2*len(bi.groups), maxBucketSlots)
		}
		if err := t.q.grow(int64(n-len(bi.groups)) * 8); err != nil {
			return err
		}
		bi.groups = append(bi.groups, make([]*group, n-len(bi.groups))...)
	}
	bi.groups[i] = g
	bi.used++
	return nil
}

// addBatch aggregates b by the batch plan, one run of rows with the same
// group at a time.
func (t *aggTable) addBatch(b *scan.Batch) error {
	p := &t.plan
	times := b.Time
	if batchKernels && p.timeKey >= 0 && p.width > 1 && len(times) > 0 {
		return t.addBatchBuckets(b)
	}
	t.hashBuckets()
	for i := 0; i < len(times); {
		// The run [i, j) shares one time bucket (all rows without a time key).
		j := len(times)
		bucket := times[i]
		if p.timeKey >= 0 {
			if p.width > 1 {
				bucket = floorDiv(times[i], p.width) * p.width
				end := bucket + p.width
				j = i + 1
				for j < len(times) && times[j] < end {
					j++
				}
			} else {
				j = i + 1
			}
		}
		t.key = append(t.key[:0], t.prefix...)
		if p.timeKey >= 0 {
			v := Timestamp(bucket)
			t.keyv[p.timeKey] = v
			t.key = appendKey(t.key, v)
		}
		g, err := t.find()
		if err != nil {
			return err
		}
		for k, st := range g.states {
			if t.skip[k] {
				continue
			}
			if p.useTime[k] {
				if len(t.n.aggs[k].args) == 0 {
					st.(*countState).n += int64(j - i)
					continue
				}
				if m, ok := st.(*minMaxState); ok {
					// Times ascend within a batch: the ends of the run
					// are its minimum and maximum.
					m.addTime(times[i])
					m.addTime(times[j-1])
					continue
				}
				for _, ts := range times[i:j] {
					if err := st.add([]Value{Timestamp(ts)}); err != nil {
						return err
					}
				}
				continue
			}
			c := p.cols[k]
			var null []bool
			if c.Null != nil {
				null = c.Null[i:j]
			}
			addRun(st, c.F[i:j], null)
		}
		i = j
	}
	return nil
}

// addBatchBuckets is addBatch for bin(time, w) groups with the typed
// kernels: groups come from the prefix's bucket index and each run goes
// through addRunKernel.
func (t *aggTable) addBatchBuckets(b *scan.Batch) error {
	p := &t.plan
	times := b.Time
	if t.buckets == nil {
		t.buckets = map[string]*bucketIndex{}
	}
	bi := t.buckets[string(t.prefix)]
	if bi == nil {
		bi = &bucketIndex{base: floorDiv(times[0], p.width) * p.width}
		if err := t.q.grow(int64(len(t.prefix)) + 64); err != nil {
			return err
		}
		t.buckets[string(t.prefix)] = bi
	}
	for i := 0; i < len(times); {
		bucket := floorDiv(times[i], p.width) * p.width
		end := bucket + p.width
		j := i + 1
		for j < len(times) && times[j] < end {
			j++
		}
		g, err := t.bucketGroup(bi, bucket)
		if err != nil {
			return err
		}
		fused := p.fuse.col != nil && p.fuse.col.Null == nil && p.fuse.run(g.states, p.fuse.col.F[i:j])
		for k, st := range g.states {
			if t.skip[k] || fused && p.fuse.covers[k] {
				continue
			}
			if p.useTime[k] {
				if err := t.addTimeRun(k, st, times[i:j]); err != nil {
					return err
				}
				continue
			}
			c := p.cols[k]
			var null []bool
			if c.Null != nil {
				null = c.Null[i:j]
			}
			addRunKernel(st, c.F[i:j], null)
		}
		i = j
	}
	return nil
}

// fusedRun folds a run of one DOUBLE column into up to one sum or avg,
// one min and one max and any number of counts of that column in a
// single loop. The sum adds in row order onto the state's running sum,
// so it is bit for bit the sum the per-state loops make.
type fusedRun struct {
	col    *scan.Column // nil when the batch does not fit
	sum    int          // index of the sum or avg state, -1 if none
	min    int          // index of the min state, -1 if none
	max    int
	counts []int
	covers []bool // aggregates the fused loop handles
}

// plan sets f up for the aggregates of the batch plan p, or leaves col
// nil when they do not all read one column through a fusable state.
func (f *fusedRun) plan(t *aggTable, p *batchPlan) {
	f.col, f.sum, f.min, f.max, f.counts = nil, -1, -1, -1, f.counts[:0]
	f.covers = slices.Grow(f.covers[:0], len(t.n.aggs))[:len(t.n.aggs)]
	clear(f.covers)
	var col *scan.Column
	proto := t.alloc.protosOf(t)
	for k := range t.n.aggs {
		if t.skip[k] || p.useTime[k] {
			continue
		}
		if col != nil && p.cols[k] != col {
			return
		}
		col = p.cols[k]
		switch s := proto[k].(type) {
		case *countState:
			f.counts = append(f.counts, k)
		case *sumState, *avgState:
			if f.sum >= 0 {
				return
			}
			f.sum = k
		case *minMaxState:
			if s.max {
				if f.max >= 0 {
					return
				}
				f.max = k
			} else {
				if f.min >= 0 {
					return
				}
				f.min = k
			}
		default:
			return
		}
		f.covers[k] = true
	}
	f.col = col
}

// run folds vals into the states; false means it did nothing (a min or
// max still holds NaN) and the per-state loops must run.
func (f *fusedRun) run(states []aggState, vals []float64) bool {
	var mn, mx *minMaxState
	lo, hi := 0.0, 0.0
	if f.min >= 0 {
		mn = states[f.min].(*minMaxState)
		if mn.any {
			lo = mn.v.F
		} else {
			lo = vals[0]
		}
	}
	if f.max >= 0 {
		mx = states[f.max].(*minMaxState)
		if mx.any {
			hi = mx.v.F
		} else {
			hi = vals[0]
		}
	}
	if lo != lo || hi != hi {
		return false
	}
	var sum float64
	var ss *sumState
	var as *avgState
	if f.sum >= 0 {
		switch s := states[f.sum].(type) {
		case *sumState:
			ss, sum = s, s.f
		case *avgState:
			as, sum = s, s.sum
		}
	}
	for _, x := range vals {
		sum += x
		if x < lo {
			lo = x
		}
		if x > hi {
			hi = x
		}
	}
	n := int64(len(vals))
	if ss != nil {
		ss.f, ss.any = sum, true
	}
	if as != nil {
		as.sum, as.n = sum, as.n+n
	}
	if mn != nil {
		mn.v, mn.any = Double(lo), true
	}
	if mx != nil {
		mx.v, mx.any = Double(hi), true
	}
	for _, k := range f.counts {
		states[k].(*countState).n += n
	}
	return true
}

// addTimeRun adds a run of times (ascending) to the state of aggregate k.
func (t *aggTable) addTimeRun(k int, st aggState, times []int64) error {
	if len(t.n.aggs[k].args) == 0 {
		st.(*countState).n += int64(len(times))
		return nil
	}
	if m, ok := st.(*minMaxState); ok {
		m.addTime(times[0])
		m.addTime(times[len(times)-1])
		return nil
	}
	for _, ts := range times {
		if err := st.add([]Value{Timestamp(ts)}); err != nil {
			return err
		}
	}
	return nil
}

// addFloats adds the values of f to a DOUBLE minimum or maximum in one
// loop; it keeps addFloat's rules: the first value seeds the state, NaN
// never wins against a number, and of equal values the first stays.
func (s *minMaxState) addFloats(f []float64) {
	if len(f) == 0 {
		return
	}
	if !s.any {
		s.v, s.any = Double(f[0]), true
		f = f[1:]
	}
	cur := s.v.F
	if s.max {
		for _, x := range f {
			if x > cur || cur != cur && x == x {
				cur = x
			}
		}
	} else {
		for _, x := range f {
			if x < cur || cur != cur && x == x {
				cur = x
			}
		}
	}
	s.v.F = cur
}

// addRunKernel adds a run of DOUBLE values (null marks skipped rows) to st
// with one typed loop per state, no call per value.
func addRunKernel(st aggState, f []float64, null []bool) {
	if null != nil {
		var buf [64]float64
		for len(f) > 0 {
			n := 0
			k := 0
			for ; k < len(f) && n < len(buf); k++ {
				if !null[k] {
					buf[n] = f[k]
					n++
				}
			}
			if n > 0 {
				addRunKernel(st, buf[:n], nil)
			}
			f, null = f[k:], null[k:]
		}
		return
	}
	switch s := st.(type) {
	case *minMaxState:
		s.addFloats(f)
	default:
		addRun(st, f, nil)
	}
}

// addRun adds a run of DOUBLE values (null marks skipped rows) to st.
func addRun(st aggState, f []float64, null []bool) {
	if null != nil {
		fa := st.(floatAdder)
		for i, x := range f {
			if !null[i] {
				fa.addFloat(x)
			}
		}
		return
	}
	switch s := st.(type) {
	case *countState:
		s.n += int64(len(f))
	case *sumState:
		s.any = true
		for _, x := range f {
			s.f += x
		}
	case *avgState:
		for _, x := range f {
			s.sum += x
		}
		s.n += int64(len(f))
	default:
		fa := st.(floatAdder)
		for _, x := range f {
			fa.addFloat(x)
		}
	}
}

// find returns the group of t.key (with t.keyv holding its values),
// creating it if needed.
func (t *aggTable) find() (*group, error) {
	if t.last != nil && string(t.key) == string(t.lastKey) {
		return t.last, nil
	}
	if g, ok := t.index[string(t.key)]; ok {
		t.last, t.lastKey = g, append(t.lastKey[:0], t.key...)
		return g, nil
	}
	return t.newGroup()
}

// batchable reports whether every batch of sc can take the batch path
// (see planBatch); such scans run on one goroutine, because handing
// batches to workers costs a copy that is dearer than the aggregation.
func (n *aggNode) batchable(sc *scanNode) bool {
	if len(sc.rowPred) > 0 {
		return false
	}
	tc := sc.timeCol()
	perRow := 0
	for i, g := range n.groups {
		if n.seriesGroup[i] {
			continue
		}
		perRow++
		if perRow > 1 || !(g.bin != nil && g.bin.col == tc || g.col == tc && tc >= 0) {
			return false
		}
	}
	var plainArg func(e *expr) bool
	plainArg = func(e *expr) bool {
		switch {
		case e.konst:
			return e.val.Null
		case e.col >= 0:
			return e.col == tc || sc.src[e.col].src == srcMeasureValue && e.typ.Kind == KindDouble ||
				sc.src[e.col].src == srcAttribute && e.typ.Kind == KindDouble
		case e.cases != nil:
			for _, c := range e.cases.conds {
				if !c.seriesOnly {
					return false
				}
			}
			for _, r := range e.cases.results {
				if !plainArg(r) {
					return false
				}
			}
			return plainArg(e.cases.els)
		}
		return false
	}
	for _, a := range n.aggs {
		if a.filter != nil || a.distinct || len(a.args) > 1 {
			return false
		}
		if len(a.args) == 0 {
			if a.name != "count" {
				return false
			}
			continue
		}
		switch a.name {
		case "count", "sum", "avg", "min", "max":
		default:
			return false
		}
		if !plainArg(a.args[0]) {
			return false
		}
	}
	return true
}
