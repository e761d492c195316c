package memstore

import (
	"encoding/binary"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/query/scan"
)

// seriesKey returns the canonical identity of a series within its table
// (scan.AppendSeriesKey). dims must be sorted.
func seriesKey(dst []byte, measureName string, dims []ingest.Dimension) []byte {
	return scan.AppendSeriesKey(dst, measureName, dims)
}

// A series keeps its identity's bytes once, in its key (seriesKey): its
// measure name and dimensions are decoded from the key where needed, as
// substrings of it, instead of being kept in strings and slices of their
// own (a dimension slice cost ~300 bytes per series).

// nextKeyStr splits the first length-prefixed string off a series key.
func nextKeyStr(key string) (s, rest string) {
	l, w := binary.Uvarint([]byte(key[:min(len(key), binary.MaxVarintLen64)]))
	if w <= 0 || uint64(len(key)-w) < l {
		panic("BUG: malformed series key")
	}
	return key[w : w+int(l)], key[w+int(l):]
}

// keyMeasure returns the measure name a series key holds.
func keyMeasure(key string) string {
	m, _ := nextKeyStr(key)
	return m
}

// keyDimsRest returns the part of a series key after its measure name:
// the dimensions, as name and value pairs.
func keyDimsRest(key string) string {
	_, rest := nextKeyStr(key)
	return rest
}

// nextKeyDim splits the first dimension off the rest of a key (keyDimsRest).
func nextKeyDim(rest string) (d ingest.Dimension, tail string) {
	d.Name, rest = nextKeyStr(rest)
	d.Value, rest = nextKeyStr(rest)
	return d, rest
}

// keyNumDims returns the number of dimensions a series key holds.
func keyNumDims(key string) int {
	n := 0
	for rest := keyDimsRest(key); rest != ""; n++ {
		_, rest = nextKeyDim(rest)
	}
	return n
}

// appendKeyDims appends the dimensions a series key holds to dst.
func appendKeyDims(dst []ingest.Dimension, key string) []ingest.Dimension {
	for rest := keyDimsRest(key); rest != ""; {
		var d ingest.Dimension
		d, rest = nextKeyDim(rest)
		dst = append(dst, d)
	}
	return dst
}

// keyDimValue returns the value of dimension name in a series key and
// whether it is set, without allocating.
func keyDimValue(key, name string) (string, bool) {
	for rest := keyDimsRest(key); rest != ""; {
		var d ingest.Dimension
		d, rest = nextKeyDim(rest)
		if d.Name == name {
			return d.Value, true
		}
	}
	return "", false
}

// dimSlab hands out dimension slices decoded from series keys, carved
// from shared arrays (one allocation for many series). A slice handed out
// is never written again, so a consumer may keep it past the batch that
// carried it.
type dimSlab struct{ buf []ingest.Dimension }

// decode returns the dimensions of a series key (non-nil, even when there
// are none).
func (d *dimSlab) decode(key string) []ingest.Dimension {
	n := keyNumDims(key)
	if d.buf == nil || cap(d.buf)-len(d.buf) < n {
		// Doubling from 16 up to 256 dimensions (8 KiB): a query of a few
		// series allocates little, a scan of many one array per ~25.
		d.buf = make([]ingest.Dimension, 0, max(n, min(256, max(16, 2*cap(d.buf)))))
	}
	start := len(d.buf)
	d.buf = appendKeyDims(d.buf, key)
	return d.buf[start:len(d.buf):len(d.buf)]
}

// sortDims sorts dimensions by name in place (insertion sort: records have
// few dimensions and usually arrive sorted).
func sortDims(dims []ingest.Dimension) {
	for i := 1; i < len(dims); i++ {
		for j := i; j > 0 && dims[j].Name < dims[j-1].Name; j-- {
			dims[j], dims[j-1] = dims[j-1], dims[j]
		}
	}
}

// table is the memstore's state for one catalog table.
type table struct {
	// Immutable after construction.
	id       uint64
	database string
	name     string

	mu sync.RWMutex // Guards everything below.
	// series by canonical key; Append looks a whole batch up under one
	// read lock (no per-record cache: the map lookup with a []byte key does
	// not allocate and was cheaper than fastcache plus the ref map).
	series map[string]*memSeries
	byRef  map[uint64]*memSeries
	// postings: dimension name -> value -> refs in ascending order; the
	// measure name is indexed under scan.ColMeasureName.
	postings map[string]map[string][]uint64
	// schema caches the catalog's column types so that the append path
	// consults the catalog only for new columns.
	schema map[string]schemaCol
	// retention and magnetic-write settings, refreshed from the catalog.
	memoryHours, magneticDays int64
	magneticWrites            bool
	dropped                   bool

	// sorted caches every series in key order for selectSeries, valid
	// while the table holds the same series (see sortedAll).
	sorted atomic.Pointer[sortedSeries]
}

// sortedSeries is a table's series in key order, taken when the table
// held n series and the DB had handed out refs up to gen.
type sortedSeries struct {
	list []*memSeries
	n    int
	gen  uint64
}

type schemaCol struct {
	kind uint8
	typ  ingest.ValueType
}

func newTable(id uint64, database, name string) *table {
	return &table{
		id: id, database: database, name: name,
		series:   map[string]*memSeries{},
		byRef:    map[uint64]*memSeries{},
		postings: map[string]map[string][]uint64{},
		schema:   map[string]schemaCol{},
	}
}

// addSeries indexes s. The caller holds t.mu for writing.
func (t *table) addSeries(s *memSeries) {
	t.series[s.key] = s
	t.byRef[s.ref] = s
	t.post(scan.ColMeasureName, s.measure(), s.ref)
	for rest := keyDimsRest(s.key); rest != ""; {
		var d ingest.Dimension
		d, rest = nextKeyDim(rest)
		t.post(d.Name, d.Value, s.ref)
	}
}

func (t *table) post(name, value string, ref uint64) {
	m := t.postings[name]
	if m == nil {
		m = map[string][]uint64{}
		t.postings[name] = m
	}
	l := m[value]
	// Refs are handed out in ascending order, but replay may define series
	// out of order: keep the list sorted.
	if n := len(l); n == 0 || l[n-1] < ref {
		m[value] = append(l, ref)
		return
	}
	i := sort.Search(len(l), func(i int) bool { return l[i] >= ref })
	if i < len(l) && l[i] == ref {
		return
	}
	m[value] = slices.Insert(l, i, ref)
}

// selectSeries returns the series matching every matcher, in key order. The
// positive matchers (equality, IN) are answered from the postings; the rest
// filter the candidates.
//
// gen is the DB's last handed-out series ref (DB.nextRef): with the
// number of series it tells whether the cached key order still holds (a
// new series has a ref above gen, a removed one changes the count).
func (t *table) selectSeries(where []scan.Matcher, gen uint64) []*memSeries {
	t.mu.RLock()
	defer t.mu.RUnlock()
	var cand []uint64
	have := false
	for i := range where {
		m := &where[i]
		if m.Op != scan.MatchEqual && m.Op != scan.MatchIn {
			continue
		}
		var union []uint64
		if len(m.Values) < scan.LongList || noLongLists {
			for _, v := range m.Values {
				union = mergeRefs(union, t.postings[m.Name][v])
			}
		} else {
			// One sort instead of a merge per value (a join's dynamic
			// filter lists every host of its build side).
			for _, v := range m.Values {
				union = append(union, t.postings[m.Name][v]...)
			}
			slices.Sort(union)
			union = slices.Compact(union)
		}
		if !have {
			cand, have = union, true
		} else {
			cand = intersectRefs(cand, union)
		}
		if len(cand) == 0 {
			return nil
		}
	}
	if !have && len(where) == 0 && !noOrderCache {
		return t.sortedAll(gen) // callers only read it
	}
	var out []*memSeries
	sets := longListSets(where)
	consider := func(s *memSeries) {
		for i := range where {
			m := &where[i]
			var v string
			var ok bool
			if m.Name == scan.ColMeasureName {
				v, ok = s.measure(), true
			} else {
				v, ok = keyDimValue(s.key, m.Name)
			}
			if sets != nil && sets[i] != nil {
				_, in := sets[i][v]
				match := ok && in // MatchIn
				if m.Op == scan.MatchNotIn {
					match = !ok || !in
				}
				if !match {
					return
				}
				continue
			}
			if !m.Matches(v, ok) {
				return
			}
		}
		out = append(out, s)
	}
	// The scan contract wants series in ascending key order: a few
	// candidates are sorted, many are picked from the cached order (which
	// consider checks against every matcher anyway).
	if noOrderCache || have && len(cand)*2 < len(t.byRef) {
		if have {
			for _, ref := range cand {
				consider(t.byRef[ref])
			}
		} else {
			for _, s := range t.byRef {
				consider(s)
			}
		}
		slices.SortFunc(out, func(a, b *memSeries) int { return strings.Compare(a.key, b.key) })
		return out
	}
	for _, s := range t.sortedAll(gen) {
		consider(s)
	}
	return out
}

// noOrderCache makes selectSeries sort its selection on every call, as
// before the cache (benchmarks compare).
var noOrderCache bool

// sortedAll returns every series of t in key order, from the cache when
// it still holds. The caller holds t.mu for reading.
func (t *table) sortedAll(gen uint64) []*memSeries {
	if c := t.sorted.Load(); c != nil && c.n == len(t.byRef) && c.gen == gen {
		return c.list
	}
	list := make([]*memSeries, 0, len(t.byRef))
	for _, s := range t.byRef {
		list = append(list, s)
	}
	slices.SortFunc(list, func(a, b *memSeries) int { return strings.Compare(a.key, b.key) })
	t.sorted.Store(&sortedSeries{list: list, n: len(list), gen: gen})
	return list
}

func dimValue(dims []ingest.Dimension, name string) (string, bool) {
	for _, d := range dims {
		if d.Name == name {
			return d.Value, true
		}
	}
	return "", false
}

// noLongLists turns the long-list paths (scan.ValueSets, postings unioned
// by one sort) off: benchmarks compare.
var noLongLists bool

// longListSets is scan.ValueSets unless the long-list paths are off.
func longListSets(where []scan.Matcher) []map[string]struct{} {
	if noLongLists {
		return nil
	}
	return scan.ValueSets(where)
}

func mergeRefs(a, b []uint64) []uint64 {
	if len(a) == 0 {
		return slices.Clone(b)
	}
	out := make([]uint64, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] < b[j]:
			out = append(out, a[i])
			i++
		case a[i] > b[j]:
			out = append(out, b[j])
			j++
		default:
			out = append(out, a[i])
			i++
			j++
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}

func intersectRefs(a, b []uint64) []uint64 {
	var out []uint64
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] < b[j]:
			i++
		case a[i] > b[j]:
			j++
		default:
			out = append(out, a[i])
			i++
			j++
		}
	}
	return out
}
