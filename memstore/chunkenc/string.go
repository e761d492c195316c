package chunkenc

import (
	"fmt"
	"hash/maphash"
	"math/bits"
	"slices"
)

// String codes. The chunk-local dictionary is built inline: a value seen for
// the first time is written as a literal and becomes the next dictionary
// entry; later occurrences refer to it by index.
//
//	0                      same value as the previous row (not on row 0)
//	1 idx                  idx has w = bits.Len(dictionary size) bits;
//	                       idx < size: that dictionary entry;
//	                       idx == size: a literal follows
//
// A literal is its byte length, then zero padding to a byte boundary, then
// the bytes:
//
//	0    +  4 bits         length < 16
//	10   +  8 bits         length < 256
//	110  + 16 bits         length < 65536
//	111  + 64 bits
//
// With an empty dictionary w is 0: the first row is always a literal.

// linearDictMax is the dictionary size up to which the appender finds
// entries by scanning instead of through its hash index.
const linearDictMax = 8

// strEntry locates a dictionary entry's bytes in the stream.
type strEntry struct {
	off, len int
}

// StringAppender encodes strings (VARCHAR) with a chunk-local dictionary:
// repeating the previous value costs one bit and any earlier value 1+log2(d)
// bits for d distinct values. Empty strings and arbitrary bytes are allowed.
// The appender keeps no reference to appended strings. The zero value is
// ready to use.
type StringAppender struct {
	w    bitWriter
	n    int
	prev int        // dictionary index of the last value
	dict []strEntry // distinct values in order of first appearance
	// index maps the hash of each entry to its dictionary index once the
	// dictionary outgrows linearDictMax; an entry whose hash collides with
	// an earlier one is left out, and lookup scans when a hash matches the
	// wrong entry.
	index map[uint64]int32
	seed  maphash.Seed
}

// entryEq reports whether dictionary entry i equals s, comparing against
// the stream's bytes without copying them.
func (a *StringAppender) entryEq(i int, s string) bool {
	e := a.dict[i]
	return e.len == len(s) && string(a.w.b[e.off:e.off+e.len]) == s
}

// lookup returns the dictionary index of s, or -1.
func (a *StringAppender) lookup(s string) int {
	if len(a.dict) <= linearDictMax {
		for i := range a.dict {
			if a.entryEq(i, s) {
				return i
			}
		}
		return -1
	}
	i, ok := a.index[maphash.String(a.seed, s)]
	if !ok {
		// Every entry's hash is in the index, so s is new.
		return -1
	}
	if a.entryEq(int(i), s) {
		return int(i)
	}
	// The hash belongs to another entry: s may be an entry left out of the
	// index because its hash collided. 64-bit collisions are rare enough
	// for a scan.
	for i := range a.dict {
		if a.entryEq(i, s) {
			return i
		}
	}
	return -1
}

// Append adds s.
func (a *StringAppender) Append(s string) {
	a.n++
	if a.n > 1 && a.entryEq(a.prev, s) {
		a.w.writeBit(false)
		return
	}
	a.w.writeBit(true)
	w := uint(bits.Len(uint(len(a.dict))))
	i := a.lookup(s)
	if i >= 0 {
		a.w.writeBits(uint64(i), w)
		a.prev = i
		return
	}
	a.w.writeBits(uint64(len(a.dict)), w)
	l := uint64(len(s))
	switch {
	case l < 1<<4:
		a.w.writeBits(l, 5)
	case l < 1<<8:
		a.w.writeBits(0b10, 2)
		a.w.writeBits(l, 8)
	case l < 1<<16:
		a.w.writeBits(0b110, 3)
		a.w.writeBits(l, 16)
	default:
		a.w.writeBits(0b111, 3)
		a.w.writeBits(l, 64)
	}
	a.w.align()
	a.dict = append(a.dict, strEntry{off: len(a.w.b), len: len(s)})
	a.w.b = append(a.w.b, s...)
	a.prev = len(a.dict) - 1
	a.indexEntry(a.prev, s)
}

// indexEntry adds entry i to the hash index once the dictionary outgrows
// linear scanning.
func (a *StringAppender) indexEntry(i int, s string) {
	if len(a.dict) <= linearDictMax {
		return
	}
	if a.index == nil {
		a.seed = maphash.MakeSeed()
		a.index = make(map[uint64]int32, 2*len(a.dict))
	}
	if len(a.index) == 0 {
		for j := range i {
			e := a.dict[j]
			a.addHash(j, maphash.Bytes(a.seed, a.w.b[e.off:e.off+e.len]))
		}
	}
	a.addHash(i, maphash.String(a.seed, s))
}

// addHash indexes entry i under hash h unless h is taken by an earlier
// entry (a collision); lookup then finds entry i by scanning.
func (a *StringAppender) addHash(i int, h uint64) {
	if _, dup := a.index[h]; !dup {
		a.index[h] = int32(i)
	}
}

// Len returns the number of values appended.
func (a *StringAppender) Len() int { return a.n }

// Bytes returns the encoding of the values appended so far. The slice
// aliases the appender's storage and is valid until the next Append or Reset.
func (a *StringAppender) Bytes() []byte { return a.w.b }

// Size returns the heap bytes held by the appender, excluding the
// StringAppender struct itself: the stream, the dictionary and its index.
func (a *StringAppender) Size() int {
	// A Go map entry of uint64→int32 costs about 24 bytes with its share of
	// groups and control words.
	return cap(a.w.b) + cap(a.dict)*16 + len(a.index)*24
}

// Reset empties the appender, keeping its buffers for reuse.
func (a *StringAppender) Reset() {
	a.w.reset()
	a.n, a.prev = 0, 0
	a.dict = a.dict[:0]
	clear(a.index)
}

// DecodeStrings decodes n values written by a StringAppender from src and
// appends them to dst. Decoded strings do not alias src: they share one
// private copy of it, made in a single allocation. On error it returns dst
// unchanged in length.
func DecodeStrings(dst []string, src []byte, n int) ([]string, error) {
	if n < 0 {
		return dst, fmt.Errorf("decode strings: %d: %w", n, ErrCount)
	}
	if n == 0 {
		return dst, nil
	}
	if int64(n) > int64(len(src))*8 { // every value takes a bit at least
		return dst, fmt.Errorf("decode strings: %d values from %d bytes: %w", n, len(src), ErrShortInput)
	}
	dst = slices.Grow(dst, n)
	len0 := len(dst)
	r := newBitReader(src)
	var dict []string
	var copied string
	prev := -1
	for i := range n {
		if !r.readBit() {
			if prev < 0 {
				return dst[:len0], fmt.Errorf("decode strings: value %d: repeat on first row: %w", i, ErrCorrupt)
			}
		} else {
			w := uint(bits.Len(uint(len(dict))))
			idx := int(r.readBits(w))
			switch {
			case idx < len(dict):
				prev = idx
			case idx == len(dict) && !r.short():
				var l uint64
				r.need(4)
				switch r.takeOnes(3) {
				case 0:
					l = r.readBits(4)
				case 1:
					l = r.readBits(8)
				case 2:
					l = r.readBits(16)
				default:
					l = r.readLong(64)
				}
				b, ok := r.alignedBytes(l)
				if !ok {
					break
				}
				if copied == "" {
					// One copy of src backs every decoded string.
					copied = string(src)
				}
				off := r.pos - len(b) // b is src[off:r.pos]
				dict = append(dict, copied[off:off+len(b)])
				prev = idx
			case !r.short():
				return dst[:len0], fmt.Errorf("decode strings: value %d: index %d beyond dictionary of %d: %w", i, idx, len(dict), ErrCorrupt)
			}
		}
		if r.short() {
			return dst[:len0], fmt.Errorf("decode strings: value %d of %d: %w", i, n, ErrShortInput)
		}
		dst = append(dst, dict[prev])
	}
	return dst, nil
}
