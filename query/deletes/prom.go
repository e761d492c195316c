package deletes

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/internal/tombstone"
	"github.com/tidaldb/tidal/query/scan"
)

// PromAPI serves Prometheus's TSDB admin endpoints for deletion on the
// table Prometheus samples go to.
type PromAPI struct {
	Set     *tombstone.Set
	Catalog Catalog
	// Source is what queries read; DeleteSeries logs how many of its
	// series a deletion hit.
	Source scan.Source
	// Database and Table hold the samples; TenantHeader, when set, names
	// the header whose value chooses the database instead (as for the
	// query API).
	Database, Table, TenantHeader string
	// Clean applies the tombstones now (clean_tombstones); nil refuses.
	Clean  func(ctx context.Context) (int, error)
	Logger *slog.Logger
	// Now is the clock of the default end (default time.Now).
	Now func() time.Time
}

func (p *PromAPI) log() *slog.Logger {
	if p.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return p.Logger
}

// promError writes Prometheus's error envelope.
func promError(w http.ResponseWriter, status int, typ string, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"status": "error", "errorType": typ, "error": err.Error()})
}

// parsePromTime accepts RFC 3339 or Unix seconds with a fraction, as
// Prometheus does.
func parsePromTime(s string) (int64, error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		ns := f * 1e9
		if ns >= math.MaxInt64 || ns <= math.MinInt64 || math.IsNaN(ns) {
			return 0, fmt.Errorf("cannot parse %q to a valid timestamp: out of range", s)
		}
		sec, frac := math.Modf(f)
		return int64(sec)*1e9 + int64(math.Round(frac*1000))*1e6, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UnixNano(), nil
	}
	return 0, fmt.Errorf("cannot parse %q to a valid timestamp", s)
}

// Matchers converts a Prometheus selector's matchers: __name__ is
// measure_name, other labels are dimensions, and a label matched against
// the empty string means the dimension is absent, as in Prometheus.
func Matchers(ms []*labels.Matcher) []tombstone.Matcher {
	out := make([]tombstone.Matcher, 0, len(ms))
	for _, m := range ms {
		name := m.Name
		if name == model.MetricNameLabel {
			name = scan.ColMeasureName
		}
		var tm tombstone.Matcher
		switch m.Type {
		case labels.MatchEqual:
			tm = tombstone.Matcher{Name: name, Op: tombstone.OpEqual, Values: []string{m.Value}}
			if m.Value == "" {
				tm = tombstone.Matcher{Name: name, Op: tombstone.OpAbsent}
			}
		case labels.MatchNotEqual:
			tm = tombstone.Matcher{Name: name, Op: tombstone.OpNotEqual, Values: []string{m.Value}}
			if m.Value == "" {
				tm = tombstone.Matcher{Name: name, Op: tombstone.OpPresent}
			}
		case labels.MatchRegexp:
			tm = tombstone.Matcher{Name: name, Op: tombstone.OpRegexp, Values: []string{m.Value}}
		case labels.MatchNotRegexp:
			tm = tombstone.Matcher{Name: name, Op: tombstone.OpNotRegexp, Values: []string{m.Value}}
		}
		out = append(out, tm)
	}
	return out
}

// DeleteSeries serves POST /api/v1/admin/tsdb/delete_series: a tombstone
// per match[] selector over [start, end] (default: all time up to now).
// It answers 204 once the tombstones are durable, as Prometheus does.
func (p *PromAPI) DeleteSeries(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		promError(w, http.StatusBadRequest, "bad_data", fmt.Errorf("error parsing form values: %w", err))
		return
	}
	sels := r.Form["match[]"]
	if len(sels) == 0 {
		promError(w, http.StatusBadRequest, "bad_data", fmt.Errorf("no match[] parameter provided"))
		return
	}
	now := time.Now
	if p.Now != nil {
		now = p.Now
	}
	lo, hi := int64(math.MinInt64), now().UnixNano()
	var err error
	if s := r.Form.Get("start"); s != "" {
		if lo, err = parsePromTime(s); err != nil {
			promError(w, http.StatusBadRequest, "bad_data", fmt.Errorf("invalid parameter \"start\": %w", err))
			return
		}
	}
	if s := r.Form.Get("end"); s != "" {
		if hi, err = parsePromTime(s); err != nil {
			promError(w, http.StatusBadRequest, "bad_data", fmt.Errorf("invalid parameter \"end\": %w", err))
			return
		}
	}
	db := p.Database
	if p.TenantHeader != "" {
		if t := r.Header.Get(p.TenantHeader); t != "" {
			if !catalog.ValidName(t) {
				promError(w, http.StatusBadRequest, "bad_data", fmt.Errorf("invalid %s header: a tenant is a database name", p.TenantHeader))
				return
			}
			db = t
		}
	}
	var ts []tombstone.Tombstone
	for _, s := range sels {
		ms, err := promParser.ParseMetricSelector(s)
		if err != nil {
			promError(w, http.StatusBadRequest, "bad_data", err)
			return
		}
		ts = append(ts, tombstone.Tombstone{Database: db, Table: p.Table, Where: Matchers(ms), MinTime: lo, MaxTime: hi})
	}
	tbl, err := p.Catalog.Table(db, p.Table)
	if catalog.IsNotFound(err) || lo > hi {
		w.WriteHeader(http.StatusNoContent) // nothing stored: nothing to delete
		return
	}
	if err != nil {
		promError(w, http.StatusInternalServerError, "internal", err)
		return
	}
	series := 0
	for i := range ts {
		ts[i].TableID = tbl.ID
		if err := ts[i].Validate(); err != nil {
			promError(w, http.StatusBadRequest, "bad_data", err)
			return
		}
		res, err := Apply(r.Context(), p.Set, p.Source, ts[i])
		if err != nil {
			promError(w, http.StatusInternalServerError, "internal", err)
			return
		}
		series += res.Series
	}
	p.log().Info("deleted series", "database", db, "table", p.Table, "selectors", len(sels), "series", series, "min_time", lo, "max_time", hi)
	w.WriteHeader(http.StatusNoContent)
}

// CleanTombstones serves POST /api/v1/admin/tsdb/clean_tombstones: it
// rewrites the parts holding deleted rows now and drops the tombstones
// that are then applied everywhere; 204 when done.
func (p *PromAPI) CleanTombstones(w http.ResponseWriter, r *http.Request) {
	if p.Clean == nil {
		promError(w, http.StatusServiceUnavailable, "unavailable", fmt.Errorf("tombstone cleaning is not configured"))
		return
	}
	n, err := p.Clean(r.Context())
	if err != nil {
		promError(w, http.StatusInternalServerError, "internal", err)
		return
	}
	p.log().Info("cleaned tombstones", "dropped", n)
	w.WriteHeader(http.StatusNoContent)
}

var promParser = parser.NewParser(parser.Options{})
