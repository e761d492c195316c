package exec

import (
	"math"
	"sort"

	"github.com/tidaldb/tidal/query/parser"
)

// seriesFn registers a function whose first argument is a timeseries.
func seriesFn(name string, bind func(args []*expr, pos parser.Pos) (*expr, error)) {
	funcs[name] = funcDef{bind: func(b *binder, args []*expr, pos parser.Pos) (*expr, error) {
		if len(args) == 0 || (args[0].typ.Kind != KindTimeSeries && args[0].typ.Kind != KindUnknown) {
			return nil, argErr(name, args, pos)
		}
		return bind(args, pos)
	}}
}

func pointFloat(p Point) float64 { return p.Value.asFloat() }

// interpolate returns the value of pts at t by method, and whether t is
// within the series' range.
func interpolate(method string, pts []Point, t int64, fill Value) (Value, bool) {
	i := sort.Search(len(pts), func(i int) bool { return pts[i].Time >= t })
	if i < len(pts) && pts[i].Time == t {
		return pts[i].Value, true
	}
	if method == "fill" {
		return fill, true
	}
	if method == "locf" {
		if i == 0 {
			return Value{}, false
		}
		return pts[i-1].Value, true
	}
	if i == 0 || i == len(pts) {
		return Value{}, false
	}
	a, b := pts[i-1], pts[i]
	if method == "spline_cubic" && len(pts) >= 3 {
		return Double(splineAt(pts, t)), true
	}
	f := float64(t-a.Time) / float64(b.Time-a.Time)
	return Double(pointFloat(a) + f*(pointFloat(b)-pointFloat(a))), true
}

// splineAt evaluates the natural cubic spline through pts at t.
func splineAt(pts []Point, t int64) float64 {
	n := len(pts)
	x := make([]float64, n)
	y := make([]float64, n)
	for i, p := range pts {
		x[i] = float64(p.Time-pts[0].Time) / 1e9
		y[i] = pointFloat(p)
	}
	// Solve for second derivatives (natural boundary).
	m := make([]float64, n)
	u := make([]float64, n)
	for i := 1; i < n-1; i++ {
		sig := (x[i] - x[i-1]) / (x[i+1] - x[i-1])
		p := sig*m[i-1] + 2
		m[i] = (sig - 1) / p
		u[i] = (y[i+1]-y[i])/(x[i+1]-x[i]) - (y[i]-y[i-1])/(x[i]-x[i-1])
		u[i] = (6*u[i]/(x[i+1]-x[i-1]) - sig*u[i-1]) / p
	}
	m[n-1] = 0
	for k := n - 2; k >= 0; k-- {
		m[k] = m[k]*m[k+1] + u[k]
	}
	xt := float64(t-pts[0].Time) / 1e9
	hi := sort.SearchFloat64s(x, xt)
	lo := hi - 1
	h := x[hi] - x[lo]
	a := (x[hi] - xt) / h
	b := (xt - x[lo]) / h
	return a*y[lo] + b*y[hi] + ((a*a*a-a)*m[lo]+(b*b*b-b)*m[hi])*h*h/6
}

func registerSeriesFuncs() {
	for _, m := range []string{"linear", "locf", "spline_cubic", "fill"} {
		method := m
		name := "interpolate_" + m
		seriesFn(name, func(args []*expr, pos parser.Pos) (*expr, error) {
			want := 2
			if method == "fill" {
				want = 3
			}
			if len(args) != want {
				return nil, argErr(name, args, pos)
			}
			et := elemType(args[0].typ)
			if method == "linear" || method == "spline_cubic" {
				et = TypeDouble
			}
			if method == "fill" {
				var err error
				if args[2], err = coerce(args[2], elemType(args[0].typ)); err != nil {
					return nil, err
				}
			}
			at := args[1]
			if at.typ.Kind == KindTimestamp || at.konst && at.typ.Kind == KindVarchar {
				var err error
				if at, err = coerce(at, TypeTimestamp); err != nil {
					return nil, err
				}
				return strict(et, append([]*expr{args[0], at}, args[2:]...), func(a []Value) (Value, error) {
					var fill Value
					if method == "fill" {
						fill = a[2]
					}
					v, ok := interpolate(method, a[0].Points, a[1].I, fill)
					if !ok {
						return Null(et.Kind), nil
					}
					return coerceValue(v, et), nil
				})
			}
			if at.typ.Kind != KindArray && at.typ.Kind != KindTimeSeries {
				return nil, argErr(name, args, pos)
			}
			return strict(TimeSeriesOf(et), append([]*expr{args[0], at}, args[2:]...), func(a []Value) (Value, error) {
				var times []int64
				if a[1].Kind == KindTimeSeries {
					for _, p := range a[1].Points {
						times = append(times, p.Time)
					}
				} else {
					for _, e := range a[1].Elems {
						if !e.Null {
							times = append(times, e.I)
						}
					}
				}
				fv := Value{}
				if method == "fill" {
					fv = a[2]
				}
				out := []Point{}
				for _, t := range times {
					if v, ok := interpolate(method, a[0].Points, t, fv); ok {
						out = append(out, Point{Time: t, Value: coerceValue(v, et)})
					}
				}
				return Value{Kind: KindTimeSeries, Points: out}, nil
			})
		})
	}
	for _, nonNeg := range []bool{false, true} {
		nn := nonNeg
		name := "derivative_linear"
		if nn {
			name = "non_negative_derivative_linear"
		}
		seriesFn(name, func(args []*expr, pos parser.Pos) (*expr, error) {
			if len(args) != 2 || args[1].typ.Kind != KindIntervalDayToSecond {
				return nil, argErr(name, args, pos)
			}
			return strict(TimeSeriesOf(TypeDouble), args, func(a []Value) (Value, error) {
				pts := a[0].Points
				out := []Point{}
				for i := 1; i < len(pts); i++ {
					dt := float64(pts[i].Time - pts[i-1].Time)
					if dt == 0 {
						continue
					}
					d := (pointFloat(pts[i]) - pointFloat(pts[i-1])) / dt * float64(a[1].I)
					if nn && d < 0 {
						continue
					}
					out = append(out, Point{Time: pts[i].Time, Value: Double(d)})
				}
				return Value{Kind: KindTimeSeries, Points: out}, nil
			})
		})
	}
	seriesFn("integral_trapezoidal", func(args []*expr, pos parser.Pos) (*expr, error) {
		if len(args) == 1 {
			args = append(args, constExpr(intervalDS(1e9), TypeIntervalDS))
		}
		if len(args) != 2 || args[1].typ.Kind != KindIntervalDayToSecond {
			return nil, argErr("integral_trapezoidal", args, pos)
		}
		return strict(TypeDouble, args, func(a []Value) (Value, error) {
			pts := a[0].Points
			if len(pts) < 2 {
				return Null(KindDouble), nil
			}
			var sum float64
			for i := 1; i < len(pts); i++ {
				dt := float64(pts[i].Time-pts[i-1].Time) / float64(a[1].I)
				sum += (pointFloat(pts[i]) + pointFloat(pts[i-1])) / 2 * dt
			}
			return Double(sum), nil
		})
	})
	for _, n := range []string{"correlate_pearson", "correlate_spearman"} {
		name := n
		seriesFn(name, func(args []*expr, pos parser.Pos) (*expr, error) {
			if len(args) != 2 || args[1].typ.Kind != KindTimeSeries {
				return nil, argErr(name, args, pos)
			}
			return strict(TypeDouble, args, func(a []Value) (Value, error) {
				p, q := a[0].Points, a[1].Points
				if len(p) != len(q) {
					return Value{}, errorf(ErrExecution, "%s requires time series with the same timestamps", name)
				}
				x := make([]float64, len(p))
				y := make([]float64, len(q))
				for i := range p {
					if p[i].Time != q[i].Time {
						return Value{}, errorf(ErrExecution, "%s requires time series with the same timestamps", name)
					}
					x[i], y[i] = pointFloat(p[i]), pointFloat(q[i])
				}
				if name == "correlate_spearman" {
					x, y = ranks(x), ranks(y)
				}
				return pearson(x, y), nil
			})
		})
	}
}

func pearson(x, y []float64) Value {
	n := float64(len(x))
	if n < 2 {
		return Null(KindDouble)
	}
	var mx, my float64
	for i := range x {
		mx += x[i]
		my += y[i]
	}
	mx /= n
	my /= n
	var sxy, sxx, syy float64
	for i := range x {
		sxy += (x[i] - mx) * (y[i] - my)
		sxx += (x[i] - mx) * (x[i] - mx)
		syy += (y[i] - my) * (y[i] - my)
	}
	if sxx == 0 || syy == 0 {
		return Null(KindDouble)
	}
	return Double(sxy / math.Sqrt(sxx*syy))
}

// ranks returns fractional ranks (ties share the mean rank).
func ranks(v []float64) []float64 {
	idx := make([]int, len(v))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return v[idx[a]] < v[idx[b]] })
	r := make([]float64, len(v))
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && v[idx[j+1]] == v[idx[i]] {
			j++
		}
		mean := float64(i+j)/2 + 1
		for k := i; k <= j; k++ {
			r[idx[k]] = mean
		}
		i = j + 1
	}
	return r
}
