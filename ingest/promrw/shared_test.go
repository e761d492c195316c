package promrw

import (
	"context"
	"math"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/prompb"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"

	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/memstore"
	"github.com/tidaldb/tidal/memstore/wal"
	"github.com/tidaldb/tidal/query/scan"
)

// TestConcurrentSameSeries sends the same series from four concurrent
// senders, two in remote-write 1.0 and two in 2.0, at distinct times, to a
// real memstore: the Handler's shared series cache and the series hints its
// records carry must store every sample once, in its series. The labels
// come unsorted: the shared entry must hold them sorted, which the race
// detector may catch when it does not.
func TestConcurrentSameSeries(t *testing.T) {
	const senders, requests, nseries = 4, 8, 20
	dir := t.TempDir()
	cat, err := catalog.Open(catalog.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	opts := memstore.DefaultOptions(filepath.Join(dir, "memstore"))
	opts.CheckpointInterval = 0
	opts.WAL = wal.Options{Sync: wal.SyncNever}
	mem, err := memstore.Open(cat, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	h := New(mem, Options{})
	base := time.Now().Add(-time.Hour).UnixMilli()
	value := func(s, c, k int) float64 { return float64(s*1000 + c*100 + k) }
	var wg sync.WaitGroup
	for c := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range requests {
				ms := base + int64(k*senders+c)*1000
				var body []byte
				ctype := "application/x-protobuf"
				if c%2 == 0 {
					var req prompb.WriteRequest
					for s := range nseries {
						req.Timeseries = append(req.Timeseries, prompb.TimeSeries{
							Labels:  []prompb.Label{{Name: "__name__", Value: "m"}, {Name: "host", Value: "h" + strconv.Itoa(s)}, {Name: "az", Value: "x"}},
							Samples: []prompb.Sample{{Timestamp: ms, Value: value(s, c, k)}},
						})
					}
					body = v1Body(t, &req)
				} else {
					syms := writev2.NewSymbolTable()
					var req writev2.Request
					for s := range nseries {
						req.Timeseries = append(req.Timeseries, writev2.TimeSeries{
							LabelsRefs: []uint32{syms.Symbolize("__name__"), syms.Symbolize("m"), syms.Symbolize("host"), syms.Symbolize("h" + strconv.Itoa(s)), syms.Symbolize("az"), syms.Symbolize("x")},
							Samples:    []writev2.Sample{{Timestamp: ms, Value: value(s, c, k)}},
						})
					}
					req.Symbols = syms.Symbols()
					body = snappy.Encode(nil, marshalV2(t, &req))
					ctype += ";proto=io.prometheus.write.v2.Request"
				}
				if w := post(h, body, ctype); w.Code != http.StatusNoContent {
					t.Errorf("sender %d request %d: HTTP %d: %s", c, k, w.Code, w.Body.String())
					return
				}
			}
		}()
	}
	wg.Wait()
	cur, err := mem.Scan(context.Background(), &scan.Request{Database: "prometheus", Table: "metrics", MinTime: math.MinInt64, MaxTime: math.MaxInt64})
	if err != nil {
		t.Fatal(err)
	}
	defer cur.Close()
	got := map[string]map[int64]float64{}
	for cur.Next() {
		b := cur.Batch()
		host, _ := b.Series.Dimension("host")
		if got[host] == nil {
			got[host] = map[int64]float64{}
		}
		for i, at := range b.Time {
			got[host][at/1e6] = b.Columns[0].Value(i).Float()
		}
	}
	if err := cur.Err(); err != nil {
		t.Fatal(err)
	}
	if len(got) != nseries {
		t.Fatalf("%d series stored, want %d", len(got), nseries)
	}
	for s := range nseries {
		rows := got["h"+strconv.Itoa(s)]
		if len(rows) != senders*requests {
			t.Fatalf("series h%d holds %d samples, want %d", s, len(rows), senders*requests)
		}
		for c := range senders {
			for k := range requests {
				ms := base + int64(k*senders+c)*1000
				if v, want := rows[ms], value(s, c, k); v != want {
					t.Fatalf("series h%d at %d: %v, want %v", s, ms, v, want)
				}
			}
		}
	}
}

// TestSeriesEntrySorted checks that a cache entry holds its dimensions
// sorted by name, so that the write path, which sorts a record's
// dimensions in place, never writes to a slice concurrent requests share.
func TestSeriesEntrySorted(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []ingest.Dimension
		want []string
	}{
		{"sorted", []ingest.Dimension{{Name: "a", Value: "1"}, {Name: "b", Value: "2"}}, []string{"a=1", "b=2"}},
		{"reversed", []ingest.Dimension{{Name: "z", Value: "1"}, {Name: "host", Value: "h"}, {Name: "az", Value: "x"}}, []string{"az=x", "host=h", "z=1"}},
		{"duplicate names keep their order", []ingest.Dimension{{Name: "b", Value: "2"}, {Name: "a", Value: "1"}, {Name: "a", Value: "0"}}, []string{"a=1", "a=0", "b=2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := slices.Clone(tc.in)
			e := newSeriesEntry("m", in, "")
			var got []string
			for _, d := range e.dims {
				got = append(got, d.Name+"="+d.Value)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("entry dimensions %v, want %v", got, tc.want)
			}
			if !slices.Equal(in, tc.in) {
				t.Errorf("newSeriesEntry changed its scratch input to %v", in)
			}
		})
	}
}
