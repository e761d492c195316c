package encoding

import (
	"math/bits"
	"slices"
)

// String blocks: plain length-prefixed values, or a first-seen-order
// dictionary with bit-packed or run-length encoded indexes.

// AppendStrings appends an encoded block of vs to dst and returns the
// extended slice. Mostly unique input (more than half distinct) is written
// as StringPlain; otherwise the smallest of StringPlain, StringDict and
// StringDictRLE.
func AppendStrings(dst []byte, vs []string) []byte {
	n := len(vs)
	plainSize := 0
	for _, s := range vs {
		plainSize += uvarintLen(uint64(len(s))) + len(s)
	}
	if n == 0 {
		return appendHeader(dst, StringPlain, 0)
	}
	ids := make(map[string]uint32, 16)
	idx := make([]uint64, n)
	var dict []string
	runs := 0
	for i, s := range vs {
		id, ok := ids[s]
		if !ok {
			if len(dict) >= n/2+1 {
				return appendPlain(dst, vs)
			}
			id = uint32(len(dict))
			ids[s] = id
			dict = append(dict, s)
		}
		idx[i] = uint64(id)
		if i == 0 || idx[i] != idx[i-1] {
			runs++
		}
	}
	w := bits.Len64(uint64(len(dict) - 1))
	dictSize := uvarintLen(uint64(len(dict)))
	for _, s := range dict {
		dictSize += uvarintLen(uint64(len(s))) + len(s)
	}
	dictPacked := dictSize + packedLen(n, w)
	rleSize := dictSize + uvarintLen(uint64(runs)) + packedLen(runs, w)
	for i, start := 0, 0; i <= n; i++ {
		if i == n || idx[i] != idx[start] {
			rleSize += uvarintLen(uint64(i - start))
			start = i
		}
	}
	switch {
	case plainSize <= dictPacked && plainSize <= rleSize:
		return appendPlain(dst, vs)
	case dictPacked <= rleSize:
		dst = appendHeader(dst, StringDict, n)
		dst = appendDict(dst, dict)
		return appendPacked(dst, idx, w)
	default:
		dst = appendHeader(dst, StringDictRLE, n)
		dst = appendDict(dst, dict)
		dst = appendUvarint(dst, uint64(runs))
		r := 0
		for i, start := 0, 0; i <= n; i++ {
			if i == n || idx[i] != idx[start] {
				dst = appendUvarint(dst, uint64(i-start))
				idx[r] = idx[start] // compact run values in place; r <= start
				r++
				start = i
			}
		}
		return appendPacked(dst, idx[:runs], w)
	}
}

func appendPlain(dst []byte, vs []string) []byte {
	dst = appendHeader(dst, StringPlain, len(vs))
	return appendStringList(dst, vs)
}

func appendDict(dst []byte, dict []string) []byte {
	dst = appendUvarint(dst, uint64(len(dict)))
	return appendStringList(dst, dict)
}

// appendStringList writes all lengths, then all bytes.
func appendStringList(dst []byte, vs []string) []byte {
	for _, s := range vs {
		dst = appendUvarint(dst, uint64(len(s)))
	}
	for _, s := range vs {
		dst = append(dst, s...)
	}
	return dst
}

// readStringList reads n lengths and the concatenated bytes. The result
// strings share one allocation.
func readStringList(dst []string, src []byte, n int, k Kind) ([]string, []byte, error) {
	// Every length takes at least one byte.
	if len(src) < n {
		return dst, nil, corrupt(k, "truncated string lengths")
	}
	lens := src
	total := uint64(0)
	rest := src
	for range n {
		l, r, ok := readUvarint(rest)
		if !ok || l > uint64(len(r)) {
			return dst, nil, corrupt(k, "bad string length")
		}
		total += l
		if total > uint64(len(r)) {
			return dst, nil, corrupt(k, "string bytes exceed block")
		}
		rest = r
	}
	data := string(rest[:total])
	rest = rest[total:]
	dst = slices.Grow(dst, n)
	off := 0
	for range n {
		l, r, _ := readUvarint(lens)
		lens = r
		dst = append(dst, data[off:off+int(l)])
		off += int(l)
	}
	return dst, rest, nil
}

// DecodeStrings appends the strings of the block src to dst. The returned
// strings do not alias src.
func DecodeStrings(dst []string, src []byte) ([]string, error) {
	k, n, rest, err := readHeader(src, StringPlain, StringDict, StringDictRLE)
	if err != nil {
		return dst, err
	}
	base := len(dst)
	if n == 0 {
		if len(rest) != 0 {
			return dst, corrupt(k, "trailing bytes")
		}
		return dst, nil
	}
	if k == StringPlain {
		dst, rest, err = readStringList(dst, rest, n, k)
	} else {
		dst, rest, err = decodeDictStrings(dst, rest, n, k)
	}
	if err != nil {
		return dst[:base], err
	}
	if len(rest) != 0 {
		return dst[:base], corrupt(k, "trailing bytes")
	}
	return dst, nil
}

func decodeDictStrings(dst []string, src []byte, n int, k Kind) ([]string, []byte, error) {
	nd, rest, ok := readUvarint(src)
	if !ok || nd == 0 || nd > uint64(n) {
		return dst, nil, corrupt(k, "bad dictionary size")
	}
	dict, rest, err := readStringList(nil, rest, int(nd), k)
	if err != nil {
		return dst, nil, err
	}
	w := bits.Len64(nd - 1)
	dst = slices.Grow(dst, n)
	if k == StringDict {
		m := packedLen(n, w)
		if len(rest) < m {
			return dst, nil, corrupt(k, "truncated indexes")
		}
		var buf [miniBlock]uint64
		for start := 0; start < n; start += miniBlock {
			cnt := min(miniBlock, n-start)
			// Mini-block boundaries fall on byte boundaries only when
			// start*w is a multiple of 8; 128*w always is.
			off := start * w / 8
			unpack(buf[:cnt], rest[off:m], w)
			for _, id := range buf[:cnt] {
				if id >= nd {
					return dst, nil, corrupt(k, "index out of dictionary")
				}
				dst = append(dst, dict[id])
			}
		}
		return dst, rest[m:], nil
	}
	runs, rest, ok := readUvarint(rest)
	if !ok || runs == 0 || runs > uint64(n) || uint64(len(rest)) < runs {
		return dst, nil, corrupt(k, "bad run count")
	}
	lens := rest
	total := uint64(0)
	for range runs {
		var l uint64
		l, rest, ok = readUvarint(rest)
		if !ok || l == 0 || l > uint64(n) {
			return dst, nil, corrupt(k, "bad run length")
		}
		total += l
		if total > uint64(n) {
			return dst, nil, corrupt(k, "runs exceed count")
		}
	}
	if total != uint64(n) {
		return dst, nil, corrupt(k, "runs do not sum to count")
	}
	m := packedLen(int(runs), w)
	if len(rest) < m {
		return dst, nil, corrupt(k, "truncated run values")
	}
	var buf [miniBlock]uint64
	for start := 0; start < int(runs); start += miniBlock {
		cnt := min(miniBlock, int(runs)-start)
		unpack(buf[:cnt], rest[start*w/8:m], w)
		for _, id := range buf[:cnt] {
			if id >= nd {
				return dst, nil, corrupt(k, "index out of dictionary")
			}
			l, r, _ := readUvarint(lens)
			lens = r
			for range l {
				dst = append(dst, dict[id])
			}
		}
	}
	return dst, rest[m:], nil
}
