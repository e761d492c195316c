package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tidaldb/tidal/bench/tsbs"
)

// ScaleOptions configures RunScale: how many active series to write over
// remote-write 1.0 before the cardinality queries.
type ScaleOptions struct {
	// Series is the number of active series (default 1,000,000), written
	// as Series/Metrics hosts times Metrics metrics.
	Series int
	// Metrics is the number of metric names (default 10).
	Metrics int
	// Points is the samples per series (default 2, 10 s apart, ending
	// now).
	Points int
	// Clients is the number of concurrent writers (default 4).
	Clients int
	// TidalBin is the tidal binary (default: go build ./cmd/tidal).
	TidalBin string
	// WorkDir holds the data directory (default: a temporary directory,
	// removed at the end).
	WorkDir string
	// Target is the URL of a running tidal to use instead of starting
	// one (its RSS is then not measured).
	Target string
	// QueryTimeout bounds each query (default 60 s, the server's).
	QueryTimeout time.Duration
	Log          io.Writer
}

// ScaleQuery is one timed request of RunScale.
type ScaleQuery struct {
	Name    string
	Path    string // URL path and query
	Elapsed time.Duration
	Bytes   int
	Err     error
}

// ScaleReport is what RunScale measured.
type ScaleReport struct {
	Series, Samples int
	IngestTime      time.Duration
	// RSSBase is the server's RSS before the first write, RSS after the
	// writes, PeakRSS its VmHWM at the end.
	RSSBase, RSS, PeakRSS int64
	Queries               []ScaleQuery
}

// RSSPerSeries is the server's resident memory per active series above
// its RSS before the writes.
func (r *ScaleReport) RSSPerSeries() float64 {
	return float64(r.RSS-r.RSSBase) / float64(max(r.Series, 1))
}

// RunScale starts a tidal server, writes o.Series active series through
// remote-write 1.0, and times the cardinality queries
// (count(count by (__name__)({__name__=~".+"})) and friends) and the
// series and label APIs over them.
func RunScale(ctx context.Context, o ScaleOptions) (*ScaleReport, error) {
	o = scaleDefaults(o)
	work := o.WorkDir
	if work == "" {
		dir, err := os.MkdirTemp("", "tidal-scale-")
		if err != nil {
			return nil, fmt.Errorf("create work dir: %w", err)
		}
		defer os.RemoveAll(dir)
		work = dir
	}
	s := &system{url: o.Target}
	if o.Target == "" {
		bin := o.TidalBin
		if bin == "" {
			b, err := buildTidal(ctx, work)
			if err != nil {
				return nil, err
			}
			bin = b
		}
		var err error
		s, err = startTidal(ctx, bin, filepath.Join(work, "tidal"), Naming{DB: "prometheus", Table: "metrics", Prefixed: true}, "scale", 24, "batch", "")
		if err != nil {
			return nil, err
		}
		defer func() { _ = s.stop() }()
	}
	rep := &ScaleReport{Series: o.Series, Samples: o.Series * o.Points}
	rss := func() (int64, error) {
		if s.cmd == nil {
			return 0, nil
		}
		return readStatusBytes(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid), "VmRSS:")
	}
	var err error
	if rep.RSSBase, err = rss(); err != nil {
		return nil, err
	}
	now := time.Now().Truncate(time.Second)
	start := time.Now()
	if err := writeScaleSeries(ctx, s.url, o, now); err != nil {
		return nil, err
	}
	rep.IngestTime = time.Since(start)
	if rep.RSS, err = rss(); err != nil {
		return nil, err
	}
	fmt.Fprintf(o.Log, "wrote %d series (%d samples) in %v; RSS %.0f MiB (%.0f MiB before), %.0f B per series\n",
		rep.Series, rep.Samples, rep.IngestTime.Round(time.Millisecond), float64(rep.RSS)/(1<<20), float64(rep.RSSBase)/(1<<20), rep.RSSPerSeries())
	at := strconv.FormatInt(now.Unix(), 10)
	from := strconv.FormatInt(now.Add(-5*time.Minute).Unix(), 10)
	q := func(expr string) string {
		return "/api/v1/query?" + url.Values{"query": {expr}, "time": {at}}.Encode()
	}
	requests := []ScaleQuery{
		{Name: "count of series per metric name, counted", Path: q(`count(count by (__name__)({__name__=~".+"}))`)},
		{Name: "count of every series", Path: q(`count({__name__=~".+"})`)},
		{Name: "series per metric name", Path: q(`count by (__name__)({__name__=~"scale_.*"})`)},
		{Name: "one metric's series, summed", Path: q(`sum(scale_m0)`)},
		{Name: "/api/v1/series, one metric", Path: "/api/v1/series?" + url.Values{"match[]": {`scale_m0`}, "start": {from}, "end": {at}}.Encode()},
		{Name: "/api/v1/series, every series", Path: "/api/v1/series?" + url.Values{"match[]": {`{__name__=~".+"}`}, "start": {from}, "end": {at}}.Encode()},
		{Name: "/api/v1/labels", Path: "/api/v1/labels?" + url.Values{"start": {from}, "end": {at}}.Encode()},
		{Name: "/api/v1/label/host/values", Path: "/api/v1/label/host/values?" + url.Values{"start": {from}, "end": {at}}.Encode()},
	}
	hc := &http.Client{Timeout: o.QueryTimeout + 10*time.Second}
	for _, r := range requests {
		r.Elapsed, r.Bytes, r.Err = timeGet(ctx, hc, s.url+r.Path)
		rep.Queries = append(rep.Queries, r)
		res := "ok"
		if r.Err != nil {
			res = r.Err.Error()
		}
		fmt.Fprintf(o.Log, "%-42s %10.1f ms %12d bytes  %s\n", r.Name, float64(r.Elapsed.Microseconds())/1e3, r.Bytes, res)
	}
	if rep.PeakRSS, err = s.peakRSS(); err != nil {
		return nil, err
	}
	return rep, nil
}

func scaleDefaults(o ScaleOptions) ScaleOptions {
	if o.Series <= 0 {
		o.Series = 1_000_000
	}
	if o.Metrics <= 0 {
		o.Metrics = 10
	}
	if o.Points <= 0 {
		o.Points = 2
	}
	if o.Clients <= 0 {
		o.Clients = 4
	}
	if o.QueryTimeout <= 0 {
		o.QueryTimeout = time.Minute
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	return o
}

// writeScaleSeries writes o.Series series as hosts of o.Metrics metrics
// (scale_m0, ...; labels host, rack, region), o.Points samples each
// ending at now, 100 hosts per request, from o.Clients writers.
func writeScaleSeries(ctx context.Context, base string, o ScaleOptions, now time.Time) error {
	hosts := (o.Series + o.Metrics - 1) / o.Metrics
	const perRequest = 100
	work := make(chan int)
	errs := make(chan error, o.Clients)
	var wg sync.WaitGroup
	p := poster{hc: &http.Client{Timeout: 2 * time.Minute}, url: base + "/api/v1/write"}
	h := http.Header{}
	h.Set("Content-Type", "application/x-protobuf")
	h.Set("Content-Encoding", "snappy")
	h.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	for range o.Clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var pts []tsbs.Point
			for first := range work {
				pts = pts[:0]
				for host := first; host < min(first+perRequest, hosts); host++ {
					for k := range o.Points {
						pt := tsbs.Point{Measurement: "scale", Time: now.Add(-time.Duration(o.Points-1-k) * 10 * time.Second).UnixNano(),
							Tags: []tsbs.Tag{{Key: "host", Value: "host_" + strconv.Itoa(host)}, {Key: "rack", Value: strconv.Itoa(host % 1000)},
								{Key: "region", Value: "region_" + strconv.Itoa(host%10)}}}
						for m := range o.Metrics {
							if host*o.Metrics+m < o.Series {
								pt.Fields = append(pt.Fields, tsbs.Field{Name: "m" + strconv.Itoa(m), Kind: tsbs.FieldFloat, Float: float64(host%100 + m + k)})
							}
						}
						pts = append(pts, pt)
					}
				}
				body, err := encodeRW1(pts)
				if err == nil {
					err = p.post(ctx, body, h)
				}
				if err != nil {
					errs <- fmt.Errorf("write hosts %d..%d: %w", first, first+perRequest-1, err)
					return
				}
			}
		}()
	}
	var err error
feed:
	for first := 0; first < hosts; first += perRequest {
		select {
		case work <- first:
		case err = <-errs:
			break feed
		case <-ctx.Done():
			err = ctx.Err()
			break feed
		}
	}
	close(work)
	wg.Wait()
	close(errs)
	return errors.Join(err, <-errs)
}

// timeGet GETs u and returns how long the whole response took and its size.
func timeGet(ctx context.Context, hc *http.Client, u string) (time.Duration, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, 0, fmt.Errorf("build request: %w", err)
	}
	start := time.Now()
	resp, err := hc.Do(req)
	if err != nil {
		return time.Since(start), 0, fmt.Errorf("get: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	took := time.Since(start)
	if err != nil {
		return took, len(body), fmt.Errorf("read response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return took, len(body), fmt.Errorf("status %d: %.200s", resp.StatusCode, body)
	}
	return took, len(body), nil
}

// readStatusBytes reads a kB figure (key "VmRSS:", "VmHWM:") of a
// /proc/PID/status file, in bytes.
func readStatusBytes(path, key string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", key, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), key); ok {
			fields := strings.Fields(rest)
			if len(fields) == 2 && fields[1] == "kB" {
				kb, err := strconv.ParseInt(fields[0], 10, 64)
				if err == nil {
					return kb * 1024, nil
				}
			}
			return 0, fmt.Errorf("read %s: odd line %q", key, sc.Text())
		}
	}
	return 0, fmt.Errorf("read %s: not in %s: %w", key, path, sc.Err())
}
