package bench

import (
	"testing"
	"time"

	"github.com/tidaldb/tidal/bench/tsbs"
)

// testStart is a fixed, hour-aligned start for generated test data.
var testStart = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// genPoints returns the cpu-only points of hosts hosts over steps ticks.
func genPoints(t testing.TB, hosts, steps int) []tsbs.Point {
	t.Helper()
	g, err := tsbs.New(tsbs.Config{UseCase: tsbs.UseCaseCPUOnly, Scale: hosts, Start: testStart,
		End: testStart.Add(time.Duration(steps) * 10 * time.Second), Interval: 10 * time.Second, Seed: 123})
	if err != nil {
		t.Fatal(err)
	}
	var out []tsbs.Point
	var p tsbs.Point
	for g.Next(&p) {
		out = append(out, clonePoint(&p))
	}
	if len(out) != hosts*steps {
		t.Fatalf("generated %d points, want %d", len(out), hosts*steps)
	}
	return out
}

// sampleKey identifies one expected sample: metric, hostname, ms time.
type sampleKey struct {
	metric, host string
	t            int64
}

// expectedSamples maps every field of pts to its value, named the
// Prometheus way (cpu_usage_user).
func expectedSamples(pts []tsbs.Point) map[sampleKey]float64 {
	want := map[sampleKey]float64{}
	for i := range pts {
		p := &pts[i]
		for _, f := range p.Fields {
			want[sampleKey{p.Measurement + "_" + f.Name, p.Tags[0].Value, p.Time / 1e6}] = f.Value()
		}
	}
	return want
}
