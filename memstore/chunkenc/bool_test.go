package chunkenc

import (
	"encoding/hex"
	"errors"
	"slices"
	"testing"
)

func TestBoolsRoundTrip(t *testing.T) {
	alternating := make([]bool, 200)
	for i := range alternating {
		alternating[i] = i%2 == 0
	}
	pairs := make([]bool, 200)
	for i := range pairs {
		pairs[i] = i/2%2 == 0
	}
	blockEdge := slices.Concat(slices.Repeat([]bool{true}, 63), []bool{false, false}, slices.Repeat([]bool{true}, 64), []bool{false})
	tests := []struct {
		name string
		in   []bool
	}{
		{"empty", nil},
		{"single true", []bool{true}},
		{"single false", []bool{false}},
		{"all false", make([]bool, 240)},
		{"all true", slices.Repeat([]bool{true}, 240)},
		{"sparse nulls", sparseNulls(240, 1)},
		{"random", randomBools(300, 1)},
		{"alternating", alternating},
		{"pairs", pairs},
		{"block edge", blockEdge},
		{"late switch", slices.Concat(make([]bool, 100), []bool{true, false, true, true, false}, make([]bool, 30))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkRoundTrip(t, &BoolAppender{}, DecodeBools, tc.in, same[bool])
		})
	}
}

func TestBoolsSize(t *testing.T) {
	tests := []struct {
		name    string
		in      []bool
		maxBits float64
	}{
		{"all false", make([]bool, 240), 0.27}, // 3 x 15 + 13 bits
		{"sparse nulls", sparseNulls(240, 2), 0.7},
		{"random", randomBools(240, 2), 1.04}, // raw bits plus a mode bit per 64
	}
	for _, tc := range tests {
		if b := bitsPerValue[bool](&BoolAppender{}, tc.in); b > tc.maxBits {
			t.Errorf("%s: %.3f bits/value, want <= %.2f", tc.name, b, tc.maxBits)
		}
	}
}

func TestBoolsGolden(t *testing.T) {
	tests := []struct {
		in   []bool
		want string
	}{
		{nil, ""},
		// Raw: 0, then 1 0 1.
		{[]bool{true, false, true}, "50"},
		// Runs: 1, first value 0, run 10 as 000 1010; padding.
		{make([]bool, 10), "8500"},
		// 64 true: 1 1 000000 1000000 (15 bits); then a block of one
		// true, raw: 0 1; padding.
		{slices.Repeat([]bool{true}, 65), "c08080"},
	}
	for _, tc := range tests {
		var a BoolAppender
		for _, v := range tc.in {
			a.Append(v)
		}
		if got := hex.EncodeToString(a.Bytes()); got != tc.want {
			t.Errorf("%v: encoded %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestDecodeBoolsErrors(t *testing.T) {
	var a BoolAppender
	for _, v := range randomBools(100, 3) {
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
		{"truncated", full[:len(full)-2], 100, ErrShortInput},
		{"count beyond input", full, 1 << 30, ErrShortInput},
		// Runs block of 10: 1 0, first run 16 as 0000 10000.
		{"run past block", []byte{0b1000_0010, 0b0000_0000}, 10, ErrCorrupt},
		// Runs block with seven zero bits of gamma prefix.
		{"run code too long", []byte{0b1000_0000, 0b0100_0000}, 64, ErrCorrupt},
		// Runs block of 10: 1 0, a run of 4 as 00100, then the input ends.
		{"runs end early", []byte{0b1000_1000}, 10, ErrShortInput},
	}
	for _, tc := range tests {
		got, err := DecodeBools([]bool{true}, tc.src, tc.n)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: err %v, want %v", tc.name, err, tc.want)
		}
		if !slices.Equal(got, []bool{true}) {
			t.Errorf("%s: dst %v, want [true] untouched", tc.name, got)
		}
	}
}

// refEncodeBools encodes in block by block without the appender's
// incremental rewriting, straight from the format description.
func refEncodeBools(in []bool) []byte {
	var w bitWriter
	for start := 0; start < len(in); start += boolBlock {
		blk := in[start:min(start+boolBlock, len(in))]
		var runs []int
		for i, v := range blk {
			if i > 0 && v == blk[i-1] {
				runs[len(runs)-1]++
			} else {
				runs = append(runs, 1)
			}
		}
		rleBits := 2
		for _, l := range runs {
			rleBits += gammaLen(l)
		}
		if rleBits < 1+len(blk) {
			w.writeBit(true)
			w.writeBit(blk[0])
			for _, l := range runs {
				w.writeBits(uint64(l), uint(gammaLen(l)))
			}
		} else {
			w.writeBit(false)
			for _, v := range blk {
				w.writeBit(v)
			}
		}
	}
	return w.b
}

// TestBoolsIncremental checks after every Append that the rewritten open
// block equals a from-scratch encoding and decodes to the prefix.
func TestBoolsIncremental(t *testing.T) {
	patterns := map[string][]bool{
		"random":       randomBools(300, 4),
		"sparse nulls": sparseNulls(300, 4),
		"late switch":  slices.Concat(make([]bool, 100), []bool{true, false, true, true, false}, make([]bool, 30), randomBools(40, 5), slices.Repeat([]bool{true}, 70)),
		"runs of 3":    slices.Concat(slices.Repeat([]bool{true, true, true, false, false, false}, 30)),
	}
	for name, in := range patterns {
		var a BoolAppender
		for i, v := range in {
			a.Append(v)
			want := refEncodeBools(in[:i+1])
			if !slices.Equal(a.Bytes(), want) {
				t.Fatalf("%s: after %d values encoded %x, want %x", name, i+1, a.Bytes(), want)
			}
			got, err := DecodeBools(nil, a.Bytes(), i+1)
			if err != nil || !slices.Equal(got, in[:i+1]) {
				t.Fatalf("%s: prefix %d: got %v, %v", name, i+1, got, err)
			}
		}
	}
}
