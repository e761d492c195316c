package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/prompb"
)

// TestDimensionLimitConfigurable raises limits.dimensions_per_table past
// Timestream's 128 and remote-writes metrics whose label names add up to
// more than that in the one Prometheus table: every label survives a flush
// to the magnetic tier and a restart, and the label name past the
// configured limit is refused with a message naming the limit.
func TestDimensionLimitConfigurable(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "tidal.yml")
	if err := os.WriteFile(cfg, []byte("limits:\n  dimensions_per_table: 250\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	s := startServer(t, data, "--config", cfg)
	// Older than the memory retention (6 h): the samples go to the magnetic
	// tier at the flush, so the part format carries the wide schema.
	now := time.Now().Add(-7 * time.Hour).UnixMilli()
	// metric m<k> carries labels l<k*100> .. l<k*100+99>: 100 new names each.
	series := func(k int) prompb.TimeSeries {
		ts := prompb.TimeSeries{Samples: []prompb.Sample{{Timestamp: now, Value: float64(k)}},
			Labels: []prompb.Label{{Name: "__name__", Value: fmt.Sprint("m", k)}}}
		for i := k * 100; i < k*100+100; i++ {
			ts.Labels = append(ts.Labels, prompb.Label{Name: fmt.Sprintf("l%03d", i), Value: fmt.Sprint("v", i)})
		}
		return ts
	}
	for k := range 2 {
		if code, msg := remoteWrite(t, s, rwBody(t, series(k))); code != http.StatusNoContent {
			t.Fatalf("write m%d: %d %s", k, code, msg)
		}
	}
	// The third metric would bring the table to 300 dimension names.
	code, msg := remoteWrite(t, s, rwBody(t, series(2)))
	if code != http.StatusBadRequest || !strings.Contains(msg, "maximum of 250 dimensions") {
		t.Fatalf("write m2 past the limit: %d %s, want 400 naming the maximum of 250", code, msg)
	}
	code, _, body := httpDo(t, http.MethodPost, s.url()+"/api/v1/admin/flush", nil)
	var fr flushResponse
	if err := json.Unmarshal([]byte(body), &fr); code != http.StatusOK || err != nil || fr.Rows != 2 {
		t.Fatalf("flush: %d %s (%v): want the 2 rows written to parts", code, body, err)
	}
	s.stop()
	s = startServer(t, data, "--config", cfg)
	for k := range 2 {
		got := seriesOfRange(t, s, fmt.Sprint("m", k), now-60_000, now+60_000)
		if len(got) != 1 {
			t.Fatalf("m%d: %d series, want 1: %q", k, len(got), got)
		}
		labels := strings.Split(got[0], ",")
		if len(labels) != 101 || labels[0] != fmt.Sprintf("__name__=m%d", k) ||
			labels[100] != fmt.Sprintf("l%03d=v%d", k*100+99, k*100+99) {
			t.Fatalf("m%d after flush and restart: %d labels, first %q last %q", k, len(labels), labels[0], labels[len(labels)-1])
		}
	}
	if got := seriesOfRange(t, s, "m2", now-60_000, now+60_000); len(got) != 0 {
		t.Fatalf("the refused metric is stored: %q", got)
	}
}

// seriesOfRange is seriesOf over [start, end] in Unix milliseconds.
func seriesOfRange(t *testing.T, s *server, match string, start, end int64) []string {
	t.Helper()
	code, env := promGet(t, s, "/api/v1/series", url.Values{"match[]": {match},
		"start": {strconv.FormatFloat(float64(start)/1000, 'f', 3, 64)}, "end": {strconv.FormatFloat(float64(end)/1000, 'f', 3, 64)}})
	if code != 200 {
		t.Fatalf("series %s: %d %s", match, code, env.Error)
	}
	var sets []map[string]string
	if err := json.Unmarshal(env.Data, &sets); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range sets {
		kv := make([]string, 0, len(l))
		for k, v := range l {
			kv = append(kv, k+"="+v)
		}
		slices.Sort(kv)
		out = append(out, strings.Join(kv, ","))
	}
	return out
}
