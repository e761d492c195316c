package encoding

import (
	"encoding/binary"
	"math/bits"
)

// This file holds the primitives shared by the layouts: varints, zigzag,
// LSB-first bit packing and frame-of-reference (FOR) mini-blocks.

// miniBlock is the number of values per FOR mini-block.
const miniBlock = 128

func appendUvarint(dst []byte, v uint64) []byte { return binary.AppendUvarint(dst, v) }

func appendZvarint(dst []byte, v int64) []byte { return binary.AppendUvarint(dst, zigzag(v)) }

func zigzag(v int64) uint64 { return uint64(v<<1) ^ uint64(v>>63) }

func unzigzag(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }

func uvarintLen(v uint64) int { return (bits.Len64(v|1) + 6) / 7 }

// readUvarint decodes a uvarint, rejecting truncated and overlong input.
func readUvarint(src []byte) (uint64, []byte, bool) {
	v, n := binary.Uvarint(src)
	if n <= 0 {
		return 0, src, false
	}
	return v, src[n:], true
}

func readZvarint(src []byte) (int64, []byte, bool) {
	u, rest, ok := readUvarint(src)
	return unzigzag(u), rest, ok
}

// packedLen is the byte length of m values of w bits.
func packedLen(m, w int) int { return (m*w + 7) / 8 }

// appendPacked appends the low w bits of each value, LSB first.
func appendPacked(dst []byte, vs []uint64, w int) []byte {
	if w == 0 || len(vs) == 0 {
		return dst
	}
	var acc uint64
	nbits := 0
	mask := widthMask(w)
	for _, v := range vs {
		v &= mask
		acc |= v << uint(nbits)
		nbits += w
		if nbits >= 64 {
			dst = binary.LittleEndian.AppendUint64(dst, acc)
			nbits -= 64
			// Shifting by 64 yields 0 in Go, which is what nbits == 0 needs.
			acc = v >> uint(w-nbits)
		}
	}
	for nbits > 0 {
		dst = append(dst, byte(acc))
		acc >>= 8
		nbits -= 8
	}
	return dst
}

func widthMask(w int) uint64 {
	if w >= 64 {
		return ^uint64(0)
	}
	return 1<<uint(w) - 1
}

// word reads 8 little-endian bytes at i, zero-padding past the end of src.
func word(src []byte, i int) uint64 {
	if i+8 <= len(src) {
		return binary.LittleEndian.Uint64(src[i:])
	}
	var b [8]byte
	if i < len(src) {
		copy(b[:], src[i:])
	}
	return binary.LittleEndian.Uint64(b[:])
}

// unpack decodes len(out) values of w bits from src, which must hold at
// least packedLen(len(out), w) bytes; out receives the raw unsigned values.
func unpack(out []uint64, src []byte, w int) {
	if w == 0 {
		clear(out)
		return
	}
	mask := widthMask(w)
	var acc uint64
	nbits := 0
	pos := 0
	for i := range out {
		if nbits >= w {
			out[i] = acc & mask
			acc >>= uint(w)
			nbits -= w
			continue
		}
		nw := word(src, pos)
		pos += 8
		out[i] = (acc | nw<<uint(nbits)) & mask
		acc = nw >> uint(w-nbits)
		nbits = 64 - (w - nbits)
	}
}

// fillMini stores elements [start, start+len(buf)) of the order-th
// difference sequence of vs (order 0: the values, 1: deltas, 2: deltas of
// deltas, wrapping on overflow) in buf and returns their min and max.
func fillMini(buf []int64, vs []int64, start, order int) (lo, hi int64) {
	switch order {
	case 0:
		copy(buf, vs[start:])
	case 1:
		src := vs[start : start+len(buf)+1]
		for j := range buf {
			buf[j] = src[j+1] - src[j]
		}
	default:
		src := vs[start : start+len(buf)+2]
		for j := range buf {
			buf[j] = src[j+2] - 2*src[j+1] + src[j]
		}
	}
	lo, hi = buf[0], buf[0]
	for _, t := range buf[1:] {
		lo = min(lo, t)
		hi = max(hi, t)
	}
	return lo, hi
}

// forSize returns the byte length appendFOR would produce.
func forSize(vs []int64, order int) int {
	m := len(vs) - order
	size := 0
	var buf [miniBlock]int64
	for start := 0; start < m; start += miniBlock {
		cnt := min(miniBlock, m-start)
		lo, hi := fillMini(buf[:cnt], vs, start, order)
		w := bits.Len64(uint64(hi) - uint64(lo))
		size += uvarintLen(zigzag(lo)) + 1 + packedLen(cnt, w)
	}
	return size
}

// appendFOR appends the order-th difference sequence of vs (len(vs)-order
// values) as FOR mini-blocks.
func appendFOR(dst []byte, vs []int64, order int) []byte {
	m := len(vs) - order
	var buf [miniBlock]int64
	var ubuf [miniBlock]uint64
	for start := 0; start < m; start += miniBlock {
		cnt := min(miniBlock, m-start)
		lo, hi := fillMini(buf[:cnt], vs, start, order)
		w := bits.Len64(uint64(hi) - uint64(lo))
		for i, t := range buf[:cnt] {
			ubuf[i] = uint64(t) - uint64(lo)
		}
		dst = appendZvarint(dst, lo)
		dst = append(dst, byte(w))
		dst = appendPacked(dst, ubuf[:cnt], w)
	}
	return dst
}

// decodeFOR appends m values decoded from FOR mini-blocks and returns the
// remaining input.
func decodeFOR(dst []int64, src []byte, m int, k Kind) ([]int64, []byte, error) {
	var buf [miniBlock]uint64
	for start := 0; start < m; start += miniBlock {
		cnt := min(miniBlock, m-start)
		lo, rest, ok := readZvarint(src)
		if !ok || len(rest) == 0 {
			return dst, nil, corrupt(k, "truncated mini-block header")
		}
		w := int(rest[0])
		rest = rest[1:]
		if w > 64 {
			return dst, nil, corrupt(k, "mini-block bit width over 64")
		}
		n := packedLen(cnt, w)
		if len(rest) < n {
			return dst, nil, corrupt(k, "truncated mini-block")
		}
		unpack(buf[:cnt], rest[:n], w)
		for _, u := range buf[:cnt] {
			dst = append(dst, int64(u+uint64(lo)))
		}
		src = rest[n:]
	}
	return dst, src, nil
}

// integrate turns r (r[0] = first value, r[1:] = deltas) into values.
func integrate(r []int64) {
	for i := 1; i < len(r); i++ {
		r[i] += r[i-1]
	}
}
