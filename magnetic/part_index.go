package magnetic

import (
	"encoding/binary"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"weak"

	"github.com/tidaldb/tidal/ingest"
)

// FormatVersion is the part format version this package writes. It also
// reads parts of every earlier version (formatV1).
const FormatVersion = formatV2

// Part format versions. Version 2 changes only the index (implied chunk
// offsets, front-coded series keys, blocks of regular timestamps without a
// time chunk, compact zone maps); chunks are the same in both.
const (
	formatV1 = 1
	formatV2 = 2
)

// Limits of format versions 1 and 2.
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
	// time is zero when the timestamps are regular (format version 2):
	// row i is at minT + i*(maxT-minT)/(rows-1).
	time    chunkRef
	version chunkRef // zero: every version is 1
	cols    []colMeta
}

// colDesc is a column of a series: the union of its blocks' columns.
type colDesc struct {
	name string
	typ  ingest.ValueType
}

// seriesIdent is the identity of a series, parsed from its key. Open parts
// share one per series (internSeries): the same series is in a part of
// every partition and merge level, and its key and dimensions are most of
// what an index entry weighs. Immutable.
type seriesIdent struct {
	key     string
	measure string
	dims    []ingest.Dimension // substrings of key
}

// seriesMeta is one entry of a part's series table.
type seriesMeta struct {
	*seriesIdent
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

func (r *indexReader) str(what string) string { return string(r.bytes(what)) }

// bytes reads a length-prefixed byte string; the result aliases the input.
func (r *indexReader) bytes(what string) []byte {
	n := r.uvarint(what)
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)) {
		r.fail(what)
		return nil
	}
	s := r.b[:n:n]
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

// decodeIndex parses index bytes of a part of the given format version;
// chunk references must end before limit (the index offset).
func decodeIndex(b []byte, limit uint64, version uint32) (*partMeta, error) {
	r := &indexReader{b: b}
	if v := r.uvarint("version"); r.err == nil && v != uint64(version) {
		return nil, fmt.Errorf("decode part index: %w: index version %d in a version %d part", ErrCorrupt, v, version)
	}
	if version == formatV2 {
		return decodeIndexV2(r, limit)
	}
	m, names := readIndexHeader(r)
	nseries := r.count("series count", 5)
	m.series = make([]seriesMeta, 0, nseries)
	var total uint64
	for range nseries {
		if r.err != nil {
			break
		}
		key := r.bytes("series key")
		s := seriesMeta{}
		s.rows = int(min(r.uvarint("series rows"), math.MaxInt32))
		s.minT = r.varint("series min time")
		s.maxT = r.varint("series max time")
		nb := r.count("block count", 7)
		if nb == 0 {
			r.fail("block count")
		}
		blockRows := 0
		for range nb {
			b := r.blockV1(names, limit)
			if r.err != nil {
				break
			}
			if n := len(s.blocks); n > 0 && s.blocks[n-1].maxT >= b.minT {
				r.fail("block order")
				break
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
		if err := m.addSeries(key, s); err != nil {
			return nil, err
		}
		total += uint64(s.rows)
	}
	if r.err != nil {
		return nil, r.err
	}
	if len(r.b) != 0 {
		return nil, indexErrorf("%d trailing bytes", len(r.b))
	}
	if total != m.rows {
		return nil, indexErrorf("%d rows in series, %d in header", total, m.rows)
	}
	return m, nil
}

// indexErrorf returns an ErrCorrupt error about the index.
func indexErrorf(format string, args ...any) error {
	return fmt.Errorf("decode part index: %w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}

// readIndexHeader reads the index fields before the series, the same in
// every format version, and returns the column name table.
func readIndexHeader(r *indexReader) (*partMeta, []string) {
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
	return m, names
}

// addSeries checks that series key comes after the last series, interns
// its identity and appends s with it. A series whose columns equal the
// previous series' shares their slice.
func (m *partMeta) addSeries(key []byte, s seriesMeta) error {
	n := len(m.series)
	if n > 0 && m.series[n-1].key >= string(key) {
		return indexErrorf("bad series order")
	}
	id, err := internSeries(key)
	if err != nil {
		return err
	}
	s.seriesIdent = id
	s.cols = seriesColumns(s.blocks)
	if n > 0 && slices.Equal(s.cols, m.series[n-1].cols) {
		s.cols = m.series[n-1].cols
	}
	m.series = append(m.series, s)
	return nil
}

// idents maps the keys of the series of open parts to their shared
// identity; an entry goes once no part holds the identity.
var idents = struct {
	sync.Mutex
	m map[string]weak.Pointer[seriesIdent]
}{m: map[string]weak.Pointer[seriesIdent]{}}

// internSeries returns the identity of series key, shared with every other
// open part holding the series.
func internSeries(key []byte) (*seriesIdent, error) {
	idents.Lock()
	if wp, ok := idents.m[string(key)]; ok {
		if id := wp.Value(); id != nil {
			idents.Unlock()
			return id, nil
		}
	}
	idents.Unlock()
	k := string(key)
	measure, dims, err := parseSeriesKey(k)
	if err != nil {
		return nil, err
	}
	id := &seriesIdent{key: k, measure: measure, dims: dims}
	idents.Lock()
	if wp, ok := idents.m[k]; ok {
		if old := wp.Value(); old != nil {
			idents.Unlock()
			return old, nil
		}
	}
	idents.m[k] = weak.Make(id)
	idents.Unlock()
	runtime.AddCleanup(id, dropIdent, k)
	return id, nil
}

// dropIdent removes the entry of key once its identity is collected,
// unless a new identity took its place.
func dropIdent(key string) {
	idents.Lock()
	if wp, ok := idents.m[key]; ok && wp.Value() == nil {
		delete(idents.m, key)
	}
	idents.Unlock()
}

// blockV1 reads one block of a version 1 index.
func (r *indexReader) blockV1(names []string, limit uint64) blockMeta {
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
		c, ok := r.column(names, func(what string) chunkRef { return r.ref(what, limit) }, r.u64)
		if !ok {
			break
		}
		b.cols = append(b.cols, c)
	}
	return b
}

// column reads one column's metadata, the same in both index versions
// but for how chunk references and DOUBLE zone bounds are written: ref
// reads a chunk reference, doubleZone a DOUBLE zone bound. It returns
// false when the name index is bad or the reader has already failed.
func (r *indexReader) column(names []string, ref func(what string) chunkRef, doubleZone func(what string) uint64) (colMeta, bool) {
	c := colMeta{}
	ni := r.uvarint("column name index")
	if r.err == nil && ni >= uint64(len(names)) {
		r.fail("column name index")
	}
	if r.err != nil {
		return c, false
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
	c.values = ref("values chunk")
	if flags&1 != 0 {
		c.nulls = ref("null chunk")
	}
	if flags&2 != 0 {
		c.hasZone = true
		switch c.typ {
		case ingest.TypeDouble:
			c.zmin, c.zmax = doubleZone("zone min"), doubleZone("zone max")
		case ingest.TypeBigint, ingest.TypeTimestamp:
			c.zmin, c.zmax = uint64(r.varint("zone min")), uint64(r.varint("zone max"))
		default:
			r.fail("zone map")
		}
	}
	return c, true
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

// parseSeriesKey reverses scan.AppendSeriesKey. The names and values it
// returns are substrings of key, and the dimensions one exact-size slice.
func parseSeriesKey(key string) (string, []ingest.Dimension, error) {
	rest := key
	next := func() (string, bool) {
		n, k := uvarintString(rest)
		if k <= 0 || n > uint64(len(rest)-k) {
			return "", false
		}
		s := rest[k : k+int(n)]
		rest = rest[k+int(n):]
		return s, true
	}
	measure, ok := next()
	if !ok {
		return "", nil, fmt.Errorf("parse series key: %w: bad measure name", ErrCorrupt)
	}
	after := rest
	count := 0
	for len(rest) > 0 {
		_, ok1 := next()
		_, ok2 := next()
		if !ok1 || !ok2 {
			return "", nil, fmt.Errorf("parse series key: %w: bad dimension", ErrCorrupt)
		}
		count++
	}
	if count == 0 {
		return measure, nil, nil
	}
	rest = after
	dims := make([]ingest.Dimension, 0, count)
	for len(rest) > 0 {
		name, _ := next()
		value, _ := next()
		dims = append(dims, ingest.Dimension{Name: name, Value: value})
	}
	return measure, dims, nil
}

// uvarintString is binary.Uvarint over a string.
func uvarintString(s string) (uint64, int) {
	var x uint64
	var shift uint
	for i := 0; i < len(s) && i < binary.MaxVarintLen64; i++ {
		b := s[i]
		if b < 0x80 {
			if i == binary.MaxVarintLen64-1 && b > 1 {
				return 0, -(i + 1)
			}
			return x | uint64(b)<<shift, i + 1
		}
		x |= uint64(b&0x7f) << shift
		shift += 7
	}
	return 0, 0
}
