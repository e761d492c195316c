package chunkenc

import (
	"encoding/hex"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestIntsRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 13))
	random := make([]int64, 300)
	for i := range random {
		random[i] = int64(rng.Uint64())
	}
	var edges []int64
	for _, nb := range intBuckets {
		for _, d := range []int64{-1, 0, 1} {
			z := uint64(1)<<(nb-1) + uint64(d) // around each bucket's limit
			edges = append(edges, unzigzag(z), 0)
		}
	}
	tests := []struct {
		name string
		in   []int64
	}{
		{"empty", nil},
		{"single", []int64{-7}},
		{"single max", []int64{math.MaxInt64}},
		{"versions", slices.Repeat([]int64{1}, 100)},
		{"constant zero", make([]int64, 50)},
		{"counter", counters(240, 1)},
		{"walk", intWalk(240, 1)},
		{"timestamps", tsbsTimes(240, 5e6, 1, 1)},
		{"extremes", []int64{math.MinInt64, math.MaxInt64, math.MinInt64, 0, math.MaxInt64, math.MaxInt64, -1, 1, math.MinInt64}},
		{"steady then jump", []int64{10, 20, 30, 40, 1 << 50, 1<<50 + 10, 1<<50 + 20}},
		{"bucket edges", edges},
		{"random", random},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkRoundTrip(t, &IntAppender{}, DecodeInts, tc.in, same[int64])
		})
	}
}

func TestIntsSize(t *testing.T) {
	tests := []struct {
		name    string
		in      []int64
		maxBits float64
	}{
		{"versions", slices.Repeat([]int64{1}, 240), 1.1},
		{"steady counter", []int64{0, 5, 10, 15, 20, 25, 30, 35, 40}, 2.7},
		{"walk", intWalk(240, 2), 8},
		// Increments up to 5000: zigzag values up to 10^4, 16 or 24 bits.
		{"counter", counters(240, 2), 18},
	}
	for _, tc := range tests {
		if b := bitsPerValue[int64](&IntAppender{}, tc.in); b > tc.maxBits {
			t.Errorf("%s: %.2f bits/value, want <= %.2f", tc.name, b, tc.maxBits)
		}
	}
}

func TestIntsGolden(t *testing.T) {
	tests := []struct {
		in   []int64
		want string
	}{
		{nil, ""},
		// delta 1 (z 2): 10 000010; repeat: 0 0.
		{[]int64{1, 2, 3}, "8200"},
		// delta -1 (z 1): 10 000001; delta 0 (z 0): 10 000000;
		// delta 100 (z 200): 110 0000011001000.
		{[]int64{-1, -1, 99}, "8180c0c8"},
		// MinInt64 (z MaxUint64): 11111 + 64 one bits; then the wrapped
		// delta MaxInt64 - MinInt64 = -1 (z 1): 10 000001; padding.
		{[]int64{math.MinInt64, math.MaxInt64}, "fffffffffffffffffc08"},
	}
	for _, tc := range tests {
		var a IntAppender
		for _, v := range tc.in {
			a.Append(v)
		}
		if got := hex.EncodeToString(a.Bytes()); got != tc.want {
			t.Errorf("%v: encoded %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestDecodeIntsErrors(t *testing.T) {
	var a IntAppender
	for _, v := range counters(20, 3) {
		a.Append(v)
	}
	full := a.Bytes()
	tests := []struct {
		name string
		src  []byte
		n    int
		want error
	}{
		{"negative count", full, -1, ErrCount},
		{"empty input", nil, 1, ErrShortInput},
		{"truncated", full[:len(full)-2], 20, ErrShortInput},
		{"count beyond input", full, 8*len(full) + 1, ErrShortInput},
		{"cut 64-bit field", []byte{0xff, 0xff}, 1, ErrShortInput},
	}
	for _, tc := range tests {
		got, err := DecodeInts([]int64{7}, tc.src, tc.n)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: err %v, want %v", tc.name, err, tc.want)
		}
		if !slices.Equal(got, []int64{7}) {
			t.Errorf("%s: dst %v, want [7] untouched", tc.name, got)
		}
	}
}
