// Package timestreamwrite serves the Amazon Timestream Write API (AWS JSON
// 1.0, target prefix Timestream_20181101) so that the AWS SDKs, the AWS CLI
// and the TSBS Timestream loader work against TidalDB unchanged.
//
// It owns the wire side only: decoding requests, validating them with
// Timestream's limits and messages, converting WriteRecords to
// ingest.Record values handed to an ingest.Appender in one call per request,
// and answering in Timestream's shapes (RejectedRecordsException with each
// rejected record's index and reason, HTTP 419). Databases and tables live in
// package memstore/catalog; storage tiers are the Appender's business.
//
// API is safe for concurrent use; it keeps no per-request state. The server
// authenticates requests (SigV4) and routes them by operation name to
// Serve; ServeHTTP does the routing itself for standalone use and tests.
package timestreamwrite

import (
	"github.com/tidaldb/tidal/internal/fileutil"

	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/internal/awsjson"
)

// Defaults of Options.
const (
	DefaultMaxRecords   = 100
	DefaultMaxBodyBytes = awsjson.DefaultMaxBodyBytes
	// CachePeriodInMinutes is returned by DescribeEndpoints, as Timestream
	// does.
	CachePeriodInMinutes = 1440
)

// Options configures an API. Zero values take the defaults.
type Options struct {
	// Logger receives internal errors; nil discards them.
	Logger *slog.Logger
	// Registerer receives the API's metrics; nil registers nothing.
	Registerer prometheus.Registerer
	// MaxRecords is the most records one WriteRecords request may carry
	// (Timestream: 100).
	MaxRecords int
	// MaxBodyBytes bounds request bodies read by ServeHTTP.
	MaxBodyBytes int64
	// EndpointAddress is the Address DescribeEndpoints returns; empty means
	// the request's Host header, which keeps SDKs that perform endpoint
	// discovery talking to this server.
	EndpointAddress string
}

// API serves the Timestream Write operations. Create it with New.
type API struct {
	cat  Catalog
	app  ingest.Appender
	opts Options
	log  *slog.Logger
	ops  map[string]opFunc

	records  *prometheus.CounterVec // {path, result}
	requests *prometheus.CounterVec // {operation, result}
}

// request is what an operation sees of one call.
type request struct {
	ctx  context.Context
	host string
	body []byte
}

// opFunc runs one operation and returns the response value (nil means {})
// or an error (an *awsjson.Error, a catalog error, or anything else, which
// becomes an InternalServerException).
type opFunc func(a *API, r *request) (any, error)

// New returns an API over the catalog cat that writes records through app.
func New(cat Catalog, app ingest.Appender, opts Options) *API {
	if opts.MaxRecords <= 0 {
		opts.MaxRecords = DefaultMaxRecords
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	a := &API{cat: cat, app: app, opts: opts, log: opts.Logger}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	a.records = registerCounter(opts.Registerer, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tidal_ingest_records_total",
		Help: "Records received by ingestors, by ingest path and result (accepted or rejected).",
	}, []string{"path", "result"}))
	a.requests = registerCounter(opts.Registerer, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tidal_timestream_write_requests_total",
		Help: "Timestream Write API requests by operation and result (ok or the error type).",
	}, []string{"operation", "result"}))
	a.ops = map[string]opFunc{
		"CreateDatabase":      (*API).createDatabase,
		"DescribeDatabase":    (*API).describeDatabase,
		"ListDatabases":       (*API).listDatabases,
		"UpdateDatabase":      (*API).updateDatabase,
		"DeleteDatabase":      (*API).deleteDatabase,
		"CreateTable":         (*API).createTable,
		"DescribeTable":       (*API).describeTable,
		"ListTables":          (*API).listTables,
		"UpdateTable":         (*API).updateTable,
		"DeleteTable":         (*API).deleteTable,
		"WriteRecords":        (*API).writeRecords,
		"DescribeEndpoints":   (*API).describeEndpoints,
		"TagResource":         (*API).tagResource,
		"UntagResource":       (*API).untagResource,
		"ListTagsForResource": (*API).listTagsForResource,
	}
	return a
}

// registerCounter registers c with reg, reusing an identical collector that
// another component (for example another ingestor sharing
// tidal_ingest_records_total) registered first.
func registerCounter(reg prometheus.Registerer, c *prometheus.CounterVec) *prometheus.CounterVec {
	if reg == nil {
		return c
	}
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(*prometheus.CounterVec); ok {
				return existing
			}
		}
		// A conflicting definition: keep counting, unexported.
		return c
	}
	return c
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
	if err := awsjson.WriteJSON(w, rid, resp); err != nil {
		a.log.Error("write timestream response", "operation", op, "err", err)
	}
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

// apiError maps an operation's error to the AWS error shape.
func (a *API) apiError(op string, err error) *awsjson.Error {
	var e *awsjson.Error
	if errors.As(err, &e) {
		return e
	}
	var ce *catalog.Error
	if errors.As(err, &ce) {
		switch ce.Kind {
		case catalog.ErrNotFound:
			return &awsjson.Error{Type: awsjson.TypeResourceNotFound, Message: ce.Message}
		case catalog.ErrConflict:
			return &awsjson.Error{Type: awsjson.TypeConflict, Message: ce.Message}
		case catalog.ErrValidation:
			return &awsjson.Error{Type: awsjson.TypeValidation, Message: ce.Message}
		case catalog.ErrQuota:
			return &awsjson.Error{Type: awsjson.TypeServiceQuota, Message: ce.Message}
		}
	}
	a.log.Error("timestream write operation", "operation", op, "err", err)
	if fileutil.IsNoSpace(err) {
		// Retryable (5xx) and says why, so that an operator knows what to do.
		return &awsjson.Error{Type: awsjson.TypeInternalServer,
			Message: "The server's disk is full; the request was not stored. Free disk space and retry."}
	}
	return awsjson.Internal()
}

// Catalog is the control plane the Write API serves: databases, tables,
// tags and ARNs. *catalog.Catalog has it.
type Catalog interface {
	CreateDatabase(name, kmsKeyID string, tags []catalog.Tag) (catalog.Database, error)
	Database(name string) (catalog.Database, error)
	ListDatabases() []catalog.Database
	UpdateDatabase(name, kmsKeyID string) (catalog.Database, error)
	DeleteDatabase(name string) error
	CreateTable(t catalog.Table) (catalog.Table, error)
	Table(db, name string) (catalog.Table, error)
	ListTables(db string) ([]catalog.Table, error)
	UpdateTable(db, name string, upd catalog.TableUpdate) (catalog.Table, error)
	DeleteTable(db, name string) (catalog.Table, error)
	Tag(arn string, tags []catalog.Tag) error
	Untag(arn string, keys []string) error
	Tags(arn string) ([]catalog.Tag, error)
	DatabaseARN(db string) string
	TableARN(db, table string) string
}
