// Package timestreamapi serves the Amazon Timestream Query API (AWS JSON
// 1.0, target prefix Timestream_20181101): Query with MaxRows paging and
// NextToken, CancelQuery, PrepareQuery and DescribeEndpoints, so that the AWS
// SDKs, the AWS CLI and Grafana's Timestream data source query TidalDB
// unchanged.
//
// It owns the wire side of queries only: decoding and validating requests,
// running them on the SQL engine (package query/exec), keeping results as
// server-side cursors that NextToken pages through (expiring after an hour
// or five uses of a token), encoding
// ColumnInfo and Datum values exactly as Timestream does, and mapping engine
// errors to Timestream's error shapes. Parsing, planning and execution belong
// to query/exec.
//
// With an engine that streams (StreamEngine, as *exec.Engine is) a cursor
// holds a window over the running query, not its result: the query pushes
// rows into the window and pauses when it holds about four pages, the
// client's next page releases the rows no live token can ask for again,
// and the query resumes. A paused query whose client does not come back
// is cancelled after Options.StreamIdle, or at once when its slot is
// needed by a new query. Engines that only materialise keep their whole
// finished result, bounded in total size by Options.MaxCursorBytes.
//
// API is safe for concurrent use. Each Query runs on its own goroutine so a
// slow query can answer with a NextToken and be cancelled with CancelQuery;
// Close cancels running queries and waits for them.
package timestreamapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tidaldb/tidal/internal/awsjson"
	"github.com/tidaldb/tidal/query/exec"
)

// Defaults of Options, Timestream's limits where it has one.
const (
	// DefaultMaxQueryBytes is the longest QueryString (256 KiB).
	DefaultMaxQueryBytes = 256 << 10
	// DefaultMaxPageBytes bounds the rows of one response (1 MB).
	DefaultMaxPageBytes = 1 << 20
	// DefaultCursorTTL is how long a result stays pageable.
	DefaultCursorTTL = time.Hour
	// DefaultMaxTokenUses is how often one NextToken may be presented.
	DefaultMaxTokenUses = 5
	// DefaultMaxCursorBytes bounds the memory held by all kept results.
	DefaultMaxCursorBytes = 256 << 20
	// DefaultMaxConcurrentQueries bounds queries running at once; more
	// are answered with ThrottlingException.
	DefaultMaxConcurrentQueries = 16
	// DefaultWaitTime is how long a Query call waits for its query before
	// answering with only a NextToken to poll.
	DefaultWaitTime = 20 * time.Second
	// DefaultStreamIdle is how long a streamed query waits for its client
	// to ask for the next page before it is cancelled.
	DefaultStreamIdle = 10 * time.Minute
	// DefaultAbandonAfter is how long a running query may go without a
	// Query call waiting on it before it is cancelled as abandoned.
	DefaultAbandonAfter = 20 * time.Second
	// DefaultQueryTimeout bounds one query's execution (Timestream: 1 h).
	DefaultQueryTimeout = time.Hour
	// DefaultMaxBodyBytes bounds request bodies read by ServeHTTP.
	DefaultMaxBodyBytes = DefaultMaxQueryBytes + 64<<10
	// CachePeriodInMinutes is returned by DescribeEndpoints, as Timestream
	// does.
	CachePeriodInMinutes = 1440
	// MinBytesMetered is the least a query is metered for (10 MB), which
	// Timestream reports as CumulativeBytesMetered.
	MinBytesMetered = 10_000_000
)

// Engine runs SQL. *exec.Engine satisfies it; tests may substitute their own.
type Engine interface {
	Query(ctx context.Context, sql string, params map[string]exec.Value) (*exec.Result, error)
	Prepare(sql string) ([]exec.Column, []exec.Param, error)
}

// Options configures an API. Zero values take the defaults.
type Options struct {
	// Logger receives internal errors; nil discards them.
	Logger *slog.Logger
	// Registerer receives the API's metrics; nil registers nothing.
	Registerer prometheus.Registerer
	// Now is the clock used for cursor expiry; nil means time.Now.
	Now func() time.Time
	// MaxQueryBytes bounds QueryString.
	MaxQueryBytes int
	// MaxPageBytes bounds the encoded rows of one response.
	MaxPageBytes int
	// CursorTTL is how long a result can be paged after the query started.
	CursorTTL time.Duration
	// MaxTokenUses is how often one NextToken may be presented.
	MaxTokenUses int
	// MaxCursorBytes bounds the estimated memory of all kept results; the
	// least recently used results are dropped to make room.
	MaxCursorBytes int64
	// MaxConcurrentQueries bounds queries running at once.
	MaxConcurrentQueries int
	// WaitTime is how long a Query call waits for a result before it
	// answers with only a NextToken.
	WaitTime time.Duration
	// QueryTimeout bounds one query's execution; a streamed query's time
	// spent waiting for its client does not count.
	QueryTimeout time.Duration
	// StreamIdle is how long a streamed query, paused with its next rows
	// buffered, waits for its client before it is cancelled and its
	// cursor dropped. A paused query is also the first to go when
	// MaxConcurrentQueries are running and another query arrives.
	StreamIdle time.Duration
	// AbandonAfter is how long a running query may go without a Query
	// call (the first one or a poll with its NextToken) waiting on it
	// before it is cancelled: its client has gone (a client polls again
	// as soon as it has an answer). Default DefaultAbandonAfter.
	AbandonAfter time.Duration
	// MaxBodyBytes bounds request bodies read by ServeHTTP.
	MaxBodyBytes int64
	// EndpointAddress is the Address DescribeEndpoints returns; empty means
	// the request's Host header.
	EndpointAddress string
}

func (o *Options) setDefaults() {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxQueryBytes <= 0 {
		o.MaxQueryBytes = DefaultMaxQueryBytes
	}
	if o.MaxPageBytes <= 0 {
		o.MaxPageBytes = DefaultMaxPageBytes
	}
	if o.CursorTTL <= 0 {
		o.CursorTTL = DefaultCursorTTL
	}
	if o.MaxTokenUses <= 0 {
		o.MaxTokenUses = DefaultMaxTokenUses
	}
	if o.MaxCursorBytes <= 0 {
		o.MaxCursorBytes = DefaultMaxCursorBytes
	}
	if o.MaxConcurrentQueries <= 0 {
		o.MaxConcurrentQueries = DefaultMaxConcurrentQueries
	}
	if o.WaitTime <= 0 {
		o.WaitTime = DefaultWaitTime
	}
	if o.QueryTimeout <= 0 {
		o.QueryTimeout = DefaultQueryTimeout
	}
	if o.StreamIdle <= 0 {
		o.StreamIdle = DefaultStreamIdle
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.AbandonAfter <= 0 {
		o.AbandonAfter = DefaultAbandonAfter
	}
}

// API serves the Timestream Query operations. Create it with New and stop
// it with Close.
type API struct {
	eng  Engine
	opts Options
	log  *slog.Logger
	ops  map[string]opFunc

	cursors *cursorStore

	requests *prometheus.CounterVec   // {op, result}
	duration *prometheus.HistogramVec // {result}
	running  prometheus.Gauge
}

// request is what an operation sees of one call.
type request struct {
	ctx  context.Context
	host string
	body []byte
}

// opFunc runs one operation and returns the response (nil means {}, a
// rawJSON is written as is) or an error.
type opFunc func(a *API, r *request) (any, error)

// rawJSON is a response body already encoded.
type rawJSON []byte

// New returns an API that runs queries on eng.
func New(eng Engine, opts Options) *API {
	opts.setDefaults()
	a := &API{eng: eng, opts: opts, log: opts.Logger}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	a.cursors = newCursorStore(opts.MaxCursorBytes, opts.CursorTTL, opts.StreamIdle, opts.AbandonAfter, opts.Now)
	a.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tidal_query_requests_total",
		Help: "Timestream Query API requests by operation and result (ok or the error type).",
	}, []string{"op", "result"})
	a.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "tidal_query_duration_seconds",
		Help:    "Execution time of Timestream SQL queries by result (ok or the error type).",
		Buckets: prometheus.ExponentialBuckets(0.001, 4, 10),
	}, []string{"result"})
	a.running = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "tidal_query_running",
		Help: "Timestream SQL queries running now.",
	})
	if opts.Registerer != nil {
		for _, c := range []prometheus.Collector{a.requests, a.duration, a.running} {
			if err := opts.Registerer.Register(c); err != nil {
				a.log.Warn("register query metric", "err", err)
			}
		}
	}
	a.ops = map[string]opFunc{
		"Query":             (*API).query,
		"CancelQuery":       (*API).cancelQuery,
		"PrepareQuery":      (*API).prepareQuery,
		"DescribeEndpoints": (*API).describeEndpoints,
	}
	return a
}

// Handler serves an operation on behalf of another package (scheduled
// queries): it gets the request context, the operation and the body, and
// returns the response (nil means {}) or an error (an *awsjson.Error is
// written as is, anything else as an InternalServerException).
type Handler func(ctx context.Context, op string, body []byte) (any, error)

// Handle makes Serve answer op with h. Call it before serving.
func (a *API) Handle(op string, h Handler) {
	a.ops[op] = func(_ *API, r *request) (any, error) { return h(r.ctx, op, r.body) }
}

// Close cancels running queries, waits for their goroutines and drops every
// kept result. Later Query calls fail with a 503
// ServiceUnavailableException.
func (a *API) Close() error {
	a.cursors.close()
	return nil
}

// Operations returns the names of the operations Serve handles, sorted.
func (a *API) Operations() []string {
	ops := make([]string, 0, len(a.ops))
	for op := range a.ops {
		ops = append(ops, op)
	}
	slices.Sort(ops)
	return ops
}

// Serve runs operation op with the request body body and writes the
// response. The caller has authenticated r and read its body; r supplies the
// context and the Host used by DescribeEndpoints. An unknown op is answered
// with a 404 UnknownOperationException.
func (a *API) Serve(w http.ResponseWriter, r *http.Request, op string, body []byte) {
	rid := awsjson.RequestID(r.Context())
	fn, ok := a.ops[op]
	if !ok {
		a.requests.WithLabelValues("unknown", awsjson.TypeUnknownOperation).Inc()
		awsjson.WriteError(w, rid, awsjson.UnknownOperation(op))
		return
	}
	resp, err := fn(a, &request{ctx: r.Context(), host: r.Host, body: body})
	if err != nil {
		e := a.apiError(op, err)
		a.requests.WithLabelValues(op, e.Type).Inc()
		awsjson.WriteError(w, rid, e)
		return
	}
	a.requests.WithLabelValues(op, "ok").Inc()
	if raw, ok := resp.(rawJSON); ok {
		writeRaw(w, rid, raw)
		putPageBuf(raw) // written: nothing refers to it any more
		return
	}
	if err := awsjson.WriteJSON(w, rid, resp); err != nil {
		a.log.Error("write timestream query response", "operation", op, "err", err)
	}
}

// pageBufs holds the buffers of big pages (*[]byte) once they are
// written: a result of many pages reuses a few instead of allocating and
// zeroing a megabyte per page.
var pageBufs sync.Pool

// minPooledPage is the smallest buffer pageBuf pools: small answers do
// not hold megabyte buffers.
const minPooledPage = 64 << 10

// pageBuf returns an empty buffer of at least n bytes; big ones are of
// at least maxPage bytes, so that any page fits a pooled one.
func pageBuf(n, maxPage int) []byte {
	if n < minPooledPage {
		return make([]byte, 0, n)
	}
	if p, ok := pageBufs.Get().(*[]byte); ok && cap(*p) >= n {
		return (*p)[:0]
	}
	return make([]byte, 0, max(n, maxPage))
}

// putPageBuf gives b back to pageBuf when it is a big buffer.
func putPageBuf(b []byte) {
	if cap(b) >= minPooledPage {
		b = b[:0]
		pageBufs.Put(&b)
	}
}

// writeRaw writes an encoded 200 response with the headers awsjson uses.
func writeRaw(w http.ResponseWriter, rid string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", awsjson.ContentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set(awsjson.RequestIDHeader, rid)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body) // The client went away; nothing useful to do.
}

// ServeHTTP serves the API on its own: it takes the operation from the
// X-Amz-Target header, reads the body and calls Serve. It does no
// authentication.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d := awsjson.Dispatcher{Prefix: awsjson.TimestreamPrefix, MaxBody: a.opts.MaxBodyBytes}
	for _, op := range a.Operations() {
		d.Handle(op, a.Serve)
	}
	d.ServeHTTP(w, r)
}

// Messages of errors Timestream words in a fixed way.
const (
	msgInvalidToken    = "Invalid pagination token."
	msgCancelled       = "Unable to poll results for a cancelled query."
	msgRowTooLarge     = "Query aborted as max page response size has been exceeded by the output result row."
	msgTooManyQueries  = "Too many concurrent queries; retry with backoff."
	msgQueryTimeout    = "Query timed out."
	msgServerClosed    = "The query service is shutting down."
	cancelledByRequest = "Query cancellation request has been received; the query was cancelled."
)

// apiError maps an operation's error to the AWS error shape.
func (a *API) apiError(op string, err error) *awsjson.Error {
	var e *awsjson.Error
	if errors.As(err, &e) {
		return e
	}
	var xe *exec.Error
	if errors.As(err, &xe) {
		return engineError(xe)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return awsjson.NewError(awsjson.TypeQueryExecution, "%s", msgQueryTimeout)
	}
	if errors.Is(err, context.Canceled) {
		return awsjson.NewError(awsjson.TypeConflict, "%s", msgCancelled)
	}
	a.log.Error("timestream query operation", "operation", op, "err", err)
	return awsjson.Internal()
}

// engineError maps an engine error: syntax and semantic errors are
// ValidationExceptions carrying the position, everything that fails while
// running is a QueryExecutionException, and a cancelled query cannot be
// polled (ConflictException).
func engineError(xe *exec.Error) *awsjson.Error {
	switch xe.Kind {
	case exec.ErrValidation:
		return awsjson.NewError(awsjson.TypeValidation, "%s", positioned(xe))
	case exec.ErrCanceled:
		return awsjson.NewError(awsjson.TypeConflict, "%s", msgCancelled)
	case exec.ErrTimeout:
		msg := xe.Msg
		if msg == "" {
			msg = msgQueryTimeout
		}
		return awsjson.NewError(awsjson.TypeQueryExecution, "%s", msg)
	default:
		return awsjson.NewError(awsjson.TypeQueryExecution, "%s", positioned(xe))
	}
}

// positioned formats an engine message as Trino does, "line 1:8: msg", when
// the engine knows the position.
func positioned(xe *exec.Error) string {
	if xe.Line <= 0 {
		return xe.Msg
	}
	return "line " + strconv.Itoa(xe.Line) + ":" + strconv.Itoa(xe.Col) + ": " + xe.Msg
}
