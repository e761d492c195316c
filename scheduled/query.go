package scheduled

import (
	"context"
	"time"

	"github.com/tidaldb/tidal/query/exec"
)

// Querier runs the SQL of a scheduled query with @scheduled_runtime bound
// to the invocation time, as a TIMESTAMP.
type Querier interface {
	Query(ctx context.Context, sql string, runtime time.Time) (Rows, error)
}

// Preparer is optionally implemented by a Querier: it returns the result
// columns of sql without running it, so that CreateScheduledQuery can
// reject a query whose result does not fit its target mapping.
type Preparer interface {
	Prepare(sql string) ([]exec.Column, error)
}

// Rows is a cursor over a query result. Row's slice is valid until the
// next call to Next. Close must be called.
type Rows interface {
	Columns() []exec.Column
	Next() bool
	Row() []exec.Value
	Err() error
	// BytesScanned is the data the query read; final once Next returned
	// false.
	BytesScanned() int64
	Close() error
}

// Engine is the SQL engine entry point EngineQuerier adapts; *exec.Engine
// satisfies it.
type Engine interface {
	Query(ctx context.Context, sql string, params map[string]exec.Value) (*exec.Result, error)
	Prepare(sql string) ([]exec.Column, []exec.Param, error)
}

// RuntimeParam is the name of the parameter bound to the invocation time.
const RuntimeParam = "scheduled_runtime"

// EngineQuerier runs scheduled queries on an Engine that returns
// materialised results.
type EngineQuerier struct {
	Engine Engine
}

// Query implements Querier.
func (q EngineQuerier) Query(ctx context.Context, sql string, runtime time.Time) (Rows, error) {
	res, err := q.Engine.Query(ctx, sql, map[string]exec.Value{RuntimeParam: exec.Timestamp(runtime.UnixNano())})
	if err != nil {
		return nil, err
	}
	return &resultRows{res: res, i: -1}, nil
}

// Prepare implements Preparer.
func (q EngineQuerier) Prepare(sql string) ([]exec.Column, error) {
	cols, _, err := q.Engine.Prepare(sql)
	return cols, err
}

type resultRows struct {
	res *exec.Result
	i   int
}

func (r *resultRows) Columns() []exec.Column { return r.res.Columns }
func (r *resultRows) Next() bool {
	r.i++
	return r.i < len(r.res.Rows)
}
func (r *resultRows) Row() []exec.Value   { return r.res.Rows[r.i] }
func (r *resultRows) Err() error          { return nil }
func (r *resultRows) BytesScanned() int64 { return r.res.Stats.BytesScanned }
func (r *resultRows) Close() error        { return nil }
