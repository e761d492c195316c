package chunkenc

import (
	"fmt"
	"slices"
)

// Integer codes. Each value is coded by its delta from the previous value
// (the first value's delta is from 0), zigzag-mapped to an unsigned z:
//
//	0                         delta equals the previous delta (initially 0)
//	10     +  6 bits of z     z < 2^6
//	110    + 13 bits of z     z < 2^13
//	1110   + 20 bits of z     z < 2^20
//	11110  + 32 bits of z     z < 2^32
//	11111  + 64 bits of z
//
// Constant series and counters with a steady increment cost one bit per
// value; small random walks cost eight.
var intBuckets = [5]uint{6, 13, 20, 32, 64}

// IntAppender encodes int64 values (BIGINT, TIMESTAMP values, versions) with
// delta and zigzag coding in variable-width bit fields. Any int64 sequence
// round-trips exactly. The zero value is ready to use.
type IntAppender struct {
	w     bitWriter
	n     int
	v     int64 // last value
	delta int64 // last delta
}

// Append adds v.
func (a *IntAppender) Append(v int64) {
	delta := v - a.v
	a.v = v
	a.n++
	if delta == a.delta {
		a.w.writeBit(false)
		return
	}
	a.delta = delta
	z := zigzag(delta)
	for i, nb := range intBuckets {
		if nb == 64 || z < 1<<nb {
			if i == 4 {
				a.w.writeBits(0b11111, 5)
			} else {
				a.w.writeBits(1<<(i+2)-2, uint(i)+2) // i+1 ones then a zero
			}
			a.w.writeBits(z, nb)
			return
		}
	}
}

// Len returns the number of values appended.
func (a *IntAppender) Len() int { return a.n }

// Bytes returns the encoding of the values appended so far. The slice
// aliases the appender's storage and is valid until the next Append or Reset.
func (a *IntAppender) Bytes() []byte { return a.w.b }

// Size returns the heap bytes held by the appender, excluding the
// IntAppender struct itself.
func (a *IntAppender) Size() int { return cap(a.w.b) }

// Reset empties the appender, keeping its buffer for reuse.
func (a *IntAppender) Reset() {
	a.w.reset()
	a.n, a.v, a.delta = 0, 0, 0
}

// DecodeInts decodes n values written by an IntAppender from src and appends
// them to dst. On error it returns dst unchanged in length.
func DecodeInts(dst []int64, src []byte, n int) ([]int64, error) {
	if n < 0 {
		return dst, fmt.Errorf("decode ints: %d: %w", n, ErrCount)
	}
	if n == 0 {
		return dst, nil
	}
	if int64(n) > int64(len(src))*8 { // every value takes a bit at least
		return dst, fmt.Errorf("decode ints: %d values from %d bytes: %w", n, len(src), ErrShortInput)
	}
	dst = slices.Grow(dst, n)
	len0 := len(dst)
	r := newBitReader(src)
	var v, delta int64
	for i := range n {
		r.need(38) // the longest code short of the 64-bit one
		if r.takeBit() {
			k := r.takeOnes(4)
			if k < 4 {
				delta = unzigzag(r.take(intBuckets[k]))
			} else {
				delta = unzigzag(r.readLong(64))
			}
		}
		if r.short() {
			return dst[:len0], fmt.Errorf("decode ints: value %d of %d: %w", i, n, ErrShortInput)
		}
		v += delta
		dst = append(dst, v)
	}
	return dst, nil
}
