// Package bench is TidalDB's system benchmark harness, the engine of the
// tidal-bench command: it starts a real tidal server (and, on request, the
// peer databases VictoriaMetrics, Prometheus and InfluxDB 1.x) on loopback
// ports with temporary data directories, drives one deterministic TSBS
// workload through a chosen ingest path with N concurrent clients, measures
// ingest rate, disk bytes per sample and peak RSS, runs the TSBS devops or
// IoT query suite in Timestream SQL, PromQL and InfluxQL (each query in the
// languages that can say it), checks that every system stored every sample
// and that the answers of every system agree, and writes a markdown report
// with SVG bar charts.
//
// The package owns the harness only: workloads come from bench/tsbs, and
// micro-benchmarks live next to the code they measure. Each ingest path is
// one Driver in its own file (driver_*.go); adding a path is adding a file
// and a case in NewDriver.
//
// Run is sequential: one system at a time, so that the loader and the server
// under test share the machine with nothing else. Inside a run, ingest uses
// one goroutine per client plus one generator goroutine; all of them stop
// before Run moves on. Drivers are safe for concurrent use.
package bench
