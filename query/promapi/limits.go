package promapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/storage"

	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/query/scan"
)

// Default limits of one PromQL request.
const (
	// DefaultMaxQueryBytes bounds the text of a query.
	DefaultMaxQueryBytes = 64 << 10
	// DefaultMaxQueryDepth bounds the nesting of parentheses, brackets and
	// braces in a query.
	DefaultMaxQueryDepth = 128
	// DefaultMaxSubquerySteps bounds the evaluation steps of one subquery
	// over the whole query range ([1d:1s] is 86,400).
	DefaultMaxSubquerySteps = 1_000_000
	// DefaultMaxSeries bounds the series one query may select.
	DefaultMaxSeries = 1_000_000
	// DefaultQueueWait bounds how long a query waits for a slot.
	DefaultQueueWait = 10 * time.Second
)

// limitError is a request refused by a limit, before evaluation.
type limitError struct {
	status int
	msg    string
}

func (e *limitError) Error() string { return e.msg }

// checkQueryText bounds a query's length and nesting depth before it is
// parsed: the parser's cost grows faster than the text for deep nesting.
// The scan skips string literals, whose brackets do not nest.
func (a *API) checkQueryText(q string) error {
	if len(q) > a.opts.MaxQueryBytes {
		return fmt.Errorf("query is %d bytes; at most %d are allowed", len(q), a.opts.MaxQueryBytes)
	}
	depth := 0
	var quote byte
	for i := 0; i < len(q); i++ {
		c := q[i]
		if quote != 0 {
			switch {
			case c == '\\' && quote != '`':
				i++
			case c == quote:
				quote = 0
			}
			continue
		}
		switch c {
		case '"', '\'', '`':
			quote = c
		case '#': // comment to the end of the line
			for i < len(q) && q[i] != '\n' {
				i++
			}
		case '(', '[', '{':
			depth++
			if depth > a.opts.MaxQueryDepth {
				return fmt.Errorf("query nests parentheses, brackets or braces more than %d deep", a.opts.MaxQueryDepth)
			}
		case ')', ']', '}':
			depth--
		}
	}
	return nil
}

// checkSubqueries bounds the steps of every subquery of expr evaluated over
// a window of length window (0 for an instant query): a subquery with a
// tiny step over a long range makes the engine allocate per step before it
// reads a sample.
func (a *API) checkSubqueries(expr parser.Expr, window time.Duration) error {
	var err error
	parser.Inspect(expr, func(n parser.Node, path []parser.Node) error {
		sq, ok := n.(*parser.SubqueryExpr)
		if !ok || err != nil {
			return err
		}
		// The subquery is evaluated over the query window widened by the
		// ranges of the subqueries around it.
		w := window
		for _, p := range path {
			if o, ok := p.(*parser.SubqueryExpr); ok && o != sq {
				w += o.Range
			}
		}
		step := sq.Step
		if step <= 0 {
			step = time.Minute // NoStepSubqueryIntervalFn
		}
		if steps := (float64(w) + float64(sq.Range)) / float64(step); steps > float64(a.opts.MaxSubquerySteps) {
			err = &limitError{status: http.StatusUnprocessableEntity, msg: fmt.Sprintf(
				"subquery %s would evaluate %.0f steps; at most %d are allowed: use a larger step or a shorter range",
				sq.String(), steps, a.opts.MaxSubquerySteps)}
		}
		return err
	})
	return err
}

// parseQuery checks and parses the query parameter of a request evaluated
// over window.
func (a *API) parseQuery(q string, window time.Duration) *apiError {
	if err := a.checkQueryText(q); err != nil {
		return badData("invalid parameter \"query\": %w", err)
	}
	expr, err := a.parser.ParseExpr(q)
	if err != nil {
		return badData("invalid parameter \"query\": %w", err)
	}
	if err := a.checkSubqueries(expr, window); err != nil {
		var le *limitError
		if errors.As(err, &le) {
			return &apiError{typ: "execution", status: le.status, err: err}
		}
		return badData("%w", err)
	}
	return nil
}

// acquire takes a query slot, waiting at most QueueWait; the caller calls
// the returned release. When no slot frees in time the request gets a 503
// with Retry-After.
func (a *API) acquire(ctx context.Context, w http.ResponseWriter) (func(), *apiError) {
	select {
	case a.slots <- struct{}{}:
		return func() { <-a.slots }, nil
	default:
	}
	t := time.NewTimer(a.opts.QueueWait)
	defer t.Stop()
	select {
	case a.slots <- struct{}{}:
		return func() { <-a.slots }, nil
	case <-ctx.Done():
		return nil, queryError(ctx.Err())
	case <-t.C:
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(a.opts.QueueWait/time.Second))))
		return nil, &apiError{typ: "unavailable", status: http.StatusServiceUnavailable,
			err: fmt.Errorf("too many concurrent queries: %d running and none finished within %s; retry later", cap(a.slots), a.opts.QueueWait)}
	}
}

// forTenant returns the queryable of request r: when header is set and the
// request carries it, the same table in the tenant's database.
func forTenant(q storage.Queryable, header string, r *http.Request) (storage.Queryable, *apiError) {
	if header == "" {
		return q, nil
	}
	t := r.Header.Get(header)
	if t == "" {
		return q, nil
	}
	if !catalog.ValidName(t) {
		return nil, badData("invalid %s header %q: a tenant is a database name, %d to %d letters, digits, '_', '.' or '-'",
			header, truncate(t, 64), catalog.MinNameLen, catalog.MaxNameLen)
	}
	pq, ok := q.(*Queryable)
	if !ok {
		return q, nil
	}
	c := *pq
	c.Database = t
	return &c, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// absentTable reports whether a scan failed because the table (or its
// database) does not exist yet: PromQL sees that as no data, as a fresh
// Prometheus does.
func absentTable(err error) bool {
	return errors.Is(err, scan.ErrUnknownTable) || catalog.IsNotFound(err)
}

// seriesLimit bounds the series that the Selects of one querier of q
// return in all to max: past it, the set fails with
// promql.ErrTooManySeries.
func seriesLimit(q storage.Queryable, max int) storage.Queryable {
	return &limitQueryable{q: q, max: int64(max)}
}

type limitQueryable struct {
	q   storage.Queryable
	max int64
}

func (l *limitQueryable) Querier(mint, maxt int64) (storage.Querier, error) {
	qr, err := l.q.Querier(mint, maxt)
	if err != nil {
		return nil, err
	}
	return &limitQuerier{Querier: qr, max: l.max}, nil
}

type limitQuerier struct {
	storage.Querier
	max int64
	n   atomic.Int64 // series returned by every Select
}

func (l *limitQuerier) Select(ctx context.Context, sortSeries bool, hints *storage.SelectHints, ms ...*labels.Matcher) storage.SeriesSet {
	return &limitSet{SeriesSet: l.Querier.Select(ctx, sortSeries, hints, ms...), qr: l}
}

type limitSet struct {
	storage.SeriesSet
	qr  *limitQuerier
	err error
}

func (s *limitSet) Next() bool {
	if s.err != nil || !s.SeriesSet.Next() {
		return false
	}
	if s.qr.n.Add(1) > s.qr.max {
		s.err = promql.ErrTooManySeries("query execution")
		return false
	}
	return true
}

func (s *limitSet) Err() error {
	if s.err != nil {
		return s.err
	}
	return s.SeriesSet.Err()
}
