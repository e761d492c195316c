// Package promapi serves the Prometheus HTTP API (instant and range queries,
// series, labels, metadata, build info, query formatting) and remote-read
// over TidalDB's scan contract, so that Grafana's built-in Prometheus data
// source and Prometheus itself work against TidalDB unchanged.
//
// PromQL is evaluated by the engine of github.com/prometheus/prometheus/promql
// over Queryable, which reads one TidalDB table (default prometheus.metrics)
// through a scan.Source: memstore and magnetic merged.
//
// API is safe for concurrent use; each request runs its own query.
package promapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"runtime"
	"runtime/debug"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/util/annotations"
)

// Options configures an API.
type Options struct {
	// MaxSamples bounds the samples a query may load (default 50,000,000).
	MaxSamples int
	// Timeout bounds a query (default 2m).
	Timeout time.Duration
	// LookbackDelta is PromQL's staleness window (default 5m).
	LookbackDelta time.Duration
	// MaxQueryBytes and MaxQueryDepth bound a query's text and its nesting
	// before it is parsed (defaults DefaultMaxQueryBytes and
	// DefaultMaxQueryDepth).
	MaxQueryBytes, MaxQueryDepth int
	// MaxSubquerySteps bounds the steps of one subquery (default
	// DefaultMaxSubquerySteps).
	MaxSubquerySteps int
	// MaxSeries bounds the series one query may select (default
	// DefaultMaxSeries).
	MaxSeries int
	// MaxConcurrent bounds the queries (query, query_range, series and
	// label requests) running at once (default 2 x GOMAXPROCS, at least
	// 4); more wait up to QueueWait (default DefaultQueueWait) and then get
	// a 503 with Retry-After.
	MaxConcurrent int
	QueueWait     time.Duration
	// TenantHeader, when set, names a request header whose value chooses
	// the database read (as remote-write's tenant header chooses the one
	// written); requests without it read the Queryable's database.
	TenantHeader string
	// Version is reported by /api/v1/status/buildinfo.
	Version    string
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	Now        func() time.Time

	// queryCost runs the engine with its query-cost budget, as before
	// seriesLimit (benchmarks compare the two).
	queryCost bool
}

// API serves /api/v1/*.
type API struct {
	q      storage.Queryable
	engine *promql.Engine
	parser parser.Parser
	opts   Options
	slots  chan struct{} // one per running query
}

// New returns an API answering from q.
func New(q storage.Queryable, opts Options) *API {
	if opts.MaxSamples <= 0 {
		opts.MaxSamples = 50_000_000
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 2 * time.Minute
	}
	if opts.LookbackDelta <= 0 {
		opts.LookbackDelta = 5 * time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxQueryBytes <= 0 {
		opts.MaxQueryBytes = DefaultMaxQueryBytes
	}
	if opts.MaxQueryDepth <= 0 {
		opts.MaxQueryDepth = DefaultMaxQueryDepth
	}
	if opts.MaxSubquerySteps <= 0 {
		opts.MaxSubquerySteps = DefaultMaxSubquerySteps
	}
	if opts.MaxSeries <= 0 {
		opts.MaxSeries = DefaultMaxSeries
	}
	if opts.MaxConcurrent <= 0 {
		opts.MaxConcurrent = max(4, 2*runtime.GOMAXPROCS(0))
	}
	if opts.QueueWait <= 0 {
		opts.QueueWait = DefaultQueueWait
	}
	p := parser.NewParser(parser.Options{})
	eng := promql.NewEngine(promql.EngineOpts{
		Logger:                   opts.Logger,
		Reg:                      opts.Registerer,
		MaxSamples:               opts.MaxSamples,
		Timeout:                  opts.Timeout,
		LookbackDelta:            opts.LookbackDelta,
		NoStepSubqueryIntervalFn: func(int64) int64 { return time.Minute.Milliseconds() },
		EnableAtModifier:         true,
		EnableNegativeOffset:     true,
		// No query-cost budget: it checks the context twice per sample
		// read (a third of double-groupby-all's CPU); MaxSeries is
		// enforced on the selected series instead (seriesLimit).
		EnableQueryCost: opts.queryCost,
		Parser:          p,
	})
	if opts.queryCost {
		eng.SetQueryLimits(uint64(opts.MaxSeries), 0, 0)
	}
	return &API{q: q, engine: eng, parser: p, opts: opts, slots: make(chan struct{}, opts.MaxConcurrent)}
}

// Mux is where Register adds the API's routes: an *http.ServeMux, or the
// server's authenticating router (auth.Registrar).
type Mux interface {
	HandleFunc(pattern string, handler func(http.ResponseWriter, *http.Request))
}

// Register adds the API's routes to mux, each for GET and POST.
func (a *API) Register(mux Mux) {
	for path, h := range map[string]http.HandlerFunc{
		"/api/v1/query":               a.query,
		"/api/v1/query_range":         a.queryRange,
		"/api/v1/series":              a.series,
		"/api/v1/labels":              a.labelNames,
		"/api/v1/label/{name}/values": a.labelValues,
		"/api/v1/metadata":            a.metadata,
		"/api/v1/status/buildinfo":    a.buildInfo,
		"/api/v1/format_query":        a.formatQuery,
		"/api/v1/query_exemplars":     a.emptyList,
		"/api/v1/rules":               a.rules,
		"/api/v1/alerts":              a.alerts,
		"/api/v1/status/runtimeinfo":  a.runtimeInfo,
	} {
		mux.HandleFunc("GET "+path, h)
		mux.HandleFunc("POST "+path, h)
	}
}

// apiError is a Prometheus API error with its errorType.
type apiError struct {
	typ    string // bad_data, execution, timeout, canceled, internal
	status int
	err    error
}

func badData(format string, args ...any) *apiError {
	return &apiError{typ: "bad_data", status: http.StatusBadRequest, err: fmt.Errorf(format, args...)}
}

// queryError classifies an error from the engine.
func queryError(err error) *apiError {
	var (
		timeout promql.ErrQueryTimeout
		cancel  promql.ErrQueryCanceled
		tooMany promql.ErrTooManySamples
		series  promql.ErrTooManySeries
	)
	switch {
	case errors.As(err, &timeout), errors.Is(err, context.DeadlineExceeded):
		return &apiError{typ: "timeout", status: http.StatusServiceUnavailable, err: err}
	case errors.As(err, &cancel), errors.Is(err, context.Canceled):
		return &apiError{typ: "canceled", status: 499, err: err}
	case errors.As(err, &tooMany), errors.As(err, &series), errors.Is(err, errTooManySamples):
		return &apiError{typ: "execution", status: http.StatusUnprocessableEntity, err: err}
	}
	return &apiError{typ: "execution", status: http.StatusUnprocessableEntity, err: err}
}

func (a *API) writeError(w http.ResponseWriter, e *apiError) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.status)
	b := []byte(`{"status":"error","errorType":`)
	b = strconv.AppendQuote(b, e.typ)
	b = append(b, `,"error":`...)
	b = strconv.AppendQuote(b, e.err.Error())
	b = append(b, "}\n"...)
	_, _ = w.Write(b)
}

// writeData writes {"status":"success","data":<data>,"warnings":[...]}.
func writeData(w http.ResponseWriter, data []byte, warnings annotations.Annotations) {
	w.Header().Set("Content-Type", "application/json")
	b := append([]byte(`{"status":"success","data":`), data...)
	if len(warnings) > 0 {
		ws, infos := warnings.AsStrings("", 10, 10)
		b = append(b, `,"warnings":`...)
		b = appendStrings(b, ws)
		if len(infos) > 0 {
			b = append(b, `,"infos":`...)
			b = appendStrings(b, infos)
		}
	}
	b = append(b, "}\n"...)
	_, _ = w.Write(b)
}

func appendStrings(b []byte, ss []string) []byte {
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendQuote(b, s)
	}
	return append(b, ']')
}

// parseTime accepts RFC 3339 or Unix seconds with a fraction, as Prometheus.
func parseTime(s string, def time.Time) (time.Time, error) {
	if s == "" {
		return def, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		// As Prometheus: rounded to the millisecond.
		sec, frac := math.Modf(f)
		frac = math.Round(frac*1000) / 1000
		return time.Unix(int64(sec), int64(frac*float64(time.Second))).UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("cannot parse %q to a valid timestamp", s)
}

// parseDuration accepts seconds with a fraction or a Prometheus duration.
func parseDuration(s string) (time.Duration, error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		d := f * float64(time.Second)
		if d >= float64(math.MaxInt64) || d <= float64(math.MinInt64) {
			return 0, fmt.Errorf("cannot parse %q to a valid duration: out of range", s)
		}
		return time.Duration(d), nil
	}
	if d, err := model.ParseDuration(s); err == nil {
		return time.Duration(d), nil
	}
	return 0, fmt.Errorf("cannot parse %q to a valid duration", s)
}

// requestContext applies the optional timeout parameter.
func (a *API) requestContext(r *http.Request) (context.Context, context.CancelFunc, *apiError) {
	ctx := r.Context()
	if to := r.FormValue("timeout"); to != "" {
		d, err := parseDuration(to)
		if err != nil {
			return nil, nil, badData("invalid parameter \"timeout\": %w", err)
		}
		c, cancel := context.WithTimeout(ctx, d)
		return c, cancel, nil
	}
	return ctx, func() {}, nil
}

func (a *API) query(w http.ResponseWriter, r *http.Request) {
	ts, err := parseTime(r.FormValue("time"), a.opts.Now())
	if err != nil {
		a.writeError(w, badData("invalid parameter \"time\": %w", err))
		return
	}
	if aerr := a.parseQuery(r.FormValue("query"), 0); aerr != nil {
		a.writeError(w, aerr)
		return
	}
	qa, aerr := a.queryable(r)
	if aerr != nil {
		a.writeError(w, aerr)
		return
	}
	ctx, cancel, aerr := a.requestContext(r)
	if aerr != nil {
		a.writeError(w, aerr)
		return
	}
	defer cancel()
	release, aerr := a.acquire(ctx, w)
	if aerr != nil {
		a.writeError(w, aerr)
		return
	}
	defer release()
	q, err := a.engine.NewInstantQuery(ctx, seriesLimit(qa, a.opts.MaxSeries), nil, r.FormValue("query"), ts)
	if err != nil {
		a.writeError(w, badData("invalid parameter \"query\": %w", err))
		return
	}
	a.run(ctx, w, q)
}

func (a *API) queryRange(w http.ResponseWriter, r *http.Request) {
	start, err := parseTime(r.FormValue("start"), time.Time{})
	if err != nil || r.FormValue("start") == "" {
		a.writeError(w, badData("invalid parameter \"start\": %v", errOrMissing(err)))
		return
	}
	end, err := parseTime(r.FormValue("end"), time.Time{})
	if err != nil || r.FormValue("end") == "" {
		a.writeError(w, badData("invalid parameter \"end\": %v", errOrMissing(err)))
		return
	}
	if end.Before(start) {
		a.writeError(w, badData("invalid parameter \"end\": end timestamp must not be before start time"))
		return
	}
	step, err := parseDuration(r.FormValue("step"))
	if err != nil {
		a.writeError(w, badData("invalid parameter \"step\": %w", err))
		return
	}
	if step <= 0 {
		a.writeError(w, badData("zero or negative query resolution step widths are not accepted. Try a positive integer"))
		return
	}
	if end.Sub(start)/step > 11000 {
		a.writeError(w, badData("exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)"))
		return
	}
	if aerr := a.parseQuery(r.FormValue("query"), end.Sub(start)); aerr != nil {
		a.writeError(w, aerr)
		return
	}
	qa, aerr := a.queryable(r)
	if aerr != nil {
		a.writeError(w, aerr)
		return
	}
	ctx, cancel, aerr := a.requestContext(r)
	if aerr != nil {
		a.writeError(w, aerr)
		return
	}
	defer cancel()
	release, aerr := a.acquire(ctx, w)
	if aerr != nil {
		a.writeError(w, aerr)
		return
	}
	defer release()
	q, err := a.engine.NewRangeQuery(ctx, seriesLimit(qa, a.opts.MaxSeries), nil, r.FormValue("query"), start, end, step)
	if err != nil {
		a.writeError(w, badData("invalid parameter \"query\": %w", err))
		return
	}
	a.run(ctx, w, q)
}

func errOrMissing(err error) error {
	if err == nil {
		return errors.New("missing")
	}
	return err
}

func (a *API) run(ctx context.Context, w http.ResponseWriter, q promql.Query) {
	defer q.Close()
	res := q.Exec(ctx)
	if res.Err != nil {
		a.writeError(w, queryError(res.Err))
		return
	}
	b, err := appendResult(nil, res.Value)
	if err != nil {
		a.writeError(w, &apiError{typ: "internal", status: http.StatusInternalServerError, err: err})
		return
	}
	writeData(w, b, res.Warnings)
}

// appendResult encodes a PromQL value as Prometheus's API does.
func appendResult(b []byte, v parser.Value) ([]byte, error) {
	switch v := v.(type) {
	case promql.Matrix:
		b = append(b, `{"resultType":"matrix","result":[`...)
		for i, s := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"metric":`...)
			b = appendLabels(b, s.Metric)
			b = append(b, `,"values":[`...)
			for j, p := range s.Floats {
				if j > 0 {
					b = append(b, ',')
				}
				b = appendPoint(b, p.T, p.F)
			}
			b = append(b, "]}"...)
		}
		return append(b, "]}"...), nil
	case promql.Vector:
		b = append(b, `{"resultType":"vector","result":[`...)
		for i, s := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"metric":`...)
			b = appendLabels(b, s.Metric)
			b = append(b, `,"value":`...)
			b = appendPoint(b, s.T, s.F)
			b = append(b, '}')
		}
		return append(b, "]}"...), nil
	case promql.Scalar:
		b = append(b, `{"resultType":"scalar","result":`...)
		b = appendPoint(b, v.T, v.V)
		return append(b, '}'), nil
	case promql.String:
		b = append(b, `{"resultType":"string","result":[`...)
		b = appendTime(b, v.T)
		b = append(b, ',')
		b = strconv.AppendQuote(b, v.V)
		return append(b, "]}"...), nil
	}
	return nil, fmt.Errorf("promapi: unexpected result type %T", v)
}

func appendLabels(b []byte, lset labels.Labels) []byte {
	b = append(b, '{')
	first := true
	lset.Range(func(l labels.Label) {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendQuoted(b, l.Name)
		b = append(b, ':')
		b = appendQuoted(b, l.Value)
	})
	return append(b, '}')
}

// appendQuoted appends s quoted as strconv.AppendQuote does, copying
// strings of printable ASCII without quotes or backslashes (label names
// and most values) as they are.
func appendQuoted(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return strconv.AppendQuote(b, s)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

func appendTime(b []byte, ms int64) []byte {
	return strconv.AppendFloat(b, float64(ms)/1000, 'f', -1, 64)
}

func appendPoint(b []byte, ms int64, f float64) []byte {
	b = append(b, '[')
	b = appendTime(b, ms)
	b = append(b, `,"`...)
	switch {
	case math.IsNaN(f):
		b = append(b, "NaN"...)
	case math.IsInf(f, 1):
		b = append(b, "+Inf"...)
	case math.IsInf(f, -1):
		b = append(b, "-Inf"...)
	default:
		b = strconv.AppendFloat(b, f, 'f', -1, 64)
	}
	return append(b, `"]`...)
}

// selectors parses the match[] parameters.
func (a *API) selectors(r *http.Request) ([][]*labels.Matcher, *apiError) {
	if err := r.ParseForm(); err != nil {
		return nil, badData("parse form: %w", err)
	}
	var out [][]*labels.Matcher
	for _, s := range r.Form["match[]"] {
		ms, err := a.parser.ParseMetricSelector(s)
		if err != nil {
			return nil, badData("invalid parameter \"match[]\": %w", err)
		}
		out = append(out, ms)
	}
	return out, nil
}

// timeRange parses start and end for metadata endpoints (default: all time).
func timeRange(r *http.Request) (int64, int64, *apiError) {
	start, err := parseTime(r.FormValue("start"), time.UnixMilli(math.MinInt64/2))
	if err != nil {
		return 0, 0, badData("invalid parameter \"start\": %w", err)
	}
	end, err := parseTime(r.FormValue("end"), time.UnixMilli(math.MaxInt64/2))
	if err != nil {
		return 0, 0, badData("invalid parameter \"end\": %w", err)
	}
	return start.UnixMilli(), end.UnixMilli(), nil
}

func (a *API) series(w http.ResponseWriter, r *http.Request) {
	sels, aerr := a.selectors(r)
	if aerr == nil && len(sels) == 0 {
		aerr = badData("no match[] parameter provided")
	}
	if aerr != nil {
		a.writeError(w, aerr)
		return
	}
	mint, maxt, aerr := timeRange(r)
	if aerr != nil {
		a.writeError(w, aerr)
		return
	}
	q, release, ok := a.openQuerier(w, r, mint, maxt)
	if !ok {
		return
	}
	defer release()
	// Sorted, then the series several selectors share dropped: no map of
	// label strings (a million series built a million strings).
	var all []labels.Labels
	hints := &storage.SelectHints{Start: mint, End: maxt, Func: "series"}
	for _, ms := range sels {
		ss := q.Select(r.Context(), false, hints, ms...)
		for ss.Next() {
			all = append(all, ss.At().Labels())
		}
		if err := ss.Err(); err != nil {
			a.writeError(w, queryError(err))
			return
		}
	}
	all = sortedUnique(all)
	b := make([]byte, 0, 64*len(all)+1)
	b = append(b, '[')
	for i, l := range all {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendLabels(b, l)
	}
	writeData(w, append(b, ']'), nil)
}

// sortedUnique sorts label sets and drops repeats.
func sortedUnique(all []labels.Labels) []labels.Labels {
	slices.SortFunc(all, labels.Compare)
	return slices.CompactFunc(all, labels.Equal)
}

func (a *API) labelNames(w http.ResponseWriter, r *http.Request) {
	a.labels(w, r, "")
}

func (a *API) labelValues(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if strings.HasPrefix(name, "U__") {
		name = model.UnescapeName(name, model.ValueEncodingEscaping)
	}
	if !model.UTF8Validation.IsValidLabelName(name) {
		a.writeError(w, badData("invalid label name: %q", name))
		return
	}
	a.labels(w, r, name)
}

// labels answers label names (name == "") or the values of label name.
func (a *API) labels(w http.ResponseWriter, r *http.Request, name string) {
	sels, aerr := a.selectors(r)
	if aerr != nil {
		a.writeError(w, aerr)
		return
	}
	mint, maxt, aerr := timeRange(r)
	if aerr != nil {
		a.writeError(w, aerr)
		return
	}
	limit := 0
	if l := r.FormValue("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 0 {
			a.writeError(w, badData("invalid parameter \"limit\": %q", l))
			return
		}
		limit = n
	}
	q, release, ok := a.openQuerier(w, r, mint, maxt)
	if !ok {
		return
	}
	defer release()
	if len(sels) == 0 {
		sels = [][]*labels.Matcher{nil}
	}
	set := map[string]struct{}{}
	var warnings annotations.Annotations
	for _, ms := range sels {
		var vals []string
		var ws annotations.Annotations
		var err error
		if name == "" {
			vals, ws, err = q.LabelNames(r.Context(), &storage.LabelHints{}, ms...)
		} else {
			vals, ws, err = q.LabelValues(r.Context(), name, &storage.LabelHints{}, ms...)
		}
		if err != nil {
			a.writeError(w, queryError(err))
			return
		}
		warnings.Merge(ws)
		for _, v := range vals {
			set[v] = struct{}{}
		}
	}
	out := make([]string, 0, len(set))
	for v := range set {
		out = append(out, v)
	}
	sort.Strings(out)
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	writeData(w, appendStrings(nil, out), warnings)
}

// metadata answers with no metadata: remote-write metadata is not stored
// (documented in ingest/promrw).
func (a *API) metadata(w http.ResponseWriter, _ *http.Request) {
	writeData(w, []byte("{}"), nil)
}

func (a *API) emptyList(w http.ResponseWriter, _ *http.Request) {
	writeData(w, []byte("[]"), nil)
}

func (a *API) rules(w http.ResponseWriter, _ *http.Request) {
	writeData(w, []byte(`{"groups":[]}`), nil)
}

func (a *API) alerts(w http.ResponseWriter, _ *http.Request) {
	writeData(w, []byte(`{"alerts":[]}`), nil)
}

func (a *API) buildInfo(w http.ResponseWriter, _ *http.Request) {
	b := []byte(`{"version":`)
	// Grafana reads the version to pick features; report the Prometheus
	// release whose PromQL engine evaluates the queries (answers follow
	// that release, e.g. rate extrapolation at a series' start) and our
	// own version separately.
	b = strconv.AppendQuote(b, EngineVersion())
	b = append(b, `,"revision":`...)
	b = strconv.AppendQuote(b, "tidal-"+a.opts.Version)
	b = append(b, `,"branch":"","buildUser":"tidal","buildDate":"","goVersion":`...)
	b = strconv.AppendQuote(b, runtime.Version())
	b = append(b, '}')
	writeData(w, b, nil)
}

func (a *API) runtimeInfo(w http.ResponseWriter, _ *http.Request) {
	b := []byte(`{"startTime":`)
	b = strconv.AppendQuote(b, a.opts.Now().UTC().Format(time.RFC3339))
	b = append(b, `,"CWD":"","reloadConfigSuccess":true,"lastConfigTime":"","corruptionCount":0,"goroutineCount":`...)
	b = strconv.AppendInt(b, int64(runtime.NumGoroutine()), 10)
	b = append(b, `,"GOMAXPROCS":`...)
	b = strconv.AppendInt(b, int64(runtime.GOMAXPROCS(0)), 10)
	b = append(b, `,"storageRetention":""}`...)
	writeData(w, b, nil)
}

func (a *API) formatQuery(w http.ResponseWriter, r *http.Request) {
	// The text bounds keep parsing and formatting short; the context is
	// checked between the two.
	qs := r.FormValue("query")
	if err := a.checkQueryText(qs); err != nil {
		a.writeError(w, badData("invalid parameter \"query\": %w", err))
		return
	}
	expr, err := a.parser.ParseExpr(qs)
	if err != nil {
		a.writeError(w, badData("invalid parameter \"query\": %w", err))
		return
	}
	if err := r.Context().Err(); err != nil {
		a.writeError(w, queryError(err))
		return
	}
	writeData(w, strconv.AppendQuote(nil, parser.Prettify(expr)), nil)
}

// queryable returns what request r reads: the tenant's database when the
// tenant header is set, with this API's sample budget.
func (a *API) queryable(r *http.Request) (storage.Queryable, *apiError) {
	q, aerr := forTenant(a.q, a.opts.TenantHeader, r)
	if aerr != nil {
		return nil, aerr
	}
	if pq, ok := q.(*Queryable); ok && (pq.MaxSamples == 0 || pq.lookback != a.opts.LookbackDelta) {
		c := *pq
		if c.MaxSamples == 0 {
			c.MaxSamples = a.opts.MaxSamples
		}
		c.lookback = a.opts.LookbackDelta
		q = &c
	}
	return q, nil
}

// prometheusModule is the module whose PromQL engine the API runs.
const prometheusModule = "github.com/prometheus/prometheus"

// engineRelease is the release go.mod requires, for builds without module
// information (test binaries); TestEngineVersion keeps it equal to go.mod.
const engineRelease = "3.16.0"

// EngineVersion is the Prometheus release of the PromQL engine linked in:
// the module's v0.3MM.P tags are release 3.MM.P. It reads the build's
// module list, so it stays true when go.mod moves.
func EngineVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, m := range bi.Deps {
			if m.Path == prometheusModule {
				if m.Replace != nil {
					m = m.Replace
				}
				return releaseOfModule(m.Version)
			}
		}
	}
	return engineRelease
}

// releaseOfModule maps a prometheus module version (v0.316.0) to its
// release (3.16.0); other shapes are returned without the v.
func releaseOfModule(v string) string {
	v = strings.TrimPrefix(v, "v")
	parts := strings.SplitN(v, ".", 3)
	if len(parts) == 3 && parts[0] == "0" {
		if minor, err := strconv.Atoi(parts[1]); err == nil && minor >= 100 {
			patch := parts[2]
			if i := strings.IndexAny(patch, "-+"); i >= 0 {
				patch = patch[:i]
			}
			return strconv.Itoa(minor/100) + "." + strconv.Itoa(minor%100) + "." + patch
		}
	}
	return v
}

// openQuerier opens the querier a metadata request (series, labels, label
// values) reads through: the tenant's queryable, a concurrency slot, then
// the querier over [mint, maxt]. On failure it has written the error and
// returns false; otherwise release closes the querier and frees the slot.
func (a *API) openQuerier(w http.ResponseWriter, r *http.Request, mint, maxt int64) (storage.Querier, func(), bool) {
	qa, aerr := a.queryable(r)
	if aerr != nil {
		a.writeError(w, aerr)
		return nil, nil, false
	}
	releaseSlot, aerr := a.acquire(r.Context(), w)
	if aerr != nil {
		a.writeError(w, aerr)
		return nil, nil, false
	}
	q, err := qa.Querier(mint, maxt)
	if err != nil {
		releaseSlot()
		a.writeError(w, &apiError{typ: "internal", status: 500, err: err})
		return nil, nil, false
	}
	return q, func() { _ = q.Close(); releaseSlot() }, true
}
