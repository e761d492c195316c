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
	if nb == 0 {
		return
	}
	u <<= 64 - nb // left-align; drops any bits above nb
	if w.free > 0 {
		last := len(w.b) - 1
		w.b[last] |= byte(u >> (64 - w.free))
		if nb <= w.free {
			w.free -= nb
			return
		}
		nb -= w.free
		u <<= w.free
	}
	// Append all 8 bytes of u and keep the ones holding the nb bits.
	m := int(nb+7) / 8
	w.b = binary.BigEndian.AppendUint64(w.b, u)[:len(w.b)+m]
	w.free = uint(m*8) - nb
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

// bitReader reads bits most significant first. Past the end of src it
// reads zero bits, counting them in fake; a decoder checks short() once per
// value, so a truncated stream is reported without an error check on every
// read.
//
// The hot decoders call need (or refill) once per value for the longest
// code they may read, then use the unchecked take, takeBit and takeOnes,
// which are small enough to inline. readBit, readBits and readLong check
// for themselves.
type bitReader struct {
	src  []byte
	pos  int    // index in src of the next byte to load into buf
	buf  uint64 // unread bits, left-aligned; bits past n are zero
	n    uint   // number of unread bits in buf, fake ones included
	fake uint   // zero bits loaded past the end of src; they are the last of buf
}

func newBitReader(src []byte) bitReader { return bitReader{src: src} }

// refill loads bytes into buf until it holds at least 57 bits, loading
// zero bytes past the end of src.
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
	for r.n <= 56 {
		if r.pos < len(r.src) {
			r.buf |= uint64(r.src[r.pos]) << (56 - r.n)
			r.pos++
		} else {
			r.fake += 8
		}
		r.n += 8
	}
}

// short reports whether more bits were read than src holds.
func (r *bitReader) short() bool { return r.fake > r.n }

// need makes sure buf holds at least nb bits, nb <= 57.
func (r *bitReader) need(nb uint) {
	if r.n < nb {
		r.refill()
	}
}

// take reads nb bits, 1 <= nb <= r.n, as the low bits of the result.
func (r *bitReader) take(nb uint) uint64 {
	r.n -= nb
	b := r.buf
	r.buf = b << nb
	return b >> (64 - nb)
}

// takeBit reads one bit; r.n >= 1.
func (r *bitReader) takeBit() bool {
	r.n--
	b := r.buf
	r.buf = b << 1
	return int64(b) < 0
}

// takeOnes reads bits up to and including the first zero bit, or max one
// bits, and returns the number of ones; r.n > max.
func (r *bitReader) takeOnes(max uint) uint {
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

// readBit reads one bit.
func (r *bitReader) readBit() bool {
	r.need(1)
	return r.takeBit()
}

// readBits reads nb bits, nb <= 57, as the low bits of the result; nb may
// be 0.
func (r *bitReader) readBits(nb uint) uint64 {
	if nb == 0 {
		return 0
	}
	r.need(nb)
	return r.take(nb)
}

// readLong reads nb bits, nb <= 64, as the low bits of the result.
func (r *bitReader) readLong(nb uint) uint64 {
	if nb <= 32 {
		return r.readBits(nb)
	}
	hi := r.readBits(nb - 32)
	return hi<<32 | r.readBits(32)
}

// alignedBytes skips to the next byte boundary and returns the next l bytes
// of src, aliasing it. It returns false when src holds fewer than l bytes
// after the boundary, leaving the reader short.
func (r *bitReader) alignedBytes(l uint64) ([]byte, bool) {
	if r.short() {
		return nil, false
	}
	// Bits left in buf that belong to the current byte are padding; whole
	// real bytes still in buf are given back to src.
	start := r.pos - int((r.n-r.fake)/8)
	r.buf, r.n, r.fake = 0, 0, 0
	if l > uint64(len(r.src)-start) {
		r.pos = len(r.src)
		r.fake, r.n = 8, 0 // short() from now on
		return nil, false
	}
	r.pos = start + int(l)
	return r.src[start:r.pos], true
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
