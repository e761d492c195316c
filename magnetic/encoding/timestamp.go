package encoding

import "slices"

// Timestamp blocks: constant interval, delta-of-delta (the Gorilla paper's
// timestamp idea, here with frame-of-reference bit packing instead of
// Gorilla's variable-length buckets) or zigzag varint deltas.

// AppendTimestamps appends an encoded block of ts to dst and returns the
// extended slice. It picks TimestampConst for a constant interval and
// otherwise the smaller of TimestampDeltaOfDelta and TimestampDelta. ts need
// not be sorted; sorted input with a regular step compresses best.
func AppendTimestamps(dst []byte, ts []int64) []byte {
	n := len(ts)
	if n <= 2 || constantStep(ts) {
		dst = appendHeader(dst, TimestampConst, n)
		if n == 0 {
			return dst
		}
		var step int64
		if n > 1 {
			step = ts[1] - ts[0]
		}
		dst = appendZvarint(dst, ts[0])
		return appendZvarint(dst, step)
	}
	// Deltas share a power-of-ten factor when timestamps have a coarser
	// precision than nanoseconds (ms-precision scrapes: 10^6).
	scale := commonPow10(ts)
	q := getInt64s(n - 1)
	defer putInt64s(q)
	q.s = appendScaledDeltas(q.s, ts, scale)
	dodSize := uvarintLen(zigzag(ts[0])) + 1 + uvarintLen(zigzag(q.s[0])) + forSize(q.s, 1)
	deltaSize := uvarintLen(zigzag(ts[0]))
	for i := 1; i < n; i++ {
		deltaSize += uvarintLen(zigzag(ts[i] - ts[i-1]))
	}
	if dodSize <= deltaSize {
		dst = appendHeader(dst, TimestampDeltaOfDelta, n)
		dst = appendZvarint(dst, ts[0])
		dst = append(dst, byte(scale))
		dst = appendZvarint(dst, q.s[0])
		return appendFOR(dst, q.s, 1)
	}
	dst = appendHeader(dst, TimestampDelta, n)
	dst = appendZvarint(dst, ts[0])
	for i := 1; i < n; i++ {
		dst = appendZvarint(dst, ts[i]-ts[i-1])
	}
	return dst
}

// constantStep reports whether consecutive differences of vs are all equal.
func constantStep(vs []int64) bool {
	if len(vs) < 2 {
		return true
	}
	step := vs[1] - vs[0]
	for i := 2; i < len(vs); i++ {
		if vs[i]-vs[i-1] != step {
			return false
		}
	}
	return true
}

// DecodeTimestamps appends the timestamps of the block src to dst.
func DecodeTimestamps(dst []int64, src []byte) ([]int64, error) {
	k, n, rest, err := readHeader(src, TimestampConst, TimestampDeltaOfDelta, TimestampDelta)
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
	case TimestampConst:
		dst, rest, err = decodeConstStep(dst, rest, n, k)
	case TimestampDeltaOfDelta:
		dst, rest, err = decodeScaledDeltaOfDelta(dst, rest, n)
	default:
		dst, rest, err = decodeVarintDeltas(dst, rest, n, k)
	}
	if err != nil {
		return dst[:base], err
	}
	if len(rest) != 0 {
		return dst[:base], corrupt(k, "trailing bytes")
	}
	return dst, nil
}

func decodeConstStep(dst []int64, src []byte, n int, k Kind) ([]int64, []byte, error) {
	first, rest, ok := readZvarint(src)
	if !ok {
		return dst, nil, corrupt(k, "bad first value")
	}
	step, rest, ok := readZvarint(rest)
	if !ok {
		return dst, nil, corrupt(k, "bad interval")
	}
	dst = slices.Grow(dst, n)
	v := first
	for range n {
		dst = append(dst, v)
		v += step
	}
	return dst, rest, nil
}

// decodeDeltaOfDelta decodes first, delta1 and FOR deltas-of-deltas; it is
// shared by TimestampDeltaOfDelta and IntDeltaOfDelta.
func decodeDeltaOfDelta(dst []int64, src []byte, n int, k Kind) ([]int64, []byte, error) {
	first, rest, ok := readZvarint(src)
	if !ok {
		return dst, nil, corrupt(k, "bad first value")
	}
	dst = slices.Grow(dst, n)
	base := len(dst)
	dst = append(dst, first)
	if n == 1 {
		return dst, rest, nil
	}
	d1, rest, ok := readZvarint(rest)
	if !ok {
		return dst, nil, corrupt(k, "bad first delta")
	}
	dst = append(dst, d1)
	dst, rest, err := decodeFOR(dst, rest, n-2, k)
	if err != nil {
		return dst, nil, err
	}
	integrate(dst[base+1:])
	integrate(dst[base:])
	return dst, rest, nil
}

func decodeVarintDeltas(dst []int64, src []byte, n int, k Kind) ([]int64, []byte, error) {
	// Every delta takes at least one byte: reject impossible counts before
	// allocating.
	if len(src) < n {
		return dst, nil, corrupt(k, "truncated deltas")
	}
	first, rest, ok := readZvarint(src)
	if !ok {
		return dst, nil, corrupt(k, "bad first value")
	}
	dst = slices.Grow(dst, n)
	v := first
	dst = append(dst, v)
	for i := 1; i < n; i++ {
		var d int64
		d, rest, ok = readZvarint(rest)
		if !ok {
			return dst, nil, corrupt(k, "truncated deltas")
		}
		v += d
		dst = append(dst, v)
	}
	return dst, rest, nil
}

// pow10Int holds the powers of ten that fit an int64 scale factor.
var pow10Int = [...]int64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18}

// maxTimestampScale is the largest power-of-ten exponent of the delta scale.
const maxTimestampScale = len(pow10Int) - 1

// commonPow10 returns the largest s <= 18 such that 10^s divides every
// delta of ts.
func commonPow10(ts []int64) int {
	s := maxTimestampScale
	for i := 1; i < len(ts) && s > 0; i++ {
		d := ts[i] - ts[i-1]
		for s > 0 && !divisibleByPow10(d, s) {
			s--
		}
	}
	return s
}

// decodeScaledDeltaOfDelta decodes the TimestampDeltaOfDelta payload.
func decodeScaledDeltaOfDelta(dst []int64, src []byte, n int) ([]int64, []byte, error) {
	const k = TimestampDeltaOfDelta
	first, rest, ok := readZvarint(src)
	if !ok || len(rest) == 0 {
		return dst, nil, corrupt(k, "bad first value")
	}
	s := int(rest[0])
	if s > maxTimestampScale {
		return dst, nil, corrupt(k, "bad scale")
	}
	rest = rest[1:]
	dst = slices.Grow(dst, n)
	base := len(dst)
	dst = append(dst, first)
	if n == 1 {
		return dst, rest, nil
	}
	q0, rest, ok := readZvarint(rest)
	if !ok {
		return dst, nil, corrupt(k, "bad first delta")
	}
	dst = append(dst, q0)
	dst, rest, err := decodeFOR(dst, rest, n-2, k)
	if err != nil {
		return dst, nil, err
	}
	r := dst[base:]
	integrate(r[1:])
	if p := pow10Int[s]; p != 1 {
		for i := 1; i < len(r); i++ {
			r[i] *= p
		}
	}
	integrate(r)
	return dst, rest, nil
}

// divisibleByPow10 reports whether 10^s divides d. Constant divisors let the
// compiler use multiplications instead of a division per delta.
func divisibleByPow10(d int64, s int) bool {
	switch s {
	case 1:
		return d%1e1 == 0
	case 2:
		return d%1e2 == 0
	case 3:
		return d%1e3 == 0
	case 4:
		return d%1e4 == 0
	case 5:
		return d%1e5 == 0
	case 6:
		return d%1e6 == 0
	case 7:
		return d%1e7 == 0
	case 8:
		return d%1e8 == 0
	case 9:
		return d%1e9 == 0
	case 10:
		return d%1e10 == 0
	case 11:
		return d%1e11 == 0
	case 12:
		return d%1e12 == 0
	case 13:
		return d%1e13 == 0
	case 14:
		return d%1e14 == 0
	case 15:
		return d%1e15 == 0
	case 16:
		return d%1e16 == 0
	case 17:
		return d%1e17 == 0
	case 18:
		return d%1e18 == 0
	}
	return true
}

// appendScaledDeltas appends the deltas of ts divided by 10^s, using
// constant divisors for the common precisions (us, ms, s).
func appendScaledDeltas(dst, ts []int64, s int) []int64 {
	switch s {
	case 0:
		for j := 1; j < len(ts); j++ {
			dst = append(dst, ts[j]-ts[j-1])
		}
	case 3:
		for j := 1; j < len(ts); j++ {
			dst = append(dst, (ts[j]-ts[j-1])/1e3)
		}
	case 6:
		for j := 1; j < len(ts); j++ {
			dst = append(dst, (ts[j]-ts[j-1])/1e6)
		}
	case 9:
		for j := 1; j < len(ts); j++ {
			dst = append(dst, (ts[j]-ts[j-1])/1e9)
		}
	default:
		p := pow10Int[s]
		for j := 1; j < len(ts); j++ {
			dst = append(dst, (ts[j]-ts[j-1])/p)
		}
	}
	return dst
}
