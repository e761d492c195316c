package main

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/timestreamwrite"
	"github.com/aws/aws-sdk-go-v2/service/timestreamwrite/types"

	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/magnetic"
	"github.com/tidaldb/tidal/memstore"
	"github.com/tidaldb/tidal/query/scan"
)

// TestKill9LosesNoAcknowledgedWrite writes from several goroutines through
// the AWS SDK, kills the real process with SIGKILL mid-stream, restarts it,
// and checks that every acknowledged record is there exactly as written.
func TestKill9LosesNoAcknowledgedWrite(t *testing.T) {
	t.Run("wal only", func(t *testing.T) { testKill9(t, t.TempDir(), false) })
	// With a checkpoint every second and the kill after the second one,
	// replay starts from a checkpoint and the kill may land in a checkpoint.
	// With flushes to the magnetic tier (and merges) running in a loop, the
	// kill also lands during a flush or a merge.
	t.Run("flushes", func(t *testing.T) { testKill9(t, t.TempDir(), true) })
	t.Run("checkpoints", func(t *testing.T) {
		dir := t.TempDir()
		cfg := filepath.Join(dir, "tidal.yaml")
		if err := os.WriteFile(cfg, []byte("memstore:\n  checkpoint_interval: 1s\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		testKill9(t, filepath.Join(dir, "data"), false, "--config", cfg)
	})
}

func testKill9(t *testing.T, dataDir string, flush bool, args ...string) {
	srv := startServer(t, dataDir, args...)
	ctx := ctxT(t)
	c := srv.writeClient()
	if _, err := c.CreateDatabase(ctx, &timestreamwrite.CreateDatabaseInput{DatabaseName: aws.String("dur")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateTable(ctx, &timestreamwrite.CreateTableInput{DatabaseName: aws.String("dur"), TableName: aws.String("tbl")}); err != nil {
		t.Fatal(err)
	}

	const writers = 4
	base := time.Now().Add(-time.Hour).UnixMilli()
	acked := make([][]int, writers) // per writer: acknowledged batch numbers
	var total atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for batch := 0; ; batch++ {
				select {
				case <-stop:
					return
				default:
				}
				recs := writerBatch(w, batch, base)
				_, err := c.WriteRecords(context.Background(), &timestreamwrite.WriteRecordsInput{
					DatabaseName: aws.String("dur"), TableName: aws.String("tbl"), Records: recs})
				if err != nil {
					return // the server died: this batch was never acknowledged
				}
				acked[w] = append(acked[w], batch)
				total.Add(100)
			}
		}()
	}
	var flushes atomic.Int64
	if flush {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := http.Post(srv.url()+"/api/v1/admin/flush", "application/json", nil)
				if err != nil {
					return // killed
				}
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					flushes.Add(1)
				}
			}
		}()
	}
	checkpoints := len(args) > 0
	for total.Load() < 30000 || (checkpoints && strings.Count(srv.logs.String(), "memstore checkpoint written") < 2) ||
		(flush && flushes.Load() < 3) {
		time.Sleep(5 * time.Millisecond)
	}
	srv.kill() // kill -9 while the writers are mid-request
	close(stop)
	wg.Wait()
	n := total.Load()
	t.Logf("acknowledged %d records before SIGKILL (%d flushes)", n, flushes.Load())

	// Restart the real binary: it must replay the WAL and serve again.
	srv2 := startServer(t, dataDir, args...)
	c2 := srv2.writeClient()
	if _, err := c2.DescribeTable(ctx, &timestreamwrite.DescribeTableInput{DatabaseName: aws.String("dur"), TableName: aws.String("tbl")}); err != nil {
		t.Fatalf("table lost after restart: %v", err)
	}
	srv2.stop()

	// Read everything back through the package API.
	got := readAll(t, dataDir, "dur", "tbl")
	for w := range writers {
		for _, batch := range acked[w] {
			for i := range 100 {
				key := fmt.Sprintf("%d/%d@%d", w, i%10, base+int64(batch*10+i/10))
				v, ok := got[key]
				if !ok {
					t.Fatalf("acknowledged record writer %d batch %d #%d missing after kill -9", w, batch, i)
				}
				if v != float64(batch*100+i) {
					t.Fatalf("record %s = %v, want %d", key, v, batch*100+i)
				}
			}
		}
	}
	if int64(len(got)) < n {
		t.Fatalf("%d records stored, %d acknowledged", len(got), n)
	}
}

// openTiers opens a stopped server's data dir in-process: both tiers merged
// as the server reads them.
func openTiers(t *testing.T, dataDir string) scan.Source {
	t.Helper()
	cat, err := catalog.Open(catalog.Options{Dir: dataDir})
	if err != nil {
		t.Fatal(err)
	}
	opts := memstore.DefaultOptions(filepath.Join(dataDir, "memstore"))
	opts.CheckpointInterval = 0
	mem, err := memstore.Open(cat, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mem.Close() })
	mag, err := magnetic.Open(magnetic.Options{Dir: filepath.Join(dataDir, "magnetic"), Catalog: cat})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mag.Close() })
	return scan.Merge(mag, mem)
}

// readAll opens the data dir in-process and returns writer/slot@millis -> value.
func readAll(t *testing.T, dataDir, db, table string) map[string]float64 {
	t.Helper()
	cur, err := openTiers(t, dataDir).Scan(context.Background(), &scan.Request{Database: db, Table: table, MinTime: math.MinInt64, MaxTime: math.MaxInt64})
	if err != nil {
		t.Fatal(err)
	}
	defer cur.Close()
	out := map[string]float64{}
	for cur.Next() {
		b := cur.Batch()
		w, _ := b.Series.Dimension("writer")
		slot, _ := b.Series.Dimension("slot")
		col := b.Column(scan.ColMeasureValue)
		for i, ts := range b.Time {
			k := fmt.Sprintf("%s/%s@%d", w, slot, ts/1e6)
			if _, dup := out[k]; dup {
				t.Fatalf("record %s read twice", k)
			}
			out[k] = col.F[i]
		}
	}
	if err := cur.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// readRows opens the data dir in-process and returns
// "host/measure@millis" -> "value vVERSION" (multi-measure: "a=1 b=2 vN").
func readRows(t *testing.T, dataDir, db, table string) map[string]string {
	t.Helper()
	cur, err := openTiers(t, dataDir).Scan(context.Background(), &scan.Request{Database: db, Table: table, MinTime: math.MinInt64, MaxTime: math.MaxInt64})
	if err != nil {
		t.Fatal(err)
	}
	defer cur.Close()
	out := map[string]string{}
	for cur.Next() {
		b := cur.Batch()
		host, _ := b.Series.Dimension("host")
		cols := append([]scan.Column(nil), b.Columns...)
		sort.Slice(cols, func(i, j int) bool { return cols[i].Name < cols[j].Name })
		for i, ts := range b.Time {
			var parts []string
			for c := range cols {
				if cols[c].IsNull(i) {
					continue
				}
				v := formatValue(cols[c].Value(i))
				if cols[c].Name != scan.ColMeasureValue {
					v = cols[c].Name + "=" + v
				}
				parts = append(parts, v)
			}
			ver := int64(1)
			if b.Version != nil {
				ver = b.Version[i]
			}
			parts = append(parts, fmt.Sprintf("v%d", ver))
			out[fmt.Sprintf("%s/%s@%d", host, b.Series.MeasureName, ts/1e6)] = strings.Join(parts, " ")
		}
	}
	if err := cur.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func formatValue(v ingest.Value) string {
	switch v.Type {
	case ingest.TypeDouble:
		return strconv.FormatFloat(v.Float(), 'g', -1, 64)
	case ingest.TypeBigint, ingest.TypeTimestamp:
		return strconv.FormatInt(v.Int(), 10)
	case ingest.TypeBoolean:
		return strconv.FormatBool(v.Bool())
	}
	return v.Str
}

// writerBatch is batch number batch of writer w in the load tests: 100
// records over 10 "slot" series, one per slot per millisecond from
// base+batch*10 ms to base+batch*10+9 ms, values
// batch*100+i, so that a reader can tell exactly which batches are stored.
func writerBatch(w, batch int, base int64) []types.Record {
	recs := make([]types.Record, 100)
	for i := range recs {
		recs[i] = types.Record{
			Dimensions:       []types.Dimension{{Name: aws.String("writer"), Value: aws.String(strconv.Itoa(w))}, {Name: aws.String("slot"), Value: aws.String(strconv.Itoa(i % 10))}},
			MeasureName:      aws.String("v"),
			MeasureValue:     aws.String(strconv.Itoa(batch*100 + i)),
			MeasureValueType: types.MeasureValueTypeDouble,
			Time:             aws.String(strconv.FormatInt(base+int64(batch*10+i/10), 10)),
		}
	}
	return recs
}
