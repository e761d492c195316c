// Package promrw receives Prometheus remote-write 1.0 and 2.0 requests and
// hands their samples to the write path as Timestream records.
//
// Mapping: every sample becomes one single-measure DOUBLE record in the
// configured database and table (default prometheus.metrics, created on
// first write): measure_name is the metric name (__name__), the other labels
// are the dimensions, the time is the sample's millisecond timestamp. Stale
// markers are stored as the NaN bit pattern Prometheus uses, so that PromQL
// sees series end exactly as it does in Prometheus. Exemplars and metadata
// are accepted and dropped (counted in metrics); native histograms are
// refused with a 400 that names the series, and the float samples of the same
// request are kept.
//
// A 2xx is sent only once every stored sample is durable in the WAL. Data
// that can never be stored gets a 400 (the good series of the request are
// kept); a write-path failure or overload gets a 503 with Retry-After, which
// every Prometheus version retries.
//
// Handler is safe for concurrent use.
package promrw

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/ingest"
)

// Options configures a Handler.
type Options struct {
	// Database and Table receive the samples (default prometheus, metrics).
	Database, Table string
	// TenantHeader, when set, names a request header whose value chooses
	// the database (per-tenant routing); requests without it use Database.
	// A value that is not a valid database name gets a 400.
	TenantHeader string
	// Tenants, when set, bounds tenant routing: a tenant whose database
	// does not exist yet is refused (400) once Tenants holds MaxTenants
	// databases (default 1000).
	Tenants    Databases
	MaxTenants int
	// BodyTimeout bounds reading a request body (default 30s), which
	// happens before the request takes an in-flight slot.
	BodyTimeout time.Duration
	// MaxBodyBytes bounds the compressed and the decoded body (default 32 MiB).
	MaxBodyBytes int64
	// MaxInflight bounds concurrent requests; more get a 503 with
	// Retry-After (default 64).
	MaxInflight int
	Logger      *slog.Logger
	Registerer  prometheus.Registerer
}

// Databases is the part of the catalog tenant routing reads
// (*catalog.Catalog).
type Databases interface {
	Database(name string) (catalog.Database, error)
	ListDatabases() []catalog.Database
}

// Content types of the two protocol versions.
const (
	protoV1 = "prometheus.WriteRequest"
	protoV2 = "io.prometheus.write.v2.Request"
)

// Handler serves POST /api/v1/write.
type Handler struct {
	app      ingest.Appender
	opts     Options
	inflight chan struct{}
	log      *slog.Logger

	samples  *prometheus.CounterVec
	requests *prometheus.CounterVec
	dropped  *prometheus.CounterVec
	bufs     sync.Pool // *decodeState
	series   seriesCache
	// cachePerState, set only by a benchmark, keeps each decodeState's
	// series in its own cache (added), lost when the pool drops the state:
	// the behaviour before seriesCache.
	cachePerState bool
}

// New returns a Handler writing through app.
func New(app ingest.Appender, opts Options) *Handler {
	if opts.Database == "" {
		opts.Database = "prometheus"
	}
	if opts.Table == "" {
		opts.Table = "metrics"
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 32 << 20
	}
	if opts.MaxInflight <= 0 {
		opts.MaxInflight = 64
	}
	if opts.MaxTenants <= 0 {
		opts.MaxTenants = 1000
	}
	if opts.BodyTimeout <= 0 {
		opts.BodyTimeout = 30 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	h := &Handler{app: app, opts: opts, inflight: make(chan struct{}, opts.MaxInflight), log: opts.Logger}
	h.samples = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tidal_promrw_samples_total", Help: "Remote-write samples by result (stored, rejected).",
	}, []string{"result"})
	h.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tidal_promrw_requests_total", Help: "Remote-write requests by protocol version and HTTP code.",
	}, []string{"version", "code"})
	h.dropped = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tidal_promrw_dropped_total", Help: "Remote-write payload parts not stored, by kind (exemplar, metadata, histogram).",
	}, []string{"kind"})
	h.bufs.New = func() any { return &decodeState{} }
	if opts.Registerer != nil {
		opts.Registerer.MustRegister(h.samples, h.requests, h.dropped)
	}
	return h
}

// decodeState holds the buffers of one request, reused across requests so
// that decoding allocates per series at most, not per sample.
type decodeState struct {
	body, raw []byte
	strs      interner                // label strings of the decoders
	cache     *seriesCache            // the Handler's label sets, read under cache.mu
	added     map[string]*seriesEntry // label sets this request added
	unchecked int                     // v1 parts skipped without validation
	syms      []string                // v2 symbols
	spans     [][]byte                // v2 timeseries, pointing into raw
	refs      []uint32                // labels_refs of one v2 series
	key       []byte                  // v2 series cache key scratch
	recs      []ingest.Record
	dims      []ingest.Dimension
}

// result is the outcome of one request.
type result struct {
	histograms, exemplars int
	rejected              int      // samples refused before Append
	nbad                  int      // problems found
	bad                   []string // the first maxReasons of them, for the 400 body
}

// maxReasons bounds the reasons a 400 lists.
const maxReasons = 10

// addBad counts a problem and keeps its message (made by msg) if it is one
// of the first maxReasons.
func (res *result) addBad(msg func() string) {
	res.nbad++
	if len(res.bad) < maxReasons {
		res.bad = append(res.bad, msg())
	}
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	version := "1.0"
	code := h.serve(w, r, &version)
	h.requests.WithLabelValues(version, strconv.Itoa(code)).Inc()
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request, version *string) int {
	proto, err := negotiate(r.Header.Get("Content-Type"), r.Header.Get("Content-Encoding"))
	if err != nil {
		return httpError(w, http.StatusUnsupportedMediaType, err.Error())
	}
	if proto == protoV2 {
		*version = "2.0"
	}
	db, code, msg := h.tenant(r)
	if code != 0 {
		return httpError(w, code, msg)
	}
	st := h.bufs.Get().(*decodeState)
	defer h.bufs.Put(st)

	// The body is read before taking an in-flight slot, under a deadline:
	// clients that send slowly wait on their own connection, and the slots
	// go to decoding and appending.
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(h.opts.BodyTimeout))
	if err := st.readBody(r.Body, h.opts.MaxBodyBytes); err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			w.Header().Set("Connection", "close")
			return httpError(w, http.StatusRequestTimeout, fmt.Sprintf("read body: not received within %s", h.opts.BodyTimeout))
		}
		return httpError(w, http.StatusBadRequest, err.Error())
	}
	// Past the body, the request context must not end when the deadline
	// passes (net/http cancels it on a read error).
	_ = http.NewResponseController(w).SetReadDeadline(time.Time{})
	select {
	case h.inflight <- struct{}{}:
		defer func() { <-h.inflight }()
	default:
		w.Header().Set("Retry-After", "1")
		return httpError(w, http.StatusServiceUnavailable, "too many concurrent remote-write requests; retry")
	}
	if err := st.decompress(h.opts.MaxBodyBytes); err != nil {
		return httpError(w, http.StatusBadRequest, err.Error())
	}
	var res result
	if err = h.decode(st, proto, &res); err != nil {
		return httpError(w, http.StatusBadRequest, err.Error())
	}
	stored, err := h.appendRecords(r.Context(), st, db, &res)
	h.samples.WithLabelValues("stored").Add(float64(stored))
	h.samples.WithLabelValues("rejected").Add(float64(len(st.recs) - stored + res.rejected))
	if proto == protoV2 {
		w.Header().Set("X-Prometheus-Remote-Write-Samples-Written", strconv.Itoa(stored))
		w.Header().Set("X-Prometheus-Remote-Write-Histograms-Written", "0")
		w.Header().Set("X-Prometheus-Remote-Write-Exemplars-Written", "0")
	}
	if err != nil {
		h.log.Warn("remote-write append", "table", db+"."+h.opts.Table, "err", err)
		w.Header().Set("Retry-After", "1")
		return httpError(w, http.StatusServiceUnavailable, "store samples: "+err.Error())
	}
	if res.nbad > 0 {
		total := len(st.recs) + res.rejected + res.histograms
		msg := fmt.Sprintf("%d of %d samples rejected, the rest stored; first reasons:\n%s",
			total-stored, total, strings.Join(res.bad, "\n"))
		return httpError(w, http.StatusBadRequest, msg)
	}
	w.WriteHeader(http.StatusNoContent)
	return http.StatusNoContent
}

// decode parses st.raw with the decoder of proto, reading the Handler's
// series cache, and adds the series it met first to the cache.
func (h *Handler) decode(st *decodeState, proto string, res *result) error {
	if h.cachePerState {
		if proto == protoV2 {
			return st.decodeV2(res)
		}
		return st.decodeV1(res)
	}
	st.cache = &h.series
	h.series.mu.RLock()
	var err error
	if proto == protoV2 {
		err = st.decodeV2(res)
	} else {
		err = st.decodeV1(res)
	}
	h.series.mu.RUnlock()
	st.cache = nil
	h.series.merge(st)
	return err
}

// tenant returns the database of request r, or an HTTP status and message
// when the tenant header is invalid or names a new tenant beyond
// MaxTenants. An invalid tenant is a 400: Prometheus would retry a 5xx
// forever.
func (h *Handler) tenant(r *http.Request) (string, int, string) {
	if h.opts.TenantHeader == "" {
		return h.opts.Database, 0, ""
	}
	t := r.Header.Get(h.opts.TenantHeader)
	if t == "" {
		return h.opts.Database, 0, ""
	}
	if !catalog.ValidName(t) {
		return "", http.StatusBadRequest, fmt.Sprintf("invalid %s header %s: a tenant is a database name, %d to %d letters, digits, '_', '.' or '-'",
			h.opts.TenantHeader, strconv.Quote(truncate(t, 64)), catalog.MinNameLen, catalog.MaxNameLen)
	}
	if h.opts.Tenants == nil || t == h.opts.Database {
		return t, 0, ""
	}
	if _, err := h.opts.Tenants.Database(t); err == nil {
		return t, 0, ""
	}
	if n := len(h.opts.Tenants.ListDatabases()); n >= h.opts.MaxTenants {
		return "", http.StatusBadRequest, fmt.Sprintf("tenant %q is new and the server already holds %d databases, the most it allows (prometheus.max_tenants)", t, n)
	}
	return t, 0, ""
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

func httpError(w http.ResponseWriter, code int, msg string) int {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	_, _ = io.WriteString(w, msg+"\n")
	return code
}

// negotiate picks the protobuf message from the Content-Type, as the 2.0
// spec wants, and checks the encoding.
func negotiate(contentType, encoding string) (string, error) {
	if encoding != "" && !strings.EqualFold(encoding, "snappy") {
		return "", fmt.Errorf("unsupported Content-Encoding %q: want snappy", encoding)
	}
	if contentType == "" {
		return protoV1, nil
	}
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return "", fmt.Errorf("parse Content-Type %q: %w", contentType, err)
	}
	if mt != "application/x-protobuf" {
		return "", fmt.Errorf("unsupported Content-Type %q: want application/x-protobuf", contentType)
	}
	switch p := params["proto"]; p {
	case "", protoV1:
		return protoV1, nil
	case protoV2:
		return protoV2, nil
	default:
		return "", fmt.Errorf("unsupported proto %q: want %s or %s", p, protoV1, protoV2)
	}
}

// readBody reads the compressed body into st.body.
func (st *decodeState) readBody(body io.Reader, limit int64) error {
	var err error
	st.body, err = readAll(st.body[:0], io.LimitReader(body, limit+1))
	if err != nil {
		return fmt.Errorf("read body: %w", err)
	}
	if int64(len(st.body)) > limit {
		return fmt.Errorf("body exceeds %d bytes", limit)
	}
	return nil
}

// decompress decodes the snappy body into st.raw.
func (st *decodeState) decompress(limit int64) error {
	n, err := snappy.DecodedLen(st.body)
	if err != nil {
		return fmt.Errorf("snappy: %w", err)
	}
	if int64(n) > limit {
		return fmt.Errorf("decoded body of %d bytes exceeds %d", n, limit)
	}
	if cap(st.raw) < n {
		st.raw = make([]byte, n)
	}
	st.raw, err = snappy.Decode(st.raw[:n], st.body)
	if err != nil {
		return fmt.Errorf("snappy: %w", err)
	}
	return nil
}

func readAll(dst []byte, r io.Reader) ([]byte, error) {
	for {
		if len(dst) == cap(dst) {
			dst = append(dst, 0)[:len(dst)]
		}
		n, err := r.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if errors.Is(err, io.EOF) {
			return dst, nil
		}
		if err != nil {
			return dst, err
		}
	}
}

// addSample appends the record of one sample of series e, or rejects the
// sample when its time cannot be stored. The records of a series share one
// dimension slice.
func (st *decodeState) addSample(res *result, e *seriesEntry, ms int64, v float64) {
	ns, ok := ingest.TimeFromUnits(ms, 1e6)
	reason := ""
	if !ok {
		reason = ingest.TimeRangeReason(ms, "milliseconds")
	} else {
		st.recs = append(st.recs, ingest.Record{Time: ns, Dimensions: e.dims, MeasureName: e.metric, Value: ingest.Float(v), Version: 1, Hint: &e.hint})
		// The series passed ValidateSeries when its entry was made.
		if reason = ingest.ValidateSample(&st.recs[len(st.recs)-1]); reason != "" {
			st.recs = st.recs[:len(st.recs)-1]
		}
	}
	if reason != "" {
		res.rejected++
		res.addBad(func() string { return fmt.Sprintf("sample %s @%d: %s", seriesString(e.metric, e.dims), ms, reason) })
	}
}

// maxShownLabels bounds the labels a message shows of a series.
const maxShownLabels = 8

// newSeriesEntry checks a decoded label set (dims is scratch: it is
// copied) against the record rules every ingestor shares, and returns its
// cache entry. reason is set already when decoding found a problem.
func newSeriesEntry(metric string, dims []ingest.Dimension, reason string) *seriesEntry {
	if reason == "" && metric == "" {
		reason = "no __name__ label"
	}
	if reason == "" {
		reason = ingest.ValidateSeries(metric, dims)
	}
	if reason != "" {
		// Only messages use the labels of a bad series.
		dims = dims[:min(len(dims), maxShownLabels+1)]
	}
	// Sorted by name (stably) before the entry is shared: the write path
	// sorts a record's dimensions in place, and the records of concurrent
	// requests share the entry's slice, which it must then only read.
	dims = slices.Clone(dims)
	slices.SortStableFunc(dims, func(a, b ingest.Dimension) int { return strings.Compare(a.Name, b.Name) })
	return &seriesEntry{metric: metric, dims: dims, reason: reason}
}

func (st *decodeState) reset() {
	st.recs, st.dims = st.recs[:0], st.dims[:0]
}

// addLabel takes one label of a series: __name__ becomes the metric name,
// the others dimensions appended to st.dims. It returns a reason when the
// series cannot be stored.
func (st *decodeState) addLabel(name, value string, metric *string) string {
	switch {
	case name == "__name__":
		*metric = value
	case name == "":
		return "empty label name"
	case value == "":
		// Prometheus treats an empty label value as an absent label.
	default:
		st.dims = append(st.dims, ingest.Dimension{Name: name, Value: value})
	}
	return ""
}

// seriesString formats a series for a message, showing at most
// maxShownLabels labels and 64 bytes of each string.
func seriesString(metric string, dims []ingest.Dimension) string {
	var b strings.Builder
	b.WriteString(truncate(metric, 64))
	b.WriteByte('{')
	for i, d := range dims {
		if i > 0 {
			b.WriteByte(',')
		}
		if i == maxShownLabels {
			b.WriteString("...")
			break
		}
		fmt.Fprintf(&b, "%s=%q", truncate(d.Name, 64), truncate(d.Value, 64))
	}
	b.WriteByte('}')
	return b.String()
}

// appendRecords stores the decoded records in one Append and returns how
// many were stored.
func (h *Handler) appendRecords(ctx context.Context, st *decodeState, db string, res *result) (int, error) {
	if res.exemplars > 0 {
		h.dropped.WithLabelValues("exemplar").Add(float64(res.exemplars))
	}
	if res.histograms > 0 {
		h.dropped.WithLabelValues("histogram").Add(float64(res.histograms))
	}
	if len(st.recs) == 0 {
		return 0, nil
	}
	out, err := h.app.Append(ctx, db, h.opts.Table, st.recs, ingest.AppendOptions{CreateTable: true, IdempotentRewrite: true})
	if err != nil {
		return 0, err
	}
	for _, rj := range out.Rejected {
		r := &st.recs[rj.Index]
		res.addBad(func() string {
			return fmt.Sprintf("sample %s @%d: %s", seriesString(r.MeasureName, r.Dimensions), r.Time/1e6, rj.Reason)
		})
	}
	return out.Total(), nil
}
