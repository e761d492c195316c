package main

import (
	"io"
	"net/http"
)

// indexText lists every API the HTTP port serves: the answer to GET /api,
// and to GET / for everything but a browser (which gets the web console).
const indexText = `
Every API on this port:

Amazon Timestream
  POST /                               Write and Query APIs (X-Amz-Target: Timestream_20181101.<Operation>)

Prometheus
  POST /api/v1/write                   remote-write 1.0 and 2.0
  POST /api/v1/read                    remote-read (samples and streamed chunks)
  query API, GET or POST:
  /api/v1/query                        instant PromQL query
  /api/v1/query_range                  range PromQL query
  /api/v1/series                       series matching selectors
  /api/v1/labels                       label names
  /api/v1/label/<name>/values          label values
  /api/v1/metadata                     metric metadata
  /api/v1/status/buildinfo             version
  /api/v1/format_query                 PromQL formatter
  /api/v1/status/runtimeinfo           runtime information
  /api/v1/query_exemplars, /api/v1/rules, /api/v1/alerts
                                       always empty (no exemplars, rules or alerts), for Grafana

InfluxDB (line protocol, for Telegraf and the influx clients; docs/ingest.md)
  POST /write                          1.x write (db, rp, precision; u/p or any credential)
  POST /api/v2/write                   2.x write (bucket, org, precision; Authorization: Token)
  GET /ping, GET /health               probes, no credential needed

Admin (tidal admin)
  POST /api/v1/admin/flush             move every row in memory into the magnetic tier
  GET /api/v1/admin/parts              the magnetic tier's parts
  GET /api/v1/admin/scheduled          the scheduled queries and their last runs

Web console (docs/console.md)
  GET / from a browser                 the console; sign-in at /console/signin when credentials are configured
  GET /api                             this list

Operations
  GET /healthz                         "ok", or 503 with the reason (a failed WAL: disk full)
  GET /metrics                         the server's own metrics (Prometheus format)
  GET /debug/pprof/                    Go profiles (server.enable_pprof)

MQTT is on its own port when mqtt.listen is set (docs/ingest.md).

With credentials configured, every route but /healthz, /ping and /health needs one (SigV4, basic
or bearer) with the right role: see docs/security.md.
`

// index answers GET /api (and GET / outside browsers) with the version and
// the list of APIs.
func index(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, versionString()+"\n"+indexText)
}
