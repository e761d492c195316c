package bench

import (
	"fmt"
	"math"
)

// floatTolerance is the relative (and, near zero, absolute) difference
// under which two answers' values are the same.
const floatTolerance = 1e-9

// sameFloat reports whether a and b agree within floatTolerance (NaNs agree
// with NaNs).
func sameFloat(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	d := math.Abs(a - b)
	return d <= floatTolerance || d <= floatTolerance*math.Max(math.Abs(a), math.Abs(b))
}

// compareAnswers returns "" when want and got hold the same series with the
// same points (within floatTolerance), otherwise the first difference.
func compareAnswers(want, got Answer) string {
	if len(want) != len(got) {
		return fmt.Sprintf("%d series vs %d", len(want), len(got))
	}
	for i := range want {
		w, g := want[i], got[i]
		if w.Labels != g.Labels {
			return fmt.Sprintf("series %d: %s vs %s", i, w.Labels, g.Labels)
		}
		if len(w.Points) != len(g.Points) {
			return fmt.Sprintf("%s: %d points vs %d (%s)", w.Labels, len(w.Points), len(g.Points), firstMissing(w.Points, g.Points))
		}
		for j := range w.Points {
			wp, gp := w.Points[j], g.Points[j]
			if wp.T != gp.T || !sameFloat(wp.V, gp.V) {
				return fmt.Sprintf("%s point %d: (%d, %g) vs (%d, %g)", w.Labels, j, wp.T, wp.V, gp.T, gp.V)
			}
		}
	}
	return ""
}

// firstMissing names the first timestamp (ms) that only one of a and b has.
func firstMissing(a, b []SamplePoint) string {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i].T == b[j].T:
			i++
			j++
		case a[i].T < b[j].T:
			return fmt.Sprintf("first only in TidalDB: t=%d", a[i].T)
		default:
			return fmt.Sprintf("first only in peer: t=%d", b[j].T)
		}
	}
	if i < len(a) {
		return fmt.Sprintf("first only in TidalDB: t=%d", a[i].T)
	}
	return fmt.Sprintf("first only in peer: t=%d", b[j].T)
}
