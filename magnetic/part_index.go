package magnetic

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"github.com/tidaldb/tidal/ingest"
)

// FormatVersion is the part format version this package writes. It reads
// only this version.
const FormatVersion = 1

// Limits of format version 1.
const (
	// BlockRows is the largest number of rows in one column block.
	BlockRows   = 8192
	headerSize  = 16
	footerSize  = 32
	headerMagic = "TIDALPRT"
	footerMagic = "TIDALEND"
)

// chunkRef locates one chunk (envelope and CRC) in a part file.
type chunkRef struct {
	off, n uint64
}

func (c chunkRef) valid() bool { return c.n > 0 }

// colMeta describes one column of one block.
type colMeta struct {
	name    string
	typ     ingest.ValueType
	values  chunkRef
	nulls   chunkRef // zero: no NULLs in this block
	hasZone bool
	// zmin and zmax are float64 bits for DOUBLE, int64 for BIGINT and
	// TIMESTAMP.
	zmin, zmax uint64
}

// blockMeta describes up to BlockRows rows of one series.
type blockMeta struct {
	rows       int
	minT, maxT int64
	time       chunkRef
	version    chunkRef // zero: every version is 1
	cols       []colMeta
}

// colDesc is a column of a series: the union of its blocks' columns.
type colDesc struct {
	name string
	typ  ingest.ValueType
}

// seriesMeta is one entry of a part's series table.
type seriesMeta struct {
	key        string
	measure    string
	dims       []ingest.Dimension
	rows       int
	minT, maxT int64
	blocks     []blockMeta
	cols       []colDesc // sorted by name; derived, not stored
}

// partMeta is the decoded index of a part.
type partMeta struct {
	tableID    uint64
	partStart  int64
	created    int64
	creator    string
	level      uint64
	order      uint64
	replaces   []string
	rows       uint64
	minT, maxT int64
	series     []seriesMeta
}

// appendIndex encodes m in the index layout of format version 1.
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
	ref := func(b []byte, r chunkRef) []byte { return u(u(b, r.off), r.n) }

	dst = u(dst, FormatVersion)
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
	for i := range m.series {
		s := &m.series[i]
		dst = str(dst, s.key)
		dst = u(dst, uint64(s.rows))
		dst = z(dst, s.minT)
		dst = z(dst, s.maxT)
		dst = u(dst, uint64(len(s.blocks)))
		for j := range s.blocks {
			b := &s.blocks[j]
			dst = u(dst, uint64(b.rows))
			dst = z(dst, b.minT)
			dst = u(dst, uint64(b.maxT-b.minT))
			dst = ref(dst, b.time)
			if b.version.valid() {
				dst = append(dst, 1)
				dst = ref(dst, b.version)
			} else {
				dst = append(dst, 0)
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
				dst = ref(dst, c.values)
				if c.nulls.valid() {
					dst = ref(dst, c.nulls)
				}
				if c.hasZone {
					if c.typ == ingest.TypeDouble {
						dst = binary.LittleEndian.AppendUint64(dst, c.zmin)
						dst = binary.LittleEndian.AppendUint64(dst, c.zmax)
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

// indexReader decodes the index; the first error sticks.
type indexReader struct {
	b   []byte
	err error
}

func (r *indexReader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("decode part index: %w: bad %s", ErrCorrupt, what)
	}
	r.b = nil
}

func (r *indexReader) uvarint(what string) uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail(what)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *indexReader) varint(what string) int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail(what)
		return 0
	}
	r.b = r.b[n:]
	return v
}

// count reads a uvarint that counts items of at least minBytes each, and
// rejects counts the remaining input cannot hold, so that a corrupt count
// never drives a large allocation.
func (r *indexReader) count(what string, minBytes int) int {
	v := r.uvarint(what)
	if r.err != nil {
		return 0
	}
	if v > uint64(len(r.b)/minBytes) {
		r.fail(what)
		return 0
	}
	return int(v)
}

func (r *indexReader) byte1(what string) byte {
	if r.err != nil {
		return 0
	}
	if len(r.b) < 1 {
		r.fail(what)
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *indexReader) u64(what string) uint64 {
	if r.err != nil {
		return 0
	}
	if len(r.b) < 8 {
		r.fail(what)
		return 0
	}
	v := binary.LittleEndian.Uint64(r.b)
	r.b = r.b[8:]
	return v
}

func (r *indexReader) str(what string) string {
	n := r.uvarint(what)
	if r.err != nil {
		return ""
	}
	if n > uint64(len(r.b)) {
		r.fail(what)
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

// ref reads a chunk reference and checks it lies in [headerSize, limit).
func (r *indexReader) ref(what string, limit uint64) chunkRef {
	c := chunkRef{off: r.uvarint(what), n: r.uvarint(what)}
	if r.err != nil {
		return chunkRef{}
	}
	if c.off < headerSize || c.n < 5 || c.off > limit || c.n > limit-c.off {
		r.fail(what)
		return chunkRef{}
	}
	return c
}

// decodeIndex parses index bytes; chunk references must end before limit
// (the index offset).
func decodeIndex(b []byte, limit uint64) (*partMeta, error) {
	r := &indexReader{b: b}
	if v := r.uvarint("version"); r.err == nil && v != FormatVersion {
		return nil, fmt.Errorf("decode part index: %w: %d", ErrUnsupportedVersion, v)
	}
	m := &partMeta{}
	m.tableID = r.uvarint("table id")
	m.partStart = r.varint("partition start")
	m.created = r.varint("created")
	m.creator = r.str("creator")
	m.level = r.uvarint("level")
	m.order = r.uvarint("order")
	nrep := r.count("replaces", 1)
	for range nrep {
		m.replaces = append(m.replaces, r.str("replaced part"))
	}
	m.rows = r.uvarint("rows")
	m.minT = r.varint("min time")
	m.maxT = r.varint("max time")
	nnames := r.count("name table", 1)
	names := make([]string, 0, nnames)
	for range nnames {
		names = append(names, r.str("column name"))
	}
	nseries := r.count("series count", 5)
	m.series = make([]seriesMeta, 0, nseries)
	var total uint64
	for range nseries {
		if r.err != nil {
			break
		}
		s := seriesMeta{key: r.str("series key")}
		s.rows = int(min(r.uvarint("series rows"), math.MaxInt32))
		s.minT = r.varint("series min time")
		s.maxT = r.varint("series max time")
		nb := r.count("block count", 7)
		if nb == 0 {
			r.fail("block count")
		}
		blockRows := 0
		for range nb {
			b := blockMeta{}
			rows := r.uvarint("block rows")
			if rows == 0 || rows > BlockRows {
				r.fail("block rows")
			}
			b.rows = int(rows)
			b.minT = r.varint("block min time")
			span := r.uvarint("block time span")
			b.maxT = b.minT + int64(span)
			if span > math.MaxInt64 || b.maxT < b.minT {
				r.fail("block time span")
			}
			b.time = r.ref("time chunk", limit)
			if flags := r.byte1("block flags"); flags&1 != 0 {
				b.version = r.ref("version chunk", limit)
			} else if flags != 0 {
				r.fail("block flags")
			}
			nc := r.count("column count", 5)
			for range nc {
				c := colMeta{}
				ni := r.uvarint("column name index")
				if r.err == nil && ni >= uint64(len(names)) {
					r.fail("column name index")
				}
				if r.err != nil {
					break
				}
				c.name = names[ni]
				c.typ = ingest.ValueType(r.byte1("column type"))
				if c.typ < ingest.TypeDouble || c.typ > ingest.TypeTimestamp {
					r.fail("column type")
				}
				flags := r.byte1("column flags")
				if flags > 3 {
					r.fail("column flags")
				}
				c.values = r.ref("values chunk", limit)
				if flags&1 != 0 {
					c.nulls = r.ref("null chunk", limit)
				}
				if flags&2 != 0 {
					c.hasZone = true
					switch c.typ {
					case ingest.TypeDouble:
						c.zmin, c.zmax = r.u64("zone min"), r.u64("zone max")
					case ingest.TypeBigint, ingest.TypeTimestamp:
						c.zmin, c.zmax = uint64(r.varint("zone min")), uint64(r.varint("zone max"))
					default:
						r.fail("zone map")
					}
				}
				b.cols = append(b.cols, c)
			}
			if r.err != nil {
				break
			}
			if n := len(s.blocks); n > 0 && s.blocks[n-1].maxT >= b.minT {
				r.fail("block order")
			}
			blockRows += b.rows
			s.blocks = append(s.blocks, b)
		}
		if r.err != nil {
			break
		}
		if blockRows != s.rows || s.blocks[0].minT != s.minT || s.blocks[len(s.blocks)-1].maxT != s.maxT {
			r.fail("series summary")
			break
		}
		if n := len(m.series); n > 0 && m.series[n-1].key >= s.key {
			r.fail("series order")
			break
		}
		measure, dims, err := parseSeriesKey(s.key)
		if err != nil {
			return nil, err
		}
		s.measure, s.dims = measure, dims
		s.cols = seriesColumns(s.blocks)
		total += uint64(s.rows)
		m.series = append(m.series, s)
	}
	if r.err != nil {
		return nil, r.err
	}
	if len(r.b) != 0 {
		return nil, fmt.Errorf("decode part index: %w: %d trailing bytes", ErrCorrupt, len(r.b))
	}
	if total != m.rows {
		return nil, fmt.Errorf("decode part index: %w: %d rows in series, %d in header", ErrCorrupt, total, m.rows)
	}
	return m, nil
}

// seriesColumns returns the union of the blocks' columns sorted by name;
// the first type seen for a name wins.
func seriesColumns(blocks []blockMeta) []colDesc {
	var out []colDesc
	for _, b := range blocks {
		for _, c := range b.cols {
			if !slices.ContainsFunc(out, func(d colDesc) bool { return d.name == c.name }) {
				out = append(out, colDesc{name: c.name, typ: c.typ})
			}
		}
	}
	slices.SortFunc(out, func(a, b colDesc) int {
		switch {
		case a.name < b.name:
			return -1
		case a.name > b.name:
			return 1
		}
		return 0
	})
	return out
}

// parseSeriesKey reverses scan.AppendSeriesKey.
func parseSeriesKey(key string) (string, []ingest.Dimension, error) {
	b := []byte(key)
	next := func() (string, bool) {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return "", false
		}
		s := string(b[k : k+int(n)])
		b = b[k+int(n):]
		return s, true
	}
	measure, ok := next()
	if !ok {
		return "", nil, fmt.Errorf("parse series key: %w: bad measure name", ErrCorrupt)
	}
	var dims []ingest.Dimension
	for len(b) > 0 {
		name, ok1 := next()
		value, ok2 := next()
		if !ok1 || !ok2 {
			return "", nil, fmt.Errorf("parse series key: %w: bad dimension", ErrCorrupt)
		}
		dims = append(dims, ingest.Dimension{Name: name, Value: value})
	}
	return measure, dims, nil
}
