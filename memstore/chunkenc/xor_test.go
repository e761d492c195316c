package chunkenc

import (
	"encoding/hex"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestXORRoundTrip(t *testing.T) {
	nan1 := math.Float64frombits(0x7ff8000000000001)
	nan2 := math.Float64frombits(0xfff0000000000abc) // negative signalling NaN
	rng := rand.New(rand.NewPCG(11, 11))
	randomBits := make([]float64, 300)
	for i := range randomBits {
		randomBits[i] = math.Float64frombits(rng.Uint64())
	}
	tests := []struct {
		name string
		in   []float64
	}{
		{"empty", nil},
		{"single", []float64{1.5}},
		{"single nan payload", []float64{nan2}},
		{"constant", []float64{42, 42, 42, 42, 42}},
		{"specials", []float64{0, math.Copysign(0, -1), 0, math.Inf(1), math.Inf(-1), math.NaN(), nan1, nan2, nan1, 5e-324, -5e-324, math.MaxFloat64, -math.MaxFloat64, math.SmallestNonzeroFloat64, 1}},
		{"tsbs cpu", tsbsCPU(240, 1)},
		{"gauge", gaugeFloats(240, 1)},
		{"random bits", randomBits},
		{"window reuse then widen", []float64{1, 1.5, 1.25, 1.125, 3, 1e300, 1e-300}},
		{"all sig bits", []float64{math.Float64frombits(1), math.Float64frombits(1 << 63)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkRoundTrip(t, &XORAppender{}, DecodeXOR, tc.in, sameFloat)
		})
	}
}

func TestXORSize(t *testing.T) {
	// TSBS devops has ten cpu fields per host; measure them all.
	var total float64
	for f := range 10 {
		total += bitsPerValue[float64](&XORAppender{}, tsbsCPU(240, uint64(f)))
	}
	if avg := total / 10 / 8; avg > 1.4 {
		t.Errorf("tsbs cpu: %.3f B/sample, want <= 1.4", avg)
	}
	if b := bitsPerValue[float64](&XORAppender{}, slices.Repeat([]float64{3.25}, 240)); b > 1.3 {
		t.Errorf("constant: %.2f bits/sample, want <= 1.3", b)
	}
}

func TestXORGolden(t *testing.T) {
	tests := []struct {
		in   []float64
		want string
	}{
		{nil, ""},
		{[]float64{1}, "3ff0000000000000"},
		// 1.5 ^ 1 = 0x0008<<48: 11, lead 12 (01100), sig 1 (000001), 1;
		// repeat: 0; 2.5 ^ 1.5 = 0x7ffc<<48 does not fit the window (lead
		// 1 < 12): 11 00001 001101 then 13 one bits; padding.
		{[]float64{1, 1.5, 1.5, 2.5}, "3ff0000000000000" + "d80d84dfff80"},
		// -0 ^ 0 = 1<<63: 11 00000 000001 1.
		{[]float64{math.Copysign(0, -1), 0}, "8000000000000000" + "c00c"},
	}
	for _, tc := range tests {
		var a XORAppender
		for _, v := range tc.in {
			a.Append(v)
		}
		if got := hex.EncodeToString(a.Bytes()); got != tc.want {
			t.Errorf("%v: encoded %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestDecodeXORErrors(t *testing.T) {
	var a XORAppender
	for _, v := range tsbsCPU(20, 3) {
		a.Append(v)
	}
	full := a.Bytes()
	header := full[:8]
	tests := []struct {
		name string
		src  []byte
		n    int
		want error
	}{
		{"negative count", full, -3, ErrCount},
		{"no header", full[:5], 1, ErrShortInput},
		{"truncated", full[:len(full)-3], 20, ErrShortInput},
		{"count beyond input", full, math.MaxInt32, ErrShortInput},
		{"reuse before window", append(slices.Clip(header), 0b10_000000), 2, ErrCorrupt},
		// 11, lead 31, sig 63: 94 bits of window.
		{"window too wide", append(slices.Clip(header), 0b11_11111_1, 0b11110_000, 0, 0, 0, 0, 0, 0, 0, 0), 2, ErrCorrupt},
	}
	for _, tc := range tests {
		got, err := DecodeXOR([]float64{7}, tc.src, tc.n)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: err %v, want %v", tc.name, err, tc.want)
		}
		if !slices.Equal(got, []float64{7}) {
			t.Errorf("%s: dst %v, want [7] untouched", tc.name, got)
		}
	}
}
