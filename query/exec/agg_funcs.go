package exec

// The registry of aggregate functions: each one's arity, NULL handling,
// result type and accumulator (agg_state.go). Binding a call is in
// agg_bind.go, the hash aggregation operator in agg.go.

// aggDef describes an aggregate function: its result type for argument
// types and a state constructor.
type aggDef struct {
	minArgs, maxArgs int
	// skipNulls: rows whose first argument is NULL are not passed to add.
	skipNulls bool
	typ       func(args []Type) (Type, error)
	state     func(c *aggCall) aggState
}

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

// aggDefs is the registry of aggregate functions by lower-case name.
var aggDefs map[string]*aggDef

func init() {
	moment := func(name string) *aggDef {
		return &aggDef{minArgs: 1, maxArgs: 1, skipNulls: true,
			typ: func(a []Type) (Type, error) {
				if _, err := numericArg(a); err != nil {
					return Type{}, err
				}
				return TypeDouble, nil
			},
			state: func(*aggCall) aggState { return &momentState{name: name} }}
	}
	pair := func(name string) *aggDef {
		return &aggDef{minArgs: 2, maxArgs: 2, skipNulls: true, typ: fixed(TypeDouble),
			state: func(*aggCall) aggState { return &pairState{name: name} }}
	}
	collect := func(minArgs, maxArgs int, skipNulls bool, typ func([]Type) (Type, error)) *aggDef {
		return &aggDef{minArgs: minArgs, maxArgs: maxArgs, skipNulls: skipNulls, typ: typ,
			state: func(c *aggCall) aggState { return &collectState{call: c} }}
	}
	// unary is a one-argument aggregate that skips NULLs.
	unary := func(typ func([]Type) (Type, error), state func(c *aggCall) aggState) *aggDef {
		return &aggDef{minArgs: 1, maxArgs: 1, skipNulls: true, typ: typ, state: state}
	}
	// by is min_by or max_by: two arguments, NULLs seen.
	by := func(max bool) *aggDef {
		return &aggDef{minArgs: 2, maxArgs: 2, skipNulls: false, typ: sameAsArg,
			state: func(c *aggCall) aggState { return &byState{max: max, kind: c.typ.Kind} }}
	}
	aggDefs = map[string]*aggDef{
		"count": {minArgs: 0, maxArgs: 1, skipNulls: true, typ: fixed(TypeBigint),
			state: func(*aggCall) aggState { return &countState{} }},
		"count_if": unary(func(a []Type) (Type, error) {
			if a[0].Kind != KindBoolean {
				return Type{}, typeError("expected boolean")
			}
			return TypeBigint, nil
		}, func(*aggCall) aggState { return &countIfState{} }),
		"sum": unary(func(a []Type) (Type, error) {
			if a[0].Kind == KindIntervalDayToSecond {
				return a[0], nil
			}
			t, err := numericArg(a)
			if t.Kind == KindInteger || t.Kind == KindUnknown {
				t = TypeBigint
			}
			return t, err
		}, func(c *aggCall) aggState { return &sumState{kind: c.typ.Kind} }),
		"avg": unary(func(a []Type) (Type, error) {
			if a[0].Kind == KindIntervalDayToSecond {
				return a[0], nil
			}
			if _, err := numericArg(a); err != nil {
				return Type{}, err
			}
			return TypeDouble, nil
		}, func(c *aggCall) aggState { return &avgState{kind: c.typ.Kind} }),
		"min":             unary(sameAsArg, func(c *aggCall) aggState { return &minMaxState{kind: c.typ.Kind} }),
		"max":             unary(sameAsArg, func(c *aggCall) aggState { return &minMaxState{max: true, kind: c.typ.Kind} }),
		"min_by":          by(false),
		"max_by":          by(true),
		"arbitrary":       unary(sameAsArg, func(c *aggCall) aggState { return &arbitraryState{kind: c.typ.Kind} }),
		"any_value":       unary(sameAsArg, func(c *aggCall) aggState { return &arbitraryState{kind: c.typ.Kind} }),
		"bool_and":        unary(fixed(TypeBoolean), func(*aggCall) aggState { return &boolState{and: true} }),
		"every":           unary(fixed(TypeBoolean), func(*aggCall) aggState { return &boolState{and: true} }),
		"bool_or":         unary(fixed(TypeBoolean), func(*aggCall) aggState { return &boolState{} }),
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
