package encoding

import (
	"encoding/binary"
	"math"
	"math/bits"
)

// Gorilla XOR float compression, after Pelkonen et al., "Gorilla: A Fast,
// Scalable, In-Memory Time Series Database", PVLDB 8(12), 2015, section
// 4.1.2. Written from the paper; the window header uses 6 bits for the
// leading-zero count and 6 bits for (significant bits - 1).

// bitWriter appends bits MSB first.
type bitWriter struct {
	buf   []byte
	acc   uint64 // pending bits, left aligned
	nbits uint   // number of pending bits in acc, < 64
}

// write appends the low n bits of v (n <= 64).
func (w *bitWriter) write(v uint64, n uint) {
	if n == 0 {
		return
	}
	if n < 64 {
		v &= 1<<n - 1
	}
	free := 64 - w.nbits
	if n < free {
		w.acc |= v << (free - n)
		w.nbits += n
		return
	}
	// Fill acc, flush 8 bytes, keep the rest.
	rem := n - free
	w.acc |= v >> rem
	w.buf = append(w.buf, byte(w.acc>>56), byte(w.acc>>48), byte(w.acc>>40), byte(w.acc>>32),
		byte(w.acc>>24), byte(w.acc>>16), byte(w.acc>>8), byte(w.acc))
	if rem == 0 {
		w.acc = 0
	} else {
		w.acc = v << (64 - rem)
	}
	w.nbits = rem
}

func (w *bitWriter) flush() []byte {
	for w.nbits > 0 {
		w.buf = append(w.buf, byte(w.acc>>56))
		w.acc <<= 8
		if w.nbits < 8 {
			w.nbits = 0
		} else {
			w.nbits -= 8
		}
	}
	return w.buf
}

// bitReader reads bits MSB first.
type bitReader struct {
	src   []byte
	acc   uint64 // unread bits, left aligned
	nbits uint
}

// fill tops up acc to at least 57 bits when input remains.
func (r *bitReader) fill() {
	if r.nbits <= 56 && len(r.src) >= 8 {
		// Load 8 bytes and keep the whole bytes that fit. Bits beyond them
		// land below the valid bits; they are the stream's next bits and the
		// next fill ORs the same values into the same places.
		r.acc |= binary.BigEndian.Uint64(r.src) >> r.nbits
		nb := (64 - r.nbits) / 8
		r.src = r.src[nb:]
		r.nbits += nb * 8
		return
	}
	for r.nbits <= 56 && len(r.src) > 0 {
		r.acc |= uint64(r.src[0]) << (56 - r.nbits)
		r.src = r.src[1:]
		r.nbits += 8
	}
}

// read returns the next n bits (n <= 64); ok is false past the end.
func (r *bitReader) read(n uint) (uint64, bool) {
	if n == 0 {
		return 0, true
	}
	if n > 56 {
		hi, ok := r.read(n - 32)
		if !ok {
			return 0, false
		}
		lo, ok := r.read(32)
		return hi<<32 | lo, ok
	}
	if r.nbits < n {
		r.fill()
		if r.nbits < n {
			return 0, false
		}
	}
	v := r.acc >> (64 - n)
	r.acc <<= n
	r.nbits -= n
	return v, true
}

// xorSize returns the byte length of the XOR bit stream for vs (len >= 1).
func xorSize(vs []float64) int {
	nbits := 64
	prev := math.Float64bits(vs[0])
	lead, trail := uint(65), uint(0) // empty window: nothing fits
	for _, f := range vs[1:] {
		cur := math.Float64bits(f)
		x := cur ^ prev
		prev = cur
		if x == 0 {
			nbits++
			continue
		}
		l, t := uint(bits.LeadingZeros64(x)), uint(bits.TrailingZeros64(x))
		if lead <= 64 && l >= lead && t >= trail {
			nbits += 2 + int(64-lead-trail)
			continue
		}
		lead, trail = l, t
		nbits += 2 + 12 + int(64-l-t)
	}
	return (nbits + 7) / 8
}

func appendXOR(dst []byte, vs []float64) []byte {
	w := bitWriter{buf: dst}
	prev := math.Float64bits(vs[0])
	w.write(prev, 64)
	lead, trail := uint(65), uint(0)
	for _, f := range vs[1:] {
		cur := math.Float64bits(f)
		x := cur ^ prev
		prev = cur
		if x == 0 {
			w.write(0, 1)
			continue
		}
		l, t := uint(bits.LeadingZeros64(x)), uint(bits.TrailingZeros64(x))
		if lead <= 64 && l >= lead && t >= trail {
			w.write(0b10, 2)
			w.write(x>>trail, 64-lead-trail)
			continue
		}
		lead, trail = l, t
		sig := 64 - l - t
		w.write(0b11, 2)
		w.write(uint64(l)<<6|uint64(sig-1), 12)
		w.write(x>>t, sig)
	}
	return w.flush()
}

func decodeXOR(dst []float64, src []byte, n int) ([]float64, []byte, error) {
	const k = FloatXOR
	// Every value after the first takes at least one bit.
	if len(src) < 8+(n-1+7)/8 {
		return dst, nil, corrupt(k, "truncated bit stream")
	}
	r := bitReader{src: src}
	v, _ := r.read(64)
	dst = append(dst, math.Float64frombits(v))
	lead, trail := uint(65), uint(0)
	for i := 1; i < n; i++ {
		b, ok := r.read(1)
		if !ok {
			return dst, nil, corrupt(k, "truncated bit stream")
		}
		if b == 0 {
			dst = append(dst, math.Float64frombits(v))
			continue
		}
		b, ok = r.read(1)
		if !ok {
			return dst, nil, corrupt(k, "truncated bit stream")
		}
		if b == 1 {
			h, ok := r.read(12)
			if !ok {
				return dst, nil, corrupt(k, "truncated window header")
			}
			l, sig := uint(h>>6), uint(h&63)+1
			if l+sig > 64 {
				return dst, nil, corrupt(k, "window exceeds 64 bits")
			}
			lead, trail = l, 64-l-sig
		} else if lead > 64 {
			return dst, nil, corrupt(k, "window reuse before first window")
		}
		x, ok := r.read(64 - lead - trail)
		if !ok {
			return dst, nil, corrupt(k, "truncated value bits")
		}
		v ^= x << trail
		dst = append(dst, math.Float64frombits(v))
	}
	// The stream ends at a byte boundary; leftover whole bytes are not ours.
	rest := r.src
	if r.nbits >= 8 {
		return dst, nil, corrupt(k, "trailing bytes")
	}
	return dst, rest, nil
}
