package chunkenc

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Fixed seeds, so that adding or removing cases does not change the data.
const (
	seedTimes  = 1
	seedFloats = 2
	seedInts   = 3
	seedStrs   = 4
	seedBools  = 5
)

// tsbsStart is the first timestamp of the TSBS devops data sets
// (2024-01-01T00:00:00Z) in nanoseconds.
const tsbsStart = int64(1704067200) * 1e9

// tsbsTimes returns n timestamps 10 s apart from tsbsStart; with jitter > 0
// each is moved by a uniform offset in [-jitter, jitter] ns, rounded to unit.
func tsbsTimes(n int, jitter, unit int64, seed uint64) []int64 {
	rng := rand.New(rand.NewPCG(seed, seedTimes))
	ts := make([]int64, n)
	for i := range ts {
		t := tsbsStart + int64(i)*10e9
		if jitter > 0 {
			t += (rng.Int64N(2*jitter+1) - jitter) / unit * unit
		}
		ts[i] = t
	}
	return ts
}

// tsbsCPU returns n values of one TSBS devops cpu field: a random walk with
// standard normal steps clamped to [0, 100], emitted as whole numbers as the
// TSBS serialisers write them.
func tsbsCPU(n int, seed uint64) []float64 {
	rng := rand.New(rand.NewPCG(seed, seedFloats))
	v := rng.Float64() * 100
	out := make([]float64, n)
	for i := range out {
		v = min(max(v+rng.NormFloat64(), 0), 100)
		out[i] = math.Round(v)
	}
	return out
}

// gaugeFloats returns n random-walk doubles with full precision, the worst
// realistic case for XOR coding.
func gaugeFloats(n int, seed uint64) []float64 {
	rng := rand.New(rand.NewPCG(seed, seedFloats+100))
	v := 50.0
	out := make([]float64, n)
	for i := range out {
		v += rng.NormFloat64()
		out[i] = v
	}
	return out
}

// counters returns n values of a monotonically increasing counter (bytes
// sent, say) that grows by a random amount each interval.
func counters(n int, seed uint64) []int64 {
	rng := rand.New(rand.NewPCG(seed, seedInts))
	v := rng.Int64N(1 << 40)
	out := make([]int64, n)
	for i := range out {
		v += rng.Int64N(5000)
		out[i] = v
	}
	return out
}

// intWalk returns n values of an integer random walk with small steps.
func intWalk(n int, seed uint64) []int64 {
	rng := rand.New(rand.NewPCG(seed, seedInts+100))
	v := int64(100)
	out := make([]int64, n)
	for i := range out {
		v += rng.Int64N(21) - 10
		out[i] = v
	}
	return out
}

// statuses returns n values drawn from a few status strings, changing
// rarely, like a service state column.
func statuses(n int, seed uint64) []string {
	rng := rand.New(rand.NewPCG(seed, seedStrs))
	states := []string{"running", "degraded", "stopped", "starting", "maintenance"}
	cur := states[0]
	out := make([]string, n)
	for i := range out {
		if rng.IntN(10) == 0 {
			cur = states[rng.IntN(len(states))]
		}
		out[i] = cur
	}
	return out
}

// requestIDs returns n distinct 36-byte identifiers, the worst case for the
// string dictionary.
func requestIDs(n int, seed uint64) []string {
	rng := rand.New(rand.NewPCG(seed, seedStrs+100))
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", rng.Uint32(), rng.Uint32()&0xffff, rng.Uint32()&0xffff, rng.Uint32()&0xffff, rng.Uint64()&(1<<48-1))
	}
	return out
}

// sparseNulls returns a null bitmap with about one null in every 50 rows.
func sparseNulls(n int, seed uint64) []bool {
	rng := rand.New(rand.NewPCG(seed, seedBools))
	out := make([]bool, n)
	for i := range out {
		out[i] = rng.IntN(50) == 0
	}
	return out
}

// randomBools returns n fair coin flips.
func randomBools(n int, seed uint64) []bool {
	rng := rand.New(rand.NewPCG(seed, seedBools+100))
	out := make([]bool, n)
	for i := range out {
		out[i] = rng.IntN(2) == 0
	}
	return out
}
