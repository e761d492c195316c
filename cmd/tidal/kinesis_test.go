package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	tk "github.com/tidaldb/tidal/ingest/kinesis"
	"github.com/tidaldb/tidal/ingest/kinesis/kinesalite"
)

// TestKinesisPipelineKill9 runs the real server with the Kinesis
// pipeline (verbatim but for kinesalite's port) against kinesalite: it
// kills the server with SIGKILL mid-stream, splits a shard while it is
// down, produces more (plain and KPL-aggregated records), restarts it, and
// checks that every good record is one row and every poison one a dead
// letter, none lost and none twice.
func TestKinesisPipelineKill9(t *testing.T) {
	// No instance metadata lookups for the default credential chain.
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	srv := kinesalite.StartT(t)
	ctx := context.Background()
	cl, err := srv.Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := kinesalite.CreateStream(ctx, cl, "fleet", 4); err != nil {
		t.Fatal(err)
	}
	dataDir := t.TempDir()
	cfgPath := filepath.Join(t.TempDir(), "tidal.yaml")
	cfg := fmt.Sprintf(`
ingest:
  pipelines:
    - name: fleet
      source:
        kinesis: {stream: fleet, endpoint: %q, region: us-east-1, start: TRIM_HORIZON}
      format: json
      mapping: {database: fleet, table: positions, time: {field: t, unit: s}, dimensions: [truck], measures: {lat: DOUBLE, lon: DOUBLE}}
`, srv.Endpoint)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}

	base := time.Now().Add(-2 * time.Hour).Unix()
	next, bad := 0, 0
	last := map[string]*big.Int{} // last sequence number put, per shard
	record := func() []byte {
		i := next
		next++
		if i%100 == 42 {
			bad++
			return fmt.Appendf(nil, `{"t": %d, "truck": "x", "lat": "north"}`, base)
		}
		return fmt.Appendf(nil, `{"t": %d, "truck": "t%d", "lat": %d.5, "lon": 2}`, base+int64(i/10), i%10, i)
	}
	note := func(shard, seq *string) {
		n, _ := new(big.Int).SetString(aws.ToString(seq), 10)
		if cur := last[aws.ToString(shard)]; cur == nil || n.Cmp(cur) > 0 {
			last[aws.ToString(shard)] = n
		}
	}
	produce := func(n int) {
		for n > 0 {
			var entries []types.PutRecordsRequestEntry
			for range min(n, 500) {
				entries = append(entries, types.PutRecordsRequestEntry{Data: record(), PartitionKey: aws.String(fmt.Sprint("truck-", next%37))})
			}
			n -= len(entries)
			res, err := cl.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String("fleet"), Records: entries})
			if err != nil || aws.ToInt32(res.FailedRecordCount) != 0 {
				t.Fatalf("put records: %v", err)
			}
			for _, r := range res.Records {
				note(r.ShardId, r.SequenceNumber)
			}
		}
	}
	aggregate := func(n int) {
		var subs []tk.SubRecord
		for range n {
			subs = append(subs, tk.SubRecord{PartitionKey: "agg", Data: record()})
		}
		res, err := cl.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("fleet"), PartitionKey: aws.String("agg"), Data: tk.Aggregate(subs)})
		if err != nil {
			t.Fatal(err)
		}
		note(res.ShardId, res.SequenceNumber)
	}
	produce(6000)

	s := startServer(t, dataDir, "--config", cfgPath)
	pollUntil(t, s, "the first records", func() bool { return scrape(t, s, "tidal_pipeline_records_total")[`{pipeline="fleet"}`] > 0 })
	stored := scrape(t, s, "tidal_pipeline_records_total")[`{pipeline="fleet"}`]
	s.kill()
	t.Logf("killed after %v of %d records", stored, next-bad)

	// Reshard while the server is down: its children are read after it.
	sh, err := cl.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String("fleet")})
	if err != nil {
		t.Fatal(err)
	}
	lo, _ := new(big.Int).SetString(aws.ToString(sh.Shards[0].HashKeyRange.StartingHashKey), 10)
	hi, _ := new(big.Int).SetString(aws.ToString(sh.Shards[0].HashKeyRange.EndingHashKey), 10)
	mid := new(big.Int).Rsh(new(big.Int).Add(lo, hi), 1)
	if _, err := cl.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String("fleet"), ShardToSplit: sh.Shards[0].ShardId, NewStartingHashKey: aws.String(mid.String())}); err != nil {
		t.Fatal(err)
	}
	if err := kinesalite.WaitActive(ctx, cl, "fleet"); err != nil {
		t.Fatal(err)
	}
	produce(1000)
	aggregate(50)

	s = startServer(t, dataDir, "--config", cfgPath)
	leasePath := filepath.Join(dataDir, "kinesis", "fleet", "leases.json")
	pollUntil(t, s, "every shard checkpointed at its last record", func() bool {
		b, err := os.ReadFile(leasePath)
		if err != nil {
			return false
		}
		var leases []tk.Lease
		if json.Unmarshal(b, &leases) != nil {
			return false
		}
		at := map[string]string{}
		for _, l := range leases {
			at[l.Shard] = l.Checkpoint
		}
		if at[aws.ToString(sh.Shards[0].ShardId)] != tk.ShardEnd {
			return false
		}
		for shard, seq := range last {
			if c := at[shard]; c != tk.ShardEnd && c != seq.String() {
				return false
			}
		}
		return true
	})
	s.stop()

	if bad != 71 {
		t.Fatalf("produced %d bad records, want 71", bad)
	}
	if got := countRows(t, dataDir, "fleet", "positions"); got != next-bad {
		t.Fatalf("fleet.positions has %d rows, want %d", got, next-bad)
	}
	if got := countRows(t, dataDir, "fleet", "_dead_letters"); got != bad {
		t.Fatalf("fleet._dead_letters has %d rows, want %d", got, bad)
	}
}
