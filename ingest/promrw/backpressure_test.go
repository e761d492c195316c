package promrw

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"

	"github.com/prometheus/prometheus/prompb"

	"github.com/tidaldb/tidal/ingest"
)

// blockingAppender holds every Append until release is closed.
type blockingAppender struct {
	entered chan struct{}
	release chan struct{}
	fail    error
}

func (b *blockingAppender) Append(ctx context.Context, _, _ string, recs []ingest.Record, _ ingest.AppendOptions) (ingest.Result, error) {
	b.entered <- struct{}{}
	<-b.release
	if b.fail != nil {
		return ingest.Result{}, b.fail
	}
	return ingest.Result{MemoryStore: len(recs)}, nil
}

// TestBackPressure checks that requests beyond MaxInflight and write-path
// failures get a 503 with Retry-After (which Prometheus retries), never a
// 4xx that would drop data.
func TestBackPressure(t *testing.T) {
	app := &blockingAppender{entered: make(chan struct{}, 1), release: make(chan struct{})}
	h := New(app, Options{MaxInflight: 1})
	body := v1Body(t, &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{{Labels: []prompb.Label{{Name: "__name__", Value: "x"}, {Name: "a", Value: "b"}},
		Samples: []prompb.Sample{{Value: 1, Timestamp: 1}}}}})
	var wg sync.WaitGroup
	var first int
	wg.Add(1)
	go func() {
		defer wg.Done()
		first = post(h, body, "application/x-protobuf").Code
	}()
	<-app.entered // the first request holds the only slot
	w := post(h, body, "application/x-protobuf")
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") != "1" {
		t.Fatalf("second request: %d %v %s", w.Code, w.Header(), w.Body)
	}
	close(app.release)
	wg.Wait()
	if first != http.StatusNoContent {
		t.Fatalf("first request: %d", first)
	}

	failing := &blockingAppender{entered: make(chan struct{}, 1), release: make(chan struct{}), fail: errors.New("disk full")}
	close(failing.release)
	w = post(New(failing, Options{}), body, "application/x-protobuf")
	<-failing.entered
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") != "1" {
		t.Fatalf("failing write path: %d %v %s", w.Code, w.Header(), w.Body)
	}
}
