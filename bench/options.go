package bench

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/tidaldb/tidal/bench/tsbs"
)

// ErrBadOptions is wrapped by every Options validation error.
var ErrBadOptions = errors.New("bench: bad options")

// Preset sizes a run. Presets are sized for a 2-core, 24 GiB machine.
type Preset struct {
	Name string
	// Hosts is the TSBS scale (number of hosts, or trucks for iot).
	Hosts int
	// Span is the length of the generated time range.
	Span time.Duration
	// Interval is the time between two points of one host.
	Interval time.Duration
	// Warmup and Runs are the untimed and timed executions of each query.
	Warmup, Runs int
}

// Samples is the number of values the preset generates for the cpu-only
// use case (10 per host and interval).
func (p Preset) Samples() int64 {
	return int64(p.Hosts) * int64(p.Span/p.Interval) * cpuFieldCount
}

// cpuFieldCount is the number of fields of a TSBS cpu point.
const cpuFieldCount = 10

// Presets are the named sizes of --preset.
var presets = []Preset{
	{Name: "smoke", Hosts: 10, Span: 10 * time.Minute, Interval: 10 * time.Second, Warmup: 1, Runs: 3},
	{Name: "small", Hosts: 100, Span: 3 * time.Hour, Interval: 10 * time.Second, Warmup: 2, Runs: 10},
	{Name: "large", Hosts: 1000, Span: 6 * time.Hour, Interval: 10 * time.Second, Warmup: 2, Runs: 10},
}

// LookupPreset returns the preset called name.
func LookupPreset(name string) (Preset, error) {
	for _, p := range presets {
		if p.Name == name {
			return p, nil
		}
	}
	return Preset{}, fmt.Errorf("%w: unknown preset %q (want smoke, small or large)", ErrBadOptions, name)
}

// WAL sync policies of Options.TidalSync (tidal's wal.sync).
const (
	SyncBatch    = "batch"
	SyncInterval = "interval"
	SyncNever    = "never"
)

// Peer names accepted by Options.Peers.
const (
	PeerVictoriaMetrics = "victoriametrics"
	PeerPrometheus      = "prometheus"
	PeerInfluxDB        = "influxdb"
)

// Options configures Run. The zero value is not valid; start from
// DefaultOptions.
type Options struct {
	Preset Preset
	// Peers to run after TidalDB, in this order.
	Peers []string
	// OutDir receives report.md and the SVG charts.
	OutDir string
	// Driver is the ingest path into TidalDB: DriverTimestream,
	// DriverPromRW1, DriverPromRW2, DriverInflux, or a stream (DriverKafka,
	// DriverKinesis) the harness runs a broker for.
	Driver string
	// Clients is the number of concurrent ingest clients; Batch the number
	// of samples per request (Timestream requests are capped at 100).
	Clients, Batch int
	// TidalSync lists the WAL fsync policies (wal.sync) TidalDB is run
	// with, one TidalDB run each, the first being the reference the peers
	// are compared with; empty means SyncBatch alone (the default, every
	// acknowledged write fsynced). SyncInterval acknowledges before the
	// fsync, as VictoriaMetrics and Prometheus do.
	TidalSync []string
	// UseCase is the TSBS data set generated: tsbs.UseCaseCPUOnly,
	// UseCaseDevops (queried with the devops queries) or UseCaseIoT
	// (queried with the IoT queries). Ignored with File.
	UseCase string
	// Seed makes the workload and the query parameters deterministic.
	Seed int64
	// Start is the first timestamp of the workload. The zero value means
	// "Span before now, rounded down to the hour", which keeps the data
	// inside TidalDB's memory-store retention.
	Start time.Time
	// File, when set, is a TSBS data file (FileFormat influx or
	// timestream) to send instead of the generated workload; its points
	// are shifted in time to start at Start. Queries use its cpu
	// measurement.
	File, FileFormat string
	// TidalBin is the tidal binary to start; empty builds ./cmd/tidal with
	// the go tool. Target, when set, is the URL of a running TidalDB to use
	// instead (no RSS or disk figures then).
	TidalBin, Target string
	// Bin overrides the peer binaries by peer name (default: the Debian
	// names victoria-metrics, prometheus, influxd on $PATH).
	Bin map[string]string
	// WorkDir holds the data directories; empty means a fresh temporary
	// directory that Run removes.
	WorkDir string
	// Progress receives the progress line (nil: none). Log receives one
	// line per step (nil: none).
	Progress, Log io.Writer
}

// DefaultOptions returns the options of `tidal-bench run --preset smoke`.
func DefaultOptions() Options {
	p, _ := LookupPreset("smoke")
	return Options{Preset: p, UseCase: tsbs.UseCaseCPUOnly, OutDir: "bench-out", Driver: DriverTimestream, Clients: 4, Batch: 1000, Seed: 123}
}

// Validate reports the first problem with o.
func (o *Options) Validate() error {
	if o.Preset.Hosts <= 0 || o.Preset.Span <= 0 || o.Preset.Interval <= 0 || o.Preset.Runs <= 0 {
		return fmt.Errorf("%w: preset %q is empty", ErrBadOptions, o.Preset.Name)
	}
	if o.Clients < 1 || o.Clients > 1024 {
		return fmt.Errorf("%w: clients %d outside [1,1024]", ErrBadOptions, o.Clients)
	}
	if o.Batch < 1 || o.Batch > 1_000_000 {
		return fmt.Errorf("%w: batch %d outside [1,1000000]", ErrBadOptions, o.Batch)
	}
	if !slices.Contains(driverNames, o.Driver) {
		return fmt.Errorf("%w: unknown driver %q (want %s)", ErrBadOptions, o.Driver, strings.Join(driverNames, ", "))
	}
	if isStream(o.Driver) && o.Target != "" {
		return fmt.Errorf("%w: driver %s needs the harness to start tidal with its pipeline (no --target)", ErrBadOptions, o.Driver)
	}
	seen := map[string]bool{}
	for _, p := range o.Peers {
		switch p {
		case PeerVictoriaMetrics, PeerPrometheus, PeerInfluxDB:
		default:
			return fmt.Errorf("%w: unknown peer %q (want victoriametrics, prometheus or influxdb)", ErrBadOptions, p)
		}
		if seen[p] {
			return fmt.Errorf("%w: peer %q given twice", ErrBadOptions, p)
		}
		seen[p] = true
	}
	seenSync := map[string]bool{}
	for _, sy := range o.TidalSync {
		if sy != SyncBatch && sy != SyncInterval && sy != SyncNever {
			return fmt.Errorf("%w: unknown wal sync policy %q (want batch, interval or never)", ErrBadOptions, sy)
		}
		if seenSync[sy] {
			return fmt.Errorf("%w: wal sync policy %q given twice", ErrBadOptions, sy)
		}
		seenSync[sy] = true
	}
	if len(o.TidalSync) > 0 && o.Target != "" {
		return fmt.Errorf("%w: --tidal-sync needs a TidalDB the harness starts, not --target", ErrBadOptions)
	}
	if o.File == "" && !slices.Contains(UseCases, o.UseCase) {
		return fmt.Errorf("%w: unknown use case %q (want %s)", ErrBadOptions, o.UseCase, strings.Join(UseCases, ", "))
	}
	if o.File != "" && o.FileFormat != FormatInflux && o.FileFormat != FormatTimestream {
		return fmt.Errorf("%w: unknown file format %q (want influx or timestream)", ErrBadOptions, o.FileFormat)
	}
	if o.OutDir == "" {
		return fmt.Errorf("%w: no output directory", ErrBadOptions)
	}
	return nil
}
