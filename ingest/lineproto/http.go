package lineproto

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/ingest"
)

// HTTPOptions configures a Handler.
type HTTPOptions struct {
	// MaxBodyBytes bounds the body, before and after gzip (default 32 MiB).
	MaxBodyBytes int64
	// MeasureName is Options.MeasureName for every request.
	MeasureName string
	// Version is reported in X-Influxdb-Version and /health.
	Version string
	Logger  *slog.Logger
	// Now is the clock for lines without a timestamp; nil means time.Now.
	Now func() time.Time
	// Registerer, when set, gets the handler's metrics.
	Registerer prometheus.Registerer
	// Databases, when set, serves /query's CREATE DATABASE and SHOW
	// DATABASES; nil answers /query with 501.
	Databases Databases
	// MayCreate, when set, says whether the request's credential may run
	// CREATE DATABASE (the route itself needs only read, for SHOW); nil
	// allows it.
	MayCreate func(r *http.Request) bool
}

// Handler serves InfluxDB's write API: POST /write (1.x: db, rp,
// precision) and POST /api/v2/write (2.x: bucket, org, precision), and the
// GET /ping and GET /health probes clients call before writing, and the
// CREATE DATABASE and SHOW DATABASES statements of 1.x's /query.
//
// The database is db (1.x) or bucket (2.x, without a "/rp" suffix) and is
// created on first write, as is each measurement's table; the 1.x rp and 2.x
// org parameters are accepted and ignored. A body of good lines gets 204; a
// body with malformed or refused lines gets 400 naming the first one's line
// number and reason, the good lines being stored, as InfluxDB does. A
// storage failure gets 503 and nothing of the body may be assumed stored.
// Credentials are the auth layer's (register with auth.Router.HandleInflux).
type Handler struct {
	app   ingest.Appender
	opts  HTTPOptions
	cache *SeriesCache
	lines *prometheus.CounterVec // by result: stored, refused
}

// NewHandler returns a Handler writing through app.
func NewHandler(app ingest.Appender, opts HTTPOptions) *Handler {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 32 << 20
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Version == "" {
		opts.Version = "tidal"
	}
	h := &Handler{app: app, opts: opts, cache: NewSeriesCache()}
	h.lines = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tidal_lineproto_lines_total", Help: "InfluxDB line protocol lines by result (stored, refused).",
	}, []string{"result"})
	if opts.Registerer != nil {
		opts.Registerer.MustRegister(h.lines)
	}
	return h
}

// WriteV1 serves POST /write.
func (h *Handler) WriteV1(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	h.write(w, r, q.Get("db"), q.Get("precision"), false)
}

// WriteV2 serves POST /api/v2/write.
func (h *Handler) WriteV2(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	bucket, _, _ := strings.Cut(q.Get("bucket"), "/") // "db/rp" from 1.x-compatible clients
	h.write(w, r, bucket, q.Get("precision"), true)
}

// Ping serves GET and HEAD /ping.
func (h *Handler) Ping(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("X-Influxdb-Version", h.opts.Version)
	w.Header().Set("X-Influxdb-Build", "OSS")
	w.WriteHeader(http.StatusNoContent)
}

// Health serves GET /health.
func (h *Handler) Health(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(map[string]string{
		"name": "tidal", "message": "ready for writes", "status": "pass", "version": h.opts.Version,
	})
}

// writeError answers in the shape of the API version: 1.x {"error": ...},
// 2.x {"code": ..., "message": ...}.
func writeError(w http.ResponseWriter, v2 bool, status int, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Influxdb-Error", msg)
	w.WriteHeader(status)
	var body any = map[string]string{"error": msg}
	if v2 {
		code := "invalid"
		switch {
		case status >= 500:
			code = "unavailable"
		case status == http.StatusRequestEntityTooLarge:
			code = "request too large"
		case status == http.StatusNotFound:
			code = "not found"
		}
		body = map[string]string{"code": code, "message": msg}
	}
	_ = json.NewEncoder(w).Encode(body)
}

func (h *Handler) write(w http.ResponseWriter, r *http.Request, db, precision string, v2 bool) {
	w.Header().Set("X-Influxdb-Version", h.opts.Version)
	if db == "" {
		what := "database is required"
		if v2 {
			what = "bucket is required"
		}
		writeError(w, v2, http.StatusBadRequest, what)
		return
	}
	if !catalog.ValidName(db) {
		writeError(w, v2, http.StatusBadRequest, fmt.Sprintf("database %q is not a valid database name (3 to 256 letters, digits, '_', '.', '-')", db))
		return
	}
	prec, err := ParsePrecision(precision)
	if err != nil {
		writeError(w, v2, http.StatusBadRequest, err.Error())
		return
	}
	buf := bodyPool.Get().(*bytes.Buffer)
	defer putBody(buf)
	body, status, err := h.readBody(r, buf)
	if err != nil {
		writeError(w, v2, status, err.Error())
		return
	}
	sc := scratchPool.Get().(*Scratch)
	defer scratchPool.Put(sc)
	points, lineErrs := DecodeInto(body, Options{Precision: prec, Now: h.opts.Now, MeasureName: h.opts.MeasureName, Cache: h.cache}, sc)
	refused, err := h.store(r.Context(), db, points, sc)
	if err != nil {
		h.opts.Logger.Warn("line protocol append", "database", db, "err", err)
		w.Header().Set("Retry-After", "1")
		writeError(w, v2, http.StatusServiceUnavailable, "store points: "+err.Error())
		return
	}
	lineErrs = mergeErrors(lineErrs, refused)
	h.lines.WithLabelValues("stored").Add(float64(len(points) - len(refused)))
	h.lines.WithLabelValues("refused").Add(float64(len(lineErrs)))
	if len(lineErrs) > 0 {
		first := lineErrs[0]
		total := len(points) + len(lineErrs) - len(refused)
		writeError(w, v2, http.StatusBadRequest, fmt.Sprintf("partial write: line %d: %s (%d of %d lines refused, the rest stored)",
			first.Line, first.Reason, len(lineErrs), total))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// bodyPool recycles request body buffers (Decode's points do not alias
// the body).
var bodyPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// putBody returns buf to bodyPool unless it grew past what is worth
// keeping.
func putBody(buf *bytes.Buffer) {
	if buf.Cap() <= 4<<20 {
		buf.Reset()
		bodyPool.Put(buf)
	}
}

// readBody reads the body into buf, gunzipping it when Content-Encoding
// says gzip, within MaxBodyBytes.
func (h *Handler) readBody(r *http.Request, buf *bytes.Buffer) ([]byte, int, error) {
	rd := io.LimitReader(r.Body, h.opts.MaxBodyBytes+1)
	switch enc := r.Header.Get("Content-Encoding"); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(rd)
		if err != nil {
			return nil, http.StatusBadRequest, fmt.Errorf("read gzip body: %w", err)
		}
		defer zr.Close()
		rd = io.LimitReader(zr, h.opts.MaxBodyBytes+1)
	default:
		return nil, http.StatusUnsupportedMediaType, fmt.Errorf("unsupported Content-Encoding %q", enc)
	}
	if n := r.ContentLength; n > 0 && n <= h.opts.MaxBodyBytes {
		buf.Grow(int(n) + bytes.MinRead)
	}
	_, err := buf.ReadFrom(rd)
	body := buf.Bytes()
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("read body: %w", err)
		}
		return nil, http.StatusBadRequest, fmt.Errorf("read body: %w", err)
	}
	if int64(len(body)) > h.opts.MaxBodyBytes {
		return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("body exceeds %d bytes", h.opts.MaxBodyBytes)
	}
	return body, 0, nil
}

// store appends points, one Append per table in order of first appearance,
// and returns the lines the store refused. An error means the store failed.
func (h *Handler) store(ctx context.Context, db string, points []Point, sc *Scratch) ([]LineError, error) {
	var refused []LineError
	err := store(ctx, h.app, db, points, sc, func(p *Point, reason string) {
		refused = append(refused, LineError{Line: p.Line, Reason: reason})
	})
	return refused, err
}

// Store appends points to database db, one Append per table (tables and the
// database are created on first write), and calls refuse for each point
// the store or the table name refused. A non-nil error means the store
// failed and nothing may be assumed stored.
func Store(ctx context.Context, app ingest.Appender, db string, points []Point, refuse func(p *Point, reason string)) error {
	return store(ctx, app, db, points, nil, refuse)
}

// scratchPool recycles the handler's decoding memory between requests:
// Append does not retain records, so once a request is answered its points
// are garbage.
var scratchPool = sync.Pool{New: func() any { return new(Scratch) }}

func store(ctx context.Context, app ingest.Appender, db string, points []Point, sc *Scratch, refuse func(p *Point, reason string)) error {
	var recs []ingest.Record
	if sc != nil {
		recs = sc.recs[:0]
		defer func() {
			if cap(recs) > cap(sc.recs) {
				sc.recs = recs[:0]
			}
		}()
	}
	if cap(recs) < len(points) {
		recs = make([]ingest.Record, 0, len(points))
	}
	// Most bodies write one table: then the records go in line order
	// without grouping.
	one := true
	for i := 1; i < len(points) && one; i++ {
		one = points[i].Table == points[0].Table
	}
	if one {
		if len(points) == 0 {
			return nil
		}
		return storeTable(ctx, app, db, points, nil, recs, refuse)
	}
	var order []string
	byTable := make(map[string][]int)
	for i := range points {
		t := points[i].Table
		if _, ok := byTable[t]; !ok {
			order = append(order, t)
		}
		byTable[t] = append(byTable[t], i)
	}
	for _, t := range order {
		if err := storeTable(ctx, app, db, points, byTable[t], recs, refuse); err != nil {
			return err
		}
	}
	return nil
}

// storeTable appends the points idx (all of one table; nil: every point)
// with one Append, using recs's storage.
func storeTable(ctx context.Context, app ingest.Appender, db string, points []Point, idx []int, recs []ingest.Record, refuse func(p *Point, reason string)) error {
	n := len(idx)
	at := func(i int) int { return idx[i] }
	if idx == nil {
		n, at = len(points), func(i int) int { return i }
	}
	t := points[at(0)].Table
	if !catalog.ValidName(t) {
		for i := range n {
			refuse(&points[at(i)], fmt.Sprintf("measurement %q is not a valid table name (3 to 256 letters, digits, '_', '.', '-')", t))
		}
		return nil
	}
	recs = recs[:0]
	for i := range n {
		recs = append(recs, points[at(i)].Record)
	}
	res, err := app.Append(ctx, db, t, recs, ingest.AppendOptions{CreateTable: true, IdempotentRewrite: true})
	if err != nil {
		return fmt.Errorf("append to %s.%s: %w", db, t, err)
	}
	for _, rj := range res.Rejected {
		refuse(&points[at(rj.Index)], rj.Reason)
	}
	return nil
}

// mergeErrors merges two line-ordered error lists.
func mergeErrors(a, b []LineError) []LineError {
	if len(b) == 0 {
		return a
	}
	out := make([]LineError, 0, len(a)+len(b))
	out = append(out, a...)
	out = append(out, b...)
	// Few errors: insertion sort keeps equal lines in order.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Line < out[j-1].Line; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}
