package encoding

import (
	"encoding/hex"
	"math"
	"slices"
	"testing"
)

// Golden blocks pin format version 1: if one of these changes, the on-disk
// format changed and needs a new Kind, not an edit here.
func TestGoldenBlocks(t *testing.T) {
	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{"timestamps empty", AppendTimestamps(nil, nil), "0100"},
		{"timestamps const", AppendTimestamps(nil, []int64{1000, 1010, 1020}), "0103d00f14"},
		{"timestamps dod ms", AppendTimestamps(nil, []int64{0, 10e6, 20e6, 31e6}), "0204000614000102"},
		{"timestamps dod wrapping", AppendTimestamps(nil, []int64{0, math.MaxInt64, 0}), "02030000feffffffffffffffff010400"},
		{"timestamps delta", AppendTimestamps(nil, []int64{0, 1, 300}), "03030002d604"},
		{"ints const", AppendInts(nil, []int64{-3, -3}), "140205"},
		{"ints delta", AppendInts(nil, []int64{5, 6, 7, 9}), "15040a020104"},
		{"floats const", AppendFloats(nil, []float64{1, 1}), "0a02000000000000f03f"},
		{"floats decimal", AppendFloats(nil, []float64{0.1, 0.25, 0.5}), "0b03041503141e04a0"},
		{"floats xor", AppendFloats(nil, []float64{1, math.Copysign(0, -1)}), "0c023ff0000000000000c02effc0"},
		{"strings plain", AppendStrings(nil, []string{"a", "bc"}), "1e020102616263"},
		{"strings dict", AppendStrings(nil, []string{"x", "y", "x", "x", "y"}), "1f05020101787912"},
		{"bools bitmap", AppendBools(nil, []bool{true, false, true}), "280305"},
		{"bools tie is bitmap", AppendBools(nil, make([]bool, 20)), "2814000000"},
		{"bools rle", AppendBools(nil, make([]bool, 100)), "2964000164"},
		{"compress none", Compress(nil, []byte{1, 2}, None), "000102"},
		{"compress snappy", Compress(nil, []byte("aaaa"), Snappy), "0104" + "04" + "0c61616161"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := hex.EncodeToString(tc.got); got != tc.want {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
		})
	}
}

// huffmanGoldenInput is 500 values whose deltas are mostly 0 with an
// occasional +-3: three bits of FOR, about 1.3 bits of Huffman.
func huffmanGoldenInput() []int64 {
	vs := make([]int64, 500)
	for i := 1; i < len(vs); i++ {
		vs[i] = vs[i-1] + []int64{0, 0, 0, 3, 0, 0, 0, -3}[i%8]
	}
	return vs
}

// TestGoldenHuffmanDecode pins the IntDeltaHuffman layout from the decode
// side: the Huffman stream comes from huff0, whose encoder output may change
// between library versions, but this block must always decode.
func TestGoldenHuffmanDecode(t *testing.T) {
	src, err := hex.DecodeString(huffmanGoldenHex)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeInts(nil, src)
	if err != nil {
		t.Fatalf("DecodeInts: %v", err)
	}
	if want := huffmanGoldenInput(); !slices.Equal(got, want) {
		t.Fatalf("decoded %v..., want %v...", head(got), head(want))
	}
	if k := Kind(src[0]); k != IntDeltaHuffman {
		t.Fatalf("golden kind %s", k)
	}
	if b := forceInts(huffmanGoldenInput(), IntDeltaHuffman); Kind(b[0]) != IntDeltaHuffman || len(b) > 100 {
		t.Fatalf("forced Huffman: %s in %d bytes, want %s in <= 100", Kind(b[0]), len(b), IntDeltaHuffman)
	}
}

// TestGoldenFSEDecode pins the IntDeltaFSE layout from the decode side, as
// TestGoldenHuffmanDecode does for Huffman.
func TestGoldenFSEDecode(t *testing.T) {
	src, err := hex.DecodeString(fseGoldenHex)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeInts(nil, src)
	if err != nil {
		t.Fatalf("DecodeInts: %v", err)
	}
	if want := huffmanGoldenInput(); !slices.Equal(got, want) {
		t.Fatalf("decoded %v..., want %v...", head(got), head(want))
	}
	if k := Kind(src[0]); k != IntDeltaFSE {
		t.Fatalf("golden kind %s", k)
	}
	// The encoder picks FSE here: the deltas' entropy (0 at 3/4, +-3 at
	// 1/8 each: 1.06 bits) is far from Huffman's whole bits.
	b := AppendInts(nil, huffmanGoldenInput())
	if Kind(b[0]) != IntDeltaFSE || len(b) >= len(forceInts(huffmanGoldenInput(), IntDeltaHuffman)) {
		t.Fatalf("encoder chose %s in %d bytes, want %s, smaller than Huffman", Kind(b[0]), len(b), IntDeltaFSE)
	}
}

const huffmanGoldenHex = "18f4030053852000019d77de79e79d77de79e79d77de79e79d77de79e79d77de79e79d77de79e79d77de79e79d77de79e79d77de79e79d77de79e79d77de79e79d77de79e79d77de79e79d77de79e79d77de79e79d77de01"

const fseGoldenHex = "19f403004811c7e403bebf5e6fbfde7ebdfd7afbf5f6ebedd7dbafb75f6fbfde7ebdfd7afbf5f6ebedd7dbafb75f6fbfde7ebdfd7afbf5f6ebedd7dbafb75f6fbfde7ebdfd7afbf5f6ebede00d"

// TestGoldenDecimalFSEDecode pins the FloatDecimalFSE layout from the
// decode side: a TSBS cpu walk in tenths, encoded by the version 2 writer.
func TestGoldenDecimalFSEDecode(t *testing.T) {
	src, err := hex.DecodeString(decimalFSEGoldenHex)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeFloats(nil, src)
	if err != nil {
		t.Fatalf("DecodeFloats: %v", err)
	}
	want := decimalFSEGoldenInput()
	if !sameBits(got, want) {
		t.Fatalf("decoded %v..., want %v...", got[:5], want[:5])
	}
	if k := Kind(src[0]); k != FloatDecimalFSE {
		t.Fatalf("golden kind %s", k)
	}
	if b := AppendFloats(nil, want); Kind(b[0]) != FloatDecimalFSE {
		t.Fatalf("encoder chose %s, want %s", Kind(b[0]), FloatDecimalFSE)
	}
}

// decimalFSEGoldenInput is 200 samples of a TSBS cpu walk in tenths.
func decimalFSEGoldenInput() []float64 {
	ms := cpuMantissas(200)
	vs := make([]float64, len(ms))
	for i, m := range ms {
		vs[i] = float64(m) / 10
	}
	return vs
}

const decimalFSEGoldenHex = "0ec801028601e05037d8010058f424ee5c5364daa87020c196751e2fd86025dda7b416f00325e02a9297112267ffdbecb6e105c25045996d1380d61325"
