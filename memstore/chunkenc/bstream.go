package chunkenc

import (
	"encoding/binary"
	"math/bits"
)

// bitWriter appends bits most significant first to a byte slice. The last
// byte is padded with zero bits, so b is always a complete encoding.
type bitWriter struct {
	b    []byte
	free uint // unused low bits of the last byte of b, 0..7
}

// bitLen returns the number of bits written.
func (w *bitWriter) bitLen() int { return len(w.b)*8 - int(w.free) }

// writeBit appends one bit.
func (w *bitWriter) writeBit(bit bool) {
	if w.free == 0 {
		w.b = append(w.b, 0)
		w.free = 8
	}
	w.free--
	if bit {
		w.b[len(w.b)-1] |= 1 << w.free
	}
}

// writeBits appends the low nb bits of u, most significant first; nb <= 64.
func (w *bitWriter) writeBits(u uint64, nb uint) {
	if nb < 64 {
		u &= 1<<nb - 1
	}
	// Fill the partial last byte.
	if w.free > 0 && nb > 0 {
		k := min(nb, w.free)
		w.free -= k
		nb -= k
		w.b[len(w.b)-1] |= byte(u>>nb) << w.free
		if nb < 64 {
			u &= 1<<nb - 1
		}
	}
	// Whole bytes.
	for nb >= 8 {
		nb -= 8
		w.b = append(w.b, byte(u>>nb))
	}
	// Remaining high bits of a new partial byte.
	if nb > 0 {
		w.free = 8 - nb
		w.b = append(w.b, byte(u<<w.free))
	}
}

// align pads the stream with zero bits to a byte boundary.
func (w *bitWriter) align() { w.free = 0 }

// truncate cuts the stream back to its first n bits; n <= bitLen().
func (w *bitWriter) truncate(n int) {
	w.b = w.b[:(n+7)/8]
	w.free = uint(len(w.b)*8 - n)
	if w.free > 0 {
		w.b[len(w.b)-1] &^= 1<<w.free - 1
	}
}

// reset empties the stream, keeping its capacity.
func (w *bitWriter) reset() {
	w.b = w.b[:0]
	w.free = 0
}

// bitReader reads bits most significant first. Reading past the end yields
// zero bits and sets short; decoders check short once per value, so a
// truncated stream is reported without a branch on every read.
type bitReader struct {
	src   []byte
	pos   int    // index in src of the next byte to load into buf
	buf   uint64 // unread bits, left-aligned
	n     uint   // number of valid bits in buf
	short bool   // a read went past the end of src
}

func newBitReader(src []byte) bitReader { return bitReader{src: src} }

// refill loads whole bytes into buf until it holds more than 56 bits or src
// is exhausted.
func (r *bitReader) refill() {
	if r.pos+8 <= len(r.src) {
		v := binary.BigEndian.Uint64(r.src[r.pos:])
		k := (64 - r.n) >> 3
		r.buf |= v >> r.n
		r.pos += int(k)
		r.n += k << 3
		r.buf &= ^uint64(0) << (64 - r.n)
		return
	}
	for r.n <= 56 && r.pos < len(r.src) {
		r.buf |= uint64(r.src[r.pos]) << (56 - r.n)
		r.pos++
		r.n += 8
	}
}

// readBit reads one bit.
func (r *bitReader) readBit() bool {
	if r.n == 0 {
		r.refill()
		if r.n == 0 {
			r.short = true
			return false
		}
	}
	b := r.buf >> 63
	r.buf <<= 1
	r.n--
	return b != 0
}

// readBits reads nb bits, nb <= 64, as the low bits of the result.
func (r *bitReader) readBits(nb uint) uint64 {
	if nb > 56 {
		hi := r.readBits(nb - 32)
		return hi<<32 | r.readBits(32)
	}
	if r.n < nb {
		r.refill()
		if r.n < nb {
			r.short = true
			r.buf, r.n = 0, 0
			r.pos = len(r.src)
			return 0
		}
	}
	v := r.buf >> (64 - nb) // nb == 0 shifts everything out: v == 0
	r.buf <<= nb
	r.n -= nb
	return v
}

// countOnes reads bits until a zero bit or until max ones were read, and
// returns the number of ones. It decodes the unary bucket prefixes.
func (r *bitReader) countOnes(max uint) uint {
	if r.n < max+1 {
		r.refill()
	}
	if r.n >= max+1 {
		k := uint(bits.LeadingZeros64(^r.buf))
		if k >= max {
			r.buf <<= max
			r.n -= max
			return max
		}
		r.buf <<= k + 1
		r.n -= k + 1
		return k
	}
	var k uint
	for k < max && r.readBit() {
		k++
	}
	return k
}

// alignedBytes skips to the next byte boundary and returns the next l bytes
// of src, aliasing it. It returns false when src holds fewer than l bytes
// after the boundary.
func (r *bitReader) alignedBytes(l uint64) ([]byte, bool) {
	// Bits left in buf that belong to the current byte are padding; whole
	// bytes still in buf are given back to src.
	start := r.pos - int(r.n/8)
	r.buf, r.n = 0, 0
	if l > uint64(len(r.src)-start) {
		r.short = true
		r.pos = len(r.src)
		return nil, false
	}
	end := start + int(l)
	r.pos = end
	return r.src[start:end], true
}

// signExtend interprets the low nb bits of u as a two's complement number.
func signExtend(u uint64, nb uint) int64 {
	return int64(u<<(64-nb)) >> (64 - nb)
}

// fitsSigned reports whether v is representable in nb bits two's complement.
func fitsSigned(v int64, nb uint) bool {
	lim := int64(1) << (nb - 1)
	return v >= -lim && v < lim
}

// zigzag maps signed to unsigned so that small magnitudes get small codes.
func zigzag(v int64) uint64 { return uint64(v<<1) ^ uint64(v>>63) }

// unzigzag inverts zigzag.
func unzigzag(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }

// growFor reserves room in dst for n more values when n is plausible for a
// stream of srcBits bits that needs at least minBits bits per value; it
// keeps the allocation O(n) and bounded by the input when n lies.
func growFor[T any](dst []T, n, srcBits, minBitsPerValue int) []T {
	if lim := srcBits/minBitsPerValue + 1; n > lim {
		n = lim
	}
	if cap(dst)-len(dst) < n {
		nd := make([]T, len(dst), len(dst)+n)
		copy(nd, dst)
		return nd
	}
	return dst
}
