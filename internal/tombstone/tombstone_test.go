package tombstone

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/internal/fileutil"
	"github.com/tidaldb/tidal/query/scan"
)

func series(measure string, dims ...string) scan.Series {
	s := scan.Series{MeasureName: measure}
	for i := 0; i+1 < len(dims); i += 2 {
		s.Dimensions = append(s.Dimensions, ingest.Dimension{Name: dims[i], Value: dims[i+1]})
	}
	s.Key = string(scan.AppendSeriesKey(nil, measure, s.Dimensions))
	return s
}

func batch(s scan.Series, times ...int64) *scan.Batch {
	b := &scan.Batch{Series: s, Time: times, Columns: []scan.Column{{Name: scan.ColMeasureValue, Type: ingest.TypeDouble}}}
	for _, t := range times {
		b.Columns[0].F = append(b.Columns[0].F, float64(t))
	}
	return b
}

func TestMatcher(t *testing.T) {
	for _, c := range []struct {
		m    Matcher
		v    string
		ok   bool
		want bool
	}{
		{Matcher{Op: OpEqual, Values: []string{"a"}}, "a", true, true},
		{Matcher{Op: OpEqual, Values: []string{"a"}}, "", false, false},
		{Matcher{Op: OpNotEqual, Values: []string{"a"}}, "", false, true},
		{Matcher{Op: OpIn, Values: []string{"a", "b"}}, "b", true, true},
		{Matcher{Op: OpNotIn, Values: []string{"a", "b"}}, "c", true, true},
		{Matcher{Op: OpPrefix, Values: []string{"we"}}, "web", true, true},
		{Matcher{Op: OpPresent}, "", false, false},
		{Matcher{Op: OpAbsent}, "", false, true},
		{Matcher{Op: OpRegexp, Values: []string{"a|b"}}, "b", true, true},
		{Matcher{Op: OpRegexp, Values: []string{"a|b"}}, "ab", true, false}, // anchored
		{Matcher{Op: OpRegexp, Values: []string{".*"}}, "", false, true},    // missing is ""
		{Matcher{Op: OpNotRegexp, Values: []string{"a.*"}}, "xyz", true, true},
	} {
		m := c.m
		m.Name = "d"
		if err := m.check(); err != nil {
			t.Fatal(err)
		}
		if got := m.Matches(c.v, c.ok); got != c.want {
			t.Errorf("%+v on (%q, %v) = %v, want %v", c.m, c.v, c.ok, got, c.want)
		}
	}
	for _, bad := range []Matcher{{Name: "d", Op: OpEqual}, {Name: "d", Op: OpRegexp, Values: []string{"("}},
		{Name: "d", Op: "~~", Values: []string{"x"}}, {Op: OpPresent}, {Name: "d", Op: OpAbsent, Values: []string{"x"}}} {
		if err := bad.check(); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

func TestRangesAndFilter(t *testing.T) {
	d := &Table{ts: []*Tombstone{
		{MinTime: 10, MaxTime: 20, Where: []Matcher{{Name: "host", Op: OpEqual, Values: []string{"a"}}}},
		{MinTime: 21, MaxTime: 30},
		{MinTime: 50, MaxTime: 60, Where: []Matcher{{Name: "host", Op: OpEqual, Values: []string{"b"}}}},
	}}
	a, b := series("cpu", "host", "a"), series("cpu", "host", "b")
	if got, want := d.Ranges(&a), []Range{{10, 30}}; !reflect.DeepEqual(got, want) {
		t.Errorf("ranges of a %v, want %v", got, want)
	}
	rb := d.Ranges(&b)
	if want := []Range{{21, 30}, {50, 60}}; !reflect.DeepEqual(rb, want) {
		t.Errorf("ranges of b %v, want %v", rb, want)
	}
	in := batch(b, 5, 21, 30, 31, 55, 61)
	in.Version = []int64{1, 2, 3, 4, 5, 6}
	out := Filter(in, rb)
	if !slices.Equal(out.Time, []int64{5, 31, 61}) || !slices.Equal(out.Version, []int64{1, 4, 6}) ||
		!slices.Equal(out.Columns[0].F, []float64{5, 31, 61}) {
		t.Errorf("filtered %+v", out)
	}
	if in.Len() != 6 {
		t.Error("Filter modified its input")
	}
	if same := batch(b, 1, 2); Filter(same, rb) != same {
		t.Error("a batch with nothing deleted was copied")
	}
	if got := normalize([]Range{{0, math.MaxInt64}, {5, 6}}); !reflect.DeepEqual(got, []Range{{0, math.MaxInt64}}) {
		t.Errorf("normalize to max: %v", got)
	}
}

// TestSetDurable: tombstones survive reopening; removed ones stay removed;
// IDs are never reused.
func TestSetDurable(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	added, err := s.Add([]Tombstone{
		{TableID: 7, Database: "db", Table: "t", MinTime: 1, MaxTime: 2, Where: []Matcher{{Name: "h", Op: OpRegexp, Values: []string{"x.*"}}}},
		{TableID: 8, MinTime: 3, MaxTime: 4},
	})
	if err != nil {
		t.Fatal(err)
	}
	if added[0].ID != 1 || added[1].ID != 2 || added[0].Created == 0 {
		t.Fatalf("added %+v", added)
	}
	if _, err := s.Add([]Tombstone{{MinTime: 5, MaxTime: 4}}); err == nil {
		t.Fatal("empty range accepted")
	}
	if err := s.Remove([]uint64{2}); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	got := s2.List()
	if len(got) != 1 || got[0].ID != 1 || s2.LastID() != 2 || s2.Table(8) != nil || s2.Table(7).Len() != 1 {
		t.Fatalf("reopened: %+v last %d", got, s2.LastID())
	}
	x := series("m", "h", "xy")
	if rs := s2.Table(7).Ranges(&x); !reflect.DeepEqual(rs, []Range{{1, 2}}) {
		t.Errorf("reopened regexp tombstone ranges %v", rs)
	}
	more, err := s2.Add([]Tombstone{{TableID: 8, MinTime: 0, MaxTime: 0}})
	if err != nil || more[0].ID != 3 {
		t.Fatalf("id after reopen: %+v %v", more, err)
	}
	if err := os.WriteFile(filepath.Join(dir, fileName), []byte(`{"version":1,"last_id":1,"tombstones":[{"id":2}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(Options{Dir: dir}); err == nil {
		t.Fatal("a file with an id past last_id opened")
	}
}

type fakeCatalog map[string]uint64

func (c fakeCatalog) Table(db, name string) (catalog.Table, error) {
	id, ok := c[db+"."+name]
	if !ok {
		return catalog.Table{}, scan.ErrUnknownTable
	}
	return catalog.Table{ID: id, Database: db, Name: name}, nil
}

func (c fakeCatalog) TableByID(id uint64) (catalog.Table, bool) {
	for _, v := range c {
		if v == id {
			return catalog.Table{ID: id}, true
		}
	}
	return catalog.Table{}, false
}

// sliceSource answers every scan with copies of its batches that req
// selects.
type sliceSource []*scan.Batch

func (s sliceSource) Scan(_ context.Context, req *scan.Request) (scan.Batches, error) {
	var out []*scan.Batch
	for _, b := range s {
		var keep []int64
		for _, t := range b.Time {
			if t >= req.MinTime && t <= req.MaxTime {
				keep = append(keep, t)
			}
		}
		ok := len(keep) > 0
		for i := range req.Where {
			m := &req.Where[i]
			v, has := b.Series.Dimension(m.Name)
			if m.Name == scan.ColMeasureName {
				v, has = b.Series.MeasureName, true
			}
			ok = ok && m.Matches(v, has)
		}
		if ok && req.Last { // honour the hint, as the tiers do
			keep = keep[len(keep)-1:]
		}
		if ok {
			out = append(out, batch(b.Series, keep...))
		}
	}
	return scan.NewSlice(out), nil
}

func (s sliceSource) Checkpoint() error { return nil }

// checkpointed counts the checkpoints of a Holder.
type checkpointed struct {
	sliceSource
	n int
}

func (c *checkpointed) Checkpoint() error { c.n++; return nil }

// lister hands ListSeries to the source's own.
type lister struct{ scan.Source }

func (l lister) ListSeries(ctx context.Context, req *scan.Request) ([]scan.Series, error) {
	return l.Source.(scan.SeriesLister).ListSeries(ctx, req)
}

type fakeRewriter struct{ clean []uint64 }

func (f *fakeRewriter) RewriteDeleted(context.Context) ([]uint64, error) { return f.clean, nil }

func TestSourceAndClean(t *testing.T) {
	ctx := context.Background()
	s, err := Open(Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	cat := fakeCatalog{"db.t": 1}
	a, b := series("cpu", "host", "a"), series("cpu", "host", "b")
	mem := sliceSource{batch(a, 1, 2, 3), batch(b, 1, 2, 3)}
	src := s.Source(mem, cat)
	if _, err := s.Add([]Tombstone{
		{TableID: 1, Database: "db", Table: "t", MinTime: 0, MaxTime: 10, Where: []Matcher{{Name: "host", Op: OpEqual, Values: []string{"a"}}}},
		{TableID: 1, Database: "db", Table: "t", MinTime: 2, MaxTime: 2, Where: []Matcher{{Name: "host", Op: OpEqual, Values: []string{"b"}}}},
		{TableID: 9, Database: "db", Table: "gone", MinTime: 0, MaxTime: 1},
	}); err != nil {
		t.Fatal(err)
	}
	req := &scan.Request{Database: "db", Table: "t", MinTime: math.MinInt64, MaxTime: math.MaxInt64}
	cur, err := src.Scan(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for cur.Next() {
		for _, tm := range cur.Batch().Time {
			got = append(got, cur.Batch().Series.Dimensions[0].Value+string(rune('0'+tm)))
		}
	}
	if err := cur.Close(); err != nil {
		t.Fatal(err)
	}
	if want := []string{"b1", "b3"}; !slices.Equal(got, want) {
		t.Errorf("filtered scan %v, want %v", got, want)
	}
	for _, c := range []struct {
		r    *scan.Request
		want int // series: host b or none
	}{
		{req, 1},
		{&scan.Request{Database: "db", Table: "t", MinTime: 0, MaxTime: 10}, 1},
		{&scan.Request{Database: "db", Table: "t", MinTime: 2, MaxTime: 2}, 0}, // every row of both deleted
	} {
		ls, err := scan.ListSeries(ctx, lister{src}, c.r)
		if err != nil || len(ls) != c.want || c.want == 1 && ls[0].Key != b.Key {
			t.Errorf("series of [%d, %d]: %+v %v, want %d (host b)", c.r.MinTime, c.r.MaxTime, ls, err, c.want)
		}
	}
	// The magnetic tier calls 1 and 2 clean; the memory tier still holds
	// rows of both; the table of 3 is gone.
	n, err := s.Clean(ctx, &fakeRewriter{clean: []uint64{1, 2, 3}}, mem, cat)
	if err != nil || n != 1 {
		t.Fatalf("clean dropped %d %v, want 1 (the dropped table's)", n, err)
	}
	flushed := &checkpointed{sliceSource: sliceSource{batch(b, 1, 3)}}
	n, err = s.Clean(ctx, &fakeRewriter{clean: []uint64{1, 2}}, flushed, cat)
	if err != nil || n != 2 || len(s.List()) != 0 || flushed.n != 1 {
		t.Fatalf("clean dropped %d %v after %d checkpoints, left %+v", n, err, flushed.n, s.List())
	}
}

// TestSourceLast checks that a scan asking for the newest rows only
// (Request.Last) sees the newest row left by the tombstones, not a deleted
// one or nothing.
func TestSourceLast(t *testing.T) {
	ctx := context.Background()
	s, err := Open(Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	a, b := series("cpu", "host", "a"), series("cpu", "host", "b")
	src := s.Source(sliceSource{batch(a, 1, 2, 3), batch(b, 1, 2, 3)}, fakeCatalog{"db.t": 1})
	newest := func() map[string]int64 {
		cur, err := src.Scan(ctx, &scan.Request{Database: "db", Table: "t", MinTime: math.MinInt64, MaxTime: math.MaxInt64, Last: true})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int64{}
		for cur.Next() {
			bt := cur.Batch()
			got[bt.Series.Dimensions[0].Value] = bt.Time[len(bt.Time)-1]
		}
		if err := cur.Close(); err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got, want := newest(), map[string]int64{"a": 3, "b": 3}; !reflect.DeepEqual(got, want) {
		t.Errorf("newest without tombstones %v, want %v", got, want)
	}
	if _, err := s.Add([]Tombstone{
		{TableID: 1, Database: "db", Table: "t", MinTime: 3, MaxTime: 3, Where: []Matcher{{Name: "host", Op: OpEqual, Values: []string{"a"}}}},
		{TableID: 1, Database: "db", Table: "t", MinTime: 0, MaxTime: 9, Where: []Matcher{{Name: "host", Op: OpEqual, Values: []string{"b"}}}},
	}); err != nil {
		t.Fatal(err)
	}
	if got, want := newest(), map[string]int64{"a": 2}; !reflect.DeepEqual(got, want) {
		t.Errorf("newest with tombstones %v, want %v", got, want)
	}
}

func TestCovers(t *testing.T) {
	rs := []Range{{0, 10}, {11, 20}, {30, 40}}
	for _, c := range []struct {
		lo, hi int64
		want   bool
	}{
		{0, 10, true}, {2, 20, true}, {5, 25, false}, {30, 40, true}, {-1, 5, false}, {21, 29, false}, {35, 35, true},
	} {
		if got := covers(normalize(append([]Range(nil), rs...)), c.lo, c.hi); got != c.want {
			t.Errorf("covers [%d, %d] = %v, want %v", c.lo, c.hi, got, c.want)
		}
	}
}

// TestAddFails: when the file cannot be made durable, Add fails and the
// tombstone is neither visible nor stored; Remove likewise keeps it.
func TestAddFails(t *testing.T) {
	dir := t.TempDir()
	ffs := fileutil.NewFaultFS(fileutil.OS)
	s, err := Open(Options{Dir: dir, FS: ffs})
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range []fileutil.Op{fileutil.OpSync, fileutil.OpRename, fileutil.OpWrite} {
		ffs.Inject(fileutil.Fault{Op: op, Err: errors.New("injected")})
		if _, err := s.Add([]Tombstone{{TableID: 1, MinTime: 0, MaxTime: 1}}); err == nil {
			t.Fatalf("%v fault: Add succeeded", op)
		}
		ffs.Clear()
		if len(s.List()) != 0 || s.Table(1) != nil || s.LastID() != 0 {
			t.Fatalf("%v fault: a failed Add is visible: %+v", op, s.List())
		}
	}
	if _, err := s.Add([]Tombstone{{TableID: 1, MinTime: 0, MaxTime: 1}}); err != nil {
		t.Fatal(err)
	}
	ffs.Inject(fileutil.Fault{Op: fileutil.OpRename, Err: errors.New("injected")})
	if err := s.Remove([]uint64{1}); err == nil {
		t.Fatal("Remove succeeded with a failing rename")
	}
	ffs.Clear()
	s2, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.List()) != 1 || len(s2.List()) != 1 {
		t.Fatalf("after a failed Remove: live %+v, stored %+v", s.List(), s2.List())
	}
}
