package chunkenc

import (
	"fmt"
	"math/bits"
	"slices"
)

// Boolean codes. Values are grouped in blocks of boolBlock values (the last
// block holds the rest, n mod boolBlock, when that is not 0). Each block is
// whichever is smaller, raw bits winning ties:
//
//	0 + one bit per value                  raw
//	1 + first value + run lengths          runs
//
// Runs alternate in value, starting with the first value; each length L
// (1..boolBlock) is Elias-gamma coded: bits.Len(L)-1 zero bits, then L in
// bits.Len(L) bits. A block of 64 equal values costs 15 bits.
const boolBlock = 64

// BoolAppender encodes booleans (BOOLEAN values and null bitmaps) at one bit
// each, or as runs where runs are shorter. The zero value is ready to use.
//
// The last, open block is rewritten in place as values arrive, so Bytes is
// always complete; each Append still costs O(1).
type BoolAppender struct {
	w       bitWriter
	n       int
	base    int    // bit length of the complete blocks
	cur     uint64 // values of the open block, the first in the top bit
	cnt     uint   // values in the open block
	last    bool   // last value appended
	run     int    // length of the last run of the open block
	rleBits int    // size in bits of the open block coded as runs
	rle     bool   // the open block is written as runs
	runPos  int    // bit offset of the last run's code, when rle
}

func gammaLen(l int) int { return 2*bits.Len(uint(l)) - 1 }

func (a *BoolAppender) writeGamma(l int) {
	a.w.writeBits(uint64(l), uint(gammaLen(l)))
}

// Append adds b.
func (a *BoolAppender) Append(b bool) {
	extend := a.cnt > 0 && b == a.last
	if extend {
		a.rleBits += gammaLen(a.run+1) - gammaLen(a.run)
		a.run++
	} else {
		if a.cnt == 0 {
			a.rleBits = 2
		}
		a.rleBits++ // gammaLen(1)
		a.run = 1
	}
	if b {
		a.cur |= 1 << (63 - a.cnt)
	}
	a.cnt++
	a.n++
	a.last = b
	rle := a.rleBits < 1+int(a.cnt)
	switch {
	case a.cnt == 1:
		a.writeOpen(rle)
	case rle != a.rle:
		a.w.truncate(a.base)
		a.writeOpen(rle)
	case !rle:
		a.w.writeBit(b)
	case extend:
		a.w.truncate(a.runPos)
		a.writeGamma(a.run)
	default:
		a.runPos = a.w.bitLen()
		a.writeGamma(1)
	}
	if a.cnt == boolBlock {
		a.base = a.w.bitLen()
		a.cur, a.cnt, a.run, a.rleBits, a.rle = 0, 0, 0, 0, false
	}
}

// writeOpen writes the whole open block after base.
func (a *BoolAppender) writeOpen(rle bool) {
	a.rle = rle
	if !rle {
		a.w.writeBit(false)
		a.w.writeBits(a.cur>>(64-a.cnt), a.cnt)
		return
	}
	a.w.writeBit(true)
	x := a.cur
	a.w.writeBit(x>>63 != 0)
	for rem := int(a.cnt); rem > 0; {
		var l int
		if x>>63 != 0 {
			l = bits.LeadingZeros64(^x)
		} else {
			l = bits.LeadingZeros64(x)
		}
		l = min(l, rem)
		a.runPos = a.w.bitLen()
		a.writeGamma(l)
		x <<= l
		rem -= l
	}
}

// Len returns the number of values appended.
func (a *BoolAppender) Len() int { return a.n }

// Bytes returns the encoding of the values appended so far. The slice
// aliases the appender's storage and is valid until the next Append or Reset.
func (a *BoolAppender) Bytes() []byte { return a.w.b }

// Size returns the heap bytes held by the appender, excluding the
// BoolAppender struct itself.
func (a *BoolAppender) Size() int { return cap(a.w.b) }

// Reset empties the appender, keeping its buffer for reuse.
func (a *BoolAppender) Reset() {
	a.w.reset()
	*a = BoolAppender{w: a.w}
}

// DecodeBools decodes n values written by a BoolAppender from src and
// appends them to dst. On error it returns dst unchanged in length.
func DecodeBools(dst []bool, src []byte, n int) ([]bool, error) {
	if n < 0 {
		return dst, fmt.Errorf("decode bools: %d: %w", n, ErrCount)
	}
	if n == 0 {
		return dst, nil
	}
	// The densest code is a run block: 15 bits for 64 values.
	if int64(n) > int64(len(src))*8*5+boolBlock {
		return dst, fmt.Errorf("decode bools: %d values from %d bytes: %w", n, len(src), ErrShortInput)
	}
	dst = slices.Grow(dst, n)
	len0 := len(dst)
	r := newBitReader(src)
	for rem := n; rem > 0; {
		m := min(rem, boolBlock)
		if !r.readBit() {
			v := r.readLong(uint(m))
			for j := m - 1; j >= 0; j-- {
				dst = append(dst, v>>uint(j)&1 != 0)
			}
		} else {
			val := r.readBit()
			for filled := 0; filled < m; {
				k := uint(0)
				for !r.readBit() && !r.short() {
					if k++; k > 6 {
						return dst[:len0], fmt.Errorf("decode bools: value %d: run length code: %w", n-rem+filled, ErrCorrupt)
					}
				}
				l := int(1<<k | r.readBits(k))
				if r.short() {
					break
				}
				if l > m-filled {
					return dst[:len0], fmt.Errorf("decode bools: value %d: run of %d past block end: %w", n-rem+filled, l, ErrCorrupt)
				}
				for range l {
					dst = append(dst, val)
				}
				filled += l
				val = !val
			}
		}
		if r.short() {
			return dst[:len0], fmt.Errorf("decode bools: value %d of %d: %w", n-rem, n, ErrShortInput)
		}
		rem -= m
	}
	return dst, nil
}
