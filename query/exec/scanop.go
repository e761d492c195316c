package exec

import (
	"context"
	"errors"
	"math"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/query/scan"
)

// Scan column sources.
const (
	srcDimension = iota
	srcMeasureName
	srcTime
	srcMeasureValue
	srcAttribute
)

type scanCol struct {
	src  int
	name string           // dimension or attribute name
	vt   ingest.ValueType // measure_value::<vt> and attributes
}

// scanNode reads one table through scan.Source. Series-level predicates
// (on dimensions and measure_name only) run once per batch; row-level
// predicates run per row.
type scanNode struct {
	cols       []colRef
	src        []scanCol
	used       []bool
	req        scan.Request
	seriesPred []*expr
	rowPred    []*expr
	empty      bool // the WHERE clause can never hold
	// measures are the table's measure names, used to split a scan into
	// disjoint per-worker scans.
	measures []string
	// splitWidth, when not 0, splits the scan by time instead: worker i
	// reads the i-th run of whole splitWidth-aligned buckets of the
	// request's time range (see timeSplits).
	splitWidth int64
}

func valueKind(t ingest.ValueType) Kind {
	switch t {
	case ingest.TypeDouble:
		return KindDouble
	case ingest.TypeBigint:
		return KindBigint
	case ingest.TypeVarchar:
		return KindVarchar
	case ingest.TypeBoolean:
		return KindBoolean
	case ingest.TypeTimestamp:
		return KindTimestamp
	}
	return KindUnknown
}

// newScanNode lays out a table's columns: dimensions, measure_name, time,
// measure_value::<type> for each single-measure type, then multi-measure
// attributes.
func newScanNode(t catalog.Table, qual string) *scanNode {
	n := &scanNode{req: scan.Request{Database: t.Database, Table: t.Name, MinTime: math.MinInt64, MaxTime: math.MaxInt64}}
	add := func(name string, typ Type, sc scanCol) {
		n.cols = append(n.cols, colRef{qual: qual, name: name, typ: typ})
		n.src = append(n.src, sc)
	}
	for _, c := range t.Columns {
		if c.Kind == catalog.KindDimension {
			add(c.Name, TypeVarchar, scanCol{src: srcDimension, name: c.Name})
		}
	}
	add(scan.ColMeasureName, TypeVarchar, scanCol{src: srcMeasureName})
	add(scan.ColTime, TypeTimestamp, scanCol{src: srcTime})
	var single [ingest.TypeMulti]bool
	for _, c := range t.Columns {
		if c.Kind == catalog.KindMeasureName {
			n.measures = append(n.measures, c.Name)
			if c.Type < ingest.TypeMulti {
				single[c.Type] = true
			}
		}
	}
	for _, vt := range []ingest.ValueType{ingest.TypeDouble, ingest.TypeBigint, ingest.TypeVarchar, ingest.TypeBoolean, ingest.TypeTimestamp} {
		if single[vt] {
			k := valueKind(vt)
			add(scan.ColMeasureValue+"::"+k.String(), Type{Kind: k}, scanCol{src: srcMeasureValue, vt: vt})
		}
	}
	for _, c := range t.Columns {
		if c.Kind == catalog.KindAttribute {
			k := valueKind(c.Type)
			add(c.Name, Type{Kind: k}, scanCol{src: srcAttribute, name: c.Name, vt: c.Type})
		}
	}
	n.used = make([]bool, len(n.cols))
	return n
}

func (n *scanNode) columns() []colRef { return n.cols }

// isSeriesCol reports whether column i is constant within a series.
func (n *scanNode) isSeriesCol(i int) bool {
	return n.src[i].src == srcDimension || n.src[i].src == srcMeasureName
}

// finish fills req.Columns from the used columns.
func (n *scanNode) finish() {
	cols := []string{}
	mv := false
	for i, s := range n.src {
		if !n.used[i] {
			continue
		}
		switch s.src {
		case srcMeasureValue:
			if !mv {
				cols = append(cols, scan.ColMeasureValue)
				mv = true
			}
		case srcAttribute:
			cols = append(cols, s.name)
		}
	}
	n.req.Columns = cols
	// Only the measures the request can return are split among workers:
	// a query on one measure runs as one scan, without goroutines.
	for _, m := range n.req.Where {
		if m.Name == scan.ColMeasureName {
			n.measures = slices.DeleteFunc(n.measures, func(name string) bool { return !m.Matches(name, true) })
		}
	}
}

// batchState is one worker's view of the current batch.
type batchState struct {
	row  []Value
	cols []*scan.Column // per output column, for measure columns
}

// startBatch sets the series columns of st.row and resolves the measure
// columns of b; it reports false when the series predicates reject b.
func (n *scanNode) startBatch(st *batchState, b *scan.Batch) (bool, error) {
	if st.row == nil {
		st.row = make([]Value, len(n.cols))
		st.cols = make([]*scan.Column, len(n.cols))
	}
	for i, s := range n.src {
		st.cols[i] = nil
		switch s.src {
		case srcDimension:
			if v, ok := b.Series.Dimension(s.name); ok {
				st.row[i] = Varchar(v)
			} else {
				st.row[i] = Null(KindVarchar)
			}
		case srcMeasureName:
			st.row[i] = Varchar(b.Series.MeasureName)
		case srcMeasureValue:
			st.row[i] = Null(n.cols[i].typ.Kind)
			if n.used[i] {
				if c := b.Column(scan.ColMeasureValue); c != nil && c.Type == s.vt {
					st.cols[i] = c
				}
			}
		case srcAttribute:
			st.row[i] = Null(n.cols[i].typ.Kind)
			if n.used[i] {
				if c := b.Column(s.name); c != nil && c.Type == s.vt {
					st.cols[i] = c
				}
			}
		}
	}
	for _, p := range n.seriesPred {
		v, err := p.eval(st.row)
		if err != nil {
			return false, err
		}
		if v.Null || !v.B {
			return false, nil
		}
	}
	return true, nil
}

// emitBatch pushes the rows of b that pass the row predicates.
func (n *scanNode) emitBatch(st *batchState, b *scan.Batch, timeCol int, emit func([]Value) error) error {
	for i := range b.Time {
		ok, err := n.loadRow(st, b, i, timeCol)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if err := emit(st.row); err != nil {
			return err
		}
	}
	return nil
}

// loadRow sets the time and measure columns of st.row to row i of b and
// reports whether the row predicates hold.
func (n *scanNode) loadRow(st *batchState, b *scan.Batch, i, timeCol int) (bool, error) {
	row := st.row
	if timeCol >= 0 {
		row[timeCol] = Timestamp(b.Time[i])
	}
	for j, c := range st.cols {
		if c == nil {
			continue
		}
		if c.IsNull(i) {
			row[j] = Null(n.cols[j].typ.Kind)
			continue
		}
		switch c.Type {
		case ingest.TypeDouble:
			row[j] = Double(c.F[i])
		case ingest.TypeBigint:
			row[j] = Bigint(c.I[i])
		case ingest.TypeTimestamp:
			row[j] = Timestamp(c.I[i])
		case ingest.TypeVarchar:
			row[j] = Varchar(c.S[i])
		case ingest.TypeBoolean:
			row[j] = Boolean(c.B[i])
		}
	}
	for _, p := range n.rowPred {
		v, err := p.eval(row)
		if err != nil {
			return false, err
		}
		if v.Null || !v.B {
			return false, nil
		}
	}
	return true, nil
}

func (n *scanNode) timeCol() int {
	for i, s := range n.src {
		if s.src == srcTime {
			return i
		}
	}
	return -1
}

func (n *scanNode) run(q *qctx, emit func([]Value) error) error {
	return n.runWorkers(q, 1, func(int) (batchHook, func([]Value) error) {
		return nil, emit
	})
}

func (n *scanNode) account(q *qctx, b *scan.Batch) {
	q.scanned.Add(int64(b.Len()))
	q.bytes.Add(int64(b.Len()) * int64(8+8*len(b.Columns)))
}

// batchHook sees each batch after its series columns are set; it returns
// true when it consumed the batch itself (no rows are emitted).
type batchHook func(st *batchState, b *scan.Batch) (bool, error)

// runWorkers scans with workers goroutines; setup(i) returns worker i's
// batch hook (may be nil) and row sink. With one worker the scan runs on
// the calling goroutine.
func (n *scanNode) runWorkers(q *qctx, workers int, setup func(int) (batchHook, func([]Value) error)) error {
	if n.empty || n.req.MinTime > n.req.MaxTime {
		return nil
	}
	if workers > 1 && n.splitWidth > 0 {
		return n.runTimeSplit(q, workers, setup)
	}
	if workers > 1 && len(n.measures) >= workers {
		return n.runPartitioned(q, workers, setup)
	}
	cur, err := q.e.src.Scan(q.ctx, &n.req)
	if err != nil {
		return scanError(q, err)
	}
	defer cur.Close()
	tc := n.timeCol()
	if workers <= 1 {
		var st batchState
		hook, emit := setup(0)
		for cur.Next() {
			if err := q.check(); err != nil {
				return err
			}
			b := cur.Batch()
			n.account(q, b)
			ok, err := n.startBatch(&st, b)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			if hook != nil {
				done, err := hook(&st, b)
				if err != nil {
					return err
				}
				if done {
					continue
				}
			}
			if err := n.emitBatch(&st, b, tc, emit); err != nil {
				return err
			}
		}
		if err := cur.Err(); err != nil {
			return scanError(q, err)
		}
		return nil
	}
	ch := make(chan *scan.Batch, workers*2)
	errs := make([]error, workers)
	done := make(chan struct{})
	var wg sync.WaitGroup
	var once sync.Once
	stop := func() { once.Do(func() { close(done) }) }
	for w := range workers {
		hook, emit := setup(w)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if p := recover(); p != nil {
					errs[w] = workerPanic(q, p)
					stop()
				}
			}()
			var st batchState
			for b := range ch {
				if errs[w] != nil {
					continue
				}
				ok, err := n.startBatch(&st, b)
				if err == nil && ok {
					done := false
					if hook != nil {
						done, err = hook(&st, b)
					}
					if err == nil && !done {
						err = n.emitBatch(&st, b, tc, emit)
					}
				}
				if err != nil {
					errs[w] = err
					stop()
				}
			}
		}()
	}
	var rerr error
loop:
	for cur.Next() {
		if err := q.check(); err != nil {
			rerr = err
			break
		}
		b := cur.Batch()
		n.account(q, b)
		select {
		case ch <- b.Clone():
		case <-done:
			break loop
		}
	}
	if rerr == nil {
		if err := cur.Err(); err != nil {
			rerr = scanError(q, err)
		}
	}
	close(ch)
	wg.Wait()
	for _, e := range errs {
		if e != nil && !errors.Is(e, errStop) {
			return e
		}
	}
	return rerr
}

// runPartitioned splits the scan by measure name into one scan per
// worker, each read, decoded and aggregated on its own goroutine. The last
// worker takes every measure name the others do not, so series whose name
// the catalog does not list are still read exactly once.
func (n *scanNode) runPartitioned(q *qctx, workers int, setup func(int) (batchHook, func([]Value) error)) error {
	return n.runRequests(q, workers, setup, func(w int, req *scan.Request) {
		var mine, others []string
		for i, m := range n.measures {
			if i%workers == w {
				mine = append(mine, m)
			} else {
				others = append(others, m)
			}
		}
		if w < workers-1 {
			req.Where = append(req.Where, scan.Matcher{Name: scan.ColMeasureName, Op: scan.MatchIn, Values: mine})
		} else {
			req.Where = append(req.Where, scan.Matcher{Name: scan.ColMeasureName, Op: scan.MatchNotIn, Values: others})
		}
	})
}

// wholeMeasures reports whether the request selects series by measure
// name only (every host of a measure: worth a worker per time split). A
// request narrowed by dimensions reads few series, where a second scan's
// fixed cost (goroutine, series lookup, a chunk decoded by both workers
// at the split) outweighs the halved decode.
func (n *scanNode) wholeMeasures() bool {
	for _, m := range n.req.Where {
		if m.Name != scan.ColMeasureName {
			return false
		}
	}
	return true
}

// timeSplits returns how many workers (at most workers) a scan split by
// time into runs of whole width-aligned buckets can use: 1 when the
// request's time range is unbounded or holds one bucket. Bucket b starts
// at floorDiv(t, width)*width, as bin(time, width) rounds.
func (n *scanNode) timeSplits(width int64, workers int) int {
	lo, hi := n.req.MinTime, n.req.MaxTime
	if width <= 0 || lo <= math.MinInt64/2 || hi >= math.MaxInt64/2 || lo > hi {
		return 1
	}
	buckets := floorDiv(hi, width) - floorDiv(lo, width) + 1
	return int(min(int64(workers), buckets))
}

// runTimeSplit scans with one request per worker, worker w reading the
// w-th of workers runs of whole splitWidth buckets of the time range, so
// that every bucket (and every group keyed by it) is read, in time order,
// by one worker only.
func (n *scanNode) runTimeSplit(q *qctx, workers int, setup func(int) (batchHook, func([]Value) error)) error {
	timeSplitRuns.Add(1)
	width := n.splitWidth
	first := floorDiv(n.req.MinTime, width)
	buckets := floorDiv(n.req.MaxTime, width) - first + 1
	k := int64(workers)
	start := func(w int64) int64 { // first bucket of worker w
		return first + buckets/k*w + min(w, buckets%k)
	}
	return n.runRequests(q, workers, setup, func(w int, req *scan.Request) {
		if w > 0 {
			req.MinTime = start(int64(w)) * width
		}
		if w < workers-1 {
			req.MaxTime = start(int64(w)+1)*width - 1
		}
	})
}

// timeSplitRuns counts the scans split by time (tests look).
var timeSplitRuns atomic.Int64

// runRequests scans with workers goroutines, each reading n.req as
// prepare(w, req) narrows it for worker w; the requests must be disjoint.
func (n *scanNode) runRequests(q *qctx, workers int, setup func(int) (batchHook, func([]Value) error), prepare func(w int, req *scan.Request)) error {
	errs := make([]error, workers)
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(q.ctx)
	defer cancel()
	tc := n.timeCol()
	for w := range workers {
		req := n.req
		req.Where = slices.Clone(n.req.Where)
		prepare(w, &req)
		hook, emit := setup(w)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if p := recover(); p != nil {
					errs[w] = workerPanic(q, p)
					cancel()
				}
			}()
			errs[w] = n.scanOne(q, ctx, &req, tc, hook, emit)
			if errs[w] != nil {
				cancel()
			}
		}()
	}
	wg.Wait()
	for _, e := range errs {
		if e != nil && !errors.Is(e, errStop) && !errors.Is(e, context.Canceled) {
			return e
		}
	}
	if err := q.check(); err != nil {
		return err
	}
	for _, e := range errs {
		if e != nil && !errors.Is(e, errStop) {
			return e
		}
	}
	return nil
}

// workerPanic logs the stack of a panic recovered on a scan worker
// goroutine, which Engine.Query's recover cannot see, and returns the error
// that fails the query.
func workerPanic(q *qctx, p any) error {
	q.e.opts.Logger.Error("panic in query scan worker", "panic", p, "stack", string(debug.Stack()))
	return errorf(ErrExecution, "internal error: %v", p)
}

// scanOne runs one scan request on the calling goroutine.
func (n *scanNode) scanOne(q *qctx, ctx context.Context, req *scan.Request, tc int, hook batchHook, emit func([]Value) error) error {
	cur, err := q.e.src.Scan(ctx, req)
	if err != nil {
		return scanError(q, err)
	}
	defer cur.Close()
	var st batchState
	for cur.Next() {
		if err := ctx.Err(); err != nil {
			if qerr := q.check(); qerr != nil {
				return qerr
			}
			return err
		}
		b := cur.Batch()
		n.account(q, b)
		ok, err := n.startBatch(&st, b)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if hook != nil {
			done, err := hook(&st, b)
			if err != nil {
				return err
			}
			if done {
				continue
			}
		}
		if err := n.emitBatch(&st, b, tc, emit); err != nil {
			return err
		}
	}
	if err := cur.Err(); err != nil {
		return scanError(q, err)
	}
	return nil
}

func scanError(q *qctx, err error) error {
	if cerr := q.check(); cerr != nil {
		return cerr
	}
	return &Error{Kind: ErrExecution, Msg: "scan table: " + err.Error()}
}
