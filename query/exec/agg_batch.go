package exec

import (
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
}

// addBatch aggregates b by the batch plan, one run of rows with the same
// group at a time.
func (t *aggTable) addBatch(b *scan.Batch) error {
	p := &t.plan
	times := b.Time
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
