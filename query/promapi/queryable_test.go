package promapi

import (
	"context"
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"

	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/query/scan"
)

// TestSampleIterator checks Next and Seek on hand-made cases: Seek never
// goes back, stays on a sample already at or past t, and exhausts.
func TestSampleIterator(t *testing.T) {
	samples := []fsample{{10, 1}, {20, 2}, {30, 3}, {40, 4}}
	type op struct {
		seek    bool
		t       int64 // Seek argument
		want    chunkenc.ValueType
		wantT   int64
		wantVal float64
	}
	cases := []struct {
		name    string
		samples []fsample
		ops     []op
	}{
		{"next through", samples, []op{{false, 0, chunkenc.ValFloat, 10, 1}, {false, 0, chunkenc.ValFloat, 20, 2},
			{false, 0, chunkenc.ValFloat, 30, 3}, {false, 0, chunkenc.ValFloat, 40, 4}, {false, 0, chunkenc.ValNone, 0, 0},
			{false, 0, chunkenc.ValNone, 0, 0}, {true, 0, chunkenc.ValNone, 0, 0}}},
		{"seek before start", samples, []op{{true, 5, chunkenc.ValFloat, 10, 1}, {false, 0, chunkenc.ValFloat, 20, 2}}},
		{"seek exact and between", samples, []op{{true, 20, chunkenc.ValFloat, 20, 2}, {true, 25, chunkenc.ValFloat, 30, 3},
			{true, 30, chunkenc.ValFloat, 30, 3}, {true, 10, chunkenc.ValFloat, 30, 3}, {false, 0, chunkenc.ValFloat, 40, 4}}},
		{"seek past end", samples, []op{{true, 41, chunkenc.ValNone, 0, 0}, {false, 0, chunkenc.ValNone, 0, 0}, {true, 0, chunkenc.ValNone, 0, 0}}},
		{"seek to last then next", samples, []op{{true, 40, chunkenc.ValFloat, 40, 4}, {false, 0, chunkenc.ValNone, 0, 0}}},
		{"empty", nil, []op{{false, 0, chunkenc.ValNone, 0, 0}, {true, 0, chunkenc.ValNone, 0, 0}}},
		{"empty seek first", nil, []op{{true, 0, chunkenc.ValNone, 0, 0}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			it := seriesOf(c.samples).Iterator(nil)
			for i, o := range c.ops {
				var got chunkenc.ValueType
				if o.seek {
					got = it.Seek(o.t)
				} else {
					got = it.Next()
				}
				if got != o.want {
					t.Fatalf("op %d %+v: type %v, want %v", i, o, got, o.want)
				}
				if got == chunkenc.ValFloat {
					ts, v := it.At()
					if ts != o.wantT || v != o.wantVal || it.AtT() != o.wantT || it.AtST() != 0 {
						t.Fatalf("op %d %+v: at (%d, %v) AtT %d", i, o, ts, v, it.AtT())
					}
				}
			}
			if it.Err() != nil {
				t.Fatalf("err %v", it.Err())
			}
		})
	}
}

// TestSampleIteratorAgainstList drives the iterator and Prometheus's list
// iterator with the same random Next and Seek calls and compares them.
func TestSampleIteratorAgainstList(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var reuse chunkenc.Iterator
	for round := range 200 {
		var samples []fsample
		ls := &listSeries{}
		at := int64(rng.IntN(50))
		step := 1 + int64(rng.IntN(20))
		regular := round%2 == 0 // evenly spaced: no times stored
		for range rng.IntN(40) {
			if regular {
				at += step
			} else {
				at += 1 + int64(rng.IntN(20))
			}
			f := rng.Float64()
			samples = append(samples, fsample{at, f})
			ls.add(at, f)
		}
		s := seriesOf(samples)
		if regular && s.ts != nil {
			t.Fatalf("round %d: evenly spaced samples stored with times", round)
		}
		if round%4 >= 2 {
			// The same samples in a chain of up to 4 parts, some
			// empty, some XOR-compressed, as scanSeries splits them.
			s = chainOf(rng, samples)
		}
		it := s.Iterator(reuse)
		reuse = it
		want := ls.Iterator(nil)
		for op := range 60 {
			var got, exp chunkenc.ValueType
			if rng.IntN(2) == 0 {
				got, exp = it.Next(), want.Next()
			} else {
				ts := int64(rng.IntN(int(at) + 30))
				got, exp = it.Seek(ts), want.Seek(ts)
			}
			if got != exp {
				t.Fatalf("round %d op %d: type %v, list %v", round, op, got, exp)
			}
			if got == chunkenc.ValFloat {
				gt, gv := it.At()
				wt, wv := want.At()
				if gt != wt || gv != wv {
					t.Fatalf("round %d op %d: (%d, %v), list (%d, %v)", round, op, gt, gv, wt, wv)
				}
			}
		}
	}
}

func TestAppendSamples(t *testing.T) {
	cases := []struct {
		name  string
		times []int64
		col   scan.Column
		want  []fsample
	}{
		{"double", []int64{1e6, 2e6, 3_500_000}, scan.Column{Type: ingest.TypeDouble, F: []float64{1.5, 2.5, 3.5}},
			[]fsample{{1, 1.5}, {2, 2.5}, {3, 3.5}}},
		{"bigint", []int64{1e6, 2e6}, scan.Column{Type: ingest.TypeBigint, I: []int64{7, -8}}, []fsample{{1, 7}, {2, -8}}},
		// Several samples in one millisecond: the last one is kept.
		{"same millisecond", []int64{1e6, 1_000_001, 1_999_999, 2e6}, scan.Column{Type: ingest.TypeDouble, F: []float64{1, 2, 3, 4}},
			[]fsample{{1, 3}, {2, 4}}},
		{"empty", nil, scan.Column{Type: ingest.TypeDouble}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := appendSamples(nil, c.times, &c.col)
			if !slices.Equal(got, c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
}

// blockingSource answers every scan with a cursor whose Next waits for
// the scan's context to end; started is closed when the first cursor is
// read (a set may be scanned in several parts, see scanSeries).
type blockingSource struct{ started chan struct{} }

var startedOnce sync.Map // chan struct{} -> *sync.Once

func (s blockingSource) Scan(ctx context.Context, _ *scan.Request) (scan.Batches, error) {
	once, _ := startedOnce.LoadOrStore(s.started, &sync.Once{})
	return &blockingCursor{ctx: ctx, started: s.started, once: once.(*sync.Once)}, nil
}

type blockingCursor struct {
	ctx     context.Context
	started chan struct{}
	once    *sync.Once
}

func (c *blockingCursor) Next() bool {
	c.once.Do(func() { close(c.started) })
	<-c.ctx.Done()
	return false
}
func (c *blockingCursor) Batch() *scan.Batch { return nil }
func (c *blockingCursor) Err() error         { return c.ctx.Err() }
func (c *blockingCursor) Close() error       { return nil }

// routeSource sends scans whose request names measure "blocked" to
// blocked and the others to rest.
type routeSource struct{ blocked, rest scan.Source }

func (s routeSource) Scan(ctx context.Context, req *scan.Request) (scan.Batches, error) {
	for _, m := range req.Where {
		if m.Name == scan.ColMeasureName && m.Op == scan.MatchEqual && m.Values[0] == "blocked" {
			return s.blocked.Scan(ctx, req)
		}
	}
	return s.rest.Scan(ctx, req)
}

type failingSource struct{ err error }

func (s failingSource) Scan(context.Context, *scan.Request) (scan.Batches, error) { return nil, s.err }

func selectNames(t *testing.T, ss storage.SeriesSet) []string {
	t.Helper()
	var out []string
	for ss.Next() {
		it := ss.At().Iterator(nil)
		n := 0
		for it.Next() == chunkenc.ValFloat {
			n++
		}
		out = append(out, ss.At().Labels().Get("__name__")+"/"+ss.At().Labels().Get("job")+":"+strings.Repeat("x", min(n, 3)))
	}
	if err := ss.Err(); err != nil {
		t.Fatalf("select: %v", err)
	}
	return out
}

// TestSelectSets reads several sets of one querier out of Select order,
// leaves one unread, and checks each answer; then Close returns.
func TestSelectSets(t *testing.T) {
	q := fixture()
	qr, err := q.Querier(t0.UnixMilli(), t0.Add(time.Hour).UnixMilli())
	if err != nil {
		t.Fatal(err)
	}
	eq := func(n, v string) *labels.Matcher { return labels.MustNewMatcher(labels.MatchEqual, n, v) }
	sets := []storage.SeriesSet{
		qr.Select(t.Context(), false, nil, eq("__name__", "http_requests_total"), eq("job", "a")),
		qr.Select(t.Context(), true, nil, eq("__name__", "http_requests_total")),
		qr.Select(t.Context(), false, nil, eq("__name__", "queue_len")),
		qr.Select(t.Context(), false, nil, eq("__name__", "status")),
		qr.Select(t.Context(), false, nil, eq("__name__", "nothing")),
	}
	want := [][]string{
		{"http_requests_total/a:xxx"},
		{"http_requests_total/a:xxx", "http_requests_total/b:xxx"},
		{"queue_len/a:xxx"},
		nil, // VARCHAR
	}
	for _, i := range []int{2, 0, 3, 1} {
		if got := selectNames(t, sets[i]); !slices.Equal(got, want[i]) {
			t.Errorf("set %d: %v, want %v", i, got, want[i])
		}
	}
	if err := qr.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestSelectClose checks that Close cancels a scan a prefetch goroutine
// is running and that a set read after Close ends with the cancellation
// instead of blocking.
func TestSelectClose(t *testing.T) {
	started := make(chan struct{})
	q := &Queryable{Source: routeSource{blocked: blockingSource{started: started}, rest: fixture().Source}, Database: "testdb", Table: "tbl"}
	qr, err := q.Querier(t0.UnixMilli(), t0.Add(time.Hour).UnixMilli())
	if err != nil {
		t.Fatal(err)
	}
	eq := func(n, v string) *labels.Matcher { return labels.MustNewMatcher(labels.MatchEqual, n, v) }
	first := qr.Select(t.Context(), false, nil, eq("__name__", "queue_len"))
	blocked := qr.Select(t.Context(), false, nil, eq("__name__", "blocked"))
	unread := qr.Select(t.Context(), false, nil, eq("__name__", "queue_len"))
	if got := selectNames(t, first); !slices.Equal(got, []string{"queue_len/a:xxx"}) {
		t.Fatalf("first set: %v", got)
	}
	if err := qr.Close(); err != nil {
		t.Fatal(err)
	}
	if blocked.Next() {
		t.Error("blocked: Next after Close")
	}
	if err := blocked.Err(); !errors.Is(err, context.Canceled) {
		t.Errorf("blocked: err %v, want context.Canceled", err)
	}
	// A prefetch goroutine may have loaded the unread set before Close
	// (with GOMAXPROCS > 2); if not, reading it ends with the cancellation.
	if unread.Next() {
		if got := unread.At().Labels().Get("__name__"); got != "queue_len" || unread.Next() || unread.Err() != nil {
			t.Errorf("unread: %s, err %v", got, unread.Err())
		}
	} else if err := unread.Err(); !errors.Is(err, context.Canceled) {
		t.Errorf("unread: err %v, want context.Canceled", err)
	}
}

func TestSelectScanError(t *testing.T) {
	boom := errors.New("boom")
	q := &Queryable{Source: failingSource{boom}, Database: "db", Table: "t"}
	qr, err := q.Querier(0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	defer qr.Close()
	ss := qr.Select(t.Context(), false, nil, labels.MustNewMatcher(labels.MatchEqual, "__name__", "x"))
	if ss.Next() {
		t.Fatal("Next on a failed scan")
	}
	if err := ss.Err(); !errors.Is(err, boom) || !strings.Contains(err.Error(), "scan db.t") {
		t.Fatalf("err %v", err)
	}
}

func TestResidualMatchers(t *testing.T) {
	ms := []*labels.Matcher{
		labels.MustNewMatcher(labels.MatchEqual, "a", "x"),
		labels.MustNewMatcher(labels.MatchEqual, "b", ""),
		labels.MustNewMatcher(labels.MatchNotEqual, "c", "x"),
		labels.MustNewMatcher(labels.MatchNotEqual, "d", ""),
		labels.MustNewMatcher(labels.MatchRegexp, "e", "x|y"),
		labels.MustNewMatcher(labels.MatchNotRegexp, "f", "x"),
	}
	var got []string
	for _, m := range residualMatchers(ms) {
		got = append(got, m.Name)
	}
	if want := []string{"d", "e", "f"}; !slices.Equal(got, want) {
		t.Fatalf("residual %v, want %v", got, want)
	}
}

// TestSampleSlab allocates slices of many sizes and checks that none
// overlaps another and that each keeps its values.
func TestSampleSlab(t *testing.T) {
	var sl slab[float64]
	var got [][]float64
	sizes := []int{0, 1, 10, minSlab - 5, 7, minSlab, 3 * maxSlab, 2, maxSlab, 1}
	for i, n := range sizes {
		s := sl.alloc(n)
		if len(s) != n || cap(s) != n {
			t.Fatalf("alloc(%d): len %d cap %d", n, len(s), cap(s))
		}
		for j := range s {
			s[j] = float64(i*1_000_000 + j)
		}
		got = append(got, s)
	}
	for i, s := range got {
		for j, x := range s {
			if x != float64(i*1_000_000+j) {
				t.Fatalf("slice %d value %d = %v: overwritten", i, j, x)
			}
		}
	}
	var scratch sampleSlab
	if s := scratch.take(100); len(s) != 0 || cap(s) < 100 {
		t.Fatalf("take(100): len %d cap %d", len(s), cap(s))
	}
}

// TestSelectSeriesHint checks that a Select for series metadata (hints
// Func "series") finds the same series without reading samples.
func TestSelectSeriesHint(t *testing.T) {
	qr, err := fixture().Querier(t0.UnixMilli(), t0.Add(time.Hour).UnixMilli())
	if err != nil {
		t.Fatal(err)
	}
	defer qr.Close()
	job := labels.MustNewMatcher(labels.MatchEqual, "job", "a")
	mint, maxt := t0.UnixMilli(), t0.Add(time.Hour).UnixMilli()
	for _, c := range []struct {
		hints   *storage.SelectHints
		samples int
	}{{&storage.SelectHints{Start: mint, End: maxt, Func: "series"}, 0}, {&storage.SelectHints{Start: mint, End: maxt, Func: "rate"}, 60}, {nil, 60}} {
		ss := qr.Select(t.Context(), true, c.hints, job)
		var got []string
		for ss.Next() {
			got = append(got, ss.At().Labels().String())
			n := 0
			for it := ss.At().Iterator(nil); it.Next() == chunkenc.ValFloat; {
				n++
			}
			if n != c.samples {
				t.Errorf("hints %+v: %s has %d samples, want %d", c.hints, ss.At().Labels(), n, c.samples)
			}
		}
		want := []string{`{__name__="http_requests_total", instance="h:1", job="a"}`, `{__name__="queue_len", job="a"}`}
		if ss.Err() != nil || !slices.Equal(got, want) {
			t.Errorf("hints %+v: %v %v", c.hints, got, ss.Err())
		}
	}
}

// seriesOf packs samples into a series.
// chainOf returns samples as a series of up to 4 parts cut at random,
// each packed plain or compact at random.
func chainOf(rng *rand.Rand, samples []fsample) *series {
	var head, tail *series
	for p := range 1 + rng.IntN(4) {
		part := samples
		if p < 3 && len(samples) > 0 {
			part = samples[:rng.IntN(len(samples)+1)]
		}
		samples = samples[len(part):]
		s := &series{}
		var sl sampleSlab
		s.pack(part, &sl, []packMode{packPlain, packCompact}[rng.IntN(2)])
		if head == nil {
			head = s
		} else {
			tail.more = s
		}
		tail = s
	}
	if len(samples) > 0 {
		var sl sampleSlab
		tail.more = &series{}
		tail.more.pack(samples, &sl, packPlain)
	}
	return head
}

func seriesOf(samples []fsample) *series {
	s := &series{}
	var sl sampleSlab
	s.pack(samples, &sl, packPlain)
	return s
}

// TestSeriesPack checks what a series keeps of its samples: values, and
// times only when they are not evenly spaced; seeks far past the end of
// evenly spaced samples (overflowing int64 differences) exhaust.
func TestSeriesPack(t *testing.T) {
	tests := []struct {
		name      string
		samples   []fsample
		wantTimes bool
	}{
		{"regular", []fsample{{-30, 1}, {-20, 2}, {-10, 3}, {0, 4}}, false},
		{"one", []fsample{{5, 1}}, false},
		{"two", []fsample{{5, 1}, {9, 2}}, false},
		{"gap", []fsample{{10, 1}, {20, 2}, {40, 3}}, true},
		{"empty", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := seriesOf(tt.samples)
			if (s.ts != nil) != tt.wantTimes || s.len() != len(tt.samples) {
				t.Fatalf("times stored %v, %d samples; want times %v, %d", s.ts != nil, s.len(), tt.wantTimes, len(tt.samples))
			}
			for i, w := range tt.samples {
				if s.at(i) != w.t || s.val(i) != w.f {
					t.Fatalf("sample %d = (%d, %v), want %v", i, s.at(i), s.val(i), w)
				}
			}
			it := s.Iterator(nil)
			if len(tt.samples) > 0 {
				if got := it.Seek(tt.samples[0].t); got != chunkenc.ValFloat || it.AtT() != tt.samples[0].t {
					t.Fatalf("seek to the first sample: %v at %d", got, it.AtT())
				}
			}
			if got := it.Seek(math.MaxInt64); got != chunkenc.ValNone {
				t.Fatalf("seek to MaxInt64: %v", got)
			}
		})
	}
}

// TestSeriesPackMemory reports the bytes a loaded sample takes: 16 as
// (time, value) pairs, 8 for evenly spaced samples (plain), less compact.
// The values are a random walk rounded to 2 decimals, like the benchmark
// harness's (bench/tsbs; scaled int16), small repeating integers (int16),
// and a random walk at full precision (XOR chunks).
func TestSeriesPackMemory(t *testing.T) {
	const nseries, per = 2000, 720
	rng := rand.New(rand.NewPCG(3, 4))
	walk, ints, full := make([]fsample, per), make([]fsample, per), make([]fsample, per)
	v := 50.0
	for i := range per {
		v = min(max(v+rng.Float64()*4-2, 0), 100)
		walk[i] = fsample{int64(i) * 10_000, math.Round(v*100) / 100}
		ints[i] = fsample{int64(i) * 10_000, float64(i % 13)}
		full[i] = fsample{int64(i) * 10_000, v}
	}
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	perSample := func(samples []fsample, mode packMode, layout string) float64 {
		base := heap()
		var sl sampleSlab
		out := make([]series, nseries)
		for i := range out {
			out[i].pack(samples, &sl, mode)
		}
		if got := layoutOf(&out[0]); got != layout {
			t.Fatalf("mode %d: layout %s, want %s", mode, got, layout)
		}
		b := float64(heap()-base) / (nseries * per)
		runtime.KeepAlive(out)
		return b
	}
	for _, c := range []struct {
		name       string
		samples    []fsample
		layout     string
		maxCompact float64
	}{{"random walk, 2 decimals", walk, "int16", 3}, {"integers", ints, "int16", 3}, {"random walk, full precision", full, "xor", 8}} {
		plain, compact := perSample(c.samples, packPlain, "plain"), perSample(c.samples, packCompact, c.layout)
		t.Logf("%s: loaded PromQL samples: %.2f bytes each plain, %.2f %s (pairs: 16)", c.name, plain, compact, c.layout)
		if plain > 10 || compact > c.maxCompact {
			t.Errorf("%s: %.2f bytes plain, %.2f %s per evenly spaced sample; want at most 10, %v", c.name, plain, compact, c.layout, c.maxCompact)
		}
	}
}

// layoutOf names how s holds its values.
func layoutOf(s *series) string {
	switch {
	case s.xor != nil:
		return "xor"
	case s.k16 != nil:
		return "int16"
	case s.k32 != nil:
		return "int32"
	}
	return "plain"
}

// TestXORIterator drives iterators over compact series (XOR chunks of
// several segments with NaN and -0 values, scaled int16 and int32; evenly
// and unevenly spaced) and over the same samples uncompressed with the
// same random Next and Seek calls, reusing one iterator across compact and
// plain series, and compares every sample bit for bit.
func TestXORIterator(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var reuse chunkenc.Iterator
	for round := range 120 {
		var samples []fsample
		at := int64(rng.IntN(100)) - 50
		step := 1 + int64(rng.IntN(1000))
		n := []int{minXORSamples, xorSegSamples - 1, xorSegSamples, xorSegSamples + 1, 3*xorSegSamples + 7, rng.IntN(2000) + minXORSamples}[round%6]
		for i := range n {
			if round%2 == 0 {
				at += step
			} else {
				at += 1 + int64(rng.IntN(1000))
			}
			f := math.Round(rng.NormFloat64()*1000) / 100
			if f == 0 {
				f = 0 // not -0, which only XOR chunks hold
			}
			switch {
			case round%3 == 1:
				f = math.Round(rng.NormFloat64()*1e6) / 1e5 // int32
			case round%3 == 2 && i%97 == 5:
				f = math.NaN()
			case round%3 == 2 && i%97 == 6:
				f = math.Copysign(0, -1)
			}
			samples = append(samples, fsample{at, f})
		}
		var sl sampleSlab
		x, p := &series{}, &series{}
		x.pack(samples, &sl, packCompact)
		p.pack(samples, &sl, packPlain)
		want := []string{"int16", "int32", "xor"}[round%3]
		if layoutOf(x) != want || x.len() != n || layoutOf(p) != "plain" {
			t.Fatalf("round %d: %d samples packed: layout %s, %d samples; want %s", round, n, layoutOf(x), x.len(), want)
		}
		it := x.Iterator(reuse)
		ref := p.Iterator(nil)
		for op := range 400 {
			var got, exp chunkenc.ValueType
			var ts int64
			if rng.IntN(3) == 0 {
				got, exp = it.Next(), ref.Next()
			} else {
				// Mostly forward from the current sample, sometimes
				// anywhere (backward seeks stay put).
				ts = samples[0].t - 10 + int64(rng.IntN(int(at-samples[0].t)+20))
				if op%4 != 0 && exp != chunkenc.ValNone {
					ts = ref.AtT() + int64(rng.IntN(int(20*step)))
				}
				got, exp = it.Seek(ts), ref.Seek(ts)
			}
			if got != exp {
				t.Fatalf("round %d op %d (seek %d): type %v, plain %v", round, op, ts, got, exp)
			}
			if got == chunkenc.ValFloat {
				gt, gv := it.At()
				wt, wv := ref.At()
				if gt != wt || math.Float64bits(gv) != math.Float64bits(wv) || it.AtT() != wt {
					t.Fatalf("round %d op %d: (%d, %v), plain (%d, %v)", round, op, gt, gv, wt, wv)
				}
			}
		}
		if it.Err() != nil {
			t.Fatalf("round %d: %v", round, it.Err())
		}
		// A plain series through the same iterator.
		if it = p.Iterator(it); it.Next() != chunkenc.ValFloat || it.AtT() != samples[0].t || it.Err() != nil {
			t.Fatalf("round %d: plain series through a reused iterator: at %d", round, it.AtT())
		}
		reuse = it
	}
}

// TestXORIteratorFullRead reads a compressed series with Next only, then
// with a Seek to each sample's time in turn.
func TestXORIteratorFullRead(t *testing.T) {
	var samples []fsample
	for i := range 3*xorSegSamples + 5 {
		samples = append(samples, fsample{int64(i)*15 + int64(i%3), float64(i) / 7})
	}
	var sl sampleSlab
	s := &series{}
	s.pack(samples, &sl, packCompact)
	it := s.Iterator(nil)
	for i, w := range samples {
		if it.Next() != chunkenc.ValFloat {
			t.Fatalf("next %d: exhausted", i)
		}
		if gt, gv := it.At(); gt != w.t || gv != w.f {
			t.Fatalf("next %d: (%d, %v), want %v", i, gt, gv, w)
		}
	}
	if it.Next() != chunkenc.ValNone || it.Seek(0) != chunkenc.ValNone {
		t.Fatal("not exhausted after the last sample")
	}
	it = s.Iterator(it)
	for i, w := range samples {
		if it.Seek(w.t) != chunkenc.ValFloat || it.AtT() != w.t {
			t.Fatalf("seek %d to %d: at %d", i, w.t, it.AtT())
		}
	}
	if it.Seek(samples[len(samples)-1].t+1) != chunkenc.ValNone {
		t.Fatal("seek past the end found a sample")
	}
}

// TestPackModes checks the layout each pack mode picks for each kind of
// values.
func TestPackModes(t *testing.T) {
	gen := func(n int, f func(i int) float64) []fsample {
		out := make([]fsample, n)
		for i := range out {
			out[i] = fsample{int64(i) * 1000, f(i)}
		}
		return out
	}
	dec2 := gen(100, func(i int) float64 { return float64(i%700) / 100 })
	wide := gen(100, func(i int) float64 { return float64(i) * 1000.5 }) // k up to 198,000: int32
	full := gen(100, func(i int) float64 { return math.Sqrt(float64(i) + 0.5) })
	big := gen(100, func(i int) float64 { return float64(i) * 1e12 }) // integers past int32
	short := dec2[:minXORSamples-1]
	cases := []struct {
		name    string
		samples []fsample
		mode    packMode
		want    string
	}{
		{"plain dec2", dec2, packPlain, "plain"},
		{"scaled dec2", dec2, packScaled, "int16"},
		{"scaled wide", wide, packScaled, "int32"},
		{"scaled full", full, packScaled, "plain"},
		{"scaled big", big, packScaled, "plain"},
		{"scaled short", short, packScaled, "plain"},
		{"compact dec2", dec2, packCompact, "int16"},
		{"compact full", full, packCompact, "xor"},
		{"compact big", big, packCompact, "xor"},
		{"compact short", short, packCompact, "plain"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var sl sampleSlab
			s := &series{}
			s.pack(c.samples, &sl, c.mode)
			if got := layoutOf(s); got != c.want {
				t.Fatalf("layout %s, want %s", got, c.want)
			}
			it := s.Iterator(nil)
			for i, w := range c.samples {
				if it.Next() != chunkenc.ValFloat {
					t.Fatalf("sample %d: exhausted", i)
				}
				if gt, gv := it.At(); gt != w.t || math.Float64bits(gv) != math.Float64bits(w.f) {
					t.Fatalf("sample %d: (%d, %v), want %v", i, gt, gv, w)
				}
			}
			if it.Next() != chunkenc.ValNone {
				t.Fatal("more samples than packed")
			}
		})
	}
}

// FuzzSeriesPack packs samples built from the input (times ascending by
// the input's gaps, values its 8-byte words, or small integers and
// decimals when the mode byte says so) in every mode and checks that Next
// and a Seek to every sample give them back bit for bit.
func FuzzSeriesPack(f *testing.F) {
	f.Add(byte(0), []byte("0123456789abcdef0123456789abcdef"))
	f.Add(byte(1), make([]byte, 400))
	f.Add(byte(2), []byte(strings.Repeat("\x01\x02\x03\x04\x05\x06\x07\x08", 70)))
	f.Fuzz(func(t *testing.T, kind byte, data []byte) {
		var samples []fsample
		at := int64(-1000)
		for i := 0; i+8 <= len(data); i += 8 {
			w := binary.LittleEndian.Uint64(data[i:])
			at += 1 + int64(w>>56)%4*int64(kind>>2&1) + 10 // evenly spaced unless bit 2
			var v float64
			switch kind % 3 {
			case 0:
				v = math.Float64frombits(w)
			case 1:
				v = float64(int32(w)) / 100
			default:
				v = float64(int16(w))
			}
			samples = append(samples, fsample{at, v})
		}
		for _, mode := range []packMode{packPlain, packScaled, packCompact} {
			var sl sampleSlab
			s := &series{}
			s.pack(samples, &sl, mode)
			it := s.Iterator(nil)
			for i, w := range samples {
				if it.Next() != chunkenc.ValFloat {
					t.Fatalf("mode %d sample %d: exhausted", mode, i)
				}
				if gt, gv := it.At(); gt != w.t || math.Float64bits(gv) != math.Float64bits(w.f) {
					t.Fatalf("mode %d (%s) sample %d: (%d, %v), want %v", mode, layoutOf(s), i, gt, gv, w)
				}
			}
			if it.Next() != chunkenc.ValNone {
				t.Fatalf("mode %d: more samples than packed", mode)
			}
			it = s.Iterator(it)
			for i, w := range samples {
				if it.Seek(w.t) != chunkenc.ValFloat || it.AtT() != w.t {
					t.Fatalf("mode %d (%s): seek %d to %d: at %d", mode, layoutOf(s), i, w.t, it.AtT())
				}
			}
		}
	})
}
