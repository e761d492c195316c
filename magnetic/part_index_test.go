package magnetic

import (
	"encoding/binary"
	"errors"
	"math"
	"reflect"
	"slices"
	"testing"

	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/magnetic/encoding"
	"github.com/tidaldb/tidal/query/scan"
)

// appendIndexV1 encodes m in the index layout of format version 1, as
// version 1 writers did: tests use it to check the version 1 reader and to
// measure against version 2. Every block must have a time chunk.
func appendIndexV1(dst []byte, m *partMeta) []byte {
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

	dst = u(dst, formatV1)
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

// layoutChunks gives every chunk of m an offset, back to back from the
// header in index order, as the part writer lays them out, and returns
// where the index starts.
func layoutChunks(m *partMeta) uint64 {
	off := uint64(headerSize)
	next := func(r *chunkRef) {
		if r.valid() {
			r.off = off
			off += r.n
		}
	}
	for i := range m.series {
		for j := range m.series[i].blocks {
			b := &m.series[i].blocks[j]
			next(&b.time)
			next(&b.version)
			for k := range b.cols {
				next(&b.cols[k].values)
				next(&b.cols[k].nulls)
			}
		}
	}
	return off
}

// indexTestMeta returns a part index covering every optional field:
// regular and irregular blocks, versions, NULLs, zone maps of each type,
// several blocks per series and keys sharing prefixes. withTimes gives
// every block a time chunk (version 1 has no regular blocks).
func indexTestMeta(withTimes bool) *partMeta {
	dims := func(host string) []ingest.Dimension {
		return []ingest.Dimension{{Name: "host", Value: host}, {Name: "region", Value: "eu"}}
	}
	key := func(m, host string) string { return string(scan.AppendSeriesKey(nil, m, dims(host))) }
	f := func(v float64) uint64 { return math.Float64bits(v) }
	m := &partMeta{tableID: 7, partStart: 86400e9, created: 86400e9 + 5, creator: "merge", level: 2, order: 9,
		replaces: []string{partName(3), partName(4)}}
	m.series = []seriesMeta{
		{seriesIdent: &seriesIdent{key: key("cpu", "a")}, blocks: []blockMeta{
			{rows: 3, minT: 86400e9, maxT: 86420e9, cols: []colMeta{
				{name: "measure_value", typ: ingest.TypeDouble, values: chunkRef{n: 20}, hasZone: true, zmin: f(0.25), zmax: f(99.5)}}},
			{rows: 4, minT: 86430e9, maxT: 86500e9, time: chunkRef{n: 9}, version: chunkRef{n: 7}, cols: []colMeta{
				{name: "measure_value", typ: ingest.TypeDouble, values: chunkRef{n: 30}, hasZone: true, zmin: f(math.Inf(-1)), zmax: f(-0.1)}}},
		}},
		{seriesIdent: &seriesIdent{key: key("cpu", "b")}, blocks: []blockMeta{
			{rows: 1, minT: 86600e9, maxT: 86600e9, cols: []colMeta{
				{name: "measure_value", typ: ingest.TypeDouble, values: chunkRef{n: 13}}}},
		}},
		{seriesIdent: &seriesIdent{key: key("mem", "b")}, blocks: []blockMeta{
			{rows: 2, minT: 86400e9 + 1, maxT: 86400e9 + 2, cols: []colMeta{
				{name: "free", typ: ingest.TypeBigint, values: chunkRef{n: 12}, nulls: chunkRef{n: 6}, hasZone: true, zmin: uint64(1) << 63, zmax: math.MaxInt64},
				{name: "note", typ: ingest.TypeVarchar, values: chunkRef{n: 8}, nulls: chunkRef{n: 6}},
				{name: "ok", typ: ingest.TypeBoolean, values: chunkRef{n: 5}},
				{name: "seen", typ: ingest.TypeTimestamp, values: chunkRef{n: 10}, hasZone: true, zmin: 5, zmax: 6}}},
		}},
	}
	m.minT, m.maxT = 86400e9, 86600e9
	for i := range m.series {
		s := &m.series[i]
		for j := range s.blocks {
			if withTimes && !s.blocks[j].time.valid() {
				s.blocks[j].time = chunkRef{n: 11}
			}
			s.rows += s.blocks[j].rows
		}
		s.minT, s.maxT = s.blocks[0].minT, s.blocks[len(s.blocks)-1].maxT
		m.rows += uint64(s.rows)
	}
	return m
}

// TestIndexRoundTrip decodes both index versions back to what was
// encoded.
func TestIndexRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name    string
		version uint32
		enc     func([]byte, *partMeta) []byte
	}{
		{"v1", formatV1, appendIndexV1},
		{"v2", formatV2, appendIndex},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := indexTestMeta(tc.version == formatV1)
			limit := layoutChunks(want)
			got, err := decodeIndex(tc.enc(nil, want), limit, tc.version)
			if err != nil {
				t.Fatal(err)
			}
			if len(got.series) != len(want.series) {
				t.Fatalf("%d series, want %d", len(got.series), len(want.series))
			}
			for i := range want.series {
				g, w := got.series[i], want.series[i]
				if g.key != w.key || g.rows != w.rows || g.minT != w.minT || g.maxT != w.maxT || !reflect.DeepEqual(g.blocks, w.blocks) {
					t.Errorf("series %d:\n got %+v\nwant %+v", i, g, w)
				}
				if g.measure != []string{"cpu", "cpu", "mem"}[i] || len(g.dims) != 2 {
					t.Errorf("series %d: measure %q dims %v", i, g.measure, g.dims)
				}
			}
			got.series, want.series = nil, nil
			if !reflect.DeepEqual(got, want) {
				t.Errorf("header:\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

// TestBlockTimesRegular checks the times a block without a time chunk
// stands for.
func TestBlockTimesRegular(t *testing.T) {
	for _, tc := range []struct {
		name string
		b    blockMeta
		want []int64
	}{
		{"one row", blockMeta{rows: 1, minT: -5, maxT: -5}, []int64{-5}},
		{"two rows", blockMeta{rows: 2, minT: 10, maxT: 30}, []int64{10, 30}},
		{"10 s", blockMeta{rows: 4, minT: 1e18, maxT: 1e18 + 30e9}, []int64{1e18, 1e18 + 10e9, 1e18 + 20e9, 1e18 + 30e9}},
		{"1 ns", blockMeta{rows: 3, minT: math.MaxInt64 - 2, maxT: math.MaxInt64}, []int64{math.MaxInt64 - 2, math.MaxInt64 - 1, math.MaxInt64}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := appendRegularTimes(nil, &tc.b); !slices.Equal(got, tc.want) {
				t.Errorf("times %v, want %v", got, tc.want)
			}
			if !regularTimes(tc.want) {
				t.Errorf("regularTimes(%v) = false", tc.want)
			}
		})
	}
	if regularTimes([]int64{0, 10, 21}) {
		t.Error("regularTimes of uneven times = true")
	}
}

// rawIndexV2 hand-builds a version 2 index of one series with one block
// of one DOUBLE column (values chunk of 10 bytes at offset 16), so that
// tests can set fields the writer never writes.
type rawIndexV2 struct {
	version    uint64
	shared     uint64
	rows, span uint64
	flags      byte
	timeLen    uint64
	valuesLen  uint64
	colFlags   byte
	trailing   []byte
	headerRows uint64
}

func (r rawIndexV2) bytes() []byte {
	u := binary.AppendUvarint
	z := binary.AppendVarint
	str := func(b []byte, s string) []byte { return append(u(b, uint64(len(s))), s...) }
	b := u(nil, r.version)
	b = u(b, 1)
	b = z(b, 0)
	b = z(b, 0)
	b = str(b, "flush")
	b = u(b, 0)
	b = u(b, 1)
	b = u(b, 0)
	b = u(b, r.headerRows)
	b = z(b, 1000)
	b = z(b, 1000+int64(r.span))
	b = u(b, 1)
	b = str(b, "measure_value")
	b = u(b, 1)
	b = u(b, r.shared)
	b = str(b, string(scan.AppendSeriesKey(nil, "cpu", nil)))
	b = u(b, 1)
	b = u(b, r.rows)
	b = z(b, 0)
	b = u(b, r.span)
	b = append(b, r.flags)
	if r.flags&blockRegular == 0 {
		b = u(b, r.timeLen)
	}
	b = u(b, 1) // columns
	b = u(b, 0) // name index
	b = append(b, byte(ingest.TypeDouble), r.colFlags)
	b = u(b, r.valuesLen)
	return append(b, r.trailing...)
}

func goodRawIndex() rawIndexV2 {
	return rawIndexV2{version: 2, rows: 3, span: 20, flags: blockRegular, valuesLen: 10, headerRows: 3}
}

func TestDecodeIndexV2Errors(t *testing.T) {
	const limit = headerSize + 10
	if m, err := decodeIndex(goodRawIndex().bytes(), limit, formatV2); err != nil || m.series[0].blocks[0].cols[0].values != (chunkRef{off: headerSize, n: 10}) {
		t.Fatalf("good raw index: %v, %+v", err, m)
	}
	for _, tc := range []struct {
		name  string
		edit  func(r *rawIndexV2)
		limit uint64
	}{
		{"index version 1 in a version 2 part", func(r *rawIndexV2) { r.version = 1 }, limit},
		{"shared prefix without a previous key", func(r *rawIndexV2) { r.shared = 1 }, limit},
		{"regular span not a multiple of the step", func(r *rawIndexV2) { r.span = 21 }, limit},
		{"regular rows at one time", func(r *rawIndexV2) { r.span = 0 }, limit},
		{"regular single row with a span", func(r *rawIndexV2) { r.rows, r.headerRows = 1, 1 }, limit},
		{"unknown block flag", func(r *rawIndexV2) { r.flags |= 4 }, limit},
		{"time chunk shorter than a CRC", func(r *rawIndexV2) { r.flags, r.timeLen = 0, 4 }, limit + 4},
		{"chunk past the index", func(r *rawIndexV2) { r.valuesLen = 11 }, limit},
		{"chunks end before the index", func(r *rawIndexV2) {}, limit + 1},
		{"unknown column flag", func(r *rawIndexV2) { r.colFlags = 4 }, limit},
		{"zone map cut short", func(r *rawIndexV2) { r.colFlags = 2 }, limit},
		{"trailing bytes", func(r *rawIndexV2) { r.trailing = []byte{0} }, limit},
		{"row count mismatch", func(r *rawIndexV2) { r.headerRows = 4 }, limit},
		{"no rows", func(r *rawIndexV2) { r.rows, r.span, r.headerRows = 0, 0, 0 }, limit},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := goodRawIndex()
			tc.edit(&r)
			if _, err := decodeIndex(r.bytes(), tc.limit, formatV2); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("got %v, want ErrCorrupt", err)
			}
		})
	}
}

// BenchmarkPartIndex encodes and decodes the index of one day of TSBS cpu
// data (BenchmarkWritePart's part) in both versions, in the same run, and
// reports its size per sample after compression as parts store it. The
// version 1 index gets the 22-byte time chunk per block that version 1
// parts carried (part bytes are not counted here, only the index).
func BenchmarkPartIndex(b *testing.B) {
	cat, id := newCatalog(b)
	s, err := Open(Options{PartitionWidth: DefaultPartitionWidth, Dir: b.TempDir(), Catalog: cat})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if _, err := s.WritePart(b.Context(), id, tsbsSlice(0, benchRows)); err != nil {
		b.Fatal(err)
	}
	var p *part
	for _, pt := range s.tables[id] {
		p = pt.parts[0]
	}
	for _, tc := range []struct {
		name    string
		version uint32
		enc     func([]byte, *partMeta) []byte
	}{
		{"v1", formatV1, appendIndexV1},
		{"v2", formatV2, appendIndex},
	} {
		m := *p.meta
		m.series = slices.Clone(m.series)
		for i := range m.series {
			m.series[i].blocks = slices.Clone(m.series[i].blocks)
			for j := range m.series[i].blocks {
				if tc.version == formatV1 && !m.series[i].blocks[j].time.valid() {
					m.series[i].blocks[j].time = chunkRef{n: 22}
				}
			}
		}
		limit := layoutChunks(&m)
		env := encoding.Compress(nil, tc.enc(nil, &m), encoding.Auto)
		b.Run(tc.name+"/encode", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkIndex = encoding.Compress(sinkIndex[:0], tc.enc(nil, &m), encoding.Auto)
			}
			b.ReportMetric(float64(len(env))/benchSamples, "B/sample")
		})
		b.Run(tc.name+"/decode", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				idx, err := encoding.Decompress(nil, env)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := decodeIndex(idx, limit, tc.version); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(env))/benchSamples, "B/sample")
		})
	}
}

var sinkIndex []byte
