package promapi

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/prometheus/storage"

	"github.com/tidaldb/tidal/query/scan"
)

// lastCounter counts the scans that ask for the newest rows only.
type lastCounter struct {
	scan.Source
	last, all atomic.Int64
}

func (c *lastCounter) Scan(ctx context.Context, req *scan.Request) (scan.Batches, error) {
	c.all.Add(1)
	if req.Last {
		c.last.Add(1)
	}
	return c.Source.Scan(ctx, req)
}

// TestLastAgrees checks that the answers of PromQL queries are the same
// with and without the newest-sample scans (scan.Request.Last), at random
// evaluation times in, between and past the samples, and that only
// selectors evaluated at one instant use them.
func TestLastAgrees(t *testing.T) {
	tr := benchSmall.open(t, 10)
	src := &lastCounter{Source: tr.flush}
	on := &Queryable{Source: src, Database: "prometheus", Table: "metrics"}
	off := &Queryable{Source: tr.flush, Database: "prometheus", Table: "metrics", noLast: true}
	muxOf := func(q storage.Queryable) *http.ServeMux {
		mux := http.NewServeMux()
		New(q, Options{}).Register(mux)
		return mux
	}
	muxOn, muxOff := muxOf(on), muxOf(off)
	rng := rand.New(rand.NewPCG(5, 5))
	at := func() time.Time {
		// From before the data to past its end plus the lookback, on and
		// off the 10 s sample grid.
		return benchStart.Add(time.Duration(rng.Int64N(int64(benchSpan+20*time.Minute))) - 10*time.Minute)
	}
	exprs := []struct {
		expr    string
		instant bool // reads its samples at one instant
	}{
		{`{__name__=~"cpu_usage_.*"}`, true},
		{`cpu_usage_user{hostname="host_3"}`, true},
		{`cpu_usage_user offset 1m`, true},
		{`cpu_usage_user @ %d`, true}, // every step reads the one instant
		{`timestamp(cpu_usage_system)`, true},
		{`max by (hostname) (cpu_usage_idle)`, true},
		{`cpu_usage_user - cpu_usage_user offset 30s`, true},
		{`max_over_time(cpu_usage_user[5m])`, false},
		{`last_over_time(cpu_usage_user[1m])`, false},
		{`rate(cpu_usage_user[1m])`, false},
		{`max_over_time(cpu_usage_user[10m:1m])`, false},
		{`cpu_usage_user[2m]`, false},
	}
	for i := range 60 {
		e := exprs[i%len(exprs)]
		expr := e.expr
		if slices.Contains([]byte(expr), '%') {
			expr = fmt.Sprintf(expr, at().Unix())
		}
		ts := at()
		var reqs []string
		reqs = append(reqs, "/api/v1/query?"+url.Values{"query": {expr}, "time": {strconv.FormatInt(ts.UnixMilli(), 10) + "e-3"}}.Encode())
		if expr != `cpu_usage_user[2m]` {
			// The harness's lastpoint: a range query with start = end;
			// and one over several steps (no newest-sample scans).
			for _, span := range []time.Duration{0, 3 * time.Minute} {
				reqs = append(reqs, "/api/v1/query_range?"+url.Values{"query": {expr}, "start": {strconv.FormatInt(ts.Unix(), 10)},
					"end": {strconv.FormatInt(ts.Add(span).Unix(), 10)}, "step": {"20"}}.Encode())
			}
		}
		for j, r := range reqs {
			before := src.last.Load()
			var bodies [2]string
			for k, mux := range []*http.ServeMux{muxOff, muxOn} {
				w := httptest.NewRecorder()
				mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, r, nil))
				if w.Code != http.StatusOK {
					t.Fatalf("%s: status %d: %s", r, w.Code, w.Body.String())
				}
				bodies[k] = w.Body.String()
			}
			if bodies[0] != bodies[1] {
				t.Fatalf("%s: answers differ:\nfull scan %.400s\nnewest    %.400s", r, bodies[0], bodies[1])
			}
			used := src.last.Load() > before
			if want := e.instant && (j < 2 || slices.Contains([]byte(e.expr), '@')); used != want {
				t.Errorf("%s: newest-sample scan %v, want %v", r, used, want)
			}
		}
	}
}

// BenchmarkPromQLLast compares, in one run, PromQL selectors evaluated at
// one instant with full scans (before: every sample of the lookback
// window decoded and copied) and with newest-sample scans (after:
// scan.Request.Last), over the flushed benchmark data. It reports each
// path's mean ms per query and the median per-iteration ratio
// after/before.
func BenchmarkPromQLLast(b *testing.B) {
	t := benchFull.open(b, benchHosts)
	last := benchStart.Add(benchSpan - benchInterval)
	queries := []benchQuery{
		{"lastpoint", `{__name__=~"cpu_usage_.*"}`, last, last, benchInterval},
		{"instant-max", `max by (hostname) (cpu_usage_user)`, last, last, benchInterval},
	}
	names := []string{"before", "after"}
	for _, bq := range queries {
		b.Run(bq.name, func(b *testing.B) {
			muxes := make([]*http.ServeMux, 2)
			for i := range muxes {
				muxes[i] = http.NewServeMux()
				New(&Queryable{Source: t.flush, Database: "prometheus", Table: "metrics", noLast: i == 0}, Options{}).Register(muxes[i])
			}
			var total [2]time.Duration
			var ratio []float64
			round := 0
			for b.Loop() {
				var took [2]time.Duration
				for k := range 2 {
					i := (k + round) % 2
					w := httptest.NewRecorder()
					start := time.Now()
					muxes[i].ServeHTTP(w, bq.rangeRequest())
					took[i] = time.Since(start)
					if w.Code != http.StatusOK {
						b.Fatalf("%s: status %d: %s", names[i], w.Code, w.Body.String())
					}
				}
				total[0] += took[0]
				total[1] += took[1]
				ratio = append(ratio, float64(took[1])/float64(max(took[0], 1)))
				round++
			}
			slices.Sort(ratio)
			for i, n := range names {
				b.ReportMetric(total[i].Seconds()*1e3/float64(round), n+"-ms")
			}
			b.ReportMetric(ratio[len(ratio)/2], "after/before")
		})
	}
}
