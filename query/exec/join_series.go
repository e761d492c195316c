package exec

import (
	"slices"

	"github.com/tidaldb/tidal/query/scan"
)

// seriesProbe is an inner hash join whose probe side is a table scan and
// whose probe keys are plain scan columns: dimensions and measure_name,
// which are constant within a batch, and at most one time column, which
// ascends within a batch. The build rows are grouped by the series part
// of their key with their times sorted, so that each probe batch costs one
// map lookup and a merge of two sorted time lists, and only the probe rows
// that match are materialised. TSBS's high-cpu-all and lastpoint are this
// shape (a.hostname = b.hostname AND a.time = b.time).
type seriesProbe struct {
	sc         *scanNode
	seriesKeys []int // indexes into the key lists of the series columns
	timeKey    int   // index into the key lists of the time column, or -1
}

// seriesGroup holds the build rows of one series key, ordered by time (then
// by build order) when the join has a time key, else in build order.
type seriesGroup struct {
	times []int64
	rows  []int32
}

// planSeriesProbe returns the series plan for probing with pkeys, or nil
// when the probe side or the keys do not have its shape.
func planSeriesProbe(probe node, pkeys, bkeys []*expr) *seriesProbe {
	sc := scanUnder(probe)
	if sc == nil || len(pkeys) == 0 || len(sc.cols) != len(probe.columns()) {
		return nil
	}
	p := &seriesProbe{sc: sc, timeKey: -1}
	for k, pk := range pkeys {
		if pk.col < 0 || pk.col >= len(sc.src) || pk.konst {
			return nil
		}
		switch sc.src[pk.col].src {
		case srcDimension, srcMeasureName:
			if pk.typ.Kind != KindVarchar || bkeys[k].typ.Kind != KindVarchar {
				return nil
			}
			p.seriesKeys = append(p.seriesKeys, k)
		case srcTime:
			if p.timeKey >= 0 || pk.typ.Kind != KindTimestamp || bkeys[k].typ.Kind != KindTimestamp {
				return nil
			}
			p.timeKey = k
		default:
			return nil
		}
	}
	return p
}

// index groups the build rows by the series part of their keys. Rows with
// a NULL key never match and are left out.
func (p *seriesProbe) index(bkeys []*expr, bs *buildSide) (map[string]*seriesGroup, error) {
	sk := make([]*expr, len(p.seriesKeys))
	for i, k := range p.seriesKeys {
		sk[i] = bkeys[k]
	}
	groups := map[string]*seriesGroup{}
	var key []byte
	for i := range bs.len() {
		r := bs.row(i)
		var ok bool
		var err error
		key, ok, err = keyOf(key[:0], sk, r)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		var t int64
		if p.timeKey >= 0 {
			v, err := bkeys[p.timeKey].eval(r)
			if err != nil {
				return nil, err
			}
			if v.Null {
				continue
			}
			t = v.I
		}
		g := groups[string(key)]
		if g == nil {
			g = &seriesGroup{}
			groups[string(key)] = g
		}
		g.times = append(g.times, t)
		g.rows = append(g.rows, int32(i))
	}
	if p.timeKey >= 0 {
		for _, g := range groups {
			sortGroup(g)
		}
	}
	return groups, nil
}

// sortGroup orders g by time, keeping build order among equal times.
func sortGroup(g *seriesGroup) {
	if slices.IsSorted(g.times) {
		return
	}
	idx := make([]int, len(g.times))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmpInt(g.times[a], g.times[b]) })
	times := make([]int64, len(idx))
	rows := make([]int32, len(idx))
	for i, j := range idx {
		times[i], rows[i] = g.times[j], g.rows[j]
	}
	g.times, g.rows = times, rows
}

// run scans the probe side and calls match with each probe row (the scan
// worker's row buffer) and the build rows whose keys equal its keys, in
// probe order.
func (p *seriesProbe) run(q *qctx, pkeys []*expr, groups map[string]*seriesGroup, match func(probe []Value, build []int32) error) error {
	sk := make([]*expr, len(p.seriesKeys))
	for i, k := range p.seriesKeys {
		sk[i] = pkeys[k]
	}
	sc := p.sc
	tc := sc.timeCol()
	var key []byte
	hook := func(st *batchState, b *scan.Batch) (bool, error) {
		var ok bool
		var err error
		key, ok, err = keyOf(key[:0], sk, st.row)
		if err != nil || !ok {
			return true, err
		}
		g := groups[string(key)]
		if g == nil {
			return true, nil
		}
		if p.timeKey < 0 {
			for i := range b.Time {
				ok, err := sc.loadRow(st, b, i, tc)
				if err != nil {
					return true, err
				}
				if ok {
					if err := match(st.row, g.rows); err != nil {
						return true, err
					}
				}
			}
			return true, nil
		}
		// Merge the batch's ascending times with the group's.
		ts := b.Time
		j := 0
		if len(ts) > 0 {
			j, _ = slices.BinarySearch(g.times, ts[0])
		}
		i := 0
		for i < len(ts) && j < len(g.times) {
			switch t := g.times[j]; {
			case ts[i] < t:
				i += searchFrom(ts[i+1:], t) + 1
			case ts[i] > t:
				j++
			default:
				e := j + 1
				for e < len(g.times) && g.times[e] == t {
					e++
				}
				ok, err := sc.loadRow(st, b, i, tc)
				if err != nil {
					return true, err
				}
				if ok {
					if err := match(st.row, g.rows[j:e]); err != nil {
						return true, err
					}
				}
				// j stays: a repeated probe time matches the run again.
				i++
			}
		}
		return true, nil
	}
	return sc.runWorkers(q, 1, func(int) (batchHook, func([]Value) error) {
		return hook, func([]Value) error { return nil }
	})
}

// searchFrom returns the number of leading elements of ts below t.
func searchFrom(ts []int64, t int64) int {
	// Matches are usually near: gallop before the binary search.
	n := 1
	for n < len(ts) && ts[n-1] < t {
		n *= 2
	}
	k, _ := slices.BinarySearch(ts[:min(n, len(ts))], t)
	return k
}
