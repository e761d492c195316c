package chunkenc

import (
	"encoding/hex"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func timeCases() []struct {
	name string
	in   []int64
} {
	rng := rand.New(rand.NewPCG(7, 7))
	random := make([]int64, 300)
	for i := range random {
		random[i] = int64(rng.Uint64())
	}
	return []struct {
		name string
		in   []int64
	}{
		{"empty", nil},
		{"single zero", []int64{0}},
		{"single min", []int64{math.MinInt64}},
		{"constant", []int64{5, 5, 5, 5}},
		{"regular 10s", tsbsTimes(240, 0, 1, 1)},
		{"ms jitter", tsbsTimes(240, 5e6, 1e6, 2)},
		{"us jitter", tsbsTimes(240, 5e5, 1e3, 3)},
		{"ns jitter", tsbsTimes(240, 5e5, 1, 4)},
		{"decreasing", []int64{100, 90, 80, -5, -1 << 40}},
		{"extremes", []int64{math.MinInt64, math.MaxInt64, math.MinInt64, 0, math.MaxInt64, math.MaxInt64, -1, 1}},
		{"huge deltas", []int64{0, 1 << 62, -(1 << 62), 1 << 61, math.MaxInt64}},
		{"bucket edges", []int64{0, 63, 63 + 63 - 64, 0, 1 << 15, 1 << 31, 1 << 33, 3e9, 4e9 + 7e3, 5e9 + 7e6 + 1}},
		{"random", random},
	}
}

func TestTimesRoundTrip(t *testing.T) {
	for _, tc := range timeCases() {
		t.Run(tc.name, func(t *testing.T) {
			var a TimeAppender
			for i, v := range tc.in {
				a.Append(v)
				if i < 64 { // every prefix decodes to itself
					got, err := DecodeTimes(nil, a.Bytes(), a.Len())
					if err != nil || !slices.Equal(got, tc.in[:i+1]) {
						t.Fatalf("prefix %d: got %v, %v; want %v", i+1, got, err, tc.in[:i+1])
					}
				}
			}
			if a.Len() != len(tc.in) {
				t.Fatalf("Len = %d, want %d", a.Len(), len(tc.in))
			}
			dst := []int64{42}
			got, err := DecodeTimes(dst, a.Bytes(), a.Len())
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !slices.Equal(got, append([]int64{42}, tc.in...)) {
				t.Fatalf("got %v, want 42 then %v", got, tc.in)
			}
			a.Reset()
			if a.Len() != 0 || len(a.Bytes()) != 0 {
				t.Fatalf("after Reset: Len %d, %d bytes", a.Len(), len(a.Bytes()))
			}
			for _, v := range tc.in {
				a.Append(v)
			}
			got, err = DecodeTimes(nil, a.Bytes(), len(tc.in))
			if err != nil || !slices.Equal(got, tc.in) {
				t.Fatalf("after Reset: got %v, %v", got, err)
			}
		})
	}
}

func TestTimesSize(t *testing.T) {
	tests := []struct {
		name    string
		in      []int64
		maxBits float64 // per sample
	}{
		{"regular 10s", tsbsTimes(240, 0, 1, 1), 1.4},
		{"ms jitter", tsbsTimes(240, 5e6, 1e6, 2), 11.5},
		{"us jitter", tsbsTimes(240, 5e5, 1e3, 3), 21.5},
	}
	for _, tc := range tests {
		var a TimeAppender
		for _, v := range tc.in {
			a.Append(v)
		}
		bits := float64(len(a.Bytes())*8) / float64(len(tc.in))
		if bits > tc.maxBits {
			t.Errorf("%s: %.2f bits/sample, want <= %.2f", tc.name, bits, tc.maxBits)
		}
		if a.Size() < len(a.Bytes()) {
			t.Errorf("%s: Size %d < %d encoded bytes", tc.name, a.Size(), len(a.Bytes()))
		}
	}
}

func TestTimesGolden(t *testing.T) {
	tests := []struct {
		in   []int64
		want string
	}{
		{nil, ""},
		{[]int64{1}, "0000000000000001"},
		// 64-bit start; first delta 10 s: 10 11 0001010 (unit s); two 0 bits.
		{[]int64{tsbsStart, tsbsStart + 10e9, tsbsStart + 20e9, tsbsStart + 30e9}, "17a6101701650000" + "b140"},
		// dod -1: 10 00 1111111; dod +2: 10 00 0000010; dod MaxInt64
		// (wrapped): 1111 then 64 bits; padding.
		{[]int64{0, -1, 0, math.MinInt64}, "0000000000000000" + "8ff00bdfffffffffffffffc0"},
	}
	for _, tc := range tests {
		var a TimeAppender
		for _, v := range tc.in {
			a.Append(v)
		}
		if got := hex.EncodeToString(a.Bytes()); got != tc.want {
			t.Errorf("%v: encoded %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestDecodeTimesErrors(t *testing.T) {
	var a TimeAppender
	for _, v := range tsbsTimes(10, 5e6, 1e6, 9) {
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
		{"no header", full[:7], 1, ErrShortInput},
		{"truncated", full[:len(full)-2], 10, ErrShortInput},
		{"count beyond input", full, math.MaxInt32, ErrShortInput},
		{"more than written", full, 10 + 8*len(full), ErrShortInput},
	}
	for _, tc := range tests {
		got, err := DecodeTimes([]int64{7}, tc.src, tc.n)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: err %v, want %v", tc.name, err, tc.want)
		}
		if !slices.Equal(got, []int64{7}) {
			t.Errorf("%s: dst %v, want [7] untouched", tc.name, got)
		}
	}
}

func TestTimesLastTwo(t *testing.T) {
	tests := []struct {
		in         []int64
		last, prev int64
		ok         bool
	}{
		{nil, 0, 0, false},
		{[]int64{5}, 5, 0, false},
		{[]int64{5, 9}, 9, 5, true},
		{[]int64{-3, 10, 11, 40}, 40, 11, true},
	}
	for _, tc := range tests {
		var a TimeAppender
		for _, v := range tc.in {
			a.Append(v)
		}
		last, prev, ok := a.LastTwo()
		if ok != tc.ok || ok && (last != tc.last || prev != tc.prev) {
			t.Errorf("%v: LastTwo = %d, %d, %v; want %d, %d, %v", tc.in, last, prev, ok, tc.last, tc.prev, tc.ok)
		}
	}
}
