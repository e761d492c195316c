package chunkenc

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestBitStreamRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 21))
	type field struct {
		v  uint64
		nb uint
	}
	var fields []field
	var w bitWriter
	total := 0
	for range 2000 {
		nb := uint(rng.IntN(65))
		v := rng.Uint64()
		if nb < 64 {
			v &= 1<<nb - 1
		}
		fields = append(fields, field{v, nb})
		garbage := uint64(0)
		if nb < 64 {
			garbage = rng.Uint64() << nb // writeBits must ignore bits above nb
		}
		w.writeBits(v|garbage, nb)
		total += int(nb)
		if w.bitLen() != total {
			t.Fatalf("bitLen %d, want %d", w.bitLen(), total)
		}
	}
	if len(w.b) != (total+7)/8 {
		t.Fatalf("%d bytes for %d bits", len(w.b), total)
	}
	r := newBitReader(w.b)
	for i, f := range fields {
		if got := r.readLong(f.nb); got != f.v {
			t.Fatalf("field %d (%d bits): got %#x, want %#x", i, f.nb, got, f.v)
		}
	}
	if r.short() {
		t.Fatal("short set while reading written bits")
	}
	r.readBits(8)
	if !r.short() {
		t.Fatal("reading a byte past the end did not set short")
	}
}

func TestBitWriterMasksHighBits(t *testing.T) {
	var w bitWriter
	w.writeBits(0xff, 3) // only 111 must be written
	w.writeBits(0, 5)
	if !slices.Equal(w.b, []byte{0xe0}) {
		t.Fatalf("got %x, want e0", w.b)
	}
}

func TestBitWriterTruncate(t *testing.T) {
	tests := []struct {
		keep int
		want []byte
	}{
		{0, []byte{}},
		{3, []byte{0xa0}},
		{8, []byte{0xab}},
		{12, []byte{0xab, 0xc0}},
		{24, []byte{0xab, 0xcd, 0xef}},
	}
	for _, tc := range tests {
		var w bitWriter
		w.writeBits(0xabcdef, 24)
		w.truncate(tc.keep)
		if !slices.Equal(w.b, tc.want) || w.bitLen() != tc.keep {
			t.Errorf("truncate(%d): %x (%d bits), want %x", tc.keep, w.b, w.bitLen(), tc.want)
		}
		w.writeBit(true) // appends right after the kept bits
		if w.bitLen() != tc.keep+1 || w.b[tc.keep/8]>>(7-tc.keep%8)&1 != 1 {
			t.Errorf("truncate(%d) then writeBit: %x", tc.keep, w.b)
		}
	}
}

func TestBitReaderAlignedBytes(t *testing.T) {
	src := []byte{0xa0, 'h', 'i', 0x80, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	r := newBitReader(src)
	if got := r.readBits(3); got != 0b101 {
		t.Fatalf("readBits(3) = %b", got)
	}
	b, ok := r.alignedBytes(2)
	if !ok || string(b) != "hi" {
		t.Fatalf("alignedBytes(2) = %q, %v", b, ok)
	}
	if !r.readBit() || r.readBit() {
		t.Fatal("bits after the aligned bytes are wrong")
	}
	b, ok = r.alignedBytes(9)
	if !ok || !slices.Equal(b, []byte{1, 2, 3, 4, 5, 6, 7, 8, 9}) {
		t.Fatalf("alignedBytes(9) after a buffered refill = %v, %v", b, ok)
	}
	if _, ok := r.alignedBytes(1); ok || !r.short() {
		t.Fatal("alignedBytes past the end succeeded")
	}
}

func TestTakeOnes(t *testing.T) {
	tests := []struct {
		src  []byte
		max  uint
		want uint
		next bool // the bit after the prefix
	}{
		{[]byte{0b0100_0000}, 3, 0, true},
		{[]byte{0b1101_0000}, 3, 2, true},
		{[]byte{0b1111_0000}, 3, 3, true}, // max ones, no terminating zero
		{[]byte{0b1111_1011}, 4, 4, true},
		{[]byte{0b1000_0000, 0, 0, 0, 0, 0, 0, 0, 0}, 4, 1, false},
	}
	for _, tc := range tests {
		r := newBitReader(tc.src)
		r.need(tc.max + 1)
		if got := r.takeOnes(tc.max); got != tc.want {
			t.Errorf("%08b max %d: %d ones, want %d", tc.src[0], tc.max, got, tc.want)
		}
		if got := r.readBit(); got != tc.next {
			t.Errorf("%08b max %d: next bit %v, want %v", tc.src[0], tc.max, got, tc.next)
		}
	}
}

func TestZigzag(t *testing.T) {
	tests := []struct {
		v int64
		z uint64
	}{{0, 0}, {-1, 1}, {1, 2}, {-2, 3}, {1<<63 - 1, 1<<64 - 2}, {-1 << 63, 1<<64 - 1}}
	for _, tc := range tests {
		if got := zigzag(tc.v); got != tc.z {
			t.Errorf("zigzag(%d) = %d, want %d", tc.v, got, tc.z)
		}
		if got := unzigzag(tc.z); got != tc.v {
			t.Errorf("unzigzag(%d) = %d, want %d", tc.z, got, tc.v)
		}
	}
}
