package kinesis_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/ingest"
	tk "github.com/tidaldb/tidal/ingest/kinesis"
	"github.com/tidaldb/tidal/ingest/kinesis/kinesalite"
	"github.com/tidaldb/tidal/ingest/pipeline"
	"github.com/tidaldb/tidal/memstore"
)

var mapping = pipeline.Mapping{
	Database: "fleet", Table: "positions",
	Time:       pipeline.TimeField{Field: "t", Unit: "ms"},
	Dimensions: []string{"truck"},
	Measures:   []pipeline.MeasureField{{Field: "seq", Type: ingest.TypeBigint}, {Field: "lat", Type: ingest.TypeDouble}},
}

// store is a real memstore that counts appended records per table and
// checks that each truck's seq values arrive in increasing order (what
// reading children only after their parents guarantees).
type store struct {
	*memstore.DB
	mu       sync.Mutex
	tables   map[string]int
	lastSeq  map[string]int64
	disorder []string
	gate     chan struct{} // if set, appends after the first wait for it
	calls    int
}

func (s *store) Append(ctx context.Context, db, table string, recs []ingest.Record, opts ingest.AppendOptions) (ingest.Result, error) {
	s.mu.Lock()
	s.calls++
	gate, calls := s.gate, s.calls
	s.mu.Unlock()
	if gate != nil && calls > 1 {
		select {
		case <-gate:
		case <-ctx.Done():
			return ingest.Result{}, ctx.Err()
		}
	}
	res, err := s.DB.Append(ctx, db, table, recs, opts)
	if err != nil {
		return res, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tables[db+"."+table] += res.Total()
	for _, r := range recs {
		if r.MeasureName == "dead_letter" {
			continue
		}
		var truck string
		for _, d := range r.Dimensions {
			if d.Name == "truck" {
				truck = d.Value
			}
		}
		seq := r.Measures[0].Value.Int()
		if last, ok := s.lastSeq[truck]; ok && seq <= last {
			s.disorder = append(s.disorder, fmt.Sprintf("%s: %d after %d", truck, seq, last))
		}
		s.lastSeq[truck] = seq
	}
	return res, nil
}

func (s *store) count(table string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tables[table]
}

func openStore(t *testing.T) *store {
	t.Helper()
	dir := t.TempDir()
	cat, err := catalog.Open(catalog.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	mem, err := memstore.Open(cat, memstore.DefaultOptions(filepath.Join(dir, "memstore")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mem.Close() })
	return &store{DB: mem, tables: map[string]int{}, lastSeq: map[string]int64{}}
}

// producer puts JSON positions of trucks; each truck's seq grows by one
// per record, and the partition key is the truck.
type producer struct {
	t      *testing.T
	cl     *kinesis.Client
	stream string
	base   int64
	next   map[string]int
	good   int
	bad    int
}

func newProducer(t *testing.T, cl *kinesis.Client, stream string) *producer {
	return &producer{t: t, cl: cl, stream: stream, base: time.Now().Add(-time.Hour).UnixMilli(), next: map[string]int{}}
}

func (p *producer) position(truck string) []byte {
	seq := p.next[truck]
	p.next[truck]++
	p.good++
	return fmt.Appendf(nil, `{"t": %d, "truck": %q, "seq": %d, "lat": %d.5}`, p.base+int64(seq), truck, seq, seq)
}

// put sends n records over trucks k0..k(trucks-1) in PutRecords calls of
// up to 100; every record i with poison(i) is malformed.
func (p *producer) put(n, trucks int, poison func(i int) bool) {
	p.t.Helper()
	var entries []types.PutRecordsRequestEntry
	flush := func() {
		if len(entries) == 0 {
			return
		}
		res, err := p.cl.PutRecords(context.Background(), &kinesis.PutRecordsInput{StreamName: aws.String(p.stream), Records: entries})
		if err != nil || aws.ToInt32(res.FailedRecordCount) != 0 {
			p.t.Fatalf("put records: %v (%v failed)", err, res)
		}
		entries = entries[:0]
	}
	for i := range n {
		truck := fmt.Sprintf("k%d", i%trucks)
		data := p.position(truck)
		if poison != nil && poison(i) {
			p.next[truck]--
			p.good--
			p.bad++
			data = []byte(`{"t": 1, "truck": "` + truck + `", "seq": "not a number"`)
		}
		entries = append(entries, types.PutRecordsRequestEntry{Data: data, PartitionKey: aws.String(truck)})
		if len(entries) == 100 {
			flush()
		}
	}
	flush()
}

// putAggregate sends one KPL-aggregated record of n positions of truck.
func (p *producer) putAggregate(truck string, n int) {
	p.t.Helper()
	var subs []tk.SubRecord
	for range n {
		subs = append(subs, tk.SubRecord{PartitionKey: truck, Data: p.position(truck)})
	}
	if _, err := p.cl.PutRecord(context.Background(), &kinesis.PutRecordInput{StreamName: aws.String(p.stream),
		PartitionKey: aws.String(truck), Data: tk.Aggregate(subs)}); err != nil {
		p.t.Fatal(err)
	}
}

func newSource(t *testing.T, app ingest.Appender, cl *kinesis.Client, stream string, leases tk.LeaseStore, mod func(*tk.Options)) (*tk.Source, *pipeline.Pipeline) {
	t.Helper()
	p, err := pipeline.New(app, pipeline.Options{Name: "fleet", Source: "kinesis", Format: pipeline.FormatJSON, Mapping: mapping})
	if err != nil {
		t.Fatal(err)
	}
	o := tk.Options{Stream: stream, Leases: leases, Client: cl, MaxRecords: 25, IdleWait: 20 * time.Millisecond, ShardSync: 100 * time.Millisecond}
	if mod != nil {
		mod(&o)
	}
	s, err := tk.New(context.Background(), p, o)
	if err != nil {
		t.Fatal(err)
	}
	return s, p
}

func run(t *testing.T, s *tk.Source) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	return func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func leaseStore(t *testing.T) *tk.FileLeaseStore {
	t.Helper()
	ls, err := tk.OpenFileLeaseStore(nil, filepath.Join(t.TempDir(), "leases.json"))
	if err != nil {
		t.Fatal(err)
	}
	return ls
}

func shards(t *testing.T, cl *kinesis.Client, stream string) []types.Shard {
	t.Helper()
	res, err := cl.ListShards(context.Background(), &kinesis.ListShardsInput{StreamName: aws.String(stream)})
	if err != nil {
		t.Fatal(err)
	}
	return res.Shards
}

// TestKinesisReshardingExactCount reads a 3-shard stream with plain, KPL-
// aggregated and poison records, splits one shard and merges the two
// others while the parents still hold unread records, and checks: every
// good record stored once, every poison one a dead letter, each partition
// key's records appended in order (children read after their parents),
// parents checkpointed at SHARD_END, and a restart replays nothing.
func TestKinesisReshardingExactCount(t *testing.T) {
	srv := kinesalite.StartT(t)
	ctx := context.Background()
	cl, err := srv.Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const stream = "fleet"
	if err := kinesalite.CreateStream(ctx, cl, stream, 3); err != nil {
		t.Fatal(err)
	}
	prod := newProducer(t, cl, stream)
	prod.put(400, 12, func(i int) bool { return i%97 == 5 })
	prod.putAggregate("k1", 10)
	prod.putAggregate("k2", 7)

	st := openStore(t)
	st.gate = make(chan struct{})
	leases := leaseStore(t)
	src, p := newSource(t, st, cl, stream, leases, nil)
	stop := run(t, src)

	// The first append is through and the rest wait at the gate: the
	// parents still hold unread records when they are resharded.
	waitFor(t, "the first append", func() bool { return st.count("fleet.positions") > 0 })
	sh := shards(t, cl, stream)
	lo, _ := new(big.Int).SetString(aws.ToString(sh[0].HashKeyRange.StartingHashKey), 10)
	hi, _ := new(big.Int).SetString(aws.ToString(sh[0].HashKeyRange.EndingHashKey), 10)
	mid := new(big.Int).Rsh(new(big.Int).Add(lo, hi), 1)
	if _, err := cl.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String(stream), ShardToSplit: sh[0].ShardId, NewStartingHashKey: aws.String(mid.String())}); err != nil {
		t.Fatal(err)
	}
	if err := kinesalite.WaitActive(ctx, cl, stream); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.MergeShards(ctx, &kinesis.MergeShardsInput{StreamName: aws.String(stream), ShardToMerge: sh[1].ShardId, AdjacentShardToMerge: sh[2].ShardId}); err != nil {
		t.Fatal(err)
	}
	if err := kinesalite.WaitActive(ctx, cl, stream); err != nil {
		t.Fatal(err)
	}
	prod.put(300, 12, func(i int) bool { return i%101 == 50 })
	prod.putAggregate("k3", 5)
	close(st.gate)

	waitFor(t, "every record", func() bool {
		return st.count("fleet.positions") == prod.good && st.count("fleet._dead_letters") == prod.bad
	})
	stop()
	if prod.bad != 8 || prod.good != 700-8+22 {
		t.Fatalf("produced %d good and %d bad records", prod.good, prod.bad)
	}
	if rows := st.Stats().Rows; rows != int64(prod.good+prod.bad) {
		t.Fatalf("rows = %d, want %d good + %d dead letters", rows, prod.good, prod.bad)
	}
	if len(st.disorder) > 0 {
		t.Fatalf("records of a partition key appended out of order (a child read before its parent): %v", st.disorder[:min(5, len(st.disorder))])
	}
	if got := p.Status(); got.DeadLetters != int64(prod.bad) || got.Records != int64(prod.good) {
		t.Fatalf("status %+v", got)
	}
	ls, _ := leases.Leases(ctx)
	if len(ls) != 6 {
		t.Fatalf("%d leases, want 6 (3 parents, 3 children): %+v", len(ls), ls)
	}
	for _, l := range ls[:3] {
		if l.Checkpoint != tk.ShardEnd {
			t.Fatalf("parent %s checkpoint %q, want SHARD_END", l.Shard, l.Checkpoint)
		}
	}
	for _, l := range ls[3:] {
		if len(l.Parents) == 0 || l.Checkpoint == "" || l.Checkpoint == tk.ShardEnd {
			t.Fatalf("child lease %+v: want parents and a sequence checkpoint", l)
		}
	}
	if merged := ls[5]; len(merged.Parents) != 2 {
		t.Fatalf("merged shard lease %+v: want two parents", merged)
	}

	// A restart on the same leases reads only what is new.
	before := st.count("fleet.positions")
	prod.put(5, 5, nil)
	src2, _ := newSource(t, st, cl, stream, leases, nil)
	stop = run(t, src2)
	waitFor(t, "the 5 new records", func() bool { return st.count("fleet.positions") >= before+5 })
	stop()
	if got := st.count("fleet.positions"); got != before+5 {
		t.Fatalf("a restart appended %d records, want 5", got-before)
	}
}

// TestKinesisStartPositions: LATEST skips what was in the stream before the
// consumer started; AT_TIMESTAMP starts at the first record arrived at or
// after the time.
func TestKinesisStartPositions(t *testing.T) {
	srv := kinesalite.StartT(t)
	ctx := context.Background()
	cl, err := srv.Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := kinesalite.CreateStream(ctx, cl, "s", 1); err != nil {
		t.Fatal(err)
	}
	prod := newProducer(t, cl, "s")
	prod.put(5, 1, nil)

	t.Run("LATEST", func(t *testing.T) {
		st := openStore(t)
		src, p := newSource(t, st, cl, "s", leaseStore(t), func(o *tk.Options) { o.Start = tk.StartLatest })
		stop := run(t, src)
		defer stop()
		// The lag is published after the first GetRecords: the iterator
		// is taken by then.
		waitFor(t, "the first read", func() bool { return testutil.CollectAndCount(p.Metrics().Lag) > 0 })
		prod.put(3, 1, nil)
		waitFor(t, "the new records", func() bool { return st.count("fleet.positions") >= 3 })
		if got := st.count("fleet.positions"); got != 3 {
			t.Fatalf("LATEST stored %d records, want 3", got)
		}
	})

	t.Run("AT_TIMESTAMP", func(t *testing.T) {
		// Arrival times of the 8 records so far, read back.
		it, err := cl.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String("s"),
			ShardId: shards(t, cl, "s")[0].ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatal(err)
		}
		var recs []types.Record
		for iter := it.ShardIterator; len(recs) < 8; {
			res, err := cl.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter})
			if err != nil {
				t.Fatalf("read back: %v", err)
			}
			recs = append(recs, res.Records...)
			iter = res.NextShardIterator
		}
		if len(recs) != 8 {
			t.Fatalf("read back %d records, want 8", len(recs))
		}
		from := aws.ToTime(recs[7].ApproximateArrivalTimestamp).Add(time.Millisecond)
		for !time.Now().After(from) { // later records arrive after from
			time.Sleep(time.Millisecond)
		}
		prod.put(4, 1, nil)
		st := openStore(t)
		src, _ := newSource(t, st, cl, "s", leaseStore(t), func(o *tk.Options) { o.Start = tk.StartAtTimestamp; o.Timestamp = from })
		stop := run(t, src)
		defer stop()
		waitFor(t, "the records after the timestamp", func() bool { return st.count("fleet.positions") >= 4 })
		if got := st.count("fleet.positions"); got != 4 {
			t.Fatalf("AT_TIMESTAMP stored %d records, want 4", got)
		}
	})
}

// TestKinesisThrottlingAndExpiredIterators puts a proxy in front of
// kinesalite that answers some GetRecords with
// ProvisionedThroughputExceededException and others with
// ExpiredIteratorException (kinesalite does neither), with the SDK's own
// retries off: the source backs off, renews its iterators, and still
// stores every record exactly once.
func TestKinesisThrottlingAndExpiredIterators(t *testing.T) {
	srv := kinesalite.StartT(t)
	ctx := context.Background()
	cl, err := srv.Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := kinesalite.CreateStream(ctx, cl, "s", 2); err != nil {
		t.Fatal(err)
	}
	target, _ := url.Parse(srv.Endpoint)
	rp := httputil.NewSingleHostReverseProxy(target)
	var calls, throttled, expired, iterators atomic.Int64
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op := r.Header.Get("X-Amz-Target")
		if strings.HasSuffix(op, ".GetShardIterator") {
			iterators.Add(1)
		}
		if strings.HasSuffix(op, ".GetRecords") {
			n := calls.Add(1)
			kind := ""
			switch {
			case n%3 == 0:
				kind = "ProvisionedThroughputExceededException"
				throttled.Add(1)
			case n%7 == 0:
				kind = "ExpiredIteratorException"
				expired.Add(1)
			}
			if kind != "" {
				w.Header().Set("Content-Type", "application/x-amz-json-1.1")
				w.WriteHeader(http.StatusBadRequest)
				fmt.Fprintf(w, `{"__type":%q,"message":"injected"}`, kind)
				return
			}
		}
		rp.ServeHTTP(w, r)
	}))
	defer proxy.Close()
	pcl, err := tk.NewClient(ctx, proxy.URL, "us-east-1", "AKIDLOCAL", "local")
	if err != nil {
		t.Fatal(err)
	}
	pcl = kinesis.New(pcl.Options(), func(o *kinesis.Options) { o.RetryMaxAttempts = 1 })

	prod := newProducer(t, cl, "s")
	prod.put(300, 6, nil)
	st := openStore(t)
	src, _ := newSource(t, st, pcl, "s", leaseStore(t), func(o *tk.Options) { o.MaxRecords = 10; o.MaxBackoff = 50 * time.Millisecond })
	stop := run(t, src)
	waitFor(t, "every record", func() bool { return st.count("fleet.positions") >= prod.good })
	stop()
	if got := st.count("fleet.positions"); got != prod.good {
		t.Fatalf("stored %d records, want %d", got, prod.good)
	}
	if rows := st.Stats().Rows; rows != int64(prod.good) {
		t.Fatalf("rows = %d, want %d", rows, prod.good)
	}
	if throttled.Load() == 0 || expired.Load() == 0 {
		t.Fatalf("injected %d throttles and %d expiries; the test needs both", throttled.Load(), expired.Load())
	}
	// One iterator per shard to start, one more per expiry.
	if got, want := iterators.Load(), 2+expired.Load(); got != want {
		t.Fatalf("%d GetShardIterator calls, want %d (2 shards + %d renewals)", got, want, expired.Load())
	}
	if len(st.disorder) > 0 {
		t.Fatalf("out of order: %v", st.disorder[:min(5, len(st.disorder))])
	}
}

// syncBuf is a goroutine-safe log buffer.
type syncBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestKinesisLeaseLost: when another owner takes a shard's lease (a shared
// lease store), the reader's next checkpoint is refused and it stops
// reading the shard instead of overwriting the new owner's checkpoint.
func TestKinesisLeaseLost(t *testing.T) {
	srv := kinesalite.StartT(t)
	ctx := context.Background()
	cl, err := srv.Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := kinesalite.CreateStream(ctx, cl, "s", 1); err != nil {
		t.Fatal(err)
	}
	prod := newProducer(t, cl, "s")
	prod.put(10, 2, nil)
	st := openStore(t)
	leases := leaseStore(t)
	logs := &syncBuf{}
	src, _ := newSource(t, st, cl, "s", leases, func(o *tk.Options) {
		o.Logger = slog.New(slog.NewTextHandler(logs, nil))
	})
	stop := run(t, src)
	defer stop()
	var stolen tk.Lease
	waitFor(t, "the first checkpoint", func() bool {
		ls, _ := leases.Leases(ctx)
		if len(ls) == 1 && ls[0].Checkpoint != "" && st.count("fleet.positions") == 10 {
			stolen = ls[0]
			return true
		}
		return false
	})
	if _, err := leases.Acquire(ctx, stolen.Shard, nil, "other-node"); err != nil {
		t.Fatal(err)
	}
	prod.put(5, 2, nil)
	waitFor(t, "the reader to see the lease lost", func() bool { return strings.Contains(logs.String(), "lease lost") })
	ls, _ := leases.Leases(ctx)
	if ls[0].Owner != "other-node" || ls[0].Checkpoint != stolen.Checkpoint {
		t.Fatalf("lease after the loss %+v, want owner other-node at checkpoint %s", ls[0], stolen.Checkpoint)
	}
}
