package chunkenc

import (
	"fmt"
	"slices"
)

// Timestamp delta-of-delta buckets. After the first timestamp (64 raw bits)
// each timestamp is coded by dod = (t[i]-t[i-1]) - (t[i-1]-t[i-2]), with
// t[-1] taken so that the first delta's dod is the delta itself:
//
//	0                              dod == 0
//	10   uu  7-bit signed value     dod == value * unit
//	110  uu 16-bit signed value
//	1110 uu 32-bit signed value
//	1111    64-bit dod
//
// uu selects the unit: 0 ns, 1 µs, 2 ms, 3 s. The encoder picks the largest
// unit that divides dod, so millisecond jitter costs 11 bits.
var timeUnits = [4]int64{1, 1e3, 1e6, 1e9}

// TimeAppender encodes int64 nanosecond timestamps with delta-of-delta
// coding. Any int64 sequence round-trips exactly (arithmetic wraps); regular
// intervals cost one bit per timestamp. The zero value is ready to use.
type TimeAppender struct {
	w     bitWriter
	n     int
	t     int64 // last timestamp
	delta int64 // last delta
}

// Append adds t.
func (a *TimeAppender) Append(t int64) {
	if a.n == 0 {
		a.w.writeBits(uint64(t), 64)
		a.t = t
		a.n = 1
		return
	}
	delta := t - a.t
	writeDod(&a.w, delta-a.delta)
	a.t = t
	a.delta = delta
	a.n++
}

// LastTwo returns the last timestamp appended and the one before it; ok is
// false while fewer than two were appended.
func (a *TimeAppender) LastTwo() (last, prev int64, ok bool) {
	return a.t, a.t - a.delta, a.n >= 2
}

func writeDod(w *bitWriter, dod int64) {
	if dod == 0 {
		w.writeBit(false)
		return
	}
	u := uint64(0)
	for i := 3; i > 0; i-- {
		if dod%timeUnits[i] == 0 {
			u = uint64(i)
			break
		}
	}
	v := dod / timeUnits[u]
	switch {
	case fitsSigned(v, 7):
		w.writeBits(0b10<<2|u, 4)
		w.writeBits(uint64(v), 7)
	case fitsSigned(v, 16):
		w.writeBits(0b110<<2|u, 5)
		w.writeBits(uint64(v), 16)
	case fitsSigned(v, 32):
		w.writeBits(0b1110<<2|u, 6)
		w.writeBits(uint64(v), 32)
	default:
		w.writeBits(0b1111, 4)
		w.writeBits(uint64(dod), 64)
	}
}

// Len returns the number of timestamps appended.
func (a *TimeAppender) Len() int { return a.n }

// Bytes returns the encoding of the timestamps appended so far. The slice
// aliases the appender's storage and is valid until the next Append or Reset.
func (a *TimeAppender) Bytes() []byte { return a.w.b }

// Size returns the heap bytes held by the appender, excluding the
// TimeAppender struct itself.
func (a *TimeAppender) Size() int { return cap(a.w.b) }

// Reset empties the appender, keeping its buffer for reuse.
func (a *TimeAppender) Reset() {
	a.w.reset()
	a.n, a.t, a.delta = 0, 0, 0
}

// DecodeTimes decodes n timestamps written by a TimeAppender from src and
// appends them to dst. On error it returns dst unchanged in length.
func DecodeTimes(dst []int64, src []byte, n int) ([]int64, error) {
	if n < 0 {
		return dst, fmt.Errorf("decode times: %d: %w", n, ErrCount)
	}
	if n == 0 {
		return dst, nil
	}
	if int64(n-1) > int64(len(src))*8-64 { // 64 bits, then a bit a value at least
		return dst, fmt.Errorf("decode times: %d values from %d bytes: %w", n, len(src), ErrShortInput)
	}
	dst = slices.Grow(dst, n)
	len0 := len(dst)
	r := newBitReader(src)
	t := int64(r.readLong(64))
	dst = append(dst, t)
	var delta int64
	for i := 1; i < n; i++ {
		r.need(38) // the longest code short of the 64-bit one
		if r.takeBit() {
			var dod int64
			switch r.takeOnes(3) {
			case 0:
				u := r.take(2)
				dod = signExtend(r.take(7), 7) * timeUnits[u]
			case 1:
				u := r.take(2)
				dod = signExtend(r.take(16), 16) * timeUnits[u]
			case 2:
				u := r.take(2)
				dod = signExtend(r.take(32), 32) * timeUnits[u]
			default:
				dod = int64(r.readLong(64))
			}
			delta += dod
		}
		if r.short() {
			return dst[:len0], fmt.Errorf("decode times: value %d of %d: %w", i, n, ErrShortInput)
		}
		t += delta
		dst = append(dst, t)
	}
	return dst, nil
}
