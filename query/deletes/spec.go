// Package deletes runs deletions: the SQL statement DELETE FROM db.table
// WHERE <time range and dimension predicates> (an extension: Timestream's
// dialect has no DELETE) through the Query API, and Prometheus's admin API
// POST /api/v1/admin/tsdb/delete_series and clean_tombstones. Each
// deletion becomes a tombstone in the server's internal/tombstone Set,
// which hides the rows from every scan at once and has the tiers drop them.
package deletes

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/tidaldb/tidal/internal/tombstone"
	"github.com/tidaldb/tidal/query/exec"
	"github.com/tidaldb/tidal/query/parser"
	"github.com/tidaldb/tidal/query/scan"
)

// Spec is a parsed DELETE statement.
type Spec struct {
	Database, Table string
	// Where holds the dimension and measure_name predicates, ANDed.
	Where []tombstone.Matcher
	// Bounds are the predicates on time, ANDed; their values are constant
	// expressions the engine evaluates (Resolve).
	Bounds []Bound
}

// Bound is one predicate "time op value".
type Bound struct {
	// Op is one of >=, >, <=, <, =.
	Op string
	// Expr is the value, SQL text of a constant expression.
	Expr string
}

// IsDelete reports whether sql starts with the DELETE keyword after any
// whitespace and comments.
func IsDelete(sql string) bool { return keywordAt(sql) >= 0 }

// keywordAt returns the offset of the leading DELETE keyword, -1 if none.
func keywordAt(sql string) int {
	i := 0
	for {
		for i < len(sql) && strings.IndexByte(" \t\r\n", sql[i]) >= 0 {
			i++
		}
		s := sql[i:]
		switch {
		case strings.HasPrefix(s, "--"):
			j := strings.IndexByte(s, '\n')
			if j < 0 {
				return -1
			}
			i += j + 1
		case strings.HasPrefix(s, "/*"):
			j := strings.Index(s[2:], "*/")
			if j < 0 {
				return -1
			}
			i += j + 4
		default:
			if len(s) < 6 || !strings.EqualFold(s[:6], "DELETE") {
				return -1
			}
			if len(s) > 6 {
				c := s[6]
				if c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80 {
					return -1
				}
			}
			return i
		}
	}
}

func validation(format string, args ...any) error {
	return &exec.Error{Kind: exec.ErrValidation, Msg: fmt.Sprintf(format, args...)}
}

// Parse parses a DELETE statement: DELETE FROM db.table [WHERE p AND p
// ...] where each p is a comparison of time with a constant (=, <, <=, >,
// >=, BETWEEN), or of a dimension or measure_name with string literals (=,
// <>, IN, NOT IN, LIKE 'prefix%', IS [NOT] NULL). Errors are
// *exec.Error validation errors.
func Parse(sql string) (*Spec, error) {
	at := keywordAt(sql)
	if at < 0 {
		return nil, validation("not a DELETE statement")
	}
	// The rest is a SELECT's FROM and WHERE: parse it as one.
	st, err := parser.Parse(sql[:at] + "SELECT *" + sql[at+6:])
	if err != nil {
		var pe *parser.Error
		if errors.As(err, &pe) {
			return nil, &exec.Error{Kind: exec.ErrValidation, Msg: pe.Msg, Line: pe.Line, Col: pe.Col}
		}
		return nil, validation("%v", err)
	}
	q, ok := st.(*parser.Query)
	if !ok || len(q.With) > 0 || len(q.OrderBy) > 0 || q.Limit != nil || q.Offset != nil || q.LimitAll {
		return nil, validation("DELETE takes FROM db.table and an optional WHERE, nothing else")
	}
	sel, ok := q.Body.(*parser.Select)
	if !ok || sel.Distinct || len(sel.Items) != 1 || !sel.Items[0].Star || sel.Items[0].StarOf != nil ||
		sel.GroupBy != nil || sel.Having != nil || len(sel.From) != 1 {
		return nil, validation("DELETE takes FROM db.table and an optional WHERE, nothing else")
	}
	tbl, ok := sel.From[0].(*parser.Table)
	if !ok || tbl.Alias != nil || len(tbl.Name.Parts) != 2 {
		return nil, validation("DELETE FROM needs a table named database.table")
	}
	spec := &Spec{Database: tbl.Name.Parts[0].Value, Table: tbl.Name.Parts[1].Value}
	if sel.Where != nil {
		if err := spec.addWhere(sel.Where); err != nil {
			return nil, err
		}
	}
	return spec, nil
}

// column returns the column e names, false if e is not a column.
func column(e parser.Expr) (string, bool) {
	id, ok := e.(*parser.Ident)
	if !ok || len(id.Parts) != 1 {
		return "", false
	}
	return id.Parts[0].Value, true
}

func isTime(name string) bool { return strings.EqualFold(name, scan.ColTime) }

// dimension returns the dimension (or measure_name) that e names.
func dimension(e parser.Expr) (string, bool) {
	name, ok := column(e)
	if !ok || isTime(name) {
		return "", false
	}
	if strings.EqualFold(name, scan.ColMeasureName) {
		return scan.ColMeasureName, true
	}
	if strings.HasPrefix(strings.ToLower(name), scan.ColMeasureValue) {
		return "", false
	}
	return name, true
}

// str returns the value of a string literal.
func str(e parser.Expr) (string, bool) {
	l, ok := e.(*parser.Literal)
	if !ok || l.Kind != parser.LitString {
		return "", false
	}
	return l.Value, true
}

var flipped = map[parser.BinaryOp]parser.BinaryOp{parser.OpEQ: parser.OpEQ, parser.OpNE: parser.OpNE,
	parser.OpLT: parser.OpGT, parser.OpGT: parser.OpLT, parser.OpLE: parser.OpGE, parser.OpGE: parser.OpLE}

func unsupported(e parser.Expr) error {
	return validation("DELETE cannot use the predicate %s: its WHERE takes predicates ANDed together, each on time (=, <, <=, >, >=, BETWEEN a constant) "+
		"or on a dimension or measure_name (=, <>, IN, NOT IN with string literals, LIKE 'prefix%%', IS [NOT] NULL)", parser.Format(e))
}

func (s *Spec) addWhere(e parser.Expr) error {
	switch x := e.(type) {
	case *parser.Binary:
		if x.Op == parser.OpAnd {
			if err := s.addWhere(x.L); err != nil {
				return err
			}
			return s.addWhere(x.R)
		}
		op, ok := flipped[x.Op]
		if !ok {
			return unsupported(e)
		}
		l, r := x.L, x.R
		if _, isCol := column(l); !isCol {
			l, r, x = r, l, &parser.Binary{Op: op, L: r, R: l}
		}
		name, ok := column(l)
		if !ok {
			return unsupported(e)
		}
		if isTime(name) {
			if x.Op == parser.OpNE {
				return unsupported(e)
			}
			s.Bounds = append(s.Bounds, Bound{Op: x.Op.String(), Expr: parser.Format(r)})
			return nil
		}
		dim, ok := dimension(l)
		v, isStr := str(r)
		if !ok || !isStr || x.Op != parser.OpEQ && x.Op != parser.OpNE {
			return unsupported(e)
		}
		mop := tombstone.OpEqual
		if x.Op == parser.OpNE {
			mop = tombstone.OpNotEqual
		}
		s.Where = append(s.Where, tombstone.Matcher{Name: dim, Op: mop, Values: []string{v}})
		return nil
	case *parser.Between:
		name, ok := column(x.X)
		if !ok || !isTime(name) || x.Not {
			return unsupported(e)
		}
		s.Bounds = append(s.Bounds, Bound{Op: ">=", Expr: parser.Format(x.Low)}, Bound{Op: "<=", Expr: parser.Format(x.High)})
		return nil
	case *parser.InList:
		dim, ok := dimension(x.X)
		if !ok {
			return unsupported(e)
		}
		vals := make([]string, 0, len(x.List))
		for _, it := range x.List {
			v, ok := str(it)
			if !ok {
				return unsupported(e)
			}
			vals = append(vals, v)
		}
		mop := tombstone.OpIn
		if x.Not {
			mop = tombstone.OpNotIn
		}
		s.Where = append(s.Where, tombstone.Matcher{Name: dim, Op: mop, Values: vals})
		return nil
	case *parser.Like:
		dim, ok := dimension(x.X)
		pat, isStr := str(x.Pattern)
		if !ok || !isStr || x.Not || x.Escape != nil {
			return unsupported(e)
		}
		prefix, wild := strings.CutSuffix(pat, "%")
		if strings.ContainsAny(prefix, "%_") {
			return unsupported(e)
		}
		if wild {
			s.Where = append(s.Where, tombstone.Matcher{Name: dim, Op: tombstone.OpPrefix, Values: []string{prefix}})
		} else {
			s.Where = append(s.Where, tombstone.Matcher{Name: dim, Op: tombstone.OpEqual, Values: []string{prefix}})
		}
		return nil
	case *parser.IsNull:
		dim, ok := dimension(x.X)
		if !ok || dim == scan.ColMeasureName {
			return unsupported(e)
		}
		mop := tombstone.OpAbsent
		if x.Not {
			mop = tombstone.OpPresent
		}
		s.Where = append(s.Where, tombstone.Matcher{Name: dim, Op: mop})
		return nil
	}
	return unsupported(e)
}

// applyBound narrows [lo, hi] by "time op v"; false when no time can
// satisfy it.
func applyBound(lo, hi *int64, op string, v int64) bool {
	switch op {
	case ">=":
		*lo = max(*lo, v)
	case ">":
		if v == math.MaxInt64 {
			return false
		}
		*lo = max(*lo, v+1)
	case "<=":
		*hi = min(*hi, v)
	case "<":
		if v == math.MinInt64 {
			return false
		}
		*hi = min(*hi, v-1)
	case "=":
		*lo, *hi = max(*lo, v), min(*hi, v)
	}
	return true
}
