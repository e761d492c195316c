package encoding

import "slices"

// Boolean blocks, also used for the null bitmaps of nullable columns
// (true = value present): a bitmap or alternating run lengths.

// AppendBools appends an encoded block of vs to dst and returns the extended
// slice: the smaller of BoolBitmap and BoolRLE (ties: BoolBitmap).
func AppendBools(dst []byte, vs []bool) []byte {
	n := len(vs)
	if n == 0 {
		return appendHeader(dst, BoolBitmap, 0)
	}
	bitmapSize := (n + 7) / 8
	rleSize, runs := 1, 0
	for i, start := 1, 0; i <= n; i++ {
		if i == n || vs[i] != vs[start] {
			rleSize += uvarintLen(uint64(i - start))
			runs++
			start = i
		}
	}
	rleSize += uvarintLen(uint64(runs))
	if bitmapSize <= rleSize {
		dst = appendHeader(dst, BoolBitmap, n)
		for i := 0; i < n; i += 8 {
			var b byte
			for j := i; j < min(i+8, n); j++ {
				if vs[j] {
					b |= 1 << uint(j-i)
				}
			}
			dst = append(dst, b)
		}
		return dst
	}
	dst = appendHeader(dst, BoolRLE, n)
	if vs[0] {
		dst = append(dst, 1)
	} else {
		dst = append(dst, 0)
	}
	dst = appendUvarint(dst, uint64(runs))
	for i, start := 1, 0; i <= n; i++ {
		if i == n || vs[i] != vs[start] {
			dst = appendUvarint(dst, uint64(i-start))
			start = i
		}
	}
	return dst
}

// DecodeBools appends the booleans of the block src to dst.
func DecodeBools(dst []bool, src []byte) ([]bool, error) {
	k, n, rest, err := readHeader(src, BoolBitmap, BoolRLE)
	if err != nil {
		return dst, err
	}
	if n == 0 {
		if len(rest) != 0 {
			return dst, corrupt(k, "trailing bytes")
		}
		return dst, nil
	}
	if k == BoolBitmap {
		m := (n + 7) / 8
		if len(rest) != m {
			return dst, corrupt(k, "bitmap length mismatch")
		}
		dst = slices.Grow(dst, n)
		for i := range n {
			dst = append(dst, rest[i/8]&(1<<uint(i%8)) != 0)
		}
		return dst, nil
	}
	if len(rest) < 2 || rest[0] > 1 {
		return dst, corrupt(k, "bad first value")
	}
	v := rest[0] == 1
	runs, rest, ok := readUvarint(rest[1:])
	if !ok || runs == 0 || runs > uint64(n) || uint64(len(rest)) < runs {
		return dst, corrupt(k, "bad run count")
	}
	// Validate before allocating.
	total := uint64(0)
	scan := rest
	for range runs {
		var l uint64
		l, scan, ok = readUvarint(scan)
		if !ok || l == 0 || l > uint64(n) {
			return dst, corrupt(k, "bad run length")
		}
		total += l
		if total > uint64(n) {
			return dst, corrupt(k, "runs exceed count")
		}
	}
	if total != uint64(n) || len(scan) != 0 {
		return dst, corrupt(k, "runs do not match count")
	}
	dst = slices.Grow(dst, n)
	for range runs {
		var l uint64
		l, rest, _ = readUvarint(rest)
		for range l {
			dst = append(dst, v)
		}
		v = !v
	}
	return dst, nil
}
