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

// Query families: which TSBS query set a workload is measured with.
const (
	familyDevops = "devops" // cpu queries over the cpu measurement
	familyIoT    = "iot"    // truck queries over readings and diagnostics
)

// queriedMeasurements are the measurements each query family reads.
var queriedMeasurements = map[string][]string{
	familyDevops: {"cpu"},
	familyIoT:    {"diagnostics", "readings"},
}

// workload is the data one run sends to every system: generated from the
// seed, or read from a TSBS file and shifted in time. each calls fn for
// every point in order; the point is reused after fn returns.
type workload struct {
	desc       string
	family     string // familyDevops or familyIoT
	start, end time.Time
	interval   time.Duration
	// hosts counts the hosts (devops) or trucks (iot) of the queried
	// measurements.
	hosts int
	// samples counts every value; queriedSamples those of the queried
	// measurements (what the stored-sample check compares).
	samples, queriedSamples int64
	// measurements are all the measurements, sorted; fields holds the
	// field names seen in each queried measurement, sorted.
	measurements []string
	fields       map[string][]string
	// fleets are the fleet tag values of the trucks (iot), sorted.
	fleets []string
	each   func(fn func(*tsbs.Point) error) error
}

// queried returns the measurements the workload's queries read.
func (w *workload) queried() []string { return queriedMeasurements[w.family] }

// learn makes one pass over the points of w.each and fills in the shape of
// the data: measurements, fields, hosts, sample counts, time range and
// interval. It reports whether there was any point of a queried
// measurement.
func (w *workload) learn() (minT, maxT, step int64, err error) {
	queried := map[string]bool{}
	for _, m := range w.queried() {
		queried[m] = true
	}
	hosts := map[string]bool{}
	fleets := map[string]bool{}
	meas := map[string]bool{}
	fields := map[string]map[string]bool{}
	var lastT int64
	first := true
	err = w.each(func(p *tsbs.Point) error {
		if first {
			minT, maxT, first = p.Time, p.Time, false
		}
		minT, maxT = min(minT, p.Time), max(maxT, p.Time)
		if d := p.Time - lastT; d > 0 && (step == 0 || d < step) {
			step = d
		}
		lastT = p.Time
		w.samples += int64(len(p.Fields))
		if !meas[p.Measurement] {
			meas[p.Measurement] = true
			w.measurements = append(w.measurements, p.Measurement)
		}
		if !queried[p.Measurement] {
			return nil
		}
		if len(p.Tags) > 0 {
			hosts[p.Tags[0].Value] = true
		}
		for _, t := range p.Tags {
			if t.Key == "fleet" && !fleets[t.Value] {
				fleets[t.Value] = true
				w.fleets = append(w.fleets, t.Value)
			}
		}
		w.queriedSamples += int64(len(p.Fields))
		fs := fields[p.Measurement]
		if fs == nil {
			fs = map[string]bool{}
			fields[p.Measurement] = fs
		}
		for i := range p.Fields {
			fs[p.Fields[i].Name] = true
		}
		return nil
	})
	if err != nil {
		return 0, 0, 0, err
	}
	if len(hosts) == 0 {
		return 0, 0, 0, fmt.Errorf("bench: workload has no points of %v", w.queried())
	}
	slices.Sort(w.measurements)
	slices.Sort(w.fleets)
	w.hosts = len(hosts)
	w.fields = map[string][]string{}
	for m, fs := range fields {
		for f := range fs {
			w.fields[m] = append(w.fields[m], f)
		}
		slices.Sort(w.fields[m])
	}
	return minT, maxT, step, nil
}

// UseCases are the values of Options.UseCase: TSBS's data sets.
var UseCases = []string{tsbs.UseCaseCPUOnly, tsbs.UseCaseDevops, tsbs.UseCaseIoT}

// generatedWorkload is the TSBS workload of useCase, sized by p, from
// start: hosts (or trucks) x span at the preset's interval.
func generatedWorkload(p Preset, useCase string, start time.Time, seed int64) (*workload, error) {
	cfg := tsbs.Config{UseCase: useCase, Scale: p.Hosts, Start: start, End: start.Add(p.Span), Interval: p.Interval, Seed: seed}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("configure workload: %w", err)
	}
	family, unit := familyDevops, "hosts"
	if useCase == tsbs.UseCaseIoT {
		family, unit = familyIoT, "trucks"
	}
	w := &workload{
		desc:   fmt.Sprintf("TSBS %s, %d %s x %v at %v, seed %d", useCase, p.Hosts, unit, p.Span, p.Interval, seed),
		family: family, start: start, end: cfg.End, interval: p.Interval,
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
	}
	if _, _, _, err := w.learn(); err != nil {
		return nil, err
	}
	return w, nil
}

// fileWorkload reads a TSBS data file once to learn its shape (use case:
// devops when it has a cpu measurement, iot when it has truck readings;
// hosts, time range, interval, samples), then serves its points shifted so
// that the data starts at start; a zero start means "the file's span
// before now, rounded down to the hour", which keeps old TSBS timestamps
// inside TidalDB's memory-store retention.
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
	// The first point that names a known measurement decides the family.
	family := ""
	errFound := errors.New("found")
	err := scan(func(p *tsbs.Point) error {
		switch p.Measurement {
		case "cpu":
			family = familyDevops
		case "readings", "diagnostics":
			family = familyIoT
		default:
			return nil
		}
		return errFound
	})
	if err != nil && !errors.Is(err, errFound) {
		return nil, err
	}
	if family == "" {
		return nil, errors.New("bench: workload file has no cpu points (devops) and no readings or diagnostics points (iot)")
	}
	w := &workload{desc: fmt.Sprintf("TSBS file %s (%s format, %s queries)", path, format, family), family: family, each: scan}
	minT, maxT, step, err := w.learn()
	if err != nil {
		return nil, err
	}
	if step == 0 {
		step = int64(tsbs.DefaultInterval)
	}
	w.interval = time.Duration(step)
	span := time.Duration(maxT-minT) + w.interval
	if start.IsZero() {
		start = time.Now().Add(-span).Truncate(time.Hour)
	}
	w.start, w.end = start.UTC(), start.UTC().Add(span)
	shift := start.UnixNano() - minT
	w.each = func(fn func(*tsbs.Point) error) error {
		return scan(func(p *tsbs.Point) error {
			p.Time += shift
			return fn(p)
		})
	}
	return w, nil
}
