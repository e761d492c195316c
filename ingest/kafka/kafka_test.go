package kafka

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/ingest/pipeline"
	"github.com/tidaldb/tidal/memstore"
)

const topic = "telemetry"

var mapping = pipeline.Mapping{
	Database: "plant", Table: "telemetry",
	Time:       pipeline.TimeField{Field: "ts", Unit: "ms"},
	Dimensions: []string{"device"},
	Measures:   []pipeline.MeasureField{{Field: "temp", Type: ingest.TypeDouble}},
}

// store is a real memstore with a count of the records appended per table
// and an optional gate the test holds appends at.
type store struct {
	*memstore.DB
	mu      sync.Mutex
	tables  map[string]int
	calls   int
	failing error
	gate    chan struct{} // if set, append #2 waits for it
}

func (s *store) Append(ctx context.Context, db, table string, recs []ingest.Record, opts ingest.AppendOptions) (ingest.Result, error) {
	s.mu.Lock()
	s.calls++
	calls, failing, gate := s.calls, s.failing, s.gate
	s.mu.Unlock()
	if failing != nil {
		return ingest.Result{}, failing
	}
	if gate != nil && calls == 2 {
		select {
		case <-gate:
		case <-ctx.Done():
			return ingest.Result{}, ctx.Err()
		}
	}
	res, err := s.DB.Append(ctx, db, table, recs, opts)
	if err == nil {
		s.mu.Lock()
		s.tables[db+"."+table] += res.Total()
		s.mu.Unlock()
	}
	return res, err
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
	return &store{DB: mem, tables: map[string]int{}}
}

// cluster starts an in-process Kafka cluster with the topic.
func cluster(t *testing.T, partitions int32) []string {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(partitions, topic))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()
}

// produce writes n messages round-robin over the partitions with a real
// franz-go producer; every message whose index is in bad is malformed.
// It returns the number of bad messages.
func produce(t *testing.T, brokers []string, partitions int32, n int, bad func(i int) bool) int {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	base := time.Now().Add(-time.Minute).UnixMilli()
	nbad := 0
	var recs []*kgo.Record
	for i := range n {
		v := fmt.Sprintf(`{"ts": %d, "device": "d%d", "temp": %d.5}`, base+int64(i), i%7, i)
		if bad(i) {
			v = fmt.Sprintf(`{"ts": %d, "device": "d", "temp": "hot"}`, base)
			nbad++
		}
		recs = append(recs, &kgo.Record{Topic: topic, Partition: int32(i) % partitions, Value: []byte(v)})
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
	return nbad
}

func newSource(t *testing.T, app ingest.Appender, brokers []string, group string, maxPoll int) (*Source, *pipeline.Pipeline) {
	t.Helper()
	p, err := pipeline.New(app, pipeline.Options{Name: "plant", Source: "kafka", Format: pipeline.FormatJSON, Mapping: mapping})
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(p, Options{Brokers: brokers, Topics: []string{topic}, Group: group, MaxPollRecords: maxPoll,
		ClientOpts: []kgo.Opt{kgo.FetchMaxWait(50 * time.Millisecond), kgo.HeartbeatInterval(200 * time.Millisecond)}})
	if err != nil {
		t.Fatal(err)
	}
	return s, p
}

// run starts s and returns a function that stops it and waits.
func run(t *testing.T, s *Source) (stop func()) {
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

// waitFor polls cond (no fixed sleeps) for up to a minute.
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

func TestKafkaExactCountAndRedelivery(t *testing.T) {
	const partitions, n = 3, 300
	brokers := cluster(t, partitions)
	nbad := produce(t, brokers, partitions, n, func(i int) bool { return i%50 == 7 })
	st := openStore(t)

	s, _ := newSource(t, st, brokers, "tidal", 64)
	stop := run(t, s)
	waitFor(t, "every message", func() bool {
		return st.count("plant.telemetry") == n-nbad && st.count("plant._dead_letters") == nbad
	})
	stop()
	if nbad != 6 {
		t.Fatalf("produced %d bad messages, want 6", nbad)
	}
	rows := st.Stats().Rows
	if rows != n {
		t.Fatalf("rows = %d, want %d good + %d dead letters", rows, n-nbad, nbad)
	}

	// The group committed everything: a restart in the same group
	// delivers only what is new.
	produce(t, brokers, partitions, 3, func(int) bool { return true })
	s2, _ := newSource(t, st, brokers, "tidal", 64)
	stop = run(t, s2)
	waitFor(t, "the three new messages", func() bool { return st.count("plant._dead_letters") == nbad+3 })
	stop()
	if got := st.count("plant.telemetry"); got != n-nbad {
		t.Fatalf("a restart in the group re-appended records: %d, want %d", got, n-nbad)
	}

	// Redelivery of everything (a new group reads from the start) is
	// idempotent: no new rows.
	rows = st.Stats().Rows
	s3, _ := newSource(t, st, brokers, "other", 64)
	stop = run(t, s3)
	waitFor(t, "the redelivery", func() bool { return st.count("plant.telemetry") == 2*(n-nbad) })
	stop()
	if got := st.Stats().Rows; got != rows {
		t.Fatalf("rows after redelivery = %d, want %d", got, rows)
	}
}

func TestKafkaCommitsOnlyAfterAppend(t *testing.T) {
	const n = 40
	brokers := cluster(t, 1)
	produce(t, brokers, 1, n, func(int) bool { return false })
	st := openStore(t)
	st.failing = errors.New("disk full")
	s, p := newSource(t, st, brokers, "tidal", 10)
	stop := run(t, s)
	waitFor(t, "failed appends", func() bool {
		st.mu.Lock()
		defer st.mu.Unlock()
		return st.calls >= 2
	})
	if got := p.Status(); got.State != "retrying" {
		t.Errorf("state while appends fail = %q", got.State)
	}
	stop()

	// Nothing was committed: the same group gets every message again.
	st.mu.Lock()
	st.failing = nil
	st.mu.Unlock()
	s2, _ := newSource(t, st, brokers, "tidal", 10)
	stop = run(t, s2)
	waitFor(t, "every message", func() bool { return st.count("plant.telemetry") == n })
	stop()
	if rows := st.Stats().Rows; rows != n {
		t.Fatalf("rows = %d, want %d", rows, n)
	}
}

func TestKafkaLag(t *testing.T) {
	const n = 100
	brokers := cluster(t, 1)
	produce(t, brokers, 1, n, func(int) bool { return false })
	st := openStore(t)
	st.gate = make(chan struct{})
	s, p := newSource(t, st, brokers, "tidal", 10)
	stop := run(t, s)
	defer stop()
	gauge := p.Metrics().Lag.WithLabelValues("plant", topic+"/0")
	// The second append waits at the gate; by then the first batch is
	// committed and its lag published.
	waitFor(t, "the second append", func() bool {
		st.mu.Lock()
		defer st.mu.Unlock()
		return st.calls >= 2
	})
	first := st.count("plant.telemetry")
	if first == 0 || first > 10 {
		t.Fatalf("first batch stored %d records, want 1 to 10", first)
	}
	if got := testutil.ToFloat64(gauge); got != float64(n-first) {
		t.Fatalf("lag after the first batch = %v, want %d", got, n-first)
	}
	close(st.gate)
	waitFor(t, "every message", func() bool { return st.count("plant.telemetry") == n })
	waitFor(t, "lag 0", func() bool { return testutil.ToFloat64(gauge) == 0 })
}

// TestKafkaRebalance: two consumers in one group split the partitions; a
// member joining mid-stream duplicates nothing (offsets are committed
// before a partition is given up), and a member leaving mid-stream loses
// nothing (its uncommitted batch is redelivered to the other, and upserts
// keep the rows exact).
func TestKafkaRebalance(t *testing.T) {
	const partitions = 4
	brokers := cluster(t, partitions)
	a := openStore(t)
	b := &store{DB: a.DB, tables: map[string]int{}}
	both := func() int { return a.count("plant.telemetry") + b.count("plant.telemetry") }

	next := 0
	produceN := func(n int) {
		t.Helper()
		cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		base := time.Now().Add(-time.Minute).UnixMilli()
		var recs []*kgo.Record
		for range n {
			recs = append(recs, &kgo.Record{Topic: topic, Partition: int32(next % partitions),
				Value: fmt.Appendf(nil, `{"ts": %d, "device": "d%d", "temp": 1}`, base+int64(next), next%5)})
			next++
		}
		if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}

	produceN(400)
	sa, _ := newSource(t, a, brokers, "tidal", 20)
	stopA := run(t, sa)
	waitFor(t, "A consuming", func() bool { return a.count("plant.telemetry") > 0 })
	sb, _ := newSource(t, b, brokers, "tidal", 20)
	stopB := run(t, sb)
	// B gets its share once the group has rebalanced (a heartbeat or
	// two): keep producing until B stores something.
	waitFor(t, "B to get partitions", func() bool {
		produceN(8)
		return b.count("plant.telemetry") > 0
	})
	waitFor(t, "every message so far", func() bool { return both() >= next })
	if got := both(); got != next {
		t.Fatalf("a member joining duplicated records: %d appended for %d messages", got, next)
	}

	// A leaves mid-stream: B takes every partition.
	produceN(2000)
	sofar := both()
	waitFor(t, "progress", func() bool { return both() > sofar })
	stopA()
	bBefore := b.count("plant.telemetry")
	produceN(400)
	waitFor(t, "everything", func() bool { return a.DB.Stats().Rows == int64(next) })
	stopB()
	if b.count("plant.telemetry") == bBefore {
		t.Fatal("B appended nothing after A left")
	}
	if rows := a.DB.Stats().Rows; rows != int64(next) {
		t.Fatalf("rows = %d, want %d", rows, next)
	}
}

// TestKafkaParallelPartitions: the partitions of a poll are decoded and
// appended concurrently. With poison messages and an append that fails
// once mid-poll (the other partitions' appends succeed), every record is
// stored once and the commit covers the whole poll.
func TestKafkaParallelPartitions(t *testing.T) {
	const partitions, n = 3, 500
	brokers := cluster(t, partitions)
	nbad := produce(t, brokers, partitions, n, func(i int) bool { return i%41 == 3 })
	st := openStore(t)
	fs := &failOnce{store: st, at: 3}
	p, err := pipeline.New(fs, pipeline.Options{Name: "plant", Source: "kafka", Format: pipeline.FormatJSON, Mapping: mapping})
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(p, Options{Brokers: brokers, Topics: []string{topic}, Group: "tidal", MaxPollRecords: 100,
		ClientOpts: []kgo.Opt{kgo.FetchMaxWait(50 * time.Millisecond)}})
	if err != nil {
		t.Fatal(err)
	}
	stop := run(t, s)
	waitFor(t, "every message", func() bool {
		return st.count("plant.telemetry") == n-nbad && st.count("plant._dead_letters") == nbad
	})
	stop()
	if !fs.failed.Load() {
		t.Fatal("the injected append failure never happened")
	}
	if rows := st.Stats().Rows; rows != n {
		t.Fatalf("rows = %d, want %d", rows, n)
	}
	// Committed: the same group has nothing left to read.
	s2, _ := newSource(t, st, brokers, "tidal", 100)
	produce(t, brokers, partitions, 1, func(int) bool { return true })
	stop = run(t, s2)
	waitFor(t, "the new message", func() bool { return st.count("plant._dead_letters") == nbad+1 })
	stop()
	if got := st.count("plant.telemetry"); got != n-nbad {
		t.Fatalf("records re-appended after the commit: %d, want %d", got, n-nbad)
	}
}

// failOnce fails the at-th Append once.
type failOnce struct {
	*store
	at     int
	calls  atomic.Int64
	failed atomic.Bool
}

func (f *failOnce) Append(ctx context.Context, db, table string, recs []ingest.Record, opts ingest.AppendOptions) (ingest.Result, error) {
	if f.calls.Add(1) == int64(f.at) {
		f.failed.Store(true)
		return ingest.Result{}, errors.New("injected append failure")
	}
	return f.store.Append(ctx, db, table, recs, opts)
}
