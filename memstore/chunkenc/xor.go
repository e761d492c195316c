// XOR compression of float64 values follows the Gorilla paper: T. Pelkonen,
// S. Franklin, J. Teller, P. Cavallaro, Q. Huang, J. Meza, K. Veeraraghavan,
// "Gorilla: A Fast, Scalable, In-Memory Time Series Database", PVLDB 8(12),
// 2015, section 4.1.2. This implementation is TidalDB's own; it differs from
// the paper in choosing a new bit window whenever that is cheaper than
// reusing the previous one.

package chunkenc

import (
	"fmt"
	"math"
	"math/bits"
	"slices"
)

// XORAppender encodes float64 values by XOR with the previous value. Every
// bit pattern round-trips: NaN payloads, -0, ±Inf, denormals. The zero value
// is ready to use.
type XORAppender struct {
	w     bitWriter
	prev  uint64 // bits of the last value
	n     int32  // values appended (int32: the struct fits 48 bytes)
	lead  uint8  // leading zeros of the current window
	trail uint8  // trailing zeros of the current window
	sig   uint8  // significant bits of the current window; 0 while none
}

// Append adds v.
func (a *XORAppender) Append(v float64) {
	u := math.Float64bits(v)
	if a.n == 0 {
		a.w.writeBits(u, 64)
		a.prev = u
		a.n = 1
		return
	}
	x := u ^ a.prev
	a.prev = u
	a.n++
	if x == 0 {
		a.w.writeBit(false)
		return
	}
	lead := uint8(min(bits.LeadingZeros64(x), 31))
	trail := uint8(bits.TrailingZeros64(x))
	sig := 64 - lead - trail
	// Reuse the window when x fits it and that is no dearer than a new one.
	if a.sig != 0 && lead >= a.lead && trail >= a.trail && a.sig <= sig+11 {
		a.w.writeBits(0b10, 2)
		a.w.writeBits(x>>a.trail, uint(a.sig))
		return
	}
	a.lead, a.trail, a.sig = lead, trail, sig
	a.w.writeBits(0b11, 2)
	a.w.writeBits(uint64(lead), 5)
	a.w.writeBits(uint64(sig&63), 6) // 64 significant bits are written as 0
	a.w.writeBits(x>>trail, uint(sig))
}

// Len returns the number of values appended.
func (a *XORAppender) Len() int { return int(a.n) }

// Bytes returns the encoding of the values appended so far. The slice
// aliases the appender's storage and is valid until the next Append or Reset.
func (a *XORAppender) Bytes() []byte { return a.w.b }

// Size returns the heap bytes held by the appender, excluding the
// XORAppender struct itself.
func (a *XORAppender) Size() int { return cap(a.w.b) }

// Reset empties the appender, keeping its buffer for reuse.
func (a *XORAppender) Reset() {
	a.w.reset()
	a.n, a.prev, a.lead, a.trail, a.sig = 0, 0, 0, 0, 0
}

// DecodeXOR decodes n values written by an XORAppender from src and appends
// them to dst. On error it returns dst unchanged in length.
func DecodeXOR(dst []float64, src []byte, n int) ([]float64, error) {
	if n < 0 {
		return dst, fmt.Errorf("decode xor: %d: %w", n, ErrCount)
	}
	if n == 0 {
		return dst, nil
	}
	if int64(n-1) > int64(len(src))*8-64 { // 64 bits, then a bit a value at least
		return dst, fmt.Errorf("decode xor: %d values from %d bytes: %w", n, len(src), ErrShortInput)
	}
	dst = slices.Grow(dst, n)
	len0 := len(dst)
	r := newBitReader(src)
	u := r.readLong(64)
	dst = append(dst, math.Float64frombits(u))
	var trail, sig uint
	for i := 1; i < n; i++ {
		r.need(13) // control bits and window header
		if r.takeBit() {
			if r.takeBit() {
				lead := uint(r.take(5))
				sig = uint(r.take(6))
				if sig == 0 {
					sig = 64
				}
				if lead+sig > 64 {
					return dst[:len0], fmt.Errorf("decode xor: value %d: window %d+%d bits: %w", i, lead, sig, ErrCorrupt)
				}
				trail = 64 - lead - sig
			} else if sig == 0 {
				return dst[:len0], fmt.Errorf("decode xor: value %d: window reused before set: %w", i, ErrCorrupt)
			}
			if sig <= 57 {
				r.need(sig)
				u ^= r.take(sig) << trail
			} else {
				u ^= r.readLong(sig) << trail
			}
		}
		if r.short() {
			return dst[:len0], fmt.Errorf("decode xor: value %d of %d: %w", i, n, ErrShortInput)
		}
		dst = append(dst, math.Float64frombits(u))
	}
	return dst, nil
}
