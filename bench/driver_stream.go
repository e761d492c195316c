package bench

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tidaldb/tidal/bench/tsbs"
	"github.com/tidaldb/tidal/ingest/kinesis/kinesalite"
)

// Stream drivers: the loader produces to a broker the harness runs (an
// in-process Kafka cluster, franz-go's kfake; or kinesalite), and tidal
// consumes it through a pipeline.
const (
	DriverKafka   = "kafka"
	DriverKinesis = "kinesis"
)

// Stream topology: the workload goes to a topic (stream) of
// streamPartitions partitions (shards); the latency probe to a topic of
// one, so that its records are stored in the order they were produced.
const (
	streamTopic        = "tsbs"
	streamLatencyTopic = "tsbs_latency"
	streamPartitions   = 4
	// The latency probe: latencyRate records a second for latencyRecords.
	latencyRate    = 1000
	latencyRecords = 5000
)

// isStream reports whether driver is a stream driver.
func isStream(driver string) bool { return driver == DriverKafka || driver == DriverKinesis }

// broker is the stream a streamDriver produces to.
type broker interface {
	// produce sends values (keyed by keys) to topic and returns once the
	// broker acknowledged them.
	produce(ctx context.Context, topic string, keys []string, values [][]byte) error
	// sourceYAML is the pipeline source reading topic.
	sourceYAML(topic string) string
	close()
}

// streamDriver writes each TSBS point as one JSON message (tags, fields,
// "_m" the measurement, "_t" the time in ns) keyed by its first tag; the
// server's pipeline maps it to single-measure DOUBLE records in the table
// the measurement names (the Timestream layout, table "{{._m}}").
type streamDriver struct {
	name string
	b    broker
}

// StreamResult is what a stream driver measured besides the ingest rate.
type StreamResult struct {
	// LatencyRate is the steady produce rate of the probe, records/s.
	LatencyRate int
	// Records probed and their produce → queryable latency.
	Records  int
	P50, P99 time.Duration
}

// newStreamDriver starts the broker of driver.
func newStreamDriver(ctx context.Context, driver string) (*streamDriver, error) {
	switch driver {
	case DriverKafka:
		c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(streamPartitions, streamTopic), kfake.SeedTopics(1, streamLatencyTopic))
		if err != nil {
			return nil, fmt.Errorf("start kafka (kfake): %w", err)
		}
		cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ProducerLinger(0), kgo.ProducerBatchMaxBytes(4<<20))
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("start kafka producer: %w", err)
		}
		return &streamDriver{name: driver, b: &kafkaBroker{c: c, cl: cl}}, nil
	case DriverKinesis:
		srv, err := kinesalite.Start()
		if err != nil {
			return nil, err
		}
		cl, err := srv.Client(ctx)
		if err == nil {
			err = kinesalite.CreateStream(ctx, cl, streamTopic, streamPartitions)
		}
		if err == nil {
			err = kinesalite.CreateStream(ctx, cl, streamLatencyTopic, 1)
		}
		if err != nil {
			srv.Close()
			return nil, err
		}
		// The server finds no AWS credentials and sends placeholders;
		// skip its instance-metadata lookup.
		_ = os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
		return &streamDriver{name: driver, b: &kinesisBroker{srv: srv, cl: cl}}, nil
	}
	return nil, fmt.Errorf("%w: %q is not a stream driver", ErrBadOptions, driver)
}

func (d *streamDriver) Name() string                            { return d.name }
func (d *streamDriver) MaxBatch() int                           { return 0 }
func (d *streamDriver) Prepare(context.Context, []string) error { return nil }

// Write produces one message per point.
func (d *streamDriver) Write(ctx context.Context, pts []tsbs.Point) error {
	keys := make([]string, len(pts))
	values := make([][]byte, len(pts))
	for i := range pts {
		p := &pts[i]
		if len(p.Tags) > 0 {
			keys[i] = p.Tags[0].Value
		}
		values[i] = appendPointJSON(nil, p)
	}
	return d.b.produce(ctx, streamTopic, keys, values)
}

// appendPointJSON encodes p as the pipeline's JSON message. TSBS tag names
// and values are ASCII, so strconv's quoting is JSON's.
func appendPointJSON(b []byte, p *tsbs.Point) []byte {
	b = append(b, `{"_m":`...)
	b = strconv.AppendQuote(b, p.Measurement)
	b = append(b, `,"_t":`...)
	b = strconv.AppendInt(b, p.Time, 10)
	for _, t := range p.Tags {
		b = append(b, ',')
		b = strconv.AppendQuote(b, t.Key)
		b = append(b, ':')
		b = strconv.AppendQuote(b, t.Value)
	}
	for i := range p.Fields {
		f := &p.Fields[i]
		b = append(b, ',')
		b = strconv.AppendQuote(b, f.Name)
		b = append(b, ':')
		b = strconv.AppendFloat(b, f.Value(), 'g', -1, 64)
	}
	return append(b, '}')
}

// streamShape returns every tag and field name of the workload, sorted:
// the pipeline mapping's dimensions and measures.
func streamShape(w *workload) (tags, fields []string, err error) {
	ts, fs := map[string]bool{}, map[string]bool{}
	err = w.each(func(p *tsbs.Point) error {
		for _, t := range p.Tags {
			ts[t.Key] = true
		}
		for i := range p.Fields {
			fs[p.Fields[i].Name] = true
		}
		return nil
	})
	for t := range ts {
		tags = append(tags, t)
	}
	for f := range fs {
		fields = append(fields, f)
	}
	slices.Sort(tags)
	slices.Sort(fields)
	return tags, fields, err
}

// pipelinesYAML is tidal's ingest section for the driver: the workload
// pipeline and the latency probe's.
func (d *streamDriver) pipelinesYAML(tags, fields []string) string {
	var ms []string
	for _, f := range fields {
		ms = append(ms, strconv.Quote(f)+": DOUBLE")
	}
	var dims []string
	for _, t := range tags {
		dims = append(dims, strconv.Quote(t))
	}
	return fmt.Sprintf(`ingest:
  pipelines:
    - name: %s
      source: %s
      format: json
      mapping: {database: %s, table: "{{._m}}", records: single, time: {field: _t, unit: ns}, dimensions: [%s], measures: {%s}}
    - name: %s
      source: %s
      format: json
      mapping: {database: %s_latency, table: probe, time: {field: t, unit: ns}, dimensions: [id], measures: {v: DOUBLE}}
`, streamTopic, d.b.sourceYAML(streamTopic), Database, strings.Join(dims, ", "), strings.Join(ms, ", "),
		streamLatencyTopic, d.b.sourceYAML(streamLatencyTopic), Database)
}

func (d *streamDriver) close() { d.b.close() }

// pipelineRecords reads tidal_pipeline_records_total of pipeline from the
// server's /metrics.
func pipelineRecords(ctx context.Context, hc *http.Client, url, pipeline string) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/metrics", nil)
	if err != nil {
		return 0, fmt.Errorf("build metrics request: %w", err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, fmt.Errorf("read metrics: %w", err)
	}
	defer resp.Body.Close()
	prefix := `tidal_pipeline_records_total{pipeline="` + pipeline + `"} `
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), prefix); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return 0, fmt.Errorf("read metrics: %q: %w", sc.Text(), err)
			}
			return int64(f), nil
		}
	}
	return 0, sc.Err()
}

// drain waits until the server's workload pipeline stored n records.
func (d *streamDriver) drain(ctx context.Context, hc *http.Client, url string, n int64) error {
	for {
		got, err := pipelineRecords(ctx, hc, url, streamTopic)
		if err != nil {
			return err
		}
		if got >= n {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for the pipeline to store %d records (at %d): %w", n, got, ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// latency produces the probe at latencyRate records a second to the
// one-partition topic and measures, for each record, the time from just
// before its produce call to the first /metrics poll (every 2 ms) whose
// stored count covers it: with one partition the pipeline stores records
// in produce order, so count n means records 1..n are queryable.
func (d *streamDriver) latency(ctx context.Context, hc *http.Client, url string) (StreamResult, error) {
	res := StreamResult{LatencyRate: latencyRate, Records: latencyRecords}
	var mu sync.Mutex
	sent := make([]time.Time, 0, latencyRecords)
	lat := make([]time.Duration, 0, latencyRecords)
	base, err := pipelineRecords(ctx, hc, url, streamLatencyTopic)
	if err != nil {
		return res, err
	}
	pctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		seen := int64(0)
		for seen < latencyRecords {
			got, err := pipelineRecords(pctx, hc, url, streamLatencyTopic)
			if err != nil {
				done <- err
				return
			}
			now := time.Now()
			mu.Lock()
			for ; seen < got-base && int(seen) < len(sent); seen++ {
				lat = append(lat, now.Sub(sent[seen]))
			}
			mu.Unlock()
			select {
			case <-pctx.Done():
				done <- fmt.Errorf("latency probe: %d of %d records stored: %w", seen, latencyRecords, pctx.Err())
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
		done <- nil
	}()
	const tick = 10 * time.Millisecond
	per := latencyRate * int(tick) / int(time.Second)
	tk := time.NewTicker(tick)
	defer tk.Stop()
	t0 := time.Now().Add(-time.Minute).UnixNano()
	for i := 0; i < latencyRecords; {
		<-tk.C
		var keys []string
		var values [][]byte
		mu.Lock()
		for j := 0; j < per && i < latencyRecords; j, i = j+1, i+1 {
			keys = append(keys, "probe")
			values = append(values, fmt.Appendf(nil, `{"t": %d, "id": "p%d", "v": 1}`, t0+int64(i), i%10))
			sent = append(sent, time.Now())
		}
		mu.Unlock()
		if err := d.b.produce(pctx, streamLatencyTopic, keys, values); err != nil {
			return res, err
		}
	}
	if err := <-done; err != nil {
		return res, err
	}
	slices.Sort(lat)
	res.P50 = lat[len(lat)/2]
	res.P99 = lat[len(lat)*99/100]
	return res, nil
}

// kafkaBroker is an in-process Kafka cluster (kfake) and a producer.
type kafkaBroker struct {
	c  *kfake.Cluster
	cl *kgo.Client
}

func (k *kafkaBroker) produce(ctx context.Context, topic string, keys []string, values [][]byte) error {
	recs := make([]*kgo.Record, len(values))
	for i := range values {
		recs[i] = &kgo.Record{Topic: topic, Key: []byte(keys[i]), Value: values[i]}
	}
	if err := k.cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		return fmt.Errorf("produce to kafka: %w", err)
	}
	return nil
}

func (k *kafkaBroker) sourceYAML(topic string) string {
	return fmt.Sprintf(`{kafka: {brokers: [%q], topics: [%s], group: tidal-bench}}`, k.c.ListenAddrs()[0], topic)
}

func (k *kafkaBroker) close() {
	k.cl.Close()
	k.c.Close()
}

// kinesisBroker is kinesalite and a producer.
type kinesisBroker struct {
	srv *kinesalite.Server
	cl  *kinesis.Client
}

// kinesisMaxPut is PutRecords' limit of records per call.
const kinesisMaxPut = 500

func (k *kinesisBroker) produce(ctx context.Context, topic string, keys []string, values [][]byte) error {
	for len(values) > 0 {
		n := min(len(values), kinesisMaxPut)
		entries := make([]ktypes.PutRecordsRequestEntry, n)
		for i := range n {
			key := keys[i]
			if key == "" {
				key = "-"
			}
			entries[i] = ktypes.PutRecordsRequestEntry{PartitionKey: aws.String(key), Data: values[i]}
		}
		// Retry what a throttled PutRecords left out (kinesalite does not
		// throttle; AWS does).
		for len(entries) > 0 {
			res, err := k.cl.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(topic), Records: entries})
			if err != nil {
				return fmt.Errorf("put records to kinesis: %w", err)
			}
			var again []ktypes.PutRecordsRequestEntry
			for i, r := range res.Records {
				if r.ErrorCode != nil {
					again = append(again, entries[i])
				}
			}
			entries = again
		}
		keys, values = keys[n:], values[n:]
	}
	return nil
}

func (k *kinesisBroker) sourceYAML(topic string) string {
	// 200 ms: a shard's limit of 5 reads a second.
	return fmt.Sprintf(`{kinesis: {stream: %s, endpoint: %q, region: us-east-1, idle_wait: 200ms}}`, topic, k.srv.Endpoint)
}

func (k *kinesisBroker) close() { k.srv.Close() }
