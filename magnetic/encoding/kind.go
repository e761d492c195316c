package encoding

import (
	"errors"
	"fmt"
	"strconv"
)

// Kind is the leading byte of an encoded block and names its layout. Kind
// numbers are part of the on-disk format and never change meaning.
type Kind uint8

// Kinds of format versions 1 and 2 (version 2 adds FloatDecimalFSE and
// IntDeltaFSE). See docs/format/encoding.md for each layout.
const (
	// TimestampConst stores first timestamp and a constant interval.
	TimestampConst Kind = 1
	// TimestampDeltaOfDelta stores deltas-of-deltas, bit packed.
	TimestampDeltaOfDelta Kind = 2
	// TimestampDelta stores zigzag varint deltas.
	TimestampDelta Kind = 3

	// FloatConst stores one float64 bit pattern repeated.
	FloatConst Kind = 10
	// FloatDecimal stores a decimal exponent and integer mantissas.
	FloatDecimal Kind = 11
	// FloatXOR stores a Gorilla XOR bit stream.
	FloatXOR Kind = 12
	// FloatRaw stores raw IEEE-754 bits.
	FloatRaw Kind = 13
	// FloatDecimalFSE stores a decimal exponent, the first mantissa and
	// the FSE-coded mantissa deltas (format version 2).
	FloatDecimalFSE Kind = 14

	// IntConst stores one integer repeated.
	IntConst Kind = 20
	// IntDelta stores deltas, frame-of-reference bit packed.
	IntDelta Kind = 21
	// IntDeltaOfDelta stores deltas-of-deltas, frame-of-reference bit packed.
	IntDeltaOfDelta Kind = 22
	// IntRaw stores raw little-endian int64s.
	IntRaw Kind = 23
	// IntDeltaHuffman stores byte-sized zigzag deltas, Huffman coded.
	IntDeltaHuffman Kind = 24
	// IntDeltaFSE stores byte-sized zigzag deltas, FSE (tANS) coded
	// (format version 2).
	IntDeltaFSE Kind = 25

	// StringPlain stores length-prefixed strings.
	StringPlain Kind = 30
	// StringDict stores a dictionary and bit-packed indexes.
	StringDict Kind = 31
	// StringDictRLE stores a dictionary and run-length encoded indexes.
	StringDictRLE Kind = 32

	// BoolBitmap stores one bit per value.
	BoolBitmap Kind = 40
	// BoolRLE stores alternating run lengths.
	BoolRLE Kind = 41
)

// MaxCount is the largest number of values a decoder accepts in one block.
// It bounds the memory a decoder allocates, whatever the input claims.
const MaxCount = 1 << 20

var (
	// ErrCorrupt reports a block whose bytes do not follow its layout.
	ErrCorrupt = errors.New("encoding: corrupt block")
	// ErrUnknownKind reports a kind byte this version does not know or that
	// does not belong to the requested column type.
	ErrUnknownKind = errors.New("encoding: unknown block kind")
)

var kindNames = map[Kind]string{
	TimestampConst:        "timestamp-const",
	TimestampDeltaOfDelta: "timestamp-delta-of-delta",
	TimestampDelta:        "timestamp-delta",
	FloatConst:            "float-const",
	FloatDecimal:          "float-decimal",
	FloatXOR:              "float-xor",
	FloatRaw:              "float-raw",
	FloatDecimalFSE:       "float-decimal-fse",
	IntConst:              "int-const",
	IntDelta:              "int-delta",
	IntDeltaOfDelta:       "int-delta-of-delta",
	IntRaw:                "int-raw",
	IntDeltaHuffman:       "int-delta-huffman",
	IntDeltaFSE:           "int-delta-fse",
	StringPlain:           "string-plain",
	StringDict:            "string-dict",
	StringDictRLE:         "string-dict-rle",
	BoolBitmap:            "bool-bitmap",
	BoolRLE:               "bool-rle",
}

// String returns the kind's stable name, or "kind(N)" for unknown values.
func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// BlockKind returns the kind byte of an encoded block without decoding it.
func BlockKind(src []byte) (Kind, error) {
	if len(src) == 0 {
		return 0, fmt.Errorf("read block kind: %w", ErrCorrupt)
	}
	k := Kind(src[0])
	if _, ok := kindNames[k]; !ok {
		return k, fmt.Errorf("read block kind %d: %w", src[0], ErrUnknownKind)
	}
	return k, nil
}

// corrupt returns an error for a malformed block of kind k.
func corrupt(k Kind, detail string) error {
	return fmt.Errorf("decode %s block: %w: %s", k, ErrCorrupt, detail)
}

// readHeader parses kind and count and checks that the kind is one of want.
func readHeader(src []byte, want ...Kind) (Kind, int, []byte, error) {
	if len(src) == 0 {
		return 0, 0, nil, fmt.Errorf("decode block: %w: empty input", ErrCorrupt)
	}
	k := Kind(src[0])
	ok := false
	for _, w := range want {
		if k == w {
			ok = true
			break
		}
	}
	if !ok {
		return k, 0, nil, fmt.Errorf("decode %s block: %w", k, ErrUnknownKind)
	}
	n, rest, ok := readUvarint(src[1:])
	if !ok {
		return k, 0, nil, corrupt(k, "bad count")
	}
	if n > MaxCount {
		return k, 0, nil, corrupt(k, "count "+strconv.FormatUint(n, 10)+" exceeds MaxCount")
	}
	return k, int(n), rest, nil
}

// appendHeader writes kind and count.
func appendHeader(dst []byte, k Kind, n int) []byte {
	dst = append(dst, byte(k))
	return appendUvarint(dst, uint64(n))
}

// fmtWrap wraps an error from an embedded block with the outer kind.
func fmtWrap(k Kind, err error) error {
	return fmt.Errorf("decode %s block: %w", k, err)
}
