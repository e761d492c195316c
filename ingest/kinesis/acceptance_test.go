package kinesis_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/ingest/ingesttest"
	tk "github.com/tidaldb/tidal/ingest/kinesis"
	"github.com/tidaldb/tidal/ingest/kinesis/kinesalite"
	"github.com/tidaldb/tidal/ingest/pipeline"
)

// kinesisTarget delivers records as JSON messages on a stream of its own,
// read by a Source: a delivery is acknowledged when the shard's checkpoint
// covers it, and is retryable when the source cannot append it (then
// nothing is checkpointed).
type kinesisTarget struct {
	cl     *kinesis.Client
	stream string
	p      *pipeline.Pipeline
	leases *tk.FileLeaseStore
	stop   func()
}

func (tg *kinesisTarget) Send(t *testing.T, recs []ingest.Record, malformed bool) ingesttest.Outcome {
	t.Helper()
	var entries []types.PutRecordsRequestEntry
	for i, r := range recs {
		if malformed && i == len(recs)/2 {
			entries = append(entries, types.PutRecordsRequestEntry{Data: []byte(`{"t": 1, "host": `), PartitionKey: aws.String("k")})
		}
		entries = append(entries, types.PutRecordsRequestEntry{PartitionKey: aws.String("k"),
			Data: fmt.Appendf(nil, `{"t": %d, "host": %q, "m": %v}`, r.Time/1e6, r.Dimensions[0].Value, r.Value.Float())})
	}
	before := tg.p.Status()
	res, err := tg.cl.PutRecords(context.Background(), &kinesis.PutRecordsInput{StreamName: aws.String(tg.stream), Records: entries})
	if err != nil || aws.ToInt32(res.FailedRecordCount) != 0 {
		t.Fatalf("put records: %v", err)
	}
	lastSeq := aws.ToString(res.Records[len(res.Records)-1].SequenceNumber)
	waitFor(t, "the delivery to be processed or refused", func() bool {
		st := tg.p.Status()
		return st.Messages >= before.Messages+int64(len(entries)) || st.State == "retrying"
	})
	st := tg.p.Status()
	if st.State == "retrying" {
		tg.stop() // nothing of the delivery is acknowledged
		ls, _ := tg.leases.Leases(context.Background())
		for _, l := range ls {
			if l.Checkpoint != "" {
				t.Fatalf("checkpoint %q written for a delivery that was not stored", l.Checkpoint)
			}
		}
		return ingesttest.Outcome{Retryable: true, Message: st.LastError}
	}
	waitFor(t, "the checkpoint", func() bool {
		ls, _ := tg.leases.Leases(context.Background())
		return len(ls) == 1 && ls[0].Checkpoint == lastSeq
	})
	out := ingesttest.Outcome{Refused: int(st.DeadLetters - before.DeadLetters)}
	if out.Refused > 0 {
		out.Message = st.LastError
	}
	return out
}

func TestKinesisAcceptance(t *testing.T) {
	srv := kinesalite.StartT(t)
	ctx := context.Background()
	cl, err := srv.Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	streams := 0
	ingesttest.Run(t, ingesttest.Harness{
		Database: "db", Table: "tbl",
		New: func(t *testing.T, app ingest.Appender) ingesttest.Target {
			streams++
			name := fmt.Sprint("acceptance-", streams)
			if err := kinesalite.CreateStream(ctx, cl, name, 1); err != nil {
				t.Fatal(err)
			}
			p, err := pipeline.New(app, pipeline.Options{Name: name, Source: "kinesis", Format: pipeline.FormatJSON, Mapping: pipeline.Mapping{
				Database: "db", Table: "tbl", Time: pipeline.TimeField{Field: "t", Unit: "ms"}, Dimensions: []string{"host"},
				Measures: []pipeline.MeasureField{{Field: "m", Type: ingest.TypeDouble}}, Single: true,
			}})
			if err != nil {
				t.Fatal(err)
			}
			leases := leaseStore(t)
			src, err := tk.New(ctx, p, tk.Options{Stream: name, Leases: leases, Client: cl, IdleWait: 10 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			tg := &kinesisTarget{cl: cl, stream: name, p: p, leases: leases}
			stopped := false
			stop := run(t, src)
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
