package bench

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/tidaldb/tidal/bench/tsbs"
)

// influxDriver sends Influx line protocol to /write?db=benchmark, the
// native ingest of InfluxDB 1.x, which TidalDB and VictoriaMetrics accept
// too.
type influxDriver struct {
	hc   *http.Client
	base string
	post poster
}

func (d *influxDriver) Name() string  { return DriverInflux }
func (d *influxDriver) MaxBatch() int { return 0 }

// Prepare creates the database with /query's CREATE DATABASE, as Telegraf
// does (InfluxDB 1.x does not create it on write; TidalDB answers the
// statement; VictoriaMetrics answers every /query with its database list).
func (d *influxDriver) Prepare(ctx context.Context, _ []string) error {
	p := poster{hc: d.hc, url: d.base + "/query?q=" + url.QueryEscape("CREATE DATABASE "+Database)}
	h := http.Header{}
	h.Set("Content-Type", "application/x-www-form-urlencoded")
	if err := p.post(ctx, nil, h); err != nil {
		return fmt.Errorf("create influx database: %w", err)
	}
	return nil
}

func (d *influxDriver) Write(ctx context.Context, pts []tsbs.Point) error {
	var buf []byte
	for i := range pts {
		buf = pts[i].AppendInflux(buf)
	}
	h := http.Header{}
	h.Set("Content-Type", "text/plain; charset=utf-8")
	return d.post.post(ctx, buf, h)
}
