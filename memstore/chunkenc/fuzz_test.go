package chunkenc

import (
	"bytes"
	"encoding/binary"
	"math"
	"testing"
)

// maxFuzzN bounds the value counts fuzzers ask for, so one input stays fast.
const maxFuzzN = 1024

// int64sFrom reads data as little-endian int64s, ignoring a ragged tail.
func int64sFrom(data []byte) []int64 {
	out := make([]int64, 0, len(data)/8)
	for len(data) >= 8 {
		out = append(out, int64(binary.LittleEndian.Uint64(data)))
		data = data[8:]
	}
	return out
}

func int64sBytes(vs []int64) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint64(b, uint64(v))
	}
	return b
}

func float64sBytes(vs []float64) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
	}
	return b
}

func encodeTimes(vs []int64) []byte {
	var a TimeAppender
	for _, v := range vs {
		a.Append(v)
	}
	return a.Bytes()
}

func encodeXOR(vs []float64) []byte {
	var a XORAppender
	for _, v := range vs {
		a.Append(v)
	}
	return a.Bytes()
}

func encodeInts(vs []int64) []byte {
	var a IntAppender
	for _, v := range vs {
		a.Append(v)
	}
	return a.Bytes()
}

func encodeStrings(vs []string) []byte {
	var a StringAppender
	for _, v := range vs {
		a.Append(v)
	}
	return a.Bytes()
}

func encodeBools(vs []bool) []byte {
	var a BoolAppender
	for _, v := range vs {
		a.Append(v)
	}
	return a.Bytes()
}

// checkDecoded asserts what every successful decode of fuzzed bytes must
// satisfy: n values appended after dst's old contents, which are untouched,
// and the values survive re-encoding exactly.
func checkDecoded[T any](t *testing.T, got []T, err error, n int, encode func([]T) []byte, decode decodeFunc[T], eq func(x, y T) bool) {
	t.Helper()
	if err != nil {
		if len(got) != 1 {
			t.Fatalf("error %v but dst has %d values, want 1", err, len(got))
		}
		return
	}
	if len(got) != n+1 {
		t.Fatalf("decoded %d values, want %d", len(got)-1, n)
	}
	vals := got[1:]
	again, err := decode(nil, encode(vals), n)
	if err != nil {
		t.Fatalf("decode re-encoded values: %v", err)
	}
	if !equalSlices(again, vals, eq) {
		t.Fatalf("re-encoded values decode to %v, want %v", again, vals)
	}
}

func FuzzDecodeTimes(f *testing.F) {
	f.Add(encodeTimes(tsbsTimes(20, 5e6, 1e6, 1)), uint16(20))
	f.Add(encodeTimes([]int64{0, -1, 0, math.MinInt64}), uint16(4))
	f.Add([]byte{}, uint16(0))
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 0xff, 0xff}, uint16(3))
	f.Fuzz(func(t *testing.T, src []byte, n uint16) {
		k := int(n) % maxFuzzN
		got, err := DecodeTimes([]int64{0}, src, k)
		checkDecoded(t, got, err, k, encodeTimes, DecodeTimes, same[int64])
	})
}

func FuzzDecodeXOR(f *testing.F) {
	f.Add(encodeXOR(tsbsCPU(20, 1)), uint16(20))
	f.Add(encodeXOR([]float64{math.NaN(), math.Inf(-1), 5e-324}), uint16(3))
	f.Add([]byte{}, uint16(1))
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0x80}, uint16(3))
	f.Fuzz(func(t *testing.T, src []byte, n uint16) {
		k := int(n) % maxFuzzN
		got, err := DecodeXOR([]float64{0}, src, k)
		checkDecoded(t, got, err, k, encodeXOR, DecodeXOR, sameFloat)
	})
}

func FuzzDecodeInts(f *testing.F) {
	f.Add(encodeInts(counters(20, 1)), uint16(20))
	f.Add(encodeInts([]int64{math.MinInt64, math.MaxInt64, 1}), uint16(3))
	f.Add([]byte{0xff, 0xff, 0xff}, uint16(2))
	f.Fuzz(func(t *testing.T, src []byte, n uint16) {
		k := int(n) % maxFuzzN
		got, err := DecodeInts([]int64{0}, src, k)
		checkDecoded(t, got, err, k, encodeInts, DecodeInts, same[int64])
	})
}

func FuzzDecodeStrings(f *testing.F) {
	f.Add(encodeStrings(statuses(20, 1)), uint16(20))
	f.Add(encodeStrings([]string{"ab", "ab", "c", "", "\xff"}), uint16(5))
	f.Add([]byte{0x84, 'a', 0xc2, 'b', 0xe0}, uint16(3))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, uint16(1))
	f.Fuzz(func(t *testing.T, src []byte, n uint16) {
		k := int(n) % maxFuzzN
		got, err := DecodeStrings([]string{""}, src, k)
		checkDecoded(t, got, err, k, encodeStrings, DecodeStrings, same[string])
	})
}

func FuzzDecodeBools(f *testing.F) {
	f.Add(encodeBools(sparseNulls(200, 1)), uint16(200))
	f.Add(encodeBools(randomBools(70, 1)), uint16(70))
	f.Add([]byte{0x80, 0x40}, uint16(64))
	f.Add([]byte{}, uint16(0))
	f.Fuzz(func(t *testing.T, src []byte, n uint16) {
		k := int(n) % (4 * maxFuzzN)
		got, err := DecodeBools([]bool{false}, src, k)
		checkDecoded(t, got, err, k, encodeBools, DecodeBools, same[bool])
	})
}

func FuzzRoundTripTimes(f *testing.F) {
	f.Add(int64sBytes(tsbsTimes(30, 5e6, 1, 1)))
	f.Add(int64sBytes([]int64{math.MinInt64, math.MaxInt64, 0, -1}))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		in := int64sFrom(data)
		got, err := DecodeTimes(nil, encodeTimes(in), len(in))
		if err != nil || !equalSlices(got, in, same[int64]) {
			t.Fatalf("got %v, %v; want %v", got, err, in)
		}
	})
}

func FuzzRoundTripXOR(f *testing.F) {
	f.Add(float64sBytes(tsbsCPU(30, 1)))
	f.Add(float64sBytes([]float64{math.NaN(), math.Copysign(0, -1), math.Inf(1), math.MaxFloat64, 5e-324}))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		ints := int64sFrom(data)
		in := make([]float64, len(ints))
		for i, v := range ints {
			in[i] = math.Float64frombits(uint64(v))
		}
		got, err := DecodeXOR(nil, encodeXOR(in), len(in))
		if err != nil || !equalSlices(got, in, sameFloat) {
			t.Fatalf("got %v, %v; want %v", got, err, in)
		}
	})
}

func FuzzRoundTripInts(f *testing.F) {
	f.Add(int64sBytes(counters(30, 1)))
	f.Add(int64sBytes([]int64{math.MinInt64, math.MaxInt64, 0, -1, 1}))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		in := int64sFrom(data)
		got, err := DecodeInts(nil, encodeInts(in), len(in))
		if err != nil || !equalSlices(got, in, same[int64]) {
			t.Fatalf("got %v, %v; want %v", got, err, in)
		}
	})
}

// FuzzRoundTripStrings splits data at its first byte, so the fuzzer controls
// both the values and how often they repeat.
func FuzzRoundTripStrings(f *testing.F) {
	f.Add([]byte(",a,b,a,,a,\xff\x00,b"))
	f.Add([]byte("|running|running|stopped|running"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		var in []string
		if len(data) > 0 {
			for _, p := range bytes.Split(data[1:], data[:1]) {
				in = append(in, string(p))
			}
		}
		got, err := DecodeStrings(nil, encodeStrings(in), len(in))
		if err != nil || !equalSlices(got, in, same[string]) {
			t.Fatalf("got %q, %v; want %q", got, err, in)
		}
	})
}

// FuzzRoundTripBools uses every bit of data as a value, and the first byte
// to cut the count so that partial blocks are covered.
func FuzzRoundTripBools(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff})
	f.Add([]byte{3, 0xaa, 0x55, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		var in []bool
		for _, b := range data {
			for j := 7; j >= 0; j-- {
				in = append(in, b>>j&1 == 1)
			}
		}
		if len(data) > 0 {
			in = in[:len(in)-int(data[0]%8)]
		}
		got, err := DecodeBools(nil, encodeBools(in), len(in))
		if err != nil || !equalSlices(got, in, same[bool]) {
			t.Fatalf("got %v, %v; want %v", got, err, in)
		}
	})
}
