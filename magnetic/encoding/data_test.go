package encoding

import (
	"math"
	"math/rand/v2"
)

// Test data shaped like TSBS devops "cpu": each host has 10 fields
// (usage_user ... usage_guest_nice) following a random walk with N(0,1)
// steps clamped to [0,100], sampled every 10 s. TSBS emits these as
// integers ("58"); cpuDecimals rounds to two decimals instead.

const (
	blockLen    = 8192
	tsbsStep    = int64(10e9) // 10 s in ns
	tsbsStart   = int64(1704067200000000000)
	cpuFields   = 10
	benchHosts  = 4
	reportSeed1 = 123
)

// cpuSeries returns one random-walk field of n samples; digits is the number
// of decimals kept (0 = TSBS integers).
func cpuSeries(r *rand.Rand, n, digits int) []float64 {
	out := make([]float64, n)
	v := r.Float64() * 100
	p := math.Pow(10, float64(digits))
	for i := range out {
		v += r.NormFloat64()
		v = min(max(v, 0), 100)
		if digits == 0 {
			out[i] = math.Trunc(v)
		} else {
			out[i] = math.Round(v*p) / p
		}
	}
	return out
}

// cpuBlocks returns hosts*cpuFields value blocks of blockLen samples.
func cpuBlocks(seed uint64, hosts, digits int) [][]float64 {
	r := rand.New(rand.NewPCG(seed, seed^0x5eed))
	var out [][]float64
	for range hosts * cpuFields {
		out = append(out, cpuSeries(r, blockLen, digits))
	}
	return out
}

// regularTimestamps returns n timestamps at the TSBS 10 s interval.
func regularTimestamps(n int) []int64 {
	ts := make([]int64, n)
	for i := range ts {
		ts[i] = tsbsStart + int64(i)*tsbsStep
	}
	return ts
}

// jitteredTimestamps returns scrape-like timestamps: 10 s plus up to
// +-jitter ns of noise (ms precision).
func jitteredTimestamps(seed uint64, n int, jitterMs int64) []int64 {
	r := rand.New(rand.NewPCG(seed, 7))
	ts := make([]int64, n)
	for i := range ts {
		ts[i] = tsbsStart + int64(i)*tsbsStep + (r.Int64N(2*jitterMs+1)-jitterMs)*1e6
	}
	return ts
}

// cpuMantissas returns n samples of one TSBS cpu field as integers.
func cpuMantissas(n int) []int64 {
	vs := cpuSeries(rand.New(rand.NewPCG(1, 2)), n, 0)
	out := make([]int64, n)
	for i, v := range vs {
		out[i] = int64(v)
	}
	return out
}
