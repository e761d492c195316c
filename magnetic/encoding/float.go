package encoding

import (
	"encoding/binary"
	"math"
	"slices"
	"sync"
)

// Float blocks: constant, decimal conversion, Gorilla XOR or raw bits.
//
// Decimal conversion follows the idea of VictoriaMetrics' decimal package:
// most measured values are short decimals (58, 0.25, 99.97), so a block is
// stored as one decimal exponent plus int64 mantissas, and the mantissas get
// the integer encodings. Here each candidate value is checked to decode to
// the identical float64 bits, so the conversion is lossless.

// Decimal exponent limits: 10^e must be an exact float64 (e <= 22) and
// mantissas must stay within 2^53 so float64(m) is exact.
const (
	maxDecimalDigits = 18  // most digits after the point
	minDecimalExp    = -22 // e = -22 means m * 10^22
	maxMantissa      = 1 << 53
)

var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// fromDecimal is the decoder's reconstruction of a value from mantissa m and
// digits e (value = m / 10^e).
func fromDecimal(m int64, e int) float64 {
	if e >= 0 {
		return float64(m) / pow10[e]
	}
	return float64(m) * pow10[-e]
}

// toDecimal returns the mantissa of v at e digits and whether v
// round-trips bit for bit through it.
func toDecimal(v float64, e int) (int64, bool) {
	if e == 0 { // integers: no rounding, no division
		if !(v >= -maxMantissa && v <= maxMantissa) {
			return 0, false
		}
		m := int64(v)
		return m, math.Float64bits(float64(m)) == math.Float64bits(v)
	}
	var x float64
	if e >= 0 {
		x = math.Round(v * pow10[e])
	} else {
		x = math.Round(v / pow10[-e])
	}
	if !(x >= -maxMantissa && x <= maxMantissa) { // also rejects NaN
		return 0, false
	}
	m := int64(x)
	return m, math.Float64bits(fromDecimal(m, e)) == math.Float64bits(v)
}

// digitsOf returns the smallest e in [minDecimalExp, maxDecimalDigits] at
// which v round-trips, starting the search at from.
func digitsOf(v float64, from int) (int, bool) {
	for e := from; e <= maxDecimalDigits; e++ {
		if _, ok := toDecimal(v, e); ok {
			return e, true
		}
	}
	return 0, false
}

// startExponent is where the digit search for the first value begins:
// large round integers may need a negative exponent (5e6 = 5 * 10^6).
func startExponent(v float64) int {
	if v != 0 && math.Abs(v) >= 10 && v == math.Trunc(v) {
		return minDecimalExp
	}
	return 0
}

// AppendFloats appends an encoded block of vs to dst and returns the
// extended slice. It writes FloatConst when all bit patterns are equal and
// otherwise the smallest of FloatDecimal (when every value is a short
// decimal; FloatDecimalFSE when its mantissas are best FSE coded),
// FloatXOR and FloatRaw. Every bit pattern round-trips.
func AppendFloats(dst []byte, vs []float64) []byte {
	n := len(vs)
	if n == 0 || allSameBits(vs) {
		dst = appendHeader(dst, FloatConst, n)
		if n == 0 {
			return dst
		}
		return binary.LittleEndian.AppendUint64(dst, math.Float64bits(vs[0]))
	}
	best, bestSize := FloatRaw, 8*n
	if s := xorSize(vs); s <= bestSize {
		best, bestSize = FloatXOR, s
	}
	ms := getInt64s(n)
	defer putInt64s(ms)
	h := getHuffScratch()
	defer putHuffScratch(h)
	e, ok := decimalMantissas(ms, vs)
	var ik Kind
	var hb []byte
	if ok {
		var isize int
		ik, isize, hb = chooseInts(ms.s, h)
		size := uvarintLen(zigzag(int64(e))) + 1 + uvarintLen(uint64(n)) + isize
		if size <= bestSize {
			best = FloatDecimal
		}
		// FSE mantissas go without the embedded block's kind, count and
		// stream length: the float block's count and end give them.
		if best == FloatDecimal && ik == IntDeltaFSE {
			best = FloatDecimalFSE
		}
	}
	dst = appendHeader(dst, best, n)
	switch best {
	case FloatDecimal:
		dst = appendZvarint(dst, int64(e))
		return appendIntsKind(dst, ms.s, ik, hb)
	case FloatDecimalFSE:
		dst = appendZvarint(dst, int64(e))
		dst = appendZvarint(dst, ms.s[0])
		return append(dst, hb...)
	case FloatXOR:
		return appendXOR(dst, vs)
	default:
		for _, v := range vs {
			dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(v))
		}
		return dst
	}
}

// decimalMantissas fills ms with the mantissas of vs at the smallest
// common exponent and returns it, or ok = false when some value is not a
// short decimal. When a later value needs more digits, earlier mantissas are
// rescaled: m*10^d / 10^(e+d) is the same rational as m / 10^e, and both are
// correctly rounded, so they decode to the same bits while |m*10^d| <= 2^53.
func decimalMantissas(ms *int64s, vs []float64) (int, bool) {
	ms.s = ms.s[:0]
	e, ok := digitsOf(vs[0], startExponent(vs[0]))
	if !ok {
		return 0, false
	}
	for _, v := range vs {
		m, ok := toDecimal(v, e)
		if !ok {
			ne, ok := digitsOf(v, e+1)
			if !ok {
				return 0, false
			}
			if ne-e >= len(pow10Int) || !rescale(ms.s, pow10Int[ne-e]) {
				return 0, false
			}
			e = ne
			m, _ = toDecimal(v, e)
		}
		ms.s = append(ms.s, m)
	}
	return e, true
}

// rescale multiplies every mantissa by p, reporting false when one would
// leave [-2^53, 2^53].
func rescale(ms []int64, p int64) bool {
	limit := maxMantissa / p
	for i, m := range ms {
		if m > limit || m < -limit {
			return false
		}
		ms[i] = m * p
	}
	return true
}

func allSameBits(vs []float64) bool {
	b := math.Float64bits(vs[0])
	for _, v := range vs[1:] {
		if math.Float64bits(v) != b {
			return false
		}
	}
	return true
}

// DecodeFloats appends the floats of the block src to dst.
func DecodeFloats(dst []float64, src []byte) ([]float64, error) {
	k, n, rest, err := readHeader(src, FloatConst, FloatDecimal, FloatXOR, FloatRaw, FloatDecimalFSE)
	if err != nil {
		return dst, err
	}
	if n == 0 {
		if len(rest) != 0 {
			return dst, corrupt(k, "trailing bytes")
		}
		return dst, nil
	}
	base := len(dst)
	switch k {
	case FloatConst:
		if len(rest) < 8 {
			return dst, corrupt(k, "truncated value")
		}
		v := math.Float64frombits(binary.LittleEndian.Uint64(rest))
		rest = rest[8:]
		dst = slices.Grow(dst, n)
		for range n {
			dst = append(dst, v)
		}
	case FloatDecimal:
		dst, rest, err = decodeDecimal(dst, rest, n)
	case FloatDecimalFSE:
		dst, rest, err = decodeDecimalFSE(dst, rest, n)
	case FloatXOR:
		dst = slices.Grow(dst, n)
		dst, rest, err = decodeXOR(dst, rest, n)
	default:
		if len(rest) < 8*n {
			return dst, corrupt(k, "truncated values")
		}
		dst = slices.Grow(dst, n)
		for i := range n {
			dst = append(dst, math.Float64frombits(binary.LittleEndian.Uint64(rest[8*i:])))
		}
		rest = rest[8*n:]
	}
	if err != nil {
		return dst[:base], err
	}
	if len(rest) != 0 {
		return dst[:base], corrupt(k, "trailing bytes")
	}
	return dst, nil
}

func decodeDecimal(dst []float64, src []byte, n int) ([]float64, []byte, error) {
	const k = FloatDecimal
	e64, rest, ok := readZvarint(src)
	if !ok || e64 < minDecimalExp || e64 > maxDecimalDigits {
		return dst, nil, corrupt(k, "bad exponent")
	}
	ms := getInt64s(n)
	defer putInt64s(ms)
	var err error
	ms.s, rest, err = decodeInts(ms.s[:0], rest)
	if err != nil {
		return dst, nil, fmtWrap(k, err)
	}
	if len(ms.s) != n {
		return dst, nil, corrupt(k, "mantissa count mismatch")
	}
	return appendDecimals(dst, ms.s, int(e64)), rest, nil
}

// decodeDecimalFSE decodes the FloatDecimalFSE payload: exponent, first
// mantissa, then FSE-coded zigzag mantissa deltas up to the end of src.
func decodeDecimalFSE(dst []float64, src []byte, n int) ([]float64, []byte, error) {
	const k = FloatDecimalFSE
	e64, rest, ok := readZvarint(src)
	if !ok || e64 < minDecimalExp || e64 > maxDecimalDigits {
		return dst, nil, corrupt(k, "bad exponent")
	}
	first, rest, ok := readZvarint(rest)
	if !ok {
		return dst, nil, corrupt(k, "bad first mantissa")
	}
	h := getHuffScratch()
	defer putHuffScratch(h)
	out, err := fseBytes(h, rest, n-1, k)
	if err != nil {
		return dst, nil, err
	}
	// One pass: integrate the deltas and convert, without a mantissa
	// buffer (wrapping arithmetic, as decodeInts integrates).
	dst = slices.Grow(dst, n)
	m := first
	if e := int(e64); e >= 0 {
		p := pow10[e]
		dst = append(dst, float64(m)/p)
		for _, z := range out {
			m += unzigzag(uint64(z))
			dst = append(dst, float64(m)/p)
		}
	} else {
		p := pow10[-e]
		dst = append(dst, float64(m)*p)
		for _, z := range out {
			m += unzigzag(uint64(z))
			dst = append(dst, float64(m)*p)
		}
	}
	return dst, nil, nil
}

// appendDecimals appends the values of mantissas ms at e digits.
func appendDecimals(dst []float64, ms []int64, e int) []float64 {
	n := len(ms)
	dst = slices.Grow(dst, n)
	if e >= 0 {
		p := pow10[e]
		for _, m := range ms {
			dst = append(dst, float64(m)/p)
		}
	} else {
		p := pow10[-e]
		for _, m := range ms {
			dst = append(dst, float64(m)*p)
		}
	}
	return dst
}

// int64s is a pooled scratch buffer of mantissas.
type int64s struct{ s []int64 }

var int64sPool sync.Pool

// getInt64s returns a scratch buffer with capacity for n values; pair it
// with putInt64s in the same function.
func getInt64s(n int) *int64s {
	b, _ := int64sPool.Get().(*int64s)
	if b == nil {
		b = &int64s{}
	}
	b.s = slices.Grow(b.s[:0], n)
	return b
}

func putInt64s(b *int64s) {
	if cap(b.s) > MaxCount {
		return
	}
	b.s = b.s[:0]
	int64sPool.Put(b)
}
