// Command tidal-bench runs TidalDB's system benchmark: it starts a tidal
// server (and optionally peer databases), drives a deterministic TSBS
// workload through a chosen ingest path, runs the TSBS devops query suite
// and writes a markdown report with SVG charts.
//
//	tidal-bench run --preset smoke|small|large [--peer victoriametrics,prometheus,influxdb]
//	    [--out DIR] [--driver timestream|promrw1|promrw2|influx|kafka|kinesis] [--clients N] [--batch N]
//	    [--seed S] [--tidal-bin PATH | --target URL] [--file F [--format influx|timestream]]
//
// All the work is in package bench; this file only parses flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/tidaldb/tidal/bench"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	if args[0] == "scale" {
		return runScale(args[1:], stdout, stderr)
	}
	if args[0] != "run" {
		fmt.Fprintf(stderr, "tidal-bench: unknown command %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	o, err := parseRun(args[1:], stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "tidal-bench: %v\n", err)
		return 2
	}
	o.Progress, o.Log = stderr, stderr
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	rep, err := bench.Run(ctx, o)
	if err != nil {
		fmt.Fprintf(stderr, "tidal-bench: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "report: %s\n", filepath.Join(o.OutDir, bench.ReportFile))
	bad := false
	if rep.Disagreements > 0 {
		fmt.Fprintf(stderr, "tidal-bench: DISAGREE: %d peer answers differ from TidalDB's\n", rep.Disagreements)
		bad = true
	}
	if rep.Missing > 0 {
		fmt.Fprintf(stderr, "tidal-bench: MISSING: %d systems hold a different number of samples than were sent\n", rep.Missing)
		bad = true
	}
	if bad {
		return 3
	}
	return 0
}

// parseRun turns the flags of "run" into bench.Options.
func parseRun(args []string, stderr io.Writer) (bench.Options, error) {
	o := bench.DefaultOptions()
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	preset := fs.String("preset", "smoke", "workload size: smoke (seconds), small (minutes) or large")
	peers := fs.String("peer", "", "comma-separated peers to compare: victoriametrics, prometheus, influxdb")
	fs.StringVar(&o.OutDir, "out", o.OutDir, "directory for report.md and the SVG charts")
	fs.StringVar(&o.Driver, "driver", o.Driver, "TidalDB ingest path: timestream, promrw1, promrw2, influx (line protocol; VictoriaMetrics then gets line protocol too), kafka or kinesis (an in-process Kafka or kinesalite broker and a pipeline)")
	fs.IntVar(&o.Clients, "clients", o.Clients, "concurrent ingest clients")
	fs.IntVar(&o.Batch, "batch", o.Batch, "samples per request (Timestream: at most 100)")
	syncs := fs.String("tidal-sync", "", "comma-separated TidalDB WAL fsync policies to run, one TidalDB run each (batch: fsync before every ack, the default; interval: ack before fsync, like VictoriaMetrics and Prometheus)")
	fs.StringVar(&o.UseCase, "use-case", o.UseCase, "TSBS data set: cpu-only, devops (both with the devops queries) or iot (trucks, with the IoT queries)")
	fs.Int64Var(&o.Seed, "seed", o.Seed, "seed of the workload and query parameters")
	fs.StringVar(&o.TidalBin, "tidal-bin", "", "tidal binary to start (default: go build ./cmd/tidal)")
	fs.StringVar(&o.Target, "target", "", "URL of a running TidalDB to use instead of starting one")
	fs.StringVar(&o.File, "file", "", "send this TSBS data file (tsbs_generate_data output) instead of the generated workload")
	fs.StringVar(&o.FileFormat, "format", bench.FormatInflux, "format of --file: influx or timestream")
	fs.StringVar(&o.WorkDir, "work-dir", "", "directory for data dirs (default: a temporary directory, removed at the end)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if *preset != "" {
		p, err := bench.LookupPreset(*preset)
		if err != nil {
			return o, err
		}
		o.Preset = p
	}
	if *peers != "" {
		for p := range strings.SplitSeq(*peers, ",") {
			if p = strings.TrimSpace(p); p != "" {
				o.Peers = append(o.Peers, p)
			}
		}
	}
	for sy := range strings.SplitSeq(*syncs, ",") {
		if sy = strings.TrimSpace(sy); sy != "" {
			o.TidalSync = append(o.TidalSync, sy)
		}
	}
	if o.TidalBin != "" && o.Target != "" {
		return o, errors.New("--tidal-bin and --target are exclusive")
	}
	return o, o.Validate()
}

func usage(w io.Writer) {
	fmt.Fprint(w, `tidal-bench: TidalDB's benchmark harness (TSBS workloads, peers side by side)

Usage:
  tidal-bench run --preset smoke|small|large [--use-case cpu-only|devops|iot]
      [--peer victoriametrics,prometheus,influxdb]
      [--out DIR] [--driver timestream|promrw1|promrw2|influx|kafka|kinesis] [--clients N] [--batch N]
      [--seed S] [--tidal-bin PATH [--tidal-sync batch,interval] | --target URL]
      [--work-dir DIR]
      [--file TSBS_FILE [--format influx|timestream]]
  tidal-bench scale [--series N] [--metrics N] [--points N] [--clients N]
      [--tidal-bin PATH | --target URL] [--work-dir DIR]

scale writes N active series over remote-write 1.0 (default 1,000,000) and
times the cardinality queries and the series and label APIs over them,
printing the server's RSS per series (make scale).

--use-case picks the TSBS data set: cpu-only and devops (9 measurements) are
measured with the devops queries, iot (trucks, with late, out-of-order and
missing points) with the IoT queries; the preset's host count is the truck
count then.

--tidal-sync runs TidalDB once per WAL fsync policy: batch (the default:
every acknowledged write is fsynced first) and interval (acknowledged
before the fsync, as VictoriaMetrics and Prometheus do; a kill -9 still
loses nothing, a power cut can lose the last second).

--file sends a file made by TSBS's tsbs_generate_data instead of the generated
workload, shifted in time to end before now; the preset then only sets the
query runs, and the file's measurements pick the queries (cpu: devops,
readings/diagnostics: iot).

Exit status: 0 done, 1 a run failed, 2 bad usage, 3 a peer's answers disagree with TidalDB's or a system lost samples.
`)
}

// runScale parses the flags of "scale" and runs bench.RunScale.
func runScale(args []string, stdout, stderr io.Writer) int {
	var o bench.ScaleOptions
	fs := flag.NewFlagSet("scale", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.Series, "series", 1_000_000, "active series to write")
	fs.IntVar(&o.Metrics, "metrics", 10, "metric names (series are hosts x metrics)")
	fs.IntVar(&o.Points, "points", 2, "samples per series, 10 s apart, ending now")
	fs.IntVar(&o.Clients, "clients", 4, "concurrent remote-write clients")
	fs.StringVar(&o.TidalBin, "tidal-bin", "", "tidal binary to start (default: go build ./cmd/tidal)")
	fs.StringVar(&o.WorkDir, "work-dir", "", "directory for the data dir (default: a temporary directory, removed at the end)")
	fs.StringVar(&o.Target, "target", "", "URL of a running tidal to use instead of starting one (RSS not measured)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	o.Log = stdout
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	rep, err := bench.RunScale(ctx, o)
	if err != nil {
		fmt.Fprintf(stderr, "tidal-bench: %v\n", err)
		return 1
	}
	failed := 0
	for _, q := range rep.Queries {
		if q.Err != nil {
			failed++
		}
	}
	fmt.Fprintf(stdout, "%d series: %.0f B RSS per series, peak RSS %.0f MiB; %d of %d requests failed\n",
		rep.Series, rep.RSSPerSeries(), float64(rep.PeakRSS)/(1<<20), failed, len(rep.Queries))
	if failed > 0 {
		return 3
	}
	return 0
}
