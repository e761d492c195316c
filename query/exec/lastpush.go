package exec

// lastOnly reports whether an aggregation reading scan sc directly needs
// each series' newest row only, so that its scan may ask the sources for
// just that row (scan.Request.Last): every aggregate is max(time) without
// DISTINCT or FILTER, every group key reads series columns only, and no
// predicate runs per row (time bounds are in the request, series
// predicates hold for every row of a series). The maximum time of a group
// is then the largest of its series' newest times. TSBS's lastpoint has
// this shape (max(time) GROUP BY hostname, measure_name).
func lastOnly(n *aggNode, sc *scanNode) bool {
	if disableLastPushdown || len(n.aggs) == 0 || len(sc.rowPred) > 0 {
		return false
	}
	for _, a := range n.aggs {
		if a.name != "max" || a.distinct || a.filter != nil || len(a.args) != 1 {
			return false
		}
		x := a.args[0]
		if x.konst || x.col < 0 || x.col >= len(sc.src) || sc.src[x.col].src != srcTime {
			return false
		}
	}
	for _, g := range n.groups {
		if g.volatile {
			return false
		}
		for _, r := range g.refs {
			if !sc.isSeriesCol(r) {
				return false
			}
		}
	}
	return true
}

// disableLastPushdown turns lastOnly off (benchmarks compare).
var disableLastPushdown bool
