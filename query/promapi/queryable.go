package promapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"runtime"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/util/annotations"

	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/query/scan"
)

// Queryable exposes one TidalDB table to Prometheus code (the PromQL engine,
// remote-read) as a storage.Queryable. A series is a single-measure DOUBLE or
// BIGINT series of the table: __name__ is its measure_name and the other
// labels are its dimensions. Matchers on labels become scan matchers where
// the scan contract can express them (equality, absence, presence); the rest
// (regular expressions) filter the scanned series.
//
// A querier may scan the sets of several Selects at once (see Select), so
// Source must answer concurrent scans. The series of a set, and their
// samples, are valid until the querier is closed.
type Queryable struct {
	Source   scan.Source
	Database string
	Table    string
	// MaxSamples bounds the samples one querier loads into memory (0: no
	// bound); past it, its Selects fail with errTooManySamples.
	MaxSamples int
	// Logger receives the stack of a panic in a scan (default slog.Default()).
	Logger *slog.Logger

	// serialScans turns off the prefetch goroutines: every set is scanned
	// by its reader (benchmarks measure what prefetching brings).
	serialScans bool
	// lookback is the engine's lookback delta, set by the API: a selector
	// evaluated at one instant (its hints span exactly the lookback) needs
	// each series' newest sample only, so its scan asks for that
	// (scan.Request.Last). Zero turns that off.
	lookback time.Duration
	// noLast turns the newest-sample scans off (benchmarks compare).
	noLast bool
	// plainSamples keeps every loaded sample uncompressed (benchmarks
	// compare); otherwise see packMode.
	plainSamples bool
	// xorAll allows XOR chunks from the first series loaded, not only
	// past xorAfter samples (benchmarks and tests).
	xorAll bool
	// scanParts, if at least 2, splits the scan of a selector's time
	// range between that many goroutines (see scanSeries). Off by
	// default: on the shared 2-core machine (load ~6), 2 parts cut
	// double-groupby-1's wall time by 7-14% for 11-26% more CPU
	// (BenchmarkPromQLRange); benchmarks and tests set it.
	scanParts int
}

// packMode says how a series holds its values. A series of at least
// minXORSamples samples whose values are all exactly decimals of up to 6
// places (as the harness's and most gauges' are) holds them as integers
// scaled by a power of ten, 2 or 4 bytes a value read in place instead of
// 8, for about the CPU of plain floats. Other values stay plain floats
// until the querier has loaded xorAfter samples; past it they are held as
// Prometheus XOR chunks (about 1-7 bytes a sample), decoded as they are
// iterated, which costs up to 2.5 times the CPU of a query: only large
// queries, whose memory matters, pay it.
type packMode uint8

const (
	packPlain   packMode = iota // floats
	packScaled                  // scaled integers if exact, else floats
	packCompact                 // scaled integers if exact, else XOR chunks
)

const xorAfter = 1 << 20

// minXORSamples is the fewest samples a series is held compact with: the
// chunk header and segment record outweigh the gain below it.
const minXORSamples = 32

// instantOnly reports whether a Select with hints reads its samples for one
// evaluation at hints.End of a plain vector selector, where only the newest
// sample of each series in [Start, End] counts. The engine sets Start to
// End minus the lookback plus 1 ms for such a selector; a range query over
// several steps, a range selector (Range), a subquery, a smoothed
// selector (which reads past End) or a series listing do not match.
func (q *Queryable) instantOnly(hints *storage.SelectHints) bool {
	return hints != nil && q.lookback > 0 && !q.noLast && hints.Range == 0 && hints.Func != "series" &&
		hints.End-hints.Start == q.lookback.Milliseconds()-1
}

// errTooManySamples fails a query that would load more than MaxSamples.
var errTooManySamples = errors.New("query would load too many samples into memory")

// Querier implements storage.Queryable.
func (q *Queryable) Querier(mint, maxt int64) (storage.Querier, error) {
	return &querier{q: q, mint: mint, maxt: maxt}, nil
}

type querier struct {
	q          *Queryable
	mint, maxt int64        // milliseconds
	loaded     atomic.Int64 // samples loaded by every Select

	mu       sync.Mutex   // Guards everything below.
	pending  []*seriesSet // selected, not yet loading, in Select order
	started  []*seriesSet // every set Select returned, to cancel on Close
	workers  int          // prefetch goroutines running
	closed   bool
	workerWG sync.WaitGroup
}

// Close cancels the scans still running and waits for the prefetch
// goroutines; the series sets that Select returned must not be read
// afterwards.
func (qr *querier) Close() error {
	qr.mu.Lock()
	qr.closed = true
	qr.pending = nil
	sets := qr.started
	qr.started = nil
	qr.mu.Unlock()
	for _, ss := range sets {
		ss.cancel()
	}
	qr.workerWG.Wait()
	return nil
}

// request translates matchers into a scan request; the returned matchers
// must still be checked on every series.
func (qr *querier) request(mint, maxt int64, columns []string, ms []*labels.Matcher) *scan.Request {
	req := &scan.Request{
		Database: qr.q.Database, Table: qr.q.Table,
		MinTime: msToNs(mint), MaxTime: msToNs(maxt),
		Columns: columns,
	}
	for _, m := range ms {
		name := m.Name
		if name == model.MetricNameLabel {
			name = scan.ColMeasureName
		}
		switch m.Type {
		case labels.MatchEqual:
			if m.Value == "" {
				req.Where = append(req.Where, scan.Matcher{Name: name, Op: scan.MatchAbsent})
			} else {
				req.Where = append(req.Where, scan.Matcher{Name: name, Op: scan.MatchEqual, Values: []string{m.Value}})
			}
		case labels.MatchNotEqual:
			if m.Value == "" {
				req.Where = append(req.Where, scan.Matcher{Name: name, Op: scan.MatchPresent})
			} else {
				req.Where = append(req.Where, scan.Matcher{Name: name, Op: scan.MatchNotEqual, Values: []string{m.Value}})
			}
		case labels.MatchRegexp:
			if set := m.SetMatches(); len(set) > 0 && !slices.Contains(set, "") {
				req.Where = append(req.Where, scan.Matcher{Name: name, Op: scan.MatchIn, Values: set})
			}
		}
	}
	return req
}

func msToNs(ms int64) int64 {
	switch {
	case ms >= math.MaxInt64/1_000_000:
		return math.MaxInt64
	case ms <= math.MinInt64/1_000_000:
		return math.MinInt64
	}
	return ms * 1e6
}

// seriesLabels returns the Prometheus labels of a scanned series.
func seriesLabels(b *labels.ScratchBuilder, s *scan.Series) labels.Labels {
	b.Reset()
	b.Add(model.MetricNameLabel, s.MeasureName)
	for _, d := range s.Dimensions {
		b.Add(d.Name, d.Value)
	}
	b.Sort()
	return b.Labels()
}

func matchesAll(lset labels.Labels, ms []*labels.Matcher) bool {
	for _, m := range ms {
		if !m.Matches(lset.Get(m.Name)) {
			return false
		}
	}
	return true
}

// Select implements storage.Querier. The set loads its series eagerly
// (the scan cursor's batches are only valid until the next batch) but
// not at once: the first Next on any set of the querier scans that set on
// the caller's goroutine and starts up to GOMAXPROCS-1 goroutines that
// scan the other sets selected so far, in Select order. The engine selects
// every selector of a query before it evaluates the first one, so the
// scans of later selectors overlap the evaluation of earlier ones, and a
// query with one selector starts no goroutine.
func (qr *querier) Select(ctx context.Context, sortSeries bool, hints *storage.SelectHints, ms ...*labels.Matcher) storage.SeriesSet {
	mint, maxt := qr.mint, qr.maxt
	if hints != nil {
		mint, maxt = max(mint, hints.Start), min(maxt, hints.End)
	}
	ctx, cancel := context.WithCancel(ctx)
	req := qr.request(mint, maxt, []string{scan.ColMeasureValue}, ms)
	req.Last = qr.q.instantOnly(hints)
	ss := &seriesSet{
		qr: qr, ctx: ctx, cancel: cancel, done: make(chan struct{}), i: -1,
		req: req, ms: residualMatchers(ms), sortSeries: sortSeries,
		// Series metadata only (/api/v1/series): the set's series
		// carry no samples.
		noSamples: hints != nil && hints.Func == "series",
	}
	qr.mu.Lock()
	defer qr.mu.Unlock()
	qr.started = append(qr.started, ss)
	if !qr.closed {
		qr.pending = append(qr.pending, ss)
	}
	return ss
}

// claim reports whether ss was not yet claimed by a reader or a prefetch
// goroutine, in which case the caller loads it; then, unless serialScans,
// it starts prefetch goroutines for the sets still pending.
func (qr *querier) claim(ss *seriesSet) bool {
	qr.mu.Lock()
	defer qr.mu.Unlock()
	mine := !ss.claimed
	if mine {
		ss.claimed = true
		if i := slices.Index(qr.pending, ss); i >= 0 {
			qr.pending = slices.Delete(qr.pending, i, i+1)
		}
	}
	if !qr.q.serialScans && !qr.closed {
		for n := min(len(qr.pending), runtime.GOMAXPROCS(0)-1) - qr.workers; n > 0; n-- {
			qr.workers++
			qr.workerWG.Add(1)
			go qr.prefetch()
		}
	}
	return mine
}

// prefetch loads pending sets until none is left.
func (qr *querier) prefetch() {
	defer qr.workerWG.Done()
	for {
		qr.mu.Lock()
		if len(qr.pending) == 0 || qr.closed {
			qr.workers--
			qr.mu.Unlock()
			return
		}
		ss := qr.pending[0]
		qr.pending = qr.pending[1:]
		ss.claimed = true
		qr.mu.Unlock()
		ss.load()
	}
}

// load reads the numeric single-measure series of the set's request
// that satisfy its residual matchers, sorted by labels if asked, and marks
// the set done.
func (ss *seriesSet) load() {
	defer close(ss.done)
	// A panic in a scan fails this query only, whichever goroutine (the
	// reader or a prefetch worker) runs it.
	defer func() {
		if p := recover(); p != nil {
			log := ss.qr.q.Logger
			if log == nil {
				log = slog.Default()
			}
			log.Error("panic in PromQL scan", "table", ss.qr.q.Database+"."+ss.qr.q.Table, "panic", p, "stack", string(debug.Stack()))
			ss.series, ss.err = nil, fmt.Errorf("scan %s.%s: internal error: panic: %v", ss.qr.q.Database, ss.qr.q.Table, p)
		}
	}()
	ss.series, ss.err = ss.qr.scanSeries(ss.ctx, ss.req, ss.ms, ss.noSamples)
	if ss.err == nil && ss.sortSeries {
		slices.SortFunc(ss.series, func(a, b storage.Series) int { return labels.Compare(a.Labels(), b.Labels()) })
	}
}

// splitMinSpan is the shortest time range scanSeries splits between
// goroutines: a shorter one holds too few samples to pay for them.
const splitMinSpan = int64(time.Hour)

// keyedSeries is a series with its scan.Series.Key.
type keyedSeries struct {
	key string
	s   *series
}

// scanSeries scans the series of req. With scanParts n >= 2, a request
// for the samples of a time range of at least splitMinSpan is split into
// n consecutive ranges, on whole milliseconds, scanned on as many
// goroutines; each series is then the chain of its parts (series.more),
// in time order, the series in the key order one scan gives. The decoding
// of a range query's one selector, about half its CPU, then runs on
// several cores, for one chunk per series and boundary decoded twice.
func (qr *querier) scanSeries(ctx context.Context, req *scan.Request, ms []*labels.Matcher, noSamples bool) ([]storage.Series, error) {
	n := qr.q.scanParts
	span := req.MaxTime - req.MinTime
	if qr.q.serialScans || noSamples || req.Last || n < 2 || req.MinTime < 0 || req.MaxTime == math.MaxInt64 || span < splitMinSpan {
		ks, err := qr.scanPart(ctx, req, ms, noSamples, false)
		return plainSeries(ks), err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	parts := make([][]keyedSeries, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	width := span / int64(n) / 1e6 * 1e6
	for i := range n {
		r := *req
		r.MinTime = req.MinTime + int64(i)*width
		if i > 0 {
			r.MinTime -= r.MinTime % 1e6 // parts split on whole milliseconds
		}
		if i < n-1 {
			next := req.MinTime + int64(i+1)*width
			r.MaxTime = next - next%1e6 - 1
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if p := recover(); p != nil {
					errs[i] = fmt.Errorf("scan %s.%s: internal error: panic: %v", qr.q.Database, qr.q.Table, p)
					cancel()
				}
			}()
			parts[i], errs[i] = qr.scanPart(ctx, &r, ms, false, true)
			if errs[i] != nil {
				cancel()
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			return nil, err
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return chainParts(parts), nil
}

func plainSeries(ks []keyedSeries) []storage.Series {
	if ks == nil {
		return nil
	}
	out := make([]storage.Series, len(ks))
	for i := range ks {
		out[i] = ks[i].s
	}
	return out
}

// chainParts merges the series of consecutive time ranges, each list in
// ascending key order: the series of one key in several ranges become one,
// its parts chained in range order.
func chainParts(parts [][]keyedSeries) []storage.Series {
	var out []storage.Series
	pos := make([]int, len(parts))
	for {
		// The smallest key at the head of a part.
		lo := -1
		for p := range parts {
			if pos[p] < len(parts[p]) && (lo < 0 || parts[p][pos[p]].key < parts[lo][pos[lo]].key) {
				lo = p
			}
		}
		if lo < 0 {
			return out
		}
		key := parts[lo][pos[lo]].key
		var head, tail *series
		for p := range parts {
			if pos[p] < len(parts[p]) && parts[p][pos[p]].key == key {
				s := parts[p][pos[p]].s
				pos[p]++
				if head == nil {
					head = s
				} else {
					tail.more = s
				}
				tail = s
			}
		}
		out = append(out, head)
	}
}

// scanPart scans the series of req; withKeys keeps each series' key.
func (qr *querier) scanPart(ctx context.Context, req *scan.Request, ms []*labels.Matcher, noSamples, withKeys bool) ([]keyedSeries, error) {
	cur, err := qr.q.Source.Scan(ctx, req)
	if absentTable(err) {
		return nil, nil // a table not written yet has no series
	}
	if err != nil {
		return nil, fmt.Errorf("scan %s.%s: %w", qr.q.Database, qr.q.Table, err)
	}
	defer cur.Close()
	var out []keyedSeries
	var sb labels.ScratchBuilder
	var slab sampleSlab
	for cur.Next() {
		b := cur.Batch()
		col := b.Column(scan.ColMeasureValue)
		if col == nil || (col.Type != ingest.TypeDouble && col.Type != ingest.TypeBigint) {
			continue // not a numeric single-measure series
		}
		lset := seriesLabels(&sb, &b.Series)
		if !matchesAll(lset, ms) {
			continue
		}
		s := &series{lset: lset}
		loaded := qr.loaded.Add(int64(len(b.Time)))
		if !noSamples && qr.q.MaxSamples > 0 && loaded > int64(qr.q.MaxSamples) {
			return nil, fmt.Errorf("scan %s.%s: %w (%d)", qr.q.Database, qr.q.Table, errTooManySamples, qr.q.MaxSamples)
		}
		if !noSamples {
			mode := packScaled
			switch {
			case qr.q.plainSamples:
				mode = packPlain
			case qr.q.xorAll || loaded > xorAfter:
				mode = packCompact
			}
			times := b.Time
			if req.Last && len(times) > 1 {
				// The newest sample is the only one the selector reads
				// (and the only one a source honouring Last gets right).
				n := len(times)
				times, col = times[n-1:], lastOf(col, n)
			}
			s.pack(appendSamples(slab.take(len(times)), times, col), &slab, mode)
		}
		ks := keyedSeries{s: s}
		if withKeys {
			ks.key = strings.Clone(b.Series.Key)
		}
		out = append(out, ks)
	}
	if err := cur.Err(); err != nil {
		return nil, fmt.Errorf("scan %s.%s: %w", qr.q.Database, qr.q.Table, err)
	}
	return out, nil
}

// residualMatchers returns the matchers of ms that the scan request built
// by request does not enforce exactly, which must be checked on every
// scanned series. The scan's equality, inequality and absence matchers
// select exactly the series the Prometheus matchers select; presence
// (!="") and regular expressions are checked again.
func residualMatchers(ms []*labels.Matcher) []*labels.Matcher {
	var out []*labels.Matcher
	for _, m := range ms {
		switch {
		case m.Type == labels.MatchEqual:
		case m.Type == labels.MatchNotEqual && m.Value != "":
		default:
			out = append(out, m)
		}
	}
	return out
}

// LabelValues implements storage.LabelQuerier.
func (qr *querier) LabelValues(ctx context.Context, name string, hints *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	set := map[string]struct{}{}
	err := qr.eachSeries(ctx, ms, func(lset labels.Labels) {
		if v := lset.Get(name); v != "" {
			set[v] = struct{}{}
		}
	})
	return limited(set, hints), nil, err
}

// LabelNames implements storage.LabelQuerier.
func (qr *querier) LabelNames(ctx context.Context, hints *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	set := map[string]struct{}{}
	err := qr.eachSeries(ctx, ms, func(lset labels.Labels) {
		lset.Range(func(l labels.Label) { set[l.Name] = struct{}{} })
	})
	return limited(set, hints), nil, err
}

func limited(set map[string]struct{}, hints *storage.LabelHints) []string {
	out := make([]string, 0, len(set))
	for v := range set {
		out = append(out, v)
	}
	sort.Strings(out)
	if hints != nil && hints.Limit > 0 && len(out) > hints.Limit {
		out = out[:hints.Limit]
	}
	return out
}

// eachSeries calls fn with the labels of every series ms select. The
// series come from the sources' series indexes where they have one
// (scan.ListSeries): the memory tier lists the series it holds without
// reading their rows, so a series it holds with no sample in the
// querier's range is listed too, as Prometheus lists its head block's.
func (qr *querier) eachSeries(ctx context.Context, ms []*labels.Matcher, fn func(labels.Labels)) error {
	list, err := scan.ListSeries(ctx, qr.q.Source, qr.request(qr.mint, qr.maxt, []string{}, ms))
	if absentTable(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("list series of %s.%s: %w", qr.q.Database, qr.q.Table, err)
	}
	var sb labels.ScratchBuilder
	for i := range list {
		if i&4095 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		lset := seriesLabels(&sb, &list[i])
		if matchesAll(lset, ms) {
			fn(lset)
		}
	}
	return nil
}

// series is one materialised series: the values of its samples, and
// their times, one per value or, when they are evenly spaced (the common
// case: half the memory), from t0 by step; or, when xor is not nil, its
// samples XOR-compressed in segments of at most xorSegSamples.
type series struct {
	lset     labels.Labels
	n        int
	fs       []float64
	k16      []int16 // if not nil, value i is k16[i] / div
	k32      []int32 // if not nil, value i is k32[i] / div
	div      float64
	ts       []int64 // nil: sample i is at t0 + i*step
	t0, step int64
	xor      []xorSeg
	last     int64 // time of the last sample
	// more, if not nil, holds the samples after this series' last: the
	// series of one scan part continues in the next (see scanSeries).
	more *series
}

// xorSeg is one Prometheus XOR chunk of a compressed series; mint is the
// time of its first sample, so that Seek skips whole segments.
type xorSeg struct {
	mint int64
	data []byte
}

// xorSegSamples bounds the samples of one segment: a Seek decodes at most
// that many samples it skips.
const xorSegSamples = 512

// fsample is one float sample.
type fsample struct {
	t int64 // milliseconds
	f float64
}

// pack stores samples (ascending times) in s from sl's blocks, as mode
// allows.
func (s *series) pack(samples []fsample, sl *sampleSlab, mode packMode) {
	n := len(samples)
	if n == 0 {
		return
	}
	s.n, s.last = n, samples[n-1].t
	compact := mode != packPlain && n >= minXORSamples
	var d float64
	var k int64
	var ok bool
	if compact {
		d, k, ok = decimalScale(samples)
	}
	switch {
	case !compact || !ok && mode == packScaled:
		s.fs = sl.fs.alloc(n)
		for i := range samples {
			s.fs[i] = samples[i].f
		}
	case ok && k <= math.MaxInt16:
		s.div, s.k16 = d, sl.k16.alloc(n)
		for i := range samples {
			s.k16[i] = int16(math.Round(samples[i].f * d))
		}
	case ok:
		s.div, s.k32 = d, sl.k32.alloc(n)
		for i := range samples {
			s.k32[i] = int32(math.Round(samples[i].f * d))
		}
	default:
		s.packXOR(samples, sl)
		return
	}
	s.t0 = samples[0].t
	if n > 1 {
		s.step = samples[1].t - samples[0].t
	}
	for i := 2; i < n; i++ {
		if samples[i].t-samples[i-1].t != s.step {
			s.ts, s.step = sl.ts.alloc(n), 0
			for j := range samples {
				s.ts[j] = samples[j].t
			}
			return
		}
	}
}

// pow10 are the scales decimalScale tries.
var pow10 = [...]float64{1, 10, 100, 1e3, 1e4, 1e5, 1e6}

// decimalScale returns the smallest power of ten d such that every value
// f of samples is, bit for bit, float64(k) / d for an integer k, and the
// largest |k|; ok is false if no d up to 1e6 has all |k| <= MaxInt32.
func decimalScale(samples []fsample) (d float64, maxK int64, ok bool) {
next:
	for _, d := range pow10 {
		maxK = 0
		for _, x := range samples {
			k := math.Round(x.f * d)
			// NaN fails the bound; -0 and inexact values the comparison.
			if !(math.Abs(k) <= math.MaxInt32) || math.Float64bits(float64(int32(k))/d) != math.Float64bits(x.f) {
				continue next
			}
			maxK = max(maxK, int64(math.Abs(k)))
		}
		return d, maxK, true
	}
	return 0, 0, false
}

// val returns the value of sample i of a series not held as XOR.
func (s *series) val(i int) float64 {
	switch {
	case s.k16 != nil:
		return float64(s.k16[i]) / s.div
	case s.k32 != nil:
		return float64(s.k32[i]) / s.div
	}
	return s.fs[i]
}

// packXOR stores samples (at least one, ascending times) in s as XOR
// chunks of at most xorSegSamples, copied into sl's blocks.
func (s *series) packXOR(samples []fsample, sl *sampleSlab) {
	s.xor = sl.segs.alloc((len(samples) + xorSegSamples - 1) / xorSegSamples)
	for i := range s.xor {
		part := samples[:min(len(samples), xorSegSamples)]
		samples = samples[len(part):]
		// An empty chunk: its 2-byte header counts the samples.
		sl.xbuf = append(sl.xbuf[:0], 0, 0)
		sl.chunk.Reset(sl.xbuf)
		app, err := sl.chunk.Appender()
		if err != nil {
			panic(fmt.Sprintf("BUG: promapi: appender of an empty XOR chunk: %v", err))
		}
		for _, x := range part {
			app.Append(0, x.t, x.f)
		}
		b := sl.chunk.Bytes()
		data := sl.bytes.alloc(len(b))
		copy(data, b)
		sl.xbuf = b // keep the grown buffer for the next segment
		s.xor[i] = xorSeg{mint: part[0].t, data: data}
	}
}

// len returns the number of samples.
func (s *series) len() int { return s.n }

// at returns the time of sample i.
func (s *series) at(i int) int64 {
	if s.ts != nil {
		return s.ts[i]
	}
	return s.t0 + int64(i)*s.step
}

// sampleSlab holds the samples of one Select: a scratch slice the samples
// of one batch are gathered in, and a few large blocks their values and
// times are packed into instead of one allocation per series.
type sampleSlab struct {
	scratch []fsample
	fs      slab[float64]
	ts      slab[int64]
	k16     slab[int16]
	k32     slab[int32]
	// Compressed series: their segments and chunk bytes, and the chunk
	// a segment is encoded in before it is copied to bytes.
	segs  slab[xorSeg]
	bytes slab[byte]
	chunk chunkenc.XORChunk
	xbuf  []byte
}

// take returns the empty scratch slice with room for n samples; it is
// reused by the next take.
func (sl *sampleSlab) take(n int) []fsample {
	if cap(sl.scratch) < n {
		sl.scratch = make([]fsample, 0, n)
	}
	return sl.scratch[:0]
}

// slab hands out slices of large blocks.
type slab[T any] struct {
	free []T
	next int // size of the next block
}

const (
	minSlab = 1 << 12
	maxSlab = 1 << 16
)

// alloc returns a slice of n elements.
func (sl *slab[T]) alloc(n int) []T {
	if n > len(sl.free) {
		sl.next = min(max(sl.next*2, minSlab), maxSlab)
		if n > sl.next {
			return make([]T, n)
		}
		sl.free = make([]T, sl.next)
	}
	out := sl.free[:n:n]
	sl.free = sl.free[n:]
	return out
}

// lastOf returns a copy of the header of numeric column col, of n rows,
// holding its last row only.
func lastOf(col *scan.Column, n int) *scan.Column {
	c := *col
	if c.Type == ingest.TypeBigint {
		c.I = c.I[n-1 : n]
	} else {
		c.F = c.F[n-1 : n]
	}
	return &c
}

// appendSamples appends to dst the samples of one batch's times (ns) and
// numeric column; TidalDB keeps nanoseconds, Prometheus works in
// milliseconds, so of several samples in one millisecond the last is kept.
func appendSamples(dst []fsample, times []int64, col *scan.Column) []fsample {
	if col.Type == ingest.TypeBigint {
		vals := col.I[:len(times)]
		for i, ns := range times {
			dst = addSample(dst, ns/1e6, float64(vals[i]))
		}
		return dst
	}
	vals := col.F[:len(times)]
	for i, ns := range times {
		dst = addSample(dst, ns/1e6, vals[i])
	}
	return dst
}

func addSample(dst []fsample, ms int64, f float64) []fsample {
	if n := len(dst); n > 0 && dst[n-1].t == ms {
		dst[n-1].f = f
		return dst
	}
	return append(dst, fsample{t: ms, f: f})
}

func (s *series) Labels() labels.Labels { return s.lset }

// Iterator implements storage.Series; it reuses it when it is one of
// this package's iterators.
func (s *series) Iterator(it chunkenc.Iterator) chunkenc.Iterator {
	if si, ok := it.(*sampleIterator); ok {
		si.reset(s)
		return si
	}
	si := &sampleIterator{}
	si.reset(s)
	return si
}

// sampleIterator is a chunkenc.Iterator over a series' samples, read
// directly (storage.ListSeriesIterator reads through an interface per
// sample); Seek computes the position of evenly spaced samples and
// searches the others by bisection.
//
// Over a compressed series it decodes the segments in turn with
// Prometheus's XOR iterator; Seek skips to the last segment that starts at
// or before its time.
type sampleIterator struct {
	s *series
	n int
	i int

	// Compressed series only.
	seg     int  // segment inner reads; len(s.xor): exhausted
	started bool // inner is on a sample
	chunk   chunkenc.XORChunk
	inner   chunkenc.Iterator
}

// reset points the iterator before the first sample of s.
func (it *sampleIterator) reset(s *series) {
	it.s, it.n, it.i = s, s.len(), -1
	if s.xor != nil {
		it.load(0)
	}
}

// load points inner before the first sample of segment k.
func (it *sampleIterator) load(k int) {
	it.seg, it.started = k, false
	it.chunk.Reset(it.s.xor[k].data)
	it.inner = it.chunk.Iterator(it.inner)
}

func (it *sampleIterator) Next() chunkenc.ValueType {
	if it.s.xor == nil && it.i+1 < it.n {
		it.i++
		return chunkenc.ValFloat
	}
	for {
		if vt := it.next(); vt != chunkenc.ValNone || it.s.more == nil {
			return vt
		}
		it.reset(it.s.more)
	}
}

// next is Next within the current part of the series.
func (it *sampleIterator) next() chunkenc.ValueType {
	if it.s.xor != nil {
		return it.nextXOR()
	}
	if it.i+1 >= it.n {
		it.i = it.n
		return chunkenc.ValNone
	}
	it.i++
	return chunkenc.ValFloat
}

// millis is a timestamp in milliseconds. Seek spells its parameter with
// it because go vet's stdmethods check takes any Seek(int64) for a broken
// io.Seeker; the alias is the same type, so chunkenc.Iterator is met.
type millis = int64

func (it *sampleIterator) nextXOR() chunkenc.ValueType {
	xs := it.s.xor
	for it.seg < len(xs) {
		if it.inner.Next() == chunkenc.ValFloat {
			it.started = true
			return chunkenc.ValFloat
		}
		if it.seg+1 == len(xs) {
			it.seg = len(xs)
			break
		}
		it.load(it.seg + 1)
	}
	return chunkenc.ValNone
}

func (it *sampleIterator) seekXOR(t millis) chunkenc.ValueType {
	xs := it.s.xor
	if it.seg >= len(xs) {
		return chunkenc.ValNone
	}
	if it.started && it.inner.AtT() >= t {
		return chunkenc.ValFloat
	}
	// The last segment from the current one that starts at or before t.
	rest := xs[it.seg+1:]
	if k := it.seg + sort.Search(len(rest), func(j int) bool { return rest[j].mint > t }); k > it.seg {
		it.load(k)
	}
	if it.inner.Seek(t) == chunkenc.ValFloat {
		it.started = true
		return chunkenc.ValFloat
	}
	if it.seg+1 == len(xs) {
		it.seg = len(xs)
		return chunkenc.ValNone
	}
	// The next segment starts after t.
	it.load(it.seg + 1)
	return it.nextXOR()
}

func (it *sampleIterator) Seek(t millis) chunkenc.ValueType {
	// Parts that end before t are skipped whole.
	for it.s.more != nil && (it.s.n == 0 || it.s.last < t) {
		it.reset(it.s.more)
	}
	return it.seek(t)
}

// seek is Seek within the current part of the series.
func (it *sampleIterator) seek(t millis) chunkenc.ValueType {
	if it.s.xor != nil {
		return it.seekXOR(t)
	}
	it.i = max(it.i, 0)
	if it.i >= it.n {
		return chunkenc.ValNone
	}
	s := it.s
	if s.at(it.i) < t {
		switch {
		case s.ts != nil:
			rest := s.ts[it.i:]
			it.i += sort.Search(len(rest), func(j int) bool { return rest[j] >= t })
		case s.step > 0:
			// The first sample at or after t: t > t0 here, so t-t0 is
			// exact as a uint64 even where it overflows int64.
			if j := (uint64(t-s.t0)-1)/uint64(s.step) + 1; j < uint64(it.n) {
				it.i = max(it.i, int(j))
			} else {
				it.i = it.n
			}
		default: // one sample, before t
			it.i = it.n
		}
		if it.i >= it.n {
			it.i = it.n
			return chunkenc.ValNone
		}
	}
	return chunkenc.ValFloat
}

func (it *sampleIterator) At() (int64, float64) {
	if it.s.xor != nil {
		return it.inner.At()
	}
	return it.s.at(it.i), it.s.val(it.i)
}

func (*sampleIterator) AtHistogram(*histogram.Histogram) (int64, *histogram.Histogram) {
	panic("BUG: promapi: AtHistogram on a float series")
}

func (*sampleIterator) AtFloatHistogram(*histogram.FloatHistogram) (int64, *histogram.FloatHistogram) {
	panic("BUG: promapi: AtFloatHistogram on a float series")
}

func (it *sampleIterator) AtT() int64 {
	if it.s.xor != nil {
		return it.inner.AtT()
	}
	return it.s.at(it.i)
}

func (*sampleIterator) AtST() int64 { return 0 }

func (it *sampleIterator) Err() error {
	if it.s != nil && it.s.xor != nil {
		return it.inner.Err()
	}
	return nil
}

// seriesSet is the result of one Select. It is loaded once, by the
// first reader (Next or Err) or by a prefetch goroutine, whichever claims
// it first; done is closed when series and err are set.
type seriesSet struct {
	qr         *querier
	ctx        context.Context
	cancel     context.CancelFunc
	req        *scan.Request
	ms         []*labels.Matcher // checked on every scanned series
	sortSeries bool
	noSamples  bool

	claimed bool // guarded by qr.mu

	done   chan struct{}
	series []storage.Series // written before done is closed
	err    error            // written before done is closed

	// Used by the reader only.
	ready bool
	i     int
}

func (ss *seriesSet) wait() {
	if ss.ready {
		return
	}
	if ss.qr.claim(ss) {
		ss.load()
	}
	<-ss.done
	ss.ready = true
}

func (ss *seriesSet) Next() bool {
	ss.wait()
	if ss.err != nil || ss.i >= len(ss.series) {
		return false
	}
	ss.i++
	return ss.i < len(ss.series)
}

func (ss *seriesSet) At() storage.Series { return ss.series[ss.i] }

func (ss *seriesSet) Err() error {
	ss.wait()
	return ss.err
}

func (*seriesSet) Warnings() annotations.Annotations { return nil }
