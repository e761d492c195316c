// Package tombstone owns deletions: the durable list of tombstones (a
// table, series matchers and a time range) that SQL DELETE statements and
// the Prometheus delete_series API create, the scan filter that hides their
// rows from every reader at once, and the cleaner that drops a tombstone
// once no tier holds a row it matches.
//
// Both tiers read the same Set: queries through Source, which wraps the
// merge of the tiers; the magnetic tier when it writes a part (flushes,
// merges and the rewrites the cleaner asks for), so rows of a tombstone
// never reach a new part. The memory tier keeps its rows until they age
// out; the filter hides them meanwhile and the flush drops them.
//
// The list lives in one JSON file replaced atomically (fileutil
// WriteFileAtomic) before a deletion is acknowledged, so it survives a
// restart and kill -9.
package tombstone

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tidaldb/tidal/internal/fileutil"
	"github.com/tidaldb/tidal/query/scan"
)

// Op is the comparison of a Matcher, spelled as it is stored.
type Op string

// Matcher operations. Equal, NotEqual, In, NotIn, Prefix, Present and
// Absent mean what the scan.MatchOp of the same name means; Regexp and
// NotRegexp are Prometheus's =~ and !~: a fully anchored RE2 (dot matching
// newlines) against the value, a missing dimension counting as the empty
// string.
const (
	OpEqual     Op = "="
	OpNotEqual  Op = "!="
	OpIn        Op = "in"
	OpNotIn     Op = "not_in"
	OpPrefix    Op = "prefix"
	OpPresent   Op = "present"
	OpAbsent    Op = "absent"
	OpRegexp    Op = "=~"
	OpNotRegexp Op = "!~"
)

// Matcher is a predicate on one dimension, or on measure_name when Name is
// scan.ColMeasureName.
type Matcher struct {
	Name   string   `json:"name"`
	Op     Op       `json:"op"`
	Values []string `json:"values,omitempty"`

	re *regexp.Regexp // Regexp and NotRegexp, compiled by check
}

// check validates m and compiles its expression.
func (m *Matcher) check() error {
	if m.Name == "" {
		return errors.New("matcher without a name")
	}
	switch m.Op {
	case OpEqual, OpNotEqual, OpPrefix:
		if len(m.Values) != 1 {
			return fmt.Errorf("matcher %s %s needs one value, has %d", m.Name, m.Op, len(m.Values))
		}
	case OpIn, OpNotIn:
		if len(m.Values) == 0 {
			return fmt.Errorf("matcher %s %s needs values", m.Name, m.Op)
		}
	case OpPresent, OpAbsent:
		if len(m.Values) != 0 {
			return fmt.Errorf("matcher %s %s takes no value", m.Name, m.Op)
		}
	case OpRegexp, OpNotRegexp:
		if len(m.Values) != 1 {
			return fmt.Errorf("matcher %s %s needs one value, has %d", m.Name, m.Op, len(m.Values))
		}
		re, err := regexp.Compile("^(?s:" + m.Values[0] + ")$")
		if err != nil {
			return fmt.Errorf("compile matcher %s: %w", m.Name, err)
		}
		m.re = re
	default:
		return fmt.Errorf("matcher %s: unknown operation %q", m.Name, m.Op)
	}
	return nil
}

// Matches reports whether a series whose dimension has value v (ok false
// when the series lacks it) satisfies m. m must have been checked (every
// Matcher of a Tombstone from a Set has been).
func (m *Matcher) Matches(v string, ok bool) bool {
	switch m.Op {
	case OpEqual:
		return ok && v == m.Values[0]
	case OpNotEqual:
		return !ok || v != m.Values[0]
	case OpIn:
		return ok && slices.Contains(m.Values, v)
	case OpNotIn:
		return !ok || !slices.Contains(m.Values, v)
	case OpPrefix:
		return ok && strings.HasPrefix(v, m.Values[0])
	case OpPresent:
		return ok
	case OpAbsent:
		return !ok
	case OpRegexp:
		return m.re != nil && m.re.MatchString(v)
	case OpNotRegexp:
		return m.re != nil && !m.re.MatchString(v)
	}
	return false
}

// Pushdown returns m as a scan matcher, false when the scan contract cannot
// express it (regular expressions).
func (m *Matcher) Pushdown() (scan.Matcher, bool) {
	ops := map[Op]scan.MatchOp{OpEqual: scan.MatchEqual, OpNotEqual: scan.MatchNotEqual, OpIn: scan.MatchIn,
		OpNotIn: scan.MatchNotIn, OpPrefix: scan.MatchPrefix, OpPresent: scan.MatchPresent, OpAbsent: scan.MatchAbsent}
	op, ok := ops[m.Op]
	if !ok {
		return scan.Matcher{}, false
	}
	return scan.Matcher{Name: m.Name, Op: op, Values: m.Values}, true
}

// Tombstone deletes the rows of the series of one table that match every
// matcher, with time in [MinTime, MaxTime].
type Tombstone struct {
	// ID orders tombstones; assigned by Set.Add, never reused.
	ID uint64 `json:"id"`
	// TableID is the catalog ID of the table: a table dropped and created
	// again under the same name does not inherit its tombstones.
	TableID  uint64 `json:"table_id"`
	Database string `json:"database"`
	Table    string `json:"table"`
	// Where is ANDed; empty deletes every series.
	Where []Matcher `json:"where,omitempty"`
	// MinTime and MaxTime bound the deleted times, inclusive, in ns.
	MinTime int64 `json:"min_time"`
	MaxTime int64 `json:"max_time"`
	// Created is when the deletion was acknowledged (ns).
	Created int64 `json:"created"`
}

// MatchesSeries reports whether the tombstone's matchers select s.
func (t *Tombstone) MatchesSeries(s *scan.Series) bool {
	for i := range t.Where {
		m := &t.Where[i]
		var v string
		var ok bool
		if m.Name == scan.ColMeasureName {
			v, ok = s.MeasureName, true
		} else {
			v, ok = s.Dimension(m.Name)
		}
		if !m.Matches(v, ok) {
			return false
		}
	}
	return true
}

// Request is the scan request for the rows t deletes (matchers it cannot
// push down are left out: the caller checks MatchesSeries).
func (t *Tombstone) Request() *scan.Request {
	req := &scan.Request{Database: t.Database, Table: t.Table, MinTime: t.MinTime, MaxTime: t.MaxTime, Columns: []string{}}
	for i := range t.Where {
		if m, ok := t.Where[i].Pushdown(); ok {
			req.Where = append(req.Where, m)
		}
	}
	return req
}

// Validate checks t and compiles its regular expressions; Set.Add does it,
// and a tombstone must be validated before MatchesSeries is used.
func (t *Tombstone) Validate() error { return t.check() }

func (t *Tombstone) check() error {
	if t.MinTime > t.MaxTime {
		return fmt.Errorf("tombstone %d: empty time range [%d, %d]", t.ID, t.MinTime, t.MaxTime)
	}
	for i := range t.Where {
		if err := t.Where[i].check(); err != nil {
			return fmt.Errorf("tombstone %d: %w", t.ID, err)
		}
	}
	return nil
}

// Range is an inclusive time range in ns.
type Range struct{ Min, Max int64 }

// Table is the tombstones of one table at one moment; nil has none.
type Table struct{ ts []*Tombstone }

// Ranges returns the deleted time ranges of series s: ascending, disjoint
// and not adjacent; nil when nothing of s is deleted.
func (d *Table) Ranges(s *scan.Series) []Range {
	if d == nil {
		return nil
	}
	var rs []Range
	for _, t := range d.ts {
		if t.MatchesSeries(s) {
			rs = append(rs, Range{t.MinTime, t.MaxTime})
		}
	}
	return normalize(rs)
}

// Len is the number of tombstones.
func (d *Table) Len() int {
	if d == nil {
		return 0
	}
	return len(d.ts)
}

func normalize(rs []Range) []Range {
	if len(rs) < 2 {
		return rs
	}
	slices.SortFunc(rs, func(a, b Range) int {
		if a.Min < b.Min {
			return -1
		}
		if a.Min > b.Min {
			return 1
		}
		return 0
	})
	out := rs[:1]
	for _, r := range rs[1:] {
		last := &out[len(out)-1]
		if last.Max == math.MaxInt64 || r.Min <= last.Max+1 {
			last.Max = max(last.Max, r.Max)
			continue
		}
		out = append(out, r)
	}
	return out
}

// Deleted reports whether time t falls in one of rs (as Ranges returns
// them).
func Deleted(rs []Range, t int64) bool {
	i, _ := slices.BinarySearchFunc(rs, t, func(r Range, t int64) int {
		if r.Max < t {
			return -1
		}
		if r.Min > t {
			return 1
		}
		return 0
	})
	return i < len(rs) && rs[i].Min <= t && t <= rs[i].Max
}

// Overlaps reports whether [lo, hi] meets one of rs.
func Overlaps(rs []Range, lo, hi int64) bool {
	for _, r := range rs {
		if r.Min <= hi && lo <= r.Max {
			return true
		}
	}
	return false
}

// Filter returns the rows of b whose time is in none of rs: b itself when
// none is deleted, else a new batch (b is not modified; its Series is
// shared). The result may have no rows.
func Filter(b *scan.Batch, rs []Range) *scan.Batch {
	n := len(b.Time)
	if len(rs) == 0 || n == 0 || !Overlaps(rs, b.Time[0], b.Time[n-1]) {
		return b
	}
	// The kept rows are runs between the deleted ranges (times ascend).
	var keep [][2]int
	next := 0
	for _, r := range rs {
		lo := next + sort.Search(n-next, func(i int) bool { return b.Time[next+i] >= r.Min })
		hi := lo + sort.Search(n-lo, func(i int) bool { return b.Time[lo+i] > r.Max })
		if lo > next {
			keep = append(keep, [2]int{next, lo})
		}
		next = hi
		if next == n {
			break
		}
	}
	if next < n {
		keep = append(keep, [2]int{next, n})
	}
	if len(keep) == 1 && keep[0] == [2]int{0, n} {
		return b
	}
	out := &scan.Batch{Series: b.Series, Time: pick(b.Time, keep), Columns: make([]scan.Column, len(b.Columns))}
	if b.Version != nil {
		out.Version = pick(b.Version, keep)
	}
	for i := range b.Columns {
		c := &b.Columns[i]
		oc := &out.Columns[i]
		oc.Name, oc.Type = c.Name, c.Type
		oc.F, oc.I, oc.S, oc.B = pick(c.F, keep), pick(c.I, keep), pick(c.S, keep), pick(c.B, keep)
		oc.Null = pick(c.Null, keep)
	}
	return out
}

// pick copies the runs keep of src (nil stays nil; a run past a short
// slice is cut).
func pick[T any](src []T, keep [][2]int) []T {
	if src == nil {
		return nil
	}
	total := 0
	for _, k := range keep {
		total += k[1] - k[0]
	}
	out := make([]T, 0, total)
	for _, k := range keep {
		lo, hi := min(k[0], len(src)), min(k[1], len(src))
		out = append(out, src[lo:hi]...)
	}
	return out
}

// Options configures Open.
type Options struct {
	// Dir holds the tombstone file; created if missing. Required.
	Dir string
	// FS is the file system the file is written through (default
	// fileutil.OS).
	FS fileutil.FS
	// Now is the clock of Created (default time.Now).
	Now func() time.Time
}

// fileName is the tombstone file in Options.Dir.
const fileName = FileName

// FileName is the name of the tombstone list in its directory.
const FileName = "tombstones.json"

// Set is the live tombstones of a server. Safe for concurrent use.
type Set struct {
	fs   fileutil.FS
	path string
	now  func() time.Time

	writeMu sync.Mutex // Serialises Add and Remove (file writes).

	mu      sync.RWMutex // Guards everything below.
	list    []*Tombstone // ascending ID; entries are immutable
	byTable map[uint64]*Table
	lastID  uint64
}

// Open loads the tombstones of opts.Dir.
func Open(opts Options) (*Set, error) {
	if opts.Dir == "" {
		return nil, errors.New("open tombstones: Options.Dir is empty")
	}
	s := &Set{fs: opts.FS, path: filepath.Join(opts.Dir, fileName), now: opts.Now}
	if s.fs == nil {
		s.fs = fileutil.OS
	}
	if s.now == nil {
		s.now = time.Now
	}
	if err := fileutil.MkdirAll(s.fs, opts.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("open tombstones: %w", err)
	}
	b, err := fileutil.ReadFile(s.fs, s.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("open tombstones: %w", err)
	default:
		f, err := Decode(b)
		if err != nil {
			return nil, fmt.Errorf("open tombstones %s: %w", s.path, err)
		}
		s.lastID = f.LastID
		s.publish(f.Tombstones)
	}
	return s, nil
}

// File is the stored form of a Set.
type File struct {
	Version    int          `json:"version"`
	LastID     uint64       `json:"last_id"`
	Tombstones []*Tombstone `json:"tombstones"`
}

const fileVersion = 1

// Decode parses and validates a tombstone file.
func Decode(b []byte) (*File, error) {
	var f File
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("decode tombstones: %w", err)
	}
	if f.Version != fileVersion {
		return nil, fmt.Errorf("decode tombstones: unsupported version %d", f.Version)
	}
	var prev uint64
	for _, t := range f.Tombstones {
		if t == nil {
			return nil, errors.New("decode tombstones: null entry")
		}
		if t.ID <= prev || t.ID > f.LastID {
			return nil, fmt.Errorf("decode tombstones: id %d out of order (last %d)", t.ID, f.LastID)
		}
		prev = t.ID
		if err := t.check(); err != nil {
			return nil, fmt.Errorf("decode tombstones: %w", err)
		}
	}
	return &f, nil
}

// publish installs list (ascending ID). Callers hold mu or own s.
func (s *Set) publish(list []*Tombstone) {
	s.list = list
	s.byTable = map[uint64]*Table{}
	for _, t := range list {
		d := s.byTable[t.TableID]
		if d == nil {
			d = &Table{}
			s.byTable[t.TableID] = d
		}
		d.ts = append(d.ts, t)
	}
}

// save writes list as the file. Callers hold writeMu.
func (s *Set) save(lastID uint64, list []*Tombstone) error {
	b, err := json.MarshalIndent(File{Version: fileVersion, LastID: lastID, Tombstones: list}, "", " ")
	if err != nil {
		return fmt.Errorf("encode tombstones: %w", err)
	}
	if err := fileutil.WriteFileAtomic(s.fs, s.path, b, 0o644); err != nil {
		return fmt.Errorf("save tombstones: %w", err)
	}
	return nil
}

// Add validates ts, gives them IDs and Created, makes them durable and
// then visible to every scan; it returns them as stored.
func (s *Set) Add(ts []Tombstone) ([]Tombstone, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.mu.RLock()
	lastID, list := s.lastID, slices.Clone(s.list)
	s.mu.RUnlock()
	now := s.now().UnixNano()
	out := make([]Tombstone, len(ts))
	for i := range ts {
		t := ts[i]
		t.Where = slices.Clone(t.Where)
		lastID++
		t.ID, t.Created = lastID, now
		if err := t.check(); err != nil {
			return nil, fmt.Errorf("add tombstone: %w", err)
		}
		list = append(list, &t)
		out[i] = t
	}
	if err := s.save(lastID, list); err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.lastID = lastID
	s.publish(list)
	s.mu.Unlock()
	return out, nil
}

// Remove drops the tombstones with the given IDs, durably.
func (s *Set) Remove(ids []uint64) error {
	if len(ids) == 0 {
		return nil
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.mu.RLock()
	lastID := s.lastID
	list := slices.DeleteFunc(slices.Clone(s.list), func(t *Tombstone) bool { return slices.Contains(ids, t.ID) })
	s.mu.RUnlock()
	if err := s.save(lastID, list); err != nil {
		return err
	}
	s.mu.Lock()
	s.publish(list)
	s.mu.Unlock()
	return nil
}

// List returns the live tombstones, ascending by ID.
func (s *Set) List() []Tombstone {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Tombstone, len(s.list))
	for i, t := range s.list {
		out[i] = *t
	}
	return out
}

// Len is the number of live tombstones.
func (s *Set) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.list)
}

// LastID is the ID of the newest tombstone ever added (0: none).
func (s *Set) LastID() uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.lastID
}

// Table returns the tombstones of table tableID now; nil when it has none.
func (s *Set) Table(tableID uint64) *Table {
	if s == nil {
		return nil
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.byTable[tableID]
}
