package deletes

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/internal/tombstone"
	"github.com/tidaldb/tidal/query/exec"
	"github.com/tidaldb/tidal/query/scan"
)

// Inner is the engine a DELETE's constant time bounds are evaluated on,
// and every other statement passes to (*exec.Engine and *unload.Engine
// are).
type Inner interface {
	Stream(ctx context.Context, sql string, params map[string]exec.Value, sink exec.Sink) (exec.Stats, error)
	Query(ctx context.Context, sql string, params map[string]exec.Value) (*exec.Result, error)
	Prepare(sql string) ([]exec.Column, []exec.Param, error)
}

// Catalog resolves the table of a DELETE; *catalog.Catalog has it.
type Catalog interface {
	Table(db, name string) (catalog.Table, error)
}

// Engine runs DELETE statements and passes every other statement on.
type Engine struct {
	inner Inner
	set   *tombstone.Set
	cat   Catalog
	src   scan.Source
	now   func() time.Time
}

// New wraps inner. src is what queries read (the tombstone-filtered merge
// of the tiers): the answer counts the series of src that the DELETE hits.
func New(inner Inner, set *tombstone.Set, cat Catalog, src scan.Source) *Engine {
	return &Engine{inner: inner, set: set, cat: cat, src: src, now: time.Now}
}

// ResultColumns are the columns of a DELETE's answer: one row with the
// tombstone's ID, the number of series that had rows in the deleted range,
// and the range (Timestream's Query response shape, as for any query).
var ResultColumns = []exec.Column{
	{Name: "tombstone_id", Type: exec.Type{Kind: exec.KindBigint}},
	{Name: "series", Type: exec.Type{Kind: exec.KindBigint}},
	{Name: "ranges", Type: exec.Type{Kind: exec.KindBigint}},
	{Name: "min_time", Type: exec.Type{Kind: exec.KindTimestamp}},
	{Name: "max_time", Type: exec.Type{Kind: exec.KindTimestamp}},
}

// Result is what a DELETE did.
type Result struct {
	Tombstone tombstone.Tombstone
	// Series counts the series that had rows in the range.
	Series int
	// Empty is set when the time range is empty: no tombstone was added.
	Empty bool
}

func (r *Result) row() []exec.Value {
	if r.Empty {
		return []exec.Value{exec.Null(exec.KindBigint), exec.Bigint(0), exec.Bigint(0),
			exec.Null(exec.KindTimestamp), exec.Null(exec.KindTimestamp)}
	}
	t := &r.Tombstone
	return []exec.Value{exec.Bigint(int64(t.ID)), exec.Bigint(int64(r.Series)), exec.Bigint(1),
		exec.Timestamp(t.MinTime), exec.Timestamp(t.MaxTime)}
}

// Stream implements the engine interface of the Query API.
func (e *Engine) Stream(ctx context.Context, sql string, params map[string]exec.Value, sink exec.Sink) (exec.Stats, error) {
	if !IsDelete(sql) {
		return e.inner.Stream(ctx, sql, params, sink)
	}
	res, err := e.Delete(ctx, sql)
	if err != nil {
		return exec.Stats{}, err
	}
	if err := sink.Columns(ResultColumns); err != nil {
		return exec.Stats{}, err
	}
	return exec.Stats{}, sink.Row(res.row())
}

// Query runs sql, collecting its result.
func (e *Engine) Query(ctx context.Context, sql string, params map[string]exec.Value) (*exec.Result, error) {
	if !IsDelete(sql) {
		return e.inner.Query(ctx, sql, params)
	}
	res, err := e.Delete(ctx, sql)
	if err != nil {
		return nil, err
	}
	return &exec.Result{Columns: ResultColumns, Rows: [][]exec.Value{res.row()}}, nil
}

// Prepare reports the columns of sql.
func (e *Engine) Prepare(sql string) ([]exec.Column, []exec.Param, error) {
	if !IsDelete(sql) {
		return e.inner.Prepare(sql)
	}
	if _, err := Parse(sql); err != nil {
		return nil, nil, err
	}
	return ResultColumns, nil, nil
}

// Delete runs a DELETE statement: once it returns, the tombstone is
// durable and every scan that starts afterwards misses its rows.
func (e *Engine) Delete(ctx context.Context, sql string) (*Result, error) {
	spec, err := Parse(sql)
	if err != nil {
		return nil, err
	}
	tbl, err := e.cat.Table(spec.Database, spec.Table)
	if err != nil {
		if catalog.IsNotFound(err) {
			return nil, validation("%s", err.Error())
		}
		return nil, fmt.Errorf("delete: %w", err)
	}
	lo, hi, err := e.resolve(ctx, spec.Bounds)
	if err != nil {
		return nil, err
	}
	t := tombstone.Tombstone{TableID: tbl.ID, Database: tbl.Database, Table: tbl.Name, Where: spec.Where, MinTime: lo, MaxTime: hi}
	if lo > hi {
		return &Result{Tombstone: t, Empty: true}, nil
	}
	return Apply(ctx, e.set, e.src, t)
}

// Apply counts the series t hits in src, then adds t to set.
func Apply(ctx context.Context, set *tombstone.Set, src scan.Source, t tombstone.Tombstone) (*Result, error) {
	n, err := tombstone.Count(ctx, src, &t)
	if err != nil {
		return nil, fmt.Errorf("delete: count series: %w", err)
	}
	added, err := set.Add([]tombstone.Tombstone{t})
	if err != nil {
		return nil, fmt.Errorf("delete: %w", err)
	}
	return &Result{Tombstone: added[0], Series: n}, nil
}

// resolve evaluates the time bounds to an inclusive range; with no upper
// bound it ends now, so that rows written after the DELETE are kept.
func (e *Engine) resolve(ctx context.Context, bounds []Bound) (int64, int64, error) {
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	explicitHi, empty := false, false
	for _, b := range bounds {
		res, err := e.inner.Query(ctx, "SELECT CAST(("+b.Expr+") AS TIMESTAMP)", nil)
		if err != nil {
			var ee *exec.Error
			if errors.As(err, &ee) {
				return 0, 0, validation("DELETE: time %s %s: %s (a time bound must be a constant expression)", b.Op, b.Expr, ee.Msg)
			}
			return 0, 0, fmt.Errorf("delete: evaluate time bound: %w", err)
		}
		if len(res.Rows) != 1 || len(res.Rows[0]) != 1 || res.Rows[0][0].Null || res.Rows[0][0].Kind != exec.KindTimestamp {
			return 0, 0, validation("DELETE: time %s %s is not a timestamp", b.Op, b.Expr)
		}
		explicitHi = explicitHi || b.Op == "<=" || b.Op == "<" || b.Op == "="
		if !applyBound(&lo, &hi, b.Op, res.Rows[0][0].I) {
			empty = true
		}
	}
	if !explicitHi {
		hi = e.now().UnixNano()
	}
	if empty {
		lo, hi = 1, 0
	}
	return lo, hi, nil
}
