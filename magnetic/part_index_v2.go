package magnetic

import (
	"encoding/binary"
	"math"
	"math/bits"
	"slices"

	"github.com/tidaldb/tidal/ingest"
)

// Index layout of format version 2 (docs/format/part.md). Against version
// 1 it leaves out what a reader can derive: chunk offsets (chunks lie back
// to back in index order from the header on, so lengths suffice), the
// prefix a series key shares with the previous key, series row counts and
// time bounds (the blocks give them), and the time chunk of a block whose
// timestamps are evenly spaced. Block times are stored relative to the
// part's or the previous block's, and DOUBLE zone maps as byte-reversed
// uvarints, which are short for short decimals.

// Block flags of format version 2.
const (
	blockHasVersion = 1 << 0 // a version chunk follows
	blockRegular    = 1 << 1 // no time chunk: times are evenly spaced
)

// regularTimes reports whether ts (ascending) are evenly spaced, so that a
// version 2 block needs no time chunk.
func regularTimes(ts []int64) bool {
	if len(ts) < 3 {
		return true
	}
	step := ts[1] - ts[0]
	for i := 2; i < len(ts); i++ {
		if ts[i]-ts[i-1] != step {
			return false
		}
	}
	return true
}

// appendRegularTimes appends the times of a block without a time chunk.
func appendRegularTimes(dst []int64, b *blockMeta) []int64 {
	if b.rows == 1 {
		return append(dst, b.minT)
	}
	step := (b.maxT - b.minT) / int64(b.rows-1)
	t := b.minT
	for range b.rows {
		dst = append(dst, t)
		t += step
	}
	return dst
}

// zoneFloat encodes float64 bits for a version 2 zone map: byte reversed,
// so that the zero low bytes of short decimals become high zero bytes that
// a uvarint drops.
func zoneFloat(b uint64) uint64 { return bits.ReverseBytes64(b) }

// appendIndex encodes m in the index layout of format version 2. Chunks
// must have been written in index order, back to back from the header on.
func appendIndex(dst []byte, m *partMeta) []byte {
	names := map[string]int{}
	var nameList []string
	for i := range m.series {
		for j := range m.series[i].blocks {
			for _, c := range m.series[i].blocks[j].cols {
				if _, ok := names[c.name]; !ok {
					names[c.name] = 0
					nameList = append(nameList, c.name)
				}
			}
		}
	}
	slices.Sort(nameList)
	for i, n := range nameList {
		names[n] = i
	}
	u := binary.AppendUvarint
	z := binary.AppendVarint
	str := func(b []byte, s string) []byte { return append(u(b, uint64(len(s))), s...) }

	dst = u(dst, formatV2)
	dst = u(dst, m.tableID)
	dst = z(dst, m.partStart)
	dst = z(dst, m.created)
	dst = str(dst, m.creator)
	dst = u(dst, m.level)
	dst = u(dst, m.order)
	dst = u(dst, uint64(len(m.replaces)))
	for _, r := range m.replaces {
		dst = str(dst, r)
	}
	dst = u(dst, m.rows)
	dst = z(dst, m.minT)
	dst = z(dst, m.maxT)
	dst = u(dst, uint64(len(nameList)))
	for _, n := range nameList {
		dst = str(dst, n)
	}
	dst = u(dst, uint64(len(m.series)))
	prevKey := ""
	for i := range m.series {
		s := &m.series[i]
		shared := commonPrefix(prevKey, s.key)
		dst = u(dst, uint64(shared))
		dst = str(dst, s.key[shared:])
		prevKey = s.key
		dst = u(dst, uint64(len(s.blocks)))
		prevT := m.minT
		for j := range s.blocks {
			b := &s.blocks[j]
			dst = u(dst, uint64(b.rows))
			dst = z(dst, b.minT-prevT)
			dst = u(dst, uint64(b.maxT-b.minT))
			prevT = b.maxT
			var flags byte
			if b.version.valid() {
				flags |= blockHasVersion
			}
			if !b.time.valid() {
				flags |= blockRegular
			}
			dst = append(dst, flags)
			if b.time.valid() {
				dst = u(dst, b.time.n)
			}
			if b.version.valid() {
				dst = u(dst, b.version.n)
			}
			dst = u(dst, uint64(len(b.cols)))
			for _, c := range b.cols {
				dst = u(dst, uint64(names[c.name]))
				dst = append(dst, byte(c.typ))
				var flags byte
				if c.nulls.valid() {
					flags |= 1
				}
				if c.hasZone {
					flags |= 2
				}
				dst = append(dst, flags)
				dst = u(dst, c.values.n)
				if c.nulls.valid() {
					dst = u(dst, c.nulls.n)
				}
				if c.hasZone {
					if c.typ == ingest.TypeDouble {
						dst = u(dst, zoneFloat(c.zmin))
						dst = u(dst, zoneFloat(c.zmax))
					} else {
						dst = z(dst, int64(c.zmin))
						dst = z(dst, int64(c.zmax))
					}
				}
			}
		}
	}
	return dst
}

func commonPrefix(a, b string) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

// nextRef reads a chunk length and returns the chunk at *off, advancing
// *off; the chunk must end at or before limit.
func (r *indexReader) nextRef(what string, off *uint64, limit uint64) chunkRef {
	n := r.uvarint(what)
	if r.err != nil {
		return chunkRef{}
	}
	if n < 5 || *off > limit || n > limit-*off {
		r.fail(what)
		return chunkRef{}
	}
	c := chunkRef{off: *off, n: n}
	*off += n
	return c
}

// decodeIndexV2 parses the rest of a version 2 index after its version.
func decodeIndexV2(r *indexReader, limit uint64) (*partMeta, error) {
	m, names := readIndexHeader(r)
	nseries := r.count("series count", 4)
	m.series = make([]seriesMeta, 0, nseries)
	var total uint64
	off := uint64(headerSize)
	var key []byte // the current key; series keys are front-coded
	for range nseries {
		if r.err != nil {
			break
		}
		shared := r.uvarint("series key prefix")
		if r.err == nil && shared > uint64(len(key)) {
			r.fail("series key prefix")
		}
		suffix := r.bytes("series key")
		if r.err != nil {
			break
		}
		key = append(key[:shared], suffix...)
		s := seriesMeta{}
		nb := r.count("block count", 6)
		if nb == 0 {
			r.fail("block count")
		}
		prevT := m.minT
		for range nb {
			b := r.blockV2(names, &off, limit, prevT)
			if r.err != nil {
				break
			}
			if n := len(s.blocks); n > 0 && s.blocks[n-1].maxT >= b.minT {
				r.fail("block order")
				break
			}
			prevT = b.maxT
			s.rows += b.rows
			s.blocks = append(s.blocks, b)
		}
		if r.err != nil {
			break
		}
		s.minT, s.maxT = s.blocks[0].minT, s.blocks[len(s.blocks)-1].maxT
		if err := m.addSeries(key, s); err != nil {
			if r.err == nil {
				r.err = err
			}
			break
		}
		total += uint64(s.rows)
	}
	if r.err != nil {
		return nil, r.err
	}
	if len(r.b) != 0 {
		return nil, indexErrorf("%d trailing bytes", len(r.b))
	}
	if off != limit {
		return nil, indexErrorf("chunks end at %d, index starts at %d", off, limit)
	}
	if total != m.rows {
		return nil, indexErrorf("%d rows in series, %d in header", total, m.rows)
	}
	return m, nil
}

// blockV2 reads one block of a version 2 index; prevT is the time its
// minimum time is relative to.
func (r *indexReader) blockV2(names []string, off *uint64, limit uint64, prevT int64) blockMeta {
	b := blockMeta{}
	rows := r.uvarint("block rows")
	if rows == 0 || rows > BlockRows {
		r.fail("block rows")
	}
	b.rows = int(rows)
	b.minT = prevT + r.varint("block min time")
	span := r.uvarint("block time span")
	b.maxT = b.minT + int64(span)
	if span > math.MaxInt64 || b.maxT < b.minT {
		r.fail("block time span")
	}
	flags := r.byte1("block flags")
	if flags > blockHasVersion|blockRegular {
		r.fail("block flags")
	}
	if r.err != nil {
		return b
	}
	if flags&blockRegular == 0 {
		b.time = r.nextRef("time chunk", off, limit)
	} else if b.rows == 1 && span != 0 || b.rows > 1 && (span == 0 || span%uint64(b.rows-1) != 0) {
		r.fail("regular block time span")
	}
	if flags&blockHasVersion != 0 {
		b.version = r.nextRef("version chunk", off, limit)
	}
	nc := r.count("column count", 4)
	for range nc {
		c, ok := r.column(names, func(what string) chunkRef { return r.nextRef(what, off, limit) },
			func(what string) uint64 { return zoneFloat(r.uvarint(what)) })
		if !ok {
			break
		}
		b.cols = append(b.cols, c)
	}
	return b
}
