package kafka

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/ingest/ingesttest"
	"github.com/tidaldb/tidal/ingest/pipeline"
)

const accGroup = "acceptance"

// kafkaTarget delivers records as JSON messages produced to a topic of a
// kfake cluster of its own, consumed by a Source in group accGroup. A
// delivery is acknowledged when the group's committed offset covers its
// last message; it is retryable when the source cannot append it, and then
// nothing may be committed (the group redelivers from the last commit).
//
// Kafka has no refusal signal to a producer: a poison message is
// dead-lettered and its offset committed with the good ones. Refused is
// therefore the dead letters the pipeline wrote, and Message its last
// error, as the pipeline listing shows them.
type kafkaTarget struct {
	brokers []string
	admin   *kgo.Client
	p       *pipeline.Pipeline
	stop    func()
}

func (tg *kafkaTarget) Send(t *testing.T, recs []ingest.Record, malformed bool) ingesttest.Outcome {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(tg.brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var msgs []*kgo.Record
	for i, r := range recs {
		if malformed && i == len(recs)/2 {
			msgs = append(msgs, &kgo.Record{Topic: topic, Value: []byte(`{"t": 1, "host": `)})
		}
		msgs = append(msgs, &kgo.Record{Topic: topic,
			Value: fmt.Appendf(nil, `{"t": %d, "host": %q, "m": %v}`, r.Time/1e6, r.Dimensions[0].Value, r.Value.Float())})
	}
	before := tg.p.Status()
	if err := cl.ProduceSync(context.Background(), msgs...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
	end := msgs[len(msgs)-1].Offset + 1
	waitFor(t, "the delivery to be processed or refused", func() bool {
		st := tg.p.Status()
		return st.Messages >= before.Messages+int64(len(msgs)) || st.State == "retrying"
	})
	st := tg.p.Status()
	if st.State == "retrying" {
		tg.stop() // leaves the group; nothing of the delivery is acknowledged
		if off := tg.committed(t); off >= 0 {
			t.Fatalf("offset %d committed for a delivery that was not stored", off)
		}
		return ingesttest.Outcome{Retryable: true, Message: st.LastError}
	}
	waitFor(t, "the commit", func() bool { return tg.committed(t) == end })
	out := ingesttest.Outcome{Refused: int(st.DeadLetters - before.DeadLetters)}
	if out.Refused > 0 {
		out.Message = st.LastError
	}
	return out
}

// committed returns the group's committed offset of the topic's only
// partition, -1 if none.
func (tg *kafkaTarget) committed(t *testing.T) int64 {
	t.Helper()
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Group = accGroup
	rt := kmsg.NewOffsetFetchRequestTopic()
	rt.Topic = topic
	rt.Partitions = []int32{0}
	req.Topics = append(req.Topics, rt)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := req.RequestWith(ctx, tg.admin)
	if err != nil {
		t.Fatalf("fetch committed offsets: %v", err)
	}
	if resp.ErrorCode != 0 {
		t.Fatalf("fetch committed offsets: error code %d", resp.ErrorCode)
	}
	for _, rt := range resp.Topics {
		for _, p := range rt.Partitions {
			if p.ErrorCode != 0 {
				t.Fatalf("fetch committed offset of %s/%d: error code %d", rt.Topic, p.Partition, p.ErrorCode)
			}
			if rt.Topic == topic && p.Partition == 0 {
				return p.Offset
			}
		}
	}
	return -1
}

func TestKafkaAcceptance(t *testing.T) {
	ingesttest.Run(t, ingesttest.Harness{
		Database: "db", Table: "tbl",
		New: func(t *testing.T, app ingest.Appender) ingesttest.Target {
			brokers := cluster(t, 1)
			p, err := pipeline.New(app, pipeline.Options{Name: "acc", Source: "kafka", Format: pipeline.FormatJSON, Mapping: pipeline.Mapping{
				Database: "db", Table: "tbl", Time: pipeline.TimeField{Field: "t", Unit: "ms"}, Dimensions: []string{"host"},
				Measures: []pipeline.MeasureField{{Field: "m", Type: ingest.TypeDouble}}, Single: true,
			}})
			if err != nil {
				t.Fatal(err)
			}
			s, err := New(p, Options{Brokers: brokers, Topics: []string{topic}, Group: accGroup,
				ClientOpts: []kgo.Opt{kgo.FetchMaxWait(50 * time.Millisecond), kgo.HeartbeatInterval(200 * time.Millisecond)}})
			if err != nil {
				t.Fatal(err)
			}
			admin, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(admin.Close)
			tg := &kafkaTarget{brokers: brokers, admin: admin, p: p}
			stopped := false
			stop := run(t, s)
			tg.stop = func() {
				if !stopped {
					stopped = true
					stop()
				}
			}
			t.Cleanup(tg.stop)
			return tg
		},
	})
}
