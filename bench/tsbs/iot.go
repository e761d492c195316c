package tsbs

import (
	"container/heap"
	"strconv"
)

// Irregularity rates of the iot use case (see the package doc).
const (
	MissingRate  = 0.01
	LateRate     = 0.02
	NullRate     = 0.01
	MaxLateTicks = 6
)

// TSBS's truck tag value lists.
var (
	fleets         = []string{"East", "West", "North", "South"}
	drivers        = []string{"Albert", "Derek", "Nico", "Rodney", "Seth", "Trish"}
	deviceVersions = []string{"v1.0", "v1.5", "v2.0", "v2.3"}
	truckModels    = []struct {
		name                   string
		load, fuel, nominalUse int
	}{
		{"F-150", 2000, 200, 15},
		{"G-2000", 5000, 300, 19},
		{"H-2", 1500, 150, 12},
	}
)

// Truck tag keys in TSBS order.
var truckTagKeys = []string{
	"name", "fleet", "driver", "model", "device_version",
	"load_capacity", "fuel_capacity", "nominal_fuel_consumption",
}

// iotSpecs are the iot measurements in emission order. The load gauge's
// upper bound is replaced per truck by its model's load capacity.
var iotSpecs = []measSpec{
	{name: "readings", fields: []fieldSpec{
		gauge("latitude", -90, 90, 0.01).float(5),
		gauge("longitude", -180, 180, 0.01).float(5),
		gauge("elevation", 0, 5000, 10).float(2),
		gauge("velocity", 0, 100, 5).float(2),
		gauge("heading", 0, 360, 10).float(2),
		gauge("grade", 0, 100, 5).float(2),
		gauge("fuel_consumption", 0, 50, 1).float(2),
	}},
	{name: "diagnostics", fields: []fieldSpec{
		gauge("load", 0, 5000, 50).float(2),
		gauge("fuel_state", 0, 1, 0.01).float(2),
		gauge("status", 0, 5, 1),
	}},
}

// truck is one simulated truck: tags, per-model specs and walk state.
type truck struct {
	r     rng
	tags  []Tag
	specs []measSpec  // iotSpecs with this truck's load bound
	vals  [][]float64 // per measurement, per field
}

func newTruck(seed int64, idx int) *truck {
	t := &truck{r: newRNG(seed, uint64(idx)+1)}
	r := &t.r
	model := truckModels[r.intn(len(truckModels))]
	t.tags = []Tag{
		{"name", "truck_" + strconv.Itoa(idx)},
		{"fleet", fleets[r.intn(len(fleets))]},
		{"driver", drivers[r.intn(len(drivers))]},
		{"model", model.name},
		{"device_version", deviceVersions[r.intn(len(deviceVersions))]},
		{"load_capacity", strconv.Itoa(model.load)},
		{"fuel_capacity", strconv.Itoa(model.fuel)},
		{"nominal_fuel_consumption", strconv.Itoa(model.nominalUse)},
	}
	t.specs = make([]measSpec, len(iotSpecs))
	copy(t.specs, iotSpecs)
	diag := &t.specs[1]
	diag.fields = append([]fieldSpec(nil), diag.fields...)
	diag.fields[0].hi = float64(model.load)
	t.vals = make([][]float64, len(t.specs))
	for i := range t.specs {
		t.vals[i] = make([]float64, len(t.specs[i].fields))
		t.specs[i].initValues(r, t.vals[i])
	}
	return t
}

// latePoint is a point held back to be emitted at tick release.
type latePoint struct {
	release int
	seq     uint64 // tie-break: order of holding
	truck   int
	meas    int
	time    int64
	fields  []Field
}

type lateHeap []*latePoint

func (h lateHeap) Len() int { return len(h) }
func (h lateHeap) Less(i, j int) bool {
	if h[i].release != h[j].release {
		return h[i].release < h[j].release
	}
	return h[i].seq < h[j].seq
}
func (h lateHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *lateHeap) Push(x any)   { *h = append(*h, x.(*latePoint)) }
func (h *lateHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return x
}

// iotGen emits truck points tick by tick; at each tick it first releases the
// late points due then, then walks every truck and measurement.
type iotGen struct {
	trucks []*truck
	start  int64
	ivNs   int64
	steps  int
	step   int
	ti, mi int
	late   lateHeap
	free   []*latePoint // recycled late points
	seq    uint64
}

func newIoT(cfg Config) *iotGen {
	g := &iotGen{
		trucks: make([]*truck, cfg.Scale),
		start:  cfg.Start.UnixNano(),
		ivNs:   int64(cfg.interval()),
		steps:  cfg.Steps(),
	}
	for i := range g.trucks {
		g.trucks[i] = newTruck(cfg.Seed, i)
	}
	return g
}

// Next implements Generator.
func (g *iotGen) Next(p *Point) bool {
	for {
		if len(g.late) > 0 && (g.late[0].release <= g.step || g.step >= g.steps) {
			lp := heap.Pop(&g.late).(*latePoint)
			t := g.trucks[lp.truck]
			p.Measurement = t.specs[lp.meas].name
			p.Tags = append(p.Tags[:0], t.tags...)
			p.Fields = append(p.Fields[:0], lp.fields...)
			p.Time = lp.time
			g.free = append(g.free, lp)
			return true
		}
		if g.step >= g.steps {
			return false
		}
		ti, mi := g.ti, g.mi
		g.mi++
		if g.mi == len(iotSpecs) {
			g.mi = 0
			g.ti++
			if g.ti == len(g.trucks) {
				g.ti = 0
				g.step++
			}
		}
		t := g.trucks[ti]
		m := &t.specs[mi]
		v := t.vals[mi]
		step := g.step
		if ti == len(g.trucks)-1 && mi == len(iotSpecs)-1 {
			step-- // g.step already moved on
		}
		if step > 0 {
			m.advance(&t.r, v, 0)
		}
		// Draw the irregularities in a fixed order so that the stream of
		// random numbers never depends on earlier outcomes.
		missing := t.r.float() < MissingRate
		late := t.r.float() < LateRate
		delay := 1 + t.r.intn(MaxLateTicks)
		p.Fields = p.Fields[:0]
		for i := range m.fields {
			if t.r.float() < NullRate {
				continue
			}
			p.Fields = m.emit(p.Fields, i, v)
		}
		if len(p.Fields) == 0 {
			p.Fields = m.emit(p.Fields, 0, v)
		}
		ts := g.start + int64(step)*g.ivNs
		if missing {
			continue
		}
		if late {
			g.hold(ti, mi, step+delay, ts, p.Fields)
			continue
		}
		p.Measurement = m.name
		p.Tags = append(p.Tags[:0], t.tags...)
		p.Time = ts
		return true
	}
}

func (g *iotGen) hold(ti, mi, release int, ts int64, fields []Field) {
	var lp *latePoint
	if n := len(g.free); n > 0 {
		lp = g.free[n-1]
		g.free = g.free[:n-1]
	} else {
		lp = new(latePoint)
	}
	g.seq++
	lp.release, lp.seq, lp.truck, lp.meas, lp.time = release, g.seq, ti, mi, ts
	lp.fields = append(lp.fields[:0], fields...)
	heap.Push(&g.late, lp)
}

// Fleets returns the fleet tag values of the iot use case.
func Fleets() []string { return append([]string(nil), fleets...) }

// LoadCapacities returns the load_capacity tag values of the truck models
// (a truck's load gauge never exceeds its capacity).
func LoadCapacities() []int {
	out := make([]int, len(truckModels))
	for i, m := range truckModels {
		out[i] = m.load
	}
	return out
}
