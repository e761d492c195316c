package exec

import (
	"encoding/base64"
	"math"
	"math/rand/v2"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/tidaldb/tidal/query/parser"
)

func mathFn(name string, f func(float64) float64) {
	funcs[name] = overloads(name, sig{[]Kind{KindDouble}, TypeDouble, func(a []Value) (Value, error) { return Double(f(a[0].F)), nil }})
}

// commonArgs coerces args to their common type.
func commonArgs(name string, args []*expr, pos parser.Pos) ([]*expr, Type, error) {
	t := TypeUnknown
	for _, a := range args {
		nt, ok := commonType(t, a.typ)
		if !ok {
			return nil, t, argErr(name, args, pos)
		}
		t = nt
	}
	out := make([]*expr, len(args))
	for i, a := range args {
		c, err := coerce(a, t)
		if err != nil {
			return nil, t, err
		}
		out[i] = c
	}
	return out, t, nil
}

var regexCache sync.Map

func compileRegex(p string) (*regexp.Regexp, error) {
	if r, ok := regexCache.Load(p); ok {
		return r.(*regexp.Regexp), nil
	}
	r, err := regexp.Compile(p)
	if err != nil {
		return nil, errorf(ErrExecution, "Invalid regular expression %q: %v", p, err)
	}
	regexCache.Store(p, r)
	return r, nil
}

func registerScalarFuncs() {
	funcs["coalesce"] = funcDef{bind: func(b *binder, args []*expr, pos parser.Pos) (*expr, error) {
		if len(args) == 0 {
			return nil, argErr("coalesce", args, pos)
		}
		args, t, err := commonArgs("coalesce", args, pos)
		if err != nil {
			return nil, err
		}
		return derived(t, args, func(row []Value) (Value, error) {
			for _, a := range args {
				v, err := a.eval(row)
				if err != nil || !v.Null {
					return v, err
				}
			}
			return Null(t.Kind), nil
		})
	}}
	funcs["nullif"] = funcDef{bind: func(b *binder, args []*expr, pos parser.Pos) (*expr, error) {
		if len(args) != 2 {
			return nil, argErr("nullif", args, pos)
		}
		if _, ok := commonType(args[0].typ, args[1].typ); !ok {
			return nil, argErr("nullif", args, pos)
		}
		t := args[0].typ
		return lenient(t, args, func(a []Value) (Value, error) {
			if !a[0].Null && !a[1].Null && compareValues(a[0], a[1]) == 0 {
				return Null(t.Kind), nil
			}
			return a[0], nil
		})
	}}
	funcs["if"] = funcDef{bind: func(b *binder, args []*expr, pos parser.Pos) (*expr, error) {
		if len(args) < 2 || len(args) > 3 {
			return nil, argErr("if", args, pos)
		}
		c, err := b.expectBool(args[0])
		if err != nil {
			return nil, err
		}
		rest := args[1:]
		if len(rest) == 1 {
			rest = append(rest, constExpr(Null(KindUnknown), TypeUnknown))
		}
		rest, t, err := commonArgs("if", rest, pos)
		if err != nil {
			return nil, err
		}
		return derived(t, []*expr{c, rest[0], rest[1]}, func(row []Value) (Value, error) {
			v, err := c.eval(row)
			if err != nil {
				return v, err
			}
			if !v.Null && v.B {
				return rest[0].eval(row)
			}
			return rest[1].eval(row)
		})
	}}
	for _, n := range []string{"greatest", "least"} {
		greatest := n == "greatest"
		name := n
		funcs[n] = funcDef{bind: func(b *binder, args []*expr, pos parser.Pos) (*expr, error) {
			if len(args) == 0 {
				return nil, argErr(name, args, pos)
			}
			args, t, err := commonArgs(name, args, pos)
			if err != nil {
				return nil, err
			}
			return strict(t, args, func(a []Value) (Value, error) {
				best := a[0]
				for _, v := range a[1:] {
					if c := compareValues(v, best); (greatest && c > 0) || (!greatest && c < 0) {
						best = v
					}
				}
				return best, nil
			})
		}}
	}
	funcs["typeof"] = funcDef{bind: func(b *binder, args []*expr, pos parser.Pos) (*expr, error) {
		if len(args) != 1 {
			return nil, argErr("typeof", args, pos)
		}
		return constExpr(Varchar(args[0].typ.String()), TypeVarchar), nil
	}}
	funcs["try"] = funcDef{bind: func(b *binder, args []*expr, pos parser.Pos) (*expr, error) {
		if len(args) != 1 {
			return nil, argErr("try", args, pos)
		}
		a := args[0]
		e := &expr{typ: a.typ, col: -1, refs: a.refs, fn: func(row []Value) (Value, error) {
			v, err := a.eval(row)
			if err != nil {
				return Null(a.typ.Kind), nil //nolint:nilerr // TRY turns an error into NULL
			}
			return v, nil
		}}
		return e, nil
	}}

	// Math.
	funcs["abs"] = overloads("abs",
		sig{[]Kind{KindBigint}, TypeBigint, func(a []Value) (Value, error) {
			if a[0].I == math.MinInt64 {
				return Value{}, overflow("negation")
			}
			return Bigint(absInt(a[0].I)), nil
		}},
		sig{[]Kind{KindDouble}, TypeDouble, func(a []Value) (Value, error) { return Double(math.Abs(a[0].F)), nil }})
	for _, n := range []string{"ceil", "ceiling", "floor", "truncate"} {
		f := map[string]func(float64) float64{"ceil": math.Ceil, "ceiling": math.Ceil, "floor": math.Floor, "truncate": math.Trunc}[n]
		funcs[n] = overloads(n,
			sig{[]Kind{KindBigint}, TypeBigint, func(a []Value) (Value, error) { return a[0], nil }},
			sig{[]Kind{KindDouble}, TypeDouble, func(a []Value) (Value, error) { return Double(f(a[0].F)), nil }})
	}
	funcs["round"] = overloads("round",
		sig{[]Kind{KindBigint}, TypeBigint, func(a []Value) (Value, error) { return a[0], nil }},
		sig{[]Kind{KindDouble}, TypeDouble, func(a []Value) (Value, error) { return Double(math.Round(a[0].F)), nil }},
		sig{[]Kind{KindBigint, KindBigint}, TypeBigint, func(a []Value) (Value, error) {
			if a[1].I >= 0 {
				return a[0], nil
			}
			p := math.Pow(10, float64(-a[1].I))
			return Bigint(int64(math.Round(float64(a[0].I)/p) * p)), nil
		}},
		sig{[]Kind{KindDouble, KindBigint}, TypeDouble, func(a []Value) (Value, error) {
			p := math.Pow(10, float64(a[1].I))
			return Double(math.Round(a[0].F*p) / p), nil
		}})
	funcs["sign"] = overloads("sign",
		sig{[]Kind{KindBigint}, TypeBigint, func(a []Value) (Value, error) { return Bigint(int64(cmpInt(a[0].I, 0))), nil }},
		sig{[]Kind{KindDouble}, TypeDouble, func(a []Value) (Value, error) {
			if math.IsNaN(a[0].F) {
				return a[0], nil
			}
			return Double(float64(compareFloat(a[0].F, 0))), nil
		}})
	funcs["mod"] = overloads("mod",
		sig{[]Kind{KindBigint, KindBigint}, TypeBigint, func(a []Value) (Value, error) { return intArith(parser.OpMod, a[0].I, a[1].I) }},
		sig{[]Kind{KindDouble, KindDouble}, TypeDouble, func(a []Value) (Value, error) { return Double(math.Mod(a[0].F, a[1].F)), nil }})
	for n, f := range map[string]func(float64) float64{"sqrt": math.Sqrt, "cbrt": math.Cbrt, "exp": math.Exp, "ln": math.Log,
		"log2": math.Log2, "log10": math.Log10, "degrees": func(x float64) float64 { return x * 180 / math.Pi },
		"radians": func(x float64) float64 { return x * math.Pi / 180 }, "acos": math.Acos, "asin": math.Asin, "atan": math.Atan,
		"cos": math.Cos, "cosh": math.Cosh, "sin": math.Sin, "tan": math.Tan, "tanh": math.Tanh} {
		mathFn(n, f)
	}
	for _, n := range []string{"pow", "power"} {
		funcs[n] = overloads(n, sig{[]Kind{KindDouble, KindDouble}, TypeDouble, func(a []Value) (Value, error) { return Double(math.Pow(a[0].F, a[1].F)), nil }})
	}
	funcs["atan2"] = overloads("atan2", sig{[]Kind{KindDouble, KindDouble}, TypeDouble, func(a []Value) (Value, error) { return Double(math.Atan2(a[0].F, a[1].F)), nil }})
	funcs["log"] = overloads("log", sig{[]Kind{KindDouble, KindDouble}, TypeDouble, func(a []Value) (Value, error) {
		return Double(math.Log(a[1].F) / math.Log(a[0].F)), nil
	}})
	for n, v := range map[string]float64{"pi": math.Pi, "e": math.E, "infinity": math.Inf(1), "nan": math.NaN()} {
		val := v
		funcs[n] = funcDef{bind: func(b *binder, args []*expr, pos parser.Pos) (*expr, error) {
			return constExpr(Double(val), TypeDouble), nil
		}}
	}
	for n, f := range map[string]func(float64) bool{"is_nan": math.IsNaN, "is_finite": func(x float64) bool { return !math.IsInf(x, 0) && !math.IsNaN(x) },
		"is_infinite": func(x float64) bool { return math.IsInf(x, 0) }} {
		fn := f
		funcs[n] = overloads(n, sig{[]Kind{KindDouble}, TypeBoolean, func(a []Value) (Value, error) { return Boolean(fn(a[0].F)), nil }})
	}
	randFn := funcDef{bind: func(b *binder, args []*expr, pos parser.Pos) (*expr, error) {
		switch len(args) {
		case 0:
			return &expr{typ: TypeDouble, col: -1, volatile: true, fn: func([]Value) (Value, error) { return Double(rand.Float64()), nil }}, nil
		case 1:
			a := args[0]
			if !isIntLike(a.typ.Kind) {
				return nil, argErr("random", args, pos)
			}
			return &expr{typ: TypeBigint, col: -1, volatile: true, refs: a.refs, fn: func(row []Value) (Value, error) {
				v, err := a.eval(row)
				if err != nil || v.Null {
					return Null(KindBigint), err
				}
				if v.I <= 0 {
					return Value{}, errorf(ErrExecution, "bound must be positive")
				}
				return Bigint(rand.Int64N(v.I)), nil
			}}, nil
		}
		return nil, argErr("random", args, pos)
	}}
	funcs["rand"], funcs["random"] = randFn, randFn
	funcs["to_base"] = overloads("to_base", sig{[]Kind{KindBigint, KindBigint}, TypeVarchar, func(a []Value) (Value, error) {
		if a[1].I < 2 || a[1].I > 36 {
			return Value{}, errorf(ErrExecution, "Radix must be between 2 and 36")
		}
		return Varchar(strconv.FormatInt(a[0].I, int(a[1].I))), nil
	}})
	funcs["from_base"] = overloads("from_base", sig{[]Kind{KindVarchar, KindBigint}, TypeBigint, func(a []Value) (Value, error) {
		if a[1].I < 2 || a[1].I > 36 {
			return Value{}, errorf(ErrExecution, "Radix must be between 2 and 36")
		}
		i, err := strconv.ParseInt(a[0].S, int(a[1].I), 64)
		if err != nil {
			return Value{}, errorf(ErrExecution, "Not a valid base-%d number: %s", a[1].I, a[0].S)
		}
		return Bigint(i), nil
	}})
	bitwise := func(n string, f func(x, y int64) int64) {
		funcs[n] = overloads(n, sig{[]Kind{KindBigint, KindBigint}, TypeBigint, func(a []Value) (Value, error) { return Bigint(f(a[0].I, a[1].I)), nil }})
	}
	bitwise("bitwise_and", func(x, y int64) int64 { return x & y })
	bitwise("bitwise_or", func(x, y int64) int64 { return x | y })
	bitwise("bitwise_xor", func(x, y int64) int64 { return x ^ y })
	funcs["bitwise_not"] = overloads("bitwise_not", sig{[]Kind{KindBigint}, TypeBigint, func(a []Value) (Value, error) { return Bigint(^a[0].I), nil }})
	funcs["bit_count"] = overloads("bit_count", sig{[]Kind{KindBigint, KindBigint}, TypeBigint, func(a []Value) (Value, error) {
		bits := a[1].I
		if bits < 2 || bits > 64 {
			return Value{}, errorf(ErrExecution, "Bits specified in bit_count must be between 2 and 64")
		}
		x := uint64(a[0].I)
		if bits < 64 {
			x &= 1<<uint(bits) - 1
		}
		var c int64
		for ; x != 0; x &= x - 1 {
			c++
		}
		return Bigint(c), nil
	}})

	// Strings.
	funcs["concat"] = funcDef{bind: func(b *binder, args []*expr, pos parser.Pos) (*expr, error) {
		if len(args) > 0 && args[0].typ.Kind == KindArray {
			return bindArrayConcat(args, pos)
		}
		for i, a := range args {
			if a.typ.Kind != KindVarchar && a.typ.Kind != KindUnknown {
				c, err := castExpr(a, TypeVarchar)
				if err != nil {
					return nil, err
				}
				args[i] = c
			}
		}
		return strict(TypeVarchar, args, func(a []Value) (Value, error) {
			var s strings.Builder
			for _, v := range a {
				s.WriteString(v.S)
			}
			return Varchar(s.String()), nil
		})
	}}
	str1 := func(n string, ret Type, f func(s string) Value) {
		funcs[n] = overloads(n, sig{[]Kind{KindVarchar}, ret, func(a []Value) (Value, error) { return f(a[0].S), nil }})
	}
	str1("lower", TypeVarchar, func(s string) Value { return Varchar(strings.ToLower(s)) })
	str1("upper", TypeVarchar, func(s string) Value { return Varchar(strings.ToUpper(s)) })
	str1("trim", TypeVarchar, func(s string) Value { return Varchar(strings.Trim(s, " ")) })
	str1("ltrim", TypeVarchar, func(s string) Value { return Varchar(strings.TrimLeft(s, " ")) })
	str1("rtrim", TypeVarchar, func(s string) Value { return Varchar(strings.TrimRight(s, " ")) })
	str1("length", TypeBigint, func(s string) Value { return Bigint(int64(utf8.RuneCountInString(s))) })
	funcs["reverse"] = funcDef{bind: func(b *binder, args []*expr, pos parser.Pos) (*expr, error) {
		if len(args) != 1 {
			return nil, argErr("reverse", args, pos)
		}
		switch args[0].typ.Kind {
		case KindArray:
			return strict(args[0].typ, args, func(a []Value) (Value, error) {
				out := slices.Clone(a[0].Elems)
				slices.Reverse(out)
				return Value{Kind: KindArray, Elems: out}, nil
			})
		case KindVarchar, KindUnknown:
			return strict(TypeVarchar, args, func(a []Value) (Value, error) {
				r := []rune(a[0].S)
				slices.Reverse(r)
				return Varchar(string(r)), nil
			})
		}
		return nil, argErr("reverse", args, pos)
	}}
	str1("to_utf8", TypeVarchar, func(s string) Value { return Varchar(s) })
	str1("from_utf8", TypeVarchar, func(s string) Value { return Varchar(strings.ToValidUTF8(s, "\uFFFD")) })
	str1("to_base64", TypeVarchar, func(s string) Value { return Varchar(base64.StdEncoding.EncodeToString([]byte(s))) })
	funcs["from_base64"] = overloads("from_base64", sig{[]Kind{KindVarchar}, TypeVarchar, func(a []Value) (Value, error) {
		d, err := base64.StdEncoding.DecodeString(a[0].S)
		if err != nil {
			return Value{}, errorf(ErrExecution, "Invalid base64 input")
		}
		return Varchar(string(d)), nil
	}})
	funcs["codepoint"] = overloads("codepoint", sig{[]Kind{KindVarchar}, TypeBigint, func(a []Value) (Value, error) {
		r := []rune(a[0].S)
		if len(r) != 1 {
			return Value{}, errorf(ErrExecution, "Input string must be a single character string")
		}
		return Bigint(int64(r[0])), nil
	}})
	funcs["chr"] = overloads("chr", sig{[]Kind{KindBigint}, TypeVarchar, func(a []Value) (Value, error) {
		if a[0].I < 0 || a[0].I > utf8.MaxRune {
			return Value{}, errorf(ErrExecution, "Not a valid Unicode code point: %d", a[0].I)
		}
		return Varchar(string(rune(a[0].I))), nil
	}})
	funcs["replace"] = overloads("replace",
		sig{[]Kind{KindVarchar, KindVarchar}, TypeVarchar, func(a []Value) (Value, error) { return Varchar(strings.ReplaceAll(a[0].S, a[1].S, "")), nil }},
		sig{[]Kind{KindVarchar, KindVarchar, KindVarchar}, TypeVarchar, func(a []Value) (Value, error) {
			return Varchar(strings.ReplaceAll(a[0].S, a[1].S, a[2].S)), nil
		}})
	strpos := func(a []Value) (Value, error) {
		i := strings.Index(a[0].S, a[1].S)
		if i < 0 {
			return Bigint(0), nil
		}
		return Bigint(int64(utf8.RuneCountInString(a[0].S[:i])) + 1), nil
	}
	funcs["strpos"] = overloads("strpos", sig{[]Kind{KindVarchar, KindVarchar}, TypeBigint, strpos})
	funcs["position"] = overloads("position", sig{[]Kind{KindVarchar, KindVarchar}, TypeBigint, func(a []Value) (Value, error) {
		return strpos([]Value{a[1], a[0]})
	}})
	substr := func(a []Value) (Value, error) {
		r := []rune(a[0].S)
		start := a[1].I
		if start < 0 {
			start = int64(len(r)) + start + 1
		}
		if start < 1 || start > int64(len(r)) {
			return Varchar(""), nil
		}
		end := int64(len(r))
		if len(a) == 3 {
			if a[2].I < 0 {
				return Varchar(""), nil
			}
			end = min(end, start-1+a[2].I)
		}
		return Varchar(string(r[start-1 : end])), nil
	}
	for _, n := range []string{"substr", "substring"} {
		funcs[n] = overloads(n, sig{[]Kind{KindVarchar, KindBigint}, TypeVarchar, substr},
			sig{[]Kind{KindVarchar, KindBigint, KindBigint}, TypeVarchar, substr})
	}
	padFn := func(left bool) func(a []Value) (Value, error) {
		return func(a []Value) (Value, error) {
			r, n, p := []rune(a[0].S), a[1].I, []rune(a[2].S)
			if n < 0 || n > 1<<20 {
				return Value{}, errorf(ErrExecution, "Target length must be in the range [0..1048576]")
			}
			if int64(len(r)) >= n {
				return Varchar(string(r[:n])), nil
			}
			if len(p) == 0 {
				return Value{}, errorf(ErrExecution, "Padding string must not be empty")
			}
			var fill []rune
			for int64(len(fill)+len(r)) < n {
				fill = append(fill, p[len(fill)%len(p)])
			}
			if left {
				return Varchar(string(fill) + string(r)), nil
			}
			return Varchar(string(r) + string(fill)), nil
		}
	}
	funcs["lpad"] = overloads("lpad", sig{[]Kind{KindVarchar, KindBigint, KindVarchar}, TypeVarchar, padFn(true)})
	funcs["rpad"] = overloads("rpad", sig{[]Kind{KindVarchar, KindBigint, KindVarchar}, TypeVarchar, padFn(false)})
	funcs["split"] = overloads("split", sig{[]Kind{KindVarchar, KindVarchar}, ArrayOf(TypeVarchar), func(a []Value) (Value, error) {
		if a[1].S == "" {
			return Value{}, errorf(ErrExecution, "The delimiter may not be the empty string")
		}
		return stringArray(strings.Split(a[0].S, a[1].S)), nil
	}})
	funcs["split_part"] = overloads("split_part", sig{[]Kind{KindVarchar, KindVarchar, KindBigint}, TypeVarchar, func(a []Value) (Value, error) {
		if a[2].I < 1 {
			return Value{}, errorf(ErrExecution, "Index must be greater than zero")
		}
		parts := strings.Split(a[0].S, a[1].S)
		if a[2].I > int64(len(parts)) {
			return Null(KindVarchar), nil
		}
		return Varchar(parts[a[2].I-1]), nil
	}})
	funcs["levenshtein_distance"] = overloads("levenshtein_distance", sig{[]Kind{KindVarchar, KindVarchar}, TypeBigint, func(a []Value) (Value, error) {
		x, y := []rune(a[0].S), []rune(a[1].S)
		prev := make([]int, len(y)+1)
		for j := range prev {
			prev[j] = j
		}
		for i := 1; i <= len(x); i++ {
			cur := make([]int, len(y)+1)
			cur[0] = i
			for j := 1; j <= len(y); j++ {
				c := 1
				if x[i-1] == y[j-1] {
					c = 0
				}
				cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
			}
			prev = cur
		}
		return Bigint(int64(prev[len(y)])), nil
	}})
	funcs["hamming_distance"] = overloads("hamming_distance", sig{[]Kind{KindVarchar, KindVarchar}, TypeBigint, func(a []Value) (Value, error) {
		x, y := []rune(a[0].S), []rune(a[1].S)
		if len(x) != len(y) {
			return Value{}, errorf(ErrExecution, "The input strings to hamming_distance function must have the same length")
		}
		var d int64
		for i := range x {
			if x[i] != y[i] {
				d++
			}
		}
		return Bigint(d), nil
	}})

	// Regular expressions.
	funcs["regexp_like"] = overloads("regexp_like", sig{[]Kind{KindVarchar, KindVarchar}, TypeBoolean, func(a []Value) (Value, error) {
		r, err := compileRegex(a[1].S)
		if err != nil {
			return Value{}, err
		}
		return Boolean(r.MatchString(a[0].S)), nil
	}})
	extract := func(a []Value) (Value, error) {
		r, err := compileRegex(a[1].S)
		if err != nil {
			return Value{}, err
		}
		g := int64(0)
		if len(a) == 3 {
			g = a[2].I
		}
		if g < 0 || g > int64(r.NumSubexp()) {
			return Value{}, errorf(ErrExecution, "Pattern has %d groups. Cannot access group %d", r.NumSubexp(), g)
		}
		m := r.FindStringSubmatch(a[0].S)
		if m == nil {
			return Null(KindVarchar), nil
		}
		return Varchar(m[g]), nil
	}
	funcs["regexp_extract"] = overloads("regexp_extract", sig{[]Kind{KindVarchar, KindVarchar}, TypeVarchar, extract},
		sig{[]Kind{KindVarchar, KindVarchar, KindBigint}, TypeVarchar, extract})
	extractAll := func(a []Value) (Value, error) {
		r, err := compileRegex(a[1].S)
		if err != nil {
			return Value{}, err
		}
		g := int64(0)
		if len(a) == 3 {
			g = a[2].I
		}
		if g < 0 || g > int64(r.NumSubexp()) {
			return Value{}, errorf(ErrExecution, "Pattern has %d groups. Cannot access group %d", r.NumSubexp(), g)
		}
		var out []string
		for _, m := range r.FindAllStringSubmatch(a[0].S, -1) {
			out = append(out, m[g])
		}
		return stringArray(out), nil
	}
	funcs["regexp_extract_all"] = overloads("regexp_extract_all", sig{[]Kind{KindVarchar, KindVarchar}, ArrayOf(TypeVarchar), extractAll},
		sig{[]Kind{KindVarchar, KindVarchar, KindBigint}, ArrayOf(TypeVarchar), extractAll})
	replaceRe := func(a []Value) (Value, error) {
		r, err := compileRegex(a[1].S)
		if err != nil {
			return Value{}, err
		}
		repl := ""
		if len(a) == 3 {
			repl = a[2].S
		}
		return Varchar(r.ReplaceAllString(a[0].S, repl)), nil
	}
	funcs["regexp_replace"] = overloads("regexp_replace", sig{[]Kind{KindVarchar, KindVarchar}, TypeVarchar, replaceRe},
		sig{[]Kind{KindVarchar, KindVarchar, KindVarchar}, TypeVarchar, replaceRe})
	funcs["regexp_split"] = overloads("regexp_split", sig{[]Kind{KindVarchar, KindVarchar}, ArrayOf(TypeVarchar), func(a []Value) (Value, error) {
		r, err := compileRegex(a[1].S)
		if err != nil {
			return Value{}, err
		}
		return stringArray(r.Split(a[0].S, -1)), nil
	}})
}

func stringArray(ss []string) Value {
	out := make([]Value, len(ss))
	for i, s := range ss {
		out[i] = Varchar(s)
	}
	return Value{Kind: KindArray, Elems: out}
}

func castExpr(a *expr, t Type) (*expr, error) {
	return derived(t, []*expr{a}, func(row []Value) (Value, error) {
		v, err := a.eval(row)
		if err != nil {
			return v, err
		}
		return castValue(v, t)
	})
}
