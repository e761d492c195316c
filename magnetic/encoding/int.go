package encoding

import (
	"encoding/binary"
	"slices"
)

// Integer blocks (BIGINT, TIMESTAMP values, versions, decimal mantissas):
// constant, delta or delta-of-delta with frame-of-reference bit packing in
// 128-value mini-blocks, or raw.

// AppendInts appends an encoded block of vs to dst and returns the extended
// slice. It picks IntConst when all values are equal and otherwise the
// smallest of IntDelta, IntDeltaOfDelta, IntRaw, IntDeltaHuffman and
// IntDeltaFSE (ties: the first in that order; FSE must be at least 1/64
// smaller than the best other candidate).
func AppendInts(dst []byte, vs []int64) []byte {
	h := getHuffScratch()
	defer putHuffScratch(h)
	k, _, hb := chooseInts(vs, h)
	return appendIntsKind(dst, vs, k, hb)
}

// chooseInts returns the kind AppendInts writes for vs, the size of the
// payload after the header and, for IntDeltaHuffman and IntDeltaFSE, the
// coded stream (aliasing h).
func chooseInts(vs []int64, h *huffScratch) (Kind, int, []byte) {
	n := len(vs)
	if n == 0 {
		return IntConst, 0, nil
	}
	firstLen := uvarintLen(zigzag(vs[0]))
	if allEqual(vs) {
		return IntConst, firstLen, nil
	}
	best, bestSize := IntDelta, firstLen+forSize(vs, 1)
	if n > 2 {
		s := firstLen + uvarintLen(zigzag(vs[1]-vs[0])) + forSize(vs, 2)
		if s < bestSize {
			best, bestSize = IntDeltaOfDelta, s
		}
	}
	if 8*n < bestSize {
		best, bestSize = IntRaw, 8*n
	}
	// Entropy coders need at least one bit per delta plus their table.
	var hb []byte
	if bestSize > n/8+16 && deltaBytes(h, vs) {
		if b, ok := huffmanDeltas(h); ok {
			if s := firstLen + uvarintLen(uint64(len(b))) + len(b); s < bestSize {
				best, bestSize, hb = IntDeltaHuffman, s, b
			}
		}
		// FSE decodes about 1.25x slower than Huffman (FloatDecimalFSE
		// makes up for it, BenchmarkMantissaCoders; IntDeltaFSE does
		// not): take it only when it saves at least 1/64 of the best size.
		if b, ok := fseDeltas(h); ok {
			if s := firstLen + uvarintLen(uint64(len(b))) + len(b); s+s/64 < bestSize {
				best, bestSize, hb = IntDeltaFSE, s, b
			}
		}
	}
	return best, bestSize, hb
}

func allEqual(vs []int64) bool {
	for _, v := range vs[1:] {
		if v != vs[0] {
			return false
		}
	}
	return true
}

// appendIntsKind writes vs as kind k; hb is the entropy-coded stream for
// IntDeltaHuffman and IntDeltaFSE.
func appendIntsKind(dst []byte, vs []int64, k Kind, hb []byte) []byte {
	dst = appendHeader(dst, k, len(vs))
	if len(vs) == 0 {
		return dst
	}
	switch k {
	case IntConst:
		return appendZvarint(dst, vs[0])
	case IntDelta:
		dst = appendZvarint(dst, vs[0])
		return appendFOR(dst, vs, 1)
	case IntDeltaOfDelta:
		dst = appendZvarint(dst, vs[0])
		if len(vs) > 1 {
			dst = appendZvarint(dst, vs[1]-vs[0])
		}
		return appendFOR(dst, vs, 2)
	case IntDeltaHuffman, IntDeltaFSE:
		dst = appendZvarint(dst, vs[0])
		dst = appendUvarint(dst, uint64(len(hb)))
		return append(dst, hb...)
	default:
		for _, v := range vs {
			dst = binary.LittleEndian.AppendUint64(dst, uint64(v))
		}
		return dst
	}
}

// DecodeInts appends the integers of the block src to dst.
func DecodeInts(dst []int64, src []byte) ([]int64, error) {
	base := len(dst)
	dst, rest, err := decodeInts(dst, src)
	if err != nil {
		return dst, err
	}
	if len(rest) != 0 {
		return dst[:base], corrupt(Kind(src[0]), "trailing bytes")
	}
	return dst, nil
}

// decodeInts decodes one integer block at the start of src and returns the
// bytes after it. On error dst is returned with its original length.
func decodeInts(dst []int64, src []byte) ([]int64, []byte, error) {
	k, n, rest, err := readHeader(src, IntConst, IntDelta, IntDeltaOfDelta, IntRaw, IntDeltaHuffman, IntDeltaFSE)
	if err != nil {
		return dst, nil, err
	}
	if n == 0 {
		return dst, rest, nil
	}
	base := len(dst)
	switch k {
	case IntConst:
		var v int64
		var ok bool
		v, rest, ok = readZvarint(rest)
		if !ok {
			return dst, nil, corrupt(k, "bad value")
		}
		dst = slices.Grow(dst, n)
		for range n {
			dst = append(dst, v)
		}
	case IntDelta:
		var first int64
		var ok bool
		first, rest, ok = readZvarint(rest)
		if !ok {
			return dst, nil, corrupt(k, "bad first value")
		}
		dst = slices.Grow(dst, n)
		dst = append(dst, first)
		dst, rest, err = decodeFOR(dst, rest, n-1, k)
		if err != nil {
			return dst[:base], nil, err
		}
		integrate(dst[base:])
	case IntDeltaOfDelta:
		dst, rest, err = decodeDeltaOfDelta(dst, rest, n, k)
		if err != nil {
			return dst[:base], nil, err
		}
	case IntDeltaHuffman:
		dst = slices.Grow(dst, n)
		dst, rest, err = decodeHuffmanDeltas(dst, rest, n)
		if err != nil {
			return dst[:base], nil, err
		}
	case IntDeltaFSE:
		dst = slices.Grow(dst, n)
		dst, rest, err = decodeFSEDeltas(dst, rest, n)
		if err != nil {
			return dst[:base], nil, err
		}
	default:
		if len(rest) < 8*n {
			return dst, nil, corrupt(k, "truncated values")
		}
		dst = slices.Grow(dst, n)
		for i := range n {
			dst = append(dst, int64(binary.LittleEndian.Uint64(rest[8*i:])))
		}
		rest = rest[8*n:]
	}
	return dst, rest, nil
}
