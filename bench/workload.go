package bench

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/tidaldb/tidal/bench/tsbs"
)

// File formats of Options.FileFormat: the outputs of TSBS's
// tsbs_generate_data --format=influx and --format=timestream.
const (
	FormatInflux     = "influx"
	FormatTimestream = "timestream"
)

// workload is the data one run sends to every system: generated from the
// seed, or read from a TSBS file and shifted in time. each calls fn for
// every point in order; the point is reused after fn returns.
type workload struct {
	desc         string
	start, end   time.Time
	interval     time.Duration
	hosts        int
	samples      int64
	cpuSamples   int64 // values of the cpu measurement
	measurements []string
	each         func(fn func(*tsbs.Point) error) error
}

// generatedWorkload is the TSBS cpu-only workload of p from start.
func generatedWorkload(p Preset, start time.Time, seed int64) (*workload, error) {
	cfg := tsbs.Config{UseCase: tsbs.UseCaseCPUOnly, Scale: p.Hosts, Start: start, End: start.Add(p.Span), Interval: p.Interval, Seed: seed}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("configure workload: %w", err)
	}
	return &workload{
		desc:  fmt.Sprintf("TSBS cpu-only, %d hosts x %v at %v, seed %d", p.Hosts, p.Span, p.Interval, seed),
		start: start, end: cfg.End, interval: p.Interval, hosts: p.Hosts,
		samples:      int64(p.Hosts) * int64(cfg.Steps()) * cpuFieldCount,
		cpuSamples:   int64(p.Hosts) * int64(cfg.Steps()) * cpuFieldCount,
		measurements: []string{"cpu"},
		each: func(fn func(*tsbs.Point) error) error {
			gen, err := tsbs.New(cfg)
			if err != nil {
				return fmt.Errorf("start generator: %w", err)
			}
			var pt tsbs.Point
			for gen.Next(&pt) {
				if err := fn(&pt); err != nil {
					return err
				}
			}
			return nil
		},
	}, nil
}

// fileWorkload reads a TSBS data file once to learn its shape (hosts of
// the cpu measurement, time range, interval, samples), then serves its
// points shifted so that the data starts at start; a zero start means
// "the file's span before now, rounded down to the hour", which keeps old
// TSBS timestamps inside TidalDB's memory-store retention.
func fileWorkload(path, format string, start time.Time) (*workload, error) {
	var read func(*os.File, func(*tsbs.Point) error) error
	switch format {
	case FormatInflux:
		read = func(f *os.File, fn func(*tsbs.Point) error) error {
			return tsbs.ReadInflux(bufio.NewReaderSize(f, 1<<20), fn)
		}
	case FormatTimestream:
		read = func(f *os.File, fn func(*tsbs.Point) error) error {
			return tsbs.ReadTimestream(bufio.NewReaderSize(f, 1<<20), fn)
		}
	default:
		return nil, fmt.Errorf("%w: unknown file format %q (want influx or timestream)", ErrBadOptions, format)
	}
	scan := func(fn func(*tsbs.Point) error) error {
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("open workload file: %w", err)
		}
		defer f.Close()
		if err := read(f, fn); err != nil {
			return fmt.Errorf("read workload file %s: %w", path, err)
		}
		return nil
	}
	w := &workload{desc: fmt.Sprintf("TSBS file %s (%s format)", path, format)}
	hosts := map[string]bool{}
	meas := map[string]bool{}
	var minT, maxT, lastT int64 = 0, 0, 0
	var minStep int64
	first := true
	err := scan(func(p *tsbs.Point) error {
		if first {
			minT, maxT, first = p.Time, p.Time, false
		}
		minT, maxT = min(minT, p.Time), max(maxT, p.Time)
		if d := p.Time - lastT; d > 0 && (minStep == 0 || d < minStep) {
			minStep = d
		}
		lastT = p.Time
		w.samples += int64(len(p.Fields))
		if !meas[p.Measurement] {
			meas[p.Measurement] = true
			w.measurements = append(w.measurements, p.Measurement)
		}
		if p.Measurement == "cpu" && len(p.Tags) > 0 {
			hosts[p.Tags[0].Value] = true
			w.cpuSamples += int64(len(p.Fields))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if first || len(hosts) == 0 {
		return nil, errors.New("bench: workload file has no cpu points")
	}
	if minStep == 0 {
		minStep = int64(tsbs.DefaultInterval)
	}
	w.hosts = len(hosts)
	w.interval = time.Duration(minStep)
	span := time.Duration(maxT-minT) + w.interval
	if start.IsZero() {
		start = time.Now().Add(-span).Truncate(time.Hour)
	}
	w.start, w.end = start.UTC(), start.UTC().Add(span)
	slices.Sort(w.measurements)
	shift := start.UnixNano() - minT
	w.each = func(fn func(*tsbs.Point) error) error {
		return scan(func(p *tsbs.Point) error {
			p.Time += shift
			return fn(p)
		})
	}
	return w, nil
}
