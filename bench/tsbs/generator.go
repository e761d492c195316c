package tsbs

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Use cases accepted in Config.UseCase.
const (
	UseCaseCPUOnly = "cpu-only"
	UseCaseDevops  = "devops"
	UseCaseIoT     = "iot"
)

// DefaultInterval is the tick of every use case when Config.Interval is 0.
const DefaultInterval = 10 * time.Second

// ErrConfig is the sentinel wrapped by every Config validation error.
var ErrConfig = errors.New("tsbs: invalid config")

// Config selects and sizes a workload.
type Config struct {
	// UseCase is "cpu-only", "devops" or "iot".
	UseCase string
	// Scale is the number of hosts (cpu-only, devops) or trucks (iot).
	Scale int
	// Start is the first timestamp.
	Start time.Time
	// End bounds the ticks: timestamps run from Start while t < End.
	End time.Time
	// Interval between ticks; 0 means DefaultInterval.
	Interval time.Duration
	// Seed makes the workload: same Config, same bytes.
	Seed int64
}

// Validate reports the first problem of c, wrapping ErrConfig.
func (c *Config) Validate() error {
	switch c.UseCase {
	case UseCaseCPUOnly, UseCaseDevops, UseCaseIoT:
	default:
		return fmt.Errorf("%w: unknown use case %q (want cpu-only, devops or iot)", ErrConfig, c.UseCase)
	}
	if c.Scale <= 0 {
		return fmt.Errorf("%w: scale %d is not positive", ErrConfig, c.Scale)
	}
	if c.Interval < 0 {
		return fmt.Errorf("%w: interval %v is negative", ErrConfig, c.Interval)
	}
	if !c.End.After(c.Start) {
		return fmt.Errorf("%w: end %v is not after start %v", ErrConfig, c.End, c.Start)
	}
	return nil
}

// Steps returns the number of ticks c covers: timestamps Start,
// Start+Interval, ... strictly before End. It is 0 for an invalid window.
func (c *Config) Steps() int {
	iv := c.interval()
	if !c.End.After(c.Start) || iv <= 0 {
		return 0
	}
	d := c.End.Sub(c.Start)
	return int((d + iv - 1) / iv)
}

func (c *Config) interval() time.Duration {
	if c.Interval == 0 {
		return DefaultInterval
	}
	return c.Interval
}

// Generator produces the points of a workload in TSBS order.
type Generator interface {
	// Next fills p with the next point and reports whether there was one.
	// p's slices are reused; a false return leaves p unspecified.
	Next(p *Point) bool
}

// New validates cfg and returns its generator.
func New(cfg Config) (Generator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	switch cfg.UseCase {
	case UseCaseIoT:
		return newIoT(cfg), nil
	default:
		return newDevops(cfg), nil
	}
}

// rng is a splitmix64 stream: tiny state, good statistics, and fully
// specified, so outputs never depend on the Go release.
type rng struct{ s uint64 }

func newRNG(seed int64, stream uint64) rng {
	r := rng{s: uint64(seed) ^ (stream * 0xd1b54a32d192ed03)}
	r.next()
	return r
}

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// float returns a uniform float64 in [0,1).
func (r *rng) float() float64 { return float64(r.next()>>11) / (1 << 53) }

// intn returns a uniform int in [0,n) for n > 0 (bias below 2^-40 for the
// small n used here).
func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }

// norm returns an approximately standard normal value: the Irwin-Hall sum of
// four uniforms, centred and scaled to unit variance. Only +, - and one
// multiplication: bit-identical everywhere.
func (r *rng) norm() float64 {
	s := r.float() + r.float() + r.float() + r.float()
	return float64((s - 2) * 1.7320508075688772)
}

// uniform returns a uniform value in [lo,hi).
func (r *rng) uniform(lo, hi float64) float64 {
	return lo + float64((hi-lo)*r.float())
}

// walkKind is how a field evolves from tick to tick.
type walkKind uint8

const (
	walkGauge   walkKind = iota // clamped Gaussian random walk
	walkCounter                 // monotonic, uniform step in [0,step]
	walkConst                   // drawn once in [lo,hi)
	walkChoice                  // drawn once from choices
	walkDiff                    // v[a] - v[b]
	walkPct                     // 100 * v[a] / v[b]
	walkUptime                  // grows by the interval in seconds
)

// fieldSpec describes one field of a measurement. Derived fields (diff, pct)
// and gauges bounded by another field (maxRef >= 0) refer to fields earlier
// in the same measurement.
type fieldSpec struct {
	name    string
	kind    walkKind
	lo, hi  float64 // gauge range, const range, uptime initial range
	step    float64 // gauge sigma or counter max step
	maxRef  int     // gauge upper bound taken from this field, or -1
	a, b    int     // operands of diff and pct
	choices []float64
	isFloat bool
	digits  int // decimals kept for float fields
}

func gauge(name string, lo, hi, sigma float64) fieldSpec {
	return fieldSpec{name: name, kind: walkGauge, lo: lo, hi: hi, step: sigma, maxRef: -1}
}

func gaugeUnder(name string, ref int, sigma float64) fieldSpec {
	return fieldSpec{name: name, kind: walkGauge, step: sigma, maxRef: ref}
}

func counter(name string, step float64) fieldSpec {
	return fieldSpec{name: name, kind: walkCounter, step: step, maxRef: -1}
}

func constant(name string, lo, hi float64) fieldSpec {
	return fieldSpec{name: name, kind: walkConst, lo: lo, hi: hi, maxRef: -1}
}

func choice(name string, cs ...float64) fieldSpec {
	return fieldSpec{name: name, kind: walkChoice, choices: cs, maxRef: -1}
}

func diff(name string, a, b int) fieldSpec {
	return fieldSpec{name: name, kind: walkDiff, a: a, b: b, maxRef: -1}
}

func pct(name string, a, b int) fieldSpec {
	return fieldSpec{name: name, kind: walkPct, a: a, b: b, maxRef: -1}
}

func (f fieldSpec) float(digits int) fieldSpec {
	f.isFloat, f.digits = true, digits
	return f
}

// measSpec is one measurement: its name and fields in TSBS order.
type measSpec struct {
	name   string
	fields []fieldSpec
}

// fieldNames returns the field names of m in order.
func (m *measSpec) fieldNames() []string {
	ns := make([]string, len(m.fields))
	for i := range m.fields {
		ns[i] = m.fields[i].name
	}
	return ns
}

// initValues draws the first values of every field of m into v.
func (m *measSpec) initValues(r *rng, v []float64) {
	for i := range m.fields {
		f := &m.fields[i]
		switch f.kind {
		case walkGauge:
			hi := f.hi
			if f.maxRef >= 0 {
				hi = v[f.maxRef]
			}
			v[i] = r.uniform(f.lo, hi)
		case walkCounter:
			v[i] = 0
		case walkConst, walkUptime:
			v[i] = math.Floor(r.uniform(f.lo, f.hi))
		case walkChoice:
			v[i] = f.choices[r.intn(len(f.choices))]
		}
	}
	m.derive(v)
}

// advance moves every field of m one tick of ivSeconds forward.
func (m *measSpec) advance(r *rng, v []float64, ivSeconds float64) {
	for i := range m.fields {
		f := &m.fields[i]
		switch f.kind {
		case walkGauge:
			hi := f.hi
			if f.maxRef >= 0 {
				hi = v[f.maxRef]
			}
			x := v[i] + float64(f.step*r.norm())
			v[i] = min(max(x, f.lo), hi)
		case walkCounter:
			v[i] += float64(f.step * r.float())
		case walkUptime:
			v[i] += ivSeconds
		}
	}
	m.derive(v)
}

func (m *measSpec) derive(v []float64) {
	for i := range m.fields {
		f := &m.fields[i]
		switch f.kind {
		case walkDiff:
			v[i] = v[f.a] - v[f.b]
		case walkPct:
			if v[f.b] != 0 {
				v[i] = float64(100*v[f.a]) / v[f.b]
			} else {
				v[i] = 0
			}
		}
	}
}

// pow10 holds the rounding scales used by field specs.
var pow10 = [...]float64{1, 10, 100, 1e3, 1e4, 1e5, 1e6}

// emit appends field i of m with state v to dst.
func (m *measSpec) emit(dst []Field, i int, v []float64) []Field {
	f := &m.fields[i]
	if f.isFloat {
		s := pow10[f.digits]
		return append(dst, Field{Name: f.name, Kind: FieldFloat, Float: math.Round(float64(v[i]*s)) / s})
	}
	return append(dst, Field{Name: f.name, Kind: FieldInt, Int: int64(math.Floor(v[i]))})
}
