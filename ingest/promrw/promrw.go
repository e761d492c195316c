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
	"strconv"
	"strings"
	"sync"

	"github.com/golang/snappy"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tidaldb/tidal/ingest"
)

// Options configures a Handler.
type Options struct {
	// Database and Table receive the samples (default prometheus, metrics).
	Database, Table string
	// TenantHeader, when set, names a request header whose value chooses
	// the database (per-tenant routing); requests without it use Database.
	TenantHeader string
	// MaxBodyBytes bounds the compressed and the decoded body (default 32 MiB).
	MaxBodyBytes int64
	// MaxInflight bounds concurrent requests; more get a 503 with
	// Retry-After (default 64).
	MaxInflight int
	Logger      *slog.Logger
	Registerer  prometheus.Registerer
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
	strs      interner                // label strings of the v1 decoder
	series    map[string]*seriesEntry // label sets of the v1 decoder
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
	bad                   []string // reasons, for the 400 body
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
	select {
	case h.inflight <- struct{}{}:
		defer func() { <-h.inflight }()
	default:
		w.Header().Set("Retry-After", "1")
		return httpError(w, http.StatusServiceUnavailable, "too many concurrent remote-write requests; retry")
	}
	st := h.bufs.Get().(*decodeState)
	defer h.bufs.Put(st)

	if err := st.read(r.Body, h.opts.MaxBodyBytes); err != nil {
		return httpError(w, http.StatusBadRequest, err.Error())
	}
	db := h.opts.Database
	if h.opts.TenantHeader != "" {
		if t := r.Header.Get(h.opts.TenantHeader); t != "" {
			db = t
		}
	}
	var res result
	if proto == protoV2 {
		err = st.decodeV2(&res)
	} else {
		err = st.decodeV1(&res)
	}
	if err != nil {
		return httpError(w, http.StatusBadRequest, err.Error())
	}
	stored, err := h.appendRecords(r.Context(), st, db, &res)
	h.samples.WithLabelValues("stored").Add(float64(stored))
	h.samples.WithLabelValues("rejected").Add(float64(len(st.recs) - stored))
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
	if len(res.bad) > 0 {
		msg := fmt.Sprintf("%d of %d samples rejected, the rest stored; first reasons:\n%s",
			len(st.recs)-stored+res.histograms, len(st.recs)+res.histograms, strings.Join(res.bad[:min(len(res.bad), 10)], "\n"))
		return httpError(w, http.StatusBadRequest, msg)
	}
	w.WriteHeader(http.StatusNoContent)
	return http.StatusNoContent
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

// read decompresses the snappy body into st.raw.
func (st *decodeState) read(body io.Reader, limit int64) error {
	var err error
	st.body, err = readAll(st.body[:0], io.LimitReader(body, limit+1))
	if err != nil {
		return fmt.Errorf("read body: %w", err)
	}
	if int64(len(st.body)) > limit {
		return fmt.Errorf("body exceeds %d bytes", limit)
	}
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

// addSample appends the record of one sample. The records of a series share
// one dimension slice.
func (st *decodeState) addSample(name string, dims []ingest.Dimension, ms int64, v float64) {
	st.recs = append(st.recs, ingest.Record{Time: ms * 1e6, Dimensions: dims, MeasureName: name, Value: ingest.Float(v), Version: 1})
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

func seriesString(metric string, dims []ingest.Dimension) string {
	var b strings.Builder
	b.WriteString(metric)
	b.WriteByte('{')
	for i, d := range dims {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s=%q", d.Name, d.Value)
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
		res.bad = append(res.bad, fmt.Sprintf("sample %s @%d: %s", seriesString(r.MeasureName, r.Dimensions), r.Time/1e6, rj.Reason))
	}
	return out.Total(), nil
}
