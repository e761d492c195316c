package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/tidaldb/tidal/bench/tsbs"
)

// Driver is one ingest path: it turns batches of TSBS points into requests
// of one wire protocol and sends them to one server. A Driver is safe for
// concurrent use; each ingest client calls Write from its own goroutine.
type Driver interface {
	// Name is the driver's name as --driver spells it.
	Name() string
	// MaxBatch bounds the samples of one Write (0: no bound).
	MaxBatch() int
	// Prepare creates what the protocol needs before the first write (a
	// database, tables) for the given measurements.
	Prepare(ctx context.Context, measurements []string) error
	// Write sends pts and returns once the server acknowledged them.
	Write(ctx context.Context, pts []tsbs.Point) error
}

// Driver names.
const (
	DriverTimestream = "timestream"
	DriverPromRW1    = "promrw1"
	DriverPromRW2    = "promrw2"
	// DriverInflux is line protocol to /write: TidalDB's, InfluxDB 1.x's
	// and VictoriaMetrics's.
	DriverInflux = "influx"
)

var driverNames = []string{DriverTimestream, DriverPromRW1, DriverPromRW2, DriverInflux, DriverKafka, DriverKinesis}

// Database is the Timestream database (and InfluxDB database) the workload
// is written to.
const Database = "benchmark"

// NewDriver returns the driver called name sending to the server at baseURL
// (scheme, host and port, no trailing slash).
func NewDriver(name, baseURL string, hc *http.Client) (Driver, error) {
	if hc == nil {
		hc = &http.Client{Timeout: time.Minute}
	}
	switch name {
	case DriverTimestream:
		return newTimestreamDriver(baseURL, hc), nil
	case DriverPromRW1:
		return &promRW1Driver{post: poster{hc: hc, url: baseURL + "/api/v1/write"}}, nil
	case DriverPromRW2:
		return &promRW2Driver{post: poster{hc: hc, url: baseURL + "/api/v1/write"}}, nil
	case DriverInflux:
		return &influxDriver{hc: hc, base: baseURL, post: poster{hc: hc, url: baseURL + "/write?db=" + Database}}, nil
	case DriverKafka, DriverKinesis:
		return nil, fmt.Errorf("%w: driver %s needs the harness to start tidal with its pipeline", ErrBadOptions, name)
	}
	return nil, fmt.Errorf("%w: unknown driver %q", ErrBadOptions, name)
}

// poster sends one encoded body with its headers and retries the answers
// that ask for it (429, 503).
type poster struct {
	hc  *http.Client
	url string
}

const postAttempts = 5

func (p poster) post(ctx context.Context, body []byte, header http.Header) error {
	var last error
	for attempt := range postAttempts {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Duration(attempt) * 50 * time.Millisecond):
			}
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(body))
		if err != nil {
			return fmt.Errorf("build request: %w", err)
		}
		for k, v := range header {
			req.Header[k] = v
		}
		resp, err := p.hc.Do(req)
		if err != nil {
			return fmt.Errorf("post %s: %w", p.url, err)
		}
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		_ = resp.Body.Close()
		if resp.StatusCode/100 == 2 {
			return nil
		}
		last = fmt.Errorf("post %s: %s: %s", p.url, resp.Status, bytes.TrimSpace(msg))
		if resp.StatusCode != http.StatusServiceUnavailable && resp.StatusCode != http.StatusTooManyRequests {
			return last
		}
	}
	return last
}

// samplesIn counts the values of pts.
func samplesIn(pts []tsbs.Point) int {
	n := 0
	for i := range pts {
		n += len(pts[i].Fields)
	}
	return n
}

// msOf converts nanoseconds to the milliseconds Prometheus uses.
func msOf(ns int64) int64 { return ns / 1e6 }
