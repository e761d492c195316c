package exec

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/query/parser"
	"github.com/tidaldb/tidal/query/scan"
)

// Catalog is what the engine needs of the catalog: table lookup for FROM
// and listings for SHOW. *catalog.Catalog has it.
type Catalog interface {
	Table(db, name string) (catalog.Table, error)
	ListDatabases() []catalog.Database
	ListTables(db string) ([]catalog.Table, error)
}

// Engine runs SQL over a catalog and a scan source.
type Engine struct {
	cat  Catalog
	src  scan.Source
	opts Options
}

// New returns an engine reading table layouts from cat and rows from src.
func New(cat Catalog, src scan.Source, opts Options) *Engine {
	if opts.MaxMemoryBytes <= 0 {
		opts.MaxMemoryBytes = 1 << 30
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 60 * time.Second
	}
	if opts.Parallelism <= 0 {
		opts.Parallelism = runtime.GOMAXPROCS(0)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Engine{cat: cat, src: src, opts: opts}
}

func (e *Engine) newQctx(ctx context.Context, params map[string]Value) *qctx {
	q := &qctx{ctx: ctx, e: e, now: e.opts.Now().UnixNano(), params: params, maxMem: e.opts.MaxMemoryBytes}
	return q
}

// Query parses, plans and runs sql and returns the whole result; it is
// Stream with a sink that collects every row under Options.MaxMemoryBytes,
// bounded by Options.Timeout. params holds named (@name, without the @)
// and positional ("1", "2", ...) parameter values.
func (e *Engine) Query(ctx context.Context, sql string, params map[string]Value) (*Result, error) {
	ctx, cancel := context.WithTimeout(ctx, e.opts.Timeout)
	defer cancel()
	res := &Result{Rows: [][]Value{}}
	var sl slab
	stats, err := e.run(ctx, sql, params, func(cols []Column) error {
		res.Columns = cols
		return nil
	}, func(q *qctx, r []Value) error {
		if err := q.grow(rowSize(r)); err != nil {
			return err
		}
		res.Rows = append(res.Rows, sl.clone(r))
		return nil
	})
	if err != nil {
		return nil, err
	}
	res.Stats = stats
	return res, nil
}

// Sink receives a streamed result (see Stream). Its methods are called
// from one goroutine at a time, in order: Columns once, then Row for each
// row.
type Sink interface {
	// Columns announces the result columns before any row.
	Columns(cols []Column) error
	// Row receives the next row. The slice and its values are valid only
	// during the call: a sink that keeps a row copies it (CloneRow). Row
	// may block: the query waits, holding its scans, until it returns,
	// which is how a slow consumer pushes back. An error stops the query
	// and Stream returns it.
	Row(row []Value) error
}

// Stream parses, plans and runs sql, pushing the result to sink as it is
// produced instead of materialising it: a plain scan, filter or
// projection streams row by row with nothing buffered; operators that
// need all their input first (ORDER BY, GROUP BY, joins' build sides,
// windows) hold what they hold under Query too, and then stream their
// output.
//
// Stream is bounded by ctx alone: it applies no Options.Timeout, because
// a sink may pause it for as long as its consumer takes; a caller that
// wants a deadline sets one on ctx (Query applies Options.Timeout). The
// rows a sink keeps are not counted against Options.MaxMemoryBytes.
// Cancelling ctx stops the query at its next batch and Stream returns an
// *Error of kind ErrCanceled (ErrTimeout past a deadline); a query stopped
// by its sink returns the sink's error.
// Stats are those of the work done, also on error.
func (e *Engine) Stream(ctx context.Context, sql string, params map[string]Value, sink Sink) (Stats, error) {
	return e.run(ctx, sql, params, sink.Columns, func(_ *qctx, r []Value) error { return sink.Row(r) })
}

// CloneRow copies a row a Sink receives so that it outlives the call.
func CloneRow(r []Value) []Value { return append([]Value(nil), r...) }

// run plans sql, announces its columns and pushes each result row to row
// (from one goroutine), then checks the query's limits.
func (e *Engine) run(ctx context.Context, sql string, params map[string]Value, columns func([]Column) error,
	row func(*qctx, []Value) error,
) (stats Stats, err error) {
	start := time.Now()
	q := e.newQctx(ctx, params)
	defer func() {
		if r := recover(); r != nil {
			e.opts.Logger.Error("panic in query", "sql", sql, "panic", r, "stack", string(debug.Stack()))
			err = errorf(ErrExecution, "internal error: %v", r)
		}
		stats = Stats{RowsScanned: q.scanned.Load(), BytesScanned: q.bytes.Load(), Elapsed: time.Since(start)}
		e.opts.Logger.Debug("query", "sql", sql, "elapsed", stats.Elapsed, "rows_scanned", stats.RowsScanned, "err", err)
	}()
	st, err := parser.Parse(sql)
	if err != nil {
		return stats, parseError(err)
	}
	n, err := e.plan(q, st)
	if err != nil {
		return stats, err
	}
	if err := columns(resultColumns(n)); err != nil {
		return stats, err
	}
	err = n.run(q, func(r []Value) error { return row(q, r) })
	if err != nil && !errors.Is(err, errStop) {
		return stats, err
	}
	return stats, q.check()
}

// Prepare returns the result columns and parameters of sql without running
// it.
func (e *Engine) Prepare(sql string) (cols []Column, params []Param, err error) {
	defer func() {
		if r := recover(); r != nil {
			cols, params, err = nil, nil, errorf(ErrExecution, "internal error: %v", r)
		}
	}()
	st, err := parser.Parse(sql)
	if err != nil {
		return nil, nil, parseError(err)
	}
	q := e.newQctx(context.Background(), nil)
	q.prepare = true
	b := &binder{q: q}
	n, err := e.planWith(b, st)
	if err != nil {
		return nil, nil, err
	}
	// Report parameters in order of appearance.
	sort.SliceStable(b.params, func(i, j int) bool {
		p, q := b.paramPos[b.params[i].Name], b.paramPos[b.params[j].Name]
		return p.Line < q.Line || p.Line == q.Line && p.Col < q.Col
	})
	return resultColumns(n), b.params, nil
}

func parseError(err error) error {
	var pe *parser.Error
	if errors.As(err, &pe) {
		return &Error{Kind: ErrValidation, Msg: pe.Msg, Line: pe.Line, Col: pe.Col}
	}
	return &Error{Kind: ErrValidation, Msg: err.Error()}
}

func resultColumns(n node) []Column {
	cols := n.columns()
	out := make([]Column, len(cols))
	for i, c := range cols {
		out[i] = Column{Name: c.name, Type: c.typ}
	}
	return out
}

func (e *Engine) plan(q *qctx, st parser.Statement) (node, error) {
	return e.planWith(&binder{q: q}, st)
}

func (e *Engine) planWith(b *binder, st parser.Statement) (node, error) {
	switch x := st.(type) {
	case *parser.Query:
		return b.bindQuery(x, nil)
	case *parser.ShowDatabases:
		return e.showDatabases(x)
	case *parser.ShowTables:
		return e.showTables(x)
	case *parser.ShowMeasures:
		return e.showMeasures(x)
	case *parser.Describe:
		return e.describe(x)
	case *parser.Unload:
		return nil, validationf(x.Line, x.Col, "UNLOAD is not supported")
	}
	p := st.Position()
	return nil, validationf(p.Line, p.Col, "Unsupported statement")
}

func likeFilter(l *parser.Literal) (func(string) bool, error) {
	if l == nil {
		return func(string) bool { return true }, nil
	}
	m, err := compileLike(l.Value, Null(KindVarchar))
	if err != nil {
		return nil, err
	}
	return m.match, nil
}

func varcharRows(name string, vals []string) *rowsNode {
	n := &rowsNode{cols: []colRef{{name: name, typ: TypeVarchar}}}
	for _, v := range vals {
		n.rows = append(n.rows, []Value{Varchar(v)})
	}
	return n
}

func (e *Engine) showDatabases(x *parser.ShowDatabases) (node, error) {
	match, err := likeFilter(x.Like)
	if err != nil {
		return nil, err
	}
	var names []string
	if e.cat != nil {
		for _, d := range e.cat.ListDatabases() {
			if match(d.Name) {
				names = append(names, d.Name)
			}
		}
	}
	sort.Strings(names)
	return varcharRows("Database", names), nil
}

func (e *Engine) showTables(x *parser.ShowTables) (node, error) {
	match, err := likeFilter(x.Like)
	if err != nil {
		return nil, err
	}
	if x.From == nil || len(x.From.Parts) != 1 {
		return nil, validationf(x.Line, x.Col, "SHOW TABLES needs FROM database")
	}
	db := x.From.Parts[0].Value
	if e.cat == nil {
		return nil, validationf(x.Line, x.Col, "Database %s does not exist", db)
	}
	tables, err := e.cat.ListTables(db)
	if err != nil {
		return nil, validationf(x.Line, x.Col, "Database %s does not exist", db)
	}
	var names []string
	for _, t := range tables {
		if match(t.Name) {
			names = append(names, t.Name)
		}
	}
	sort.Strings(names)
	return varcharRows("Table", names), nil
}

func (e *Engine) table(id *parser.Ident, pos parser.Pos) (catalog.Table, error) {
	if id == nil || len(id.Parts) != 2 || e.cat == nil {
		return catalog.Table{}, validationf(pos.Line, pos.Col, "Expected a table name of the form database.table")
	}
	t, err := e.cat.Table(id.Parts[0].Value, id.Parts[1].Value)
	if err != nil {
		return catalog.Table{}, validationf(pos.Line, pos.Col, "Table %s.%s does not exist", id.Parts[0].Value, id.Parts[1].Value)
	}
	return t, nil
}

// showMeasures lists measure names with their value type and dimensions,
// as Timestream's SHOW MEASURES does: each measure with the dimensions its
// own series have, read from the sources' series index when it runs.
func (e *Engine) showMeasures(x *parser.ShowMeasures) (node, error) {
	match, err := likeFilter(x.Like)
	if err != nil {
		return nil, err
	}
	t, err := e.table(x.From, x.Pos)
	if err != nil {
		return nil, err
	}
	dimType := ArrayOf(Type{Kind: KindRow, Fields: []Field{{Name: "dimension_name", Type: TypeVarchar}, {Name: "data_type", Type: TypeVarchar}}})
	n := &showMeasuresNode{table: t, match: match,
		cols: []colRef{{name: "measure_name", typ: TypeVarchar}, {name: "data_type", typ: TypeVarchar}, {name: "Dimensions", typ: dimType}}}
	return n, nil
}

// showMeasuresNode produces SHOW MEASURES rows when run.
type showMeasuresNode struct {
	table catalog.Table
	match func(string) bool
	cols  []colRef
}

func (n *showMeasuresNode) columns() []colRef { return n.cols }

func (n *showMeasuresNode) run(q *qctx, emit func([]Value) error) error {
	var names []string
	types := map[string]string{}
	for _, c := range n.table.Columns {
		if c.Kind == catalog.KindMeasureName && n.match(c.Name) {
			names = append(names, c.Name)
			types[c.Name] = strings.ToLower(c.Type.String())
		}
	}
	if len(names) == 0 {
		return nil
	}
	sort.Strings(names)
	req := &scan.Request{Database: n.table.Database, Table: n.table.Name, MinTime: math.MinInt64, MaxTime: math.MaxInt64,
		Where: []scan.Matcher{{Name: scan.ColMeasureName, Op: scan.MatchIn, Values: names}}}
	series, err := scan.ListSeries(q.ctx, q.e.src, req)
	if err != nil {
		return fmt.Errorf("list series of %s.%s: %w", n.table.Database, n.table.Name, err)
	}
	dims := map[string]map[string]bool{}
	for _, s := range series {
		d := dims[s.MeasureName]
		if d == nil {
			d = map[string]bool{}
			dims[s.MeasureName] = d
		}
		for _, x := range s.Dimensions {
			d[x.Name] = true
		}
	}
	for _, m := range names {
		var ds []string
		for d := range dims[m] {
			ds = append(ds, d)
		}
		sort.Strings(ds)
		elems := make([]Value, len(ds))
		for i, d := range ds {
			elems[i] = Value{Kind: KindRow, Elems: []Value{Varchar(d), Varchar("varchar")}}
		}
		if err := emit([]Value{Varchar(m), Varchar(types[m]), {Kind: KindArray, Elems: elems}}); err != nil {
			return err
		}
	}
	return nil
}

func (e *Engine) describe(x *parser.Describe) (node, error) {
	t, err := e.table(x.Table, x.Pos)
	if err != nil {
		return nil, err
	}
	sc := newScanNode(t, t.Name)
	n := &rowsNode{cols: []colRef{{name: "Column", typ: TypeVarchar}, {name: "Type", typ: TypeVarchar}, {name: "Timestream attribute type", typ: TypeVarchar}}}
	for i, c := range sc.cols {
		attr := map[int]string{srcDimension: "DIMENSION", srcMeasureName: "MEASURE_NAME", srcTime: "TIMESTAMP", srcMeasureValue: "MEASURE_VALUE", srcAttribute: "MULTI"}[sc.src[i].src]
		n.rows = append(n.rows, []Value{Varchar(c.name), Varchar(c.typ.String()), Varchar(attr)})
	}
	return n, nil
}
