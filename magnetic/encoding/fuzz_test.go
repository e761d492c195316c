package encoding

import (
	"bytes"
	"encoding/binary"
	"math"
	"slices"
	"testing"
)

// Decode fuzzers: any input must decode without panicking; whatever decodes
// must re-encode to a block that decodes to the same values (bit for bit),
// and a failed decode must leave dst as it was.

func seedBlocks(f *testing.F, blocks ...[]byte) {
	f.Helper()
	for _, b := range blocks {
		f.Add(b)
	}
	f.Add([]byte{})
	f.Add([]byte{0})
	f.Add([]byte{255, 255, 255, 255})
}

func FuzzDecodeTimestamps(f *testing.F) {
	seedBlocks(f,
		AppendTimestamps(nil, regularTimestamps(10)),
		AppendTimestamps(nil, jitteredTimestamps(1, 300, 5)),
		AppendTimestamps(nil, []int64{0, 1, 300}),
		AppendTimestamps(nil, []int64{math.MinInt64, math.MaxInt64, 0, 5}))
	f.Fuzz(func(t *testing.T, src []byte) {
		got, err := DecodeTimestamps([]int64{7}, src)
		if err != nil {
			if !slices.Equal(got, []int64{7}) {
				t.Fatalf("failed decode changed dst")
			}
			return
		}
		again, err := DecodeTimestamps(nil, AppendTimestamps(nil, got[1:]))
		if err != nil || !slices.Equal(again, got[1:]) {
			t.Fatalf("re-encode round trip mismatch: %v", err)
		}
	})
}

func FuzzDecodeInts(f *testing.F) {
	seedBlocks(f,
		AppendInts(nil, []int64{5, 6, 7, 9}),
		AppendInts(nil, []int64{-3, -3}),
		AppendInts(nil, []int64{0, 1, 4, 9, 16, 25}),
		AppendInts(nil, randInts(1, 200)),
		AppendInts(nil, huffmanGoldenInput()),
		forceInts(huffmanGoldenInput(), IntDeltaHuffman),
		forceInts(huffmanGoldenInput(), IntDeltaFSE),
		forceInts(cpuMantissas(1080), IntDeltaFSE))
	f.Fuzz(func(t *testing.T, src []byte) {
		got, err := DecodeInts([]int64{7}, src)
		if err != nil {
			if !slices.Equal(got, []int64{7}) {
				t.Fatalf("failed decode changed dst")
			}
			return
		}
		again, err := DecodeInts(nil, AppendInts(nil, got[1:]))
		if err != nil || !slices.Equal(again, got[1:]) {
			t.Fatalf("re-encode round trip mismatch: %v", err)
		}
	})
}

func sameBits(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return false
		}
	}
	return true
}

func FuzzDecodeFloats(f *testing.F) {
	seedBlocks(f,
		AppendFloats(nil, []float64{0.1, 0.25, 0.5}),
		AppendFloats(nil, []float64{1, math.Copysign(0, -1), math.NaN(), math.Inf(1)}),
		AppendFloats(nil, cpuBlocks(1, 1, 2)[0][:200]),
		AppendFloats(nil, cpuBlocks(1, 1, 0)[0][:300]),
		forceDecimal(cpuBlocks(1, 1, 0)[0][:1080], IntDeltaFSE),
		forceDecimal(cpuBlocks(1, 1, 0)[0][:1080], IntDeltaHuffman),
		forceFloats(cpuBlocks(1, 1, 0)[0][:1080], FloatDecimal),
		AppendFloats(nil, []float64{1e300, 3, 1}),
		AppendFloats(nil, []float64{2, 2}))
	f.Fuzz(func(t *testing.T, src []byte) {
		got, err := DecodeFloats([]float64{7}, src)
		if err != nil {
			if len(got) != 1 || got[0] != 7 {
				t.Fatalf("failed decode changed dst")
			}
			return
		}
		again, err := DecodeFloats(nil, AppendFloats(nil, got[1:]))
		if err != nil || !sameBits(again, got[1:]) {
			t.Fatalf("re-encode round trip mismatch: %v", err)
		}
	})
}

func FuzzDecodeStrings(f *testing.F) {
	seedBlocks(f,
		AppendStrings(nil, []string{"a", "bc"}),
		AppendStrings(nil, []string{"x", "y", "x", "x", "y"}),
		AppendStrings(nil, slices.Repeat([]string{"host_1", "host_1", "host_2"}, 50)))
	f.Fuzz(func(t *testing.T, src []byte) {
		got, err := DecodeStrings([]string{"z"}, src)
		if err != nil {
			if !slices.Equal(got, []string{"z"}) {
				t.Fatalf("failed decode changed dst")
			}
			return
		}
		again, err := DecodeStrings(nil, AppendStrings(nil, got[1:]))
		if err != nil || !slices.Equal(again, got[1:]) {
			t.Fatalf("re-encode round trip mismatch: %v", err)
		}
	})
}

func FuzzDecodeBools(f *testing.F) {
	seedBlocks(f,
		AppendBools(nil, []bool{true, false, true}),
		AppendBools(nil, make([]bool, 100)))
	f.Fuzz(func(t *testing.T, src []byte) {
		got, err := DecodeBools([]bool{true}, src)
		if err != nil {
			if !slices.Equal(got, []bool{true}) {
				t.Fatalf("failed decode changed dst")
			}
			return
		}
		again, err := DecodeBools(nil, AppendBools(nil, got[1:]))
		if err != nil || !slices.Equal(again, got[1:]) {
			t.Fatalf("re-encode round trip mismatch: %v", err)
		}
	})
}

func FuzzDecompress(f *testing.F) {
	src := bytes.Repeat([]byte("abcdefgh"), 40)
	seedBlocks(f, Compress(nil, src, None), Compress(nil, src, Snappy), Compress(nil, src, Zstd))
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := Decompress([]byte("x"), in)
		if err != nil {
			if string(out) != "x" {
				t.Fatalf("failed decompress changed dst")
			}
			return
		}
		for _, c := range []Compression{None, Snappy, Zstd, Auto} {
			again, err := Decompress(nil, Compress(nil, out[1:], c))
			if err != nil || !bytes.Equal(again, out[1:]) {
				t.Fatalf("%s round trip mismatch: %v", c, err)
			}
		}
	})
}

// Round-trip fuzzers: arbitrary values encode and decode exactly.

func FuzzRoundTripInts(f *testing.F) {
	f.Add([]byte{})
	f.Add(binary.LittleEndian.AppendUint64(nil, math.MaxUint64))
	f.Add(bytes.Repeat([]byte{1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0}, 40))
	var walk []byte
	for _, v := range huffmanGoldenInput() {
		walk = binary.LittleEndian.AppendUint64(walk, uint64(v))
	}
	f.Add(walk)
	f.Fuzz(func(t *testing.T, raw []byte) {
		vs := make([]int64, len(raw)/8)
		for i := range vs {
			vs[i] = int64(binary.LittleEndian.Uint64(raw[8*i:]))
		}
		checkInts(t, vs)
		checkTimestamps(t, vs)
	})
}

func FuzzRoundTripFloats(f *testing.F) {
	f.Add([]byte{})
	f.Add(binary.LittleEndian.AppendUint64(nil, math.Float64bits(0.1)))
	f.Add(binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(nil, math.Float64bits(58)), math.Float64bits(59)))
	f.Add(binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(nil, math.Float64bits(0.1)), 0x8000000000000000))
	f.Fuzz(func(t *testing.T, raw []byte) {
		vs := make([]float64, len(raw)/8)
		for i := range vs {
			vs[i] = math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:]))
		}
		checkFloats(t, vs)
	})
}

// FuzzRoundTripDecimals feeds short decimals, the shape decimal conversion
// targets, built from small mantissas and exponents.
func FuzzRoundTripDecimals(f *testing.F) {
	f.Add([]byte{1, 2, 3}, uint8(2))
	f.Add([]byte{255, 0, 128}, uint8(7))
	f.Fuzz(func(t *testing.T, ms []byte, e uint8) {
		vs := make([]float64, len(ms))
		for i, m := range ms {
			vs[i] = (float64(m) - 100) / math.Pow(10, float64(e%20))
		}
		checkFloats(t, vs)
	})
}

func FuzzRoundTripStrings(f *testing.F) {
	f.Add([]byte("a,b,a,,c"))
	f.Add([]byte("host_1,host_1,host_1,host_2"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		checkStrings(t, splitComma(raw))
	})
}

func splitComma(raw []byte) []string {
	var out []string
	for _, p := range bytes.Split(raw, []byte(",")) {
		out = append(out, string(p))
	}
	return out
}

func FuzzRoundTripBools(f *testing.F) {
	f.Add([]byte{0, 1, 1, 1, 0})
	f.Fuzz(func(t *testing.T, raw []byte) {
		vs := make([]bool, len(raw))
		for i, b := range raw {
			vs[i] = b&1 == 1
		}
		checkBools(t, vs)
	})
}

func FuzzRoundTripCompress(f *testing.F) {
	f.Add([]byte("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), uint8(3))
	f.Fuzz(func(t *testing.T, src []byte, c uint8) {
		comp := []Compression{None, Snappy, Zstd, Auto}[c%4]
		out, err := Decompress(nil, Compress(nil, src, comp))
		if err != nil || !bytes.Equal(out, src) {
			t.Fatalf("%s round trip mismatch: %v", comp, err)
		}
	})
}

// FuzzRoundTripWalk feeds random walks with byte-sized steps (long enough
// for IntDeltaHuffman), as integers and as decimal floats.
func FuzzRoundTripWalk(f *testing.F) {
	f.Add([]byte{0, 1, 0, 0xff, 2}, int64(58))
	f.Add([]byte{0x80, 0x7f}, int64(math.MaxInt64))
	f.Fuzz(func(t *testing.T, steps []byte, start int64) {
		if len(steps) == 0 {
			return
		}
		vs := make([]int64, 300)
		vs[0] = start
		for i := 1; i < len(vs); i++ {
			vs[i] = vs[i-1] + int64(int8(steps[i%len(steps)]))
		}
		checkInts(t, vs)
		for _, k := range []Kind{IntDeltaHuffman, IntDeltaFSE} {
			if b := forceInts(vs, k); b != nil {
				got, err := DecodeInts(nil, b)
				if err != nil || !slices.Equal(got, vs) {
					t.Fatalf("forced %s round trip mismatch: %v", k, err)
				}
			}
		}
		fs := make([]float64, len(vs))
		for i, v := range vs {
			fs[i] = float64(v%100000) / 100
		}
		checkFloats(t, fs)
	})
}
