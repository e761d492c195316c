package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/timestreamwrite"

	"github.com/tidaldb/tidal/internal/testutil/s3server"
)

var snapshotLine = regexp.MustCompile(`^snapshot (\S+) in (\S+): (\d+) parts, (\d+) bytes; copied (\d+) parts, (\d+) bytes`)

// TestSnapshotUnderLoad runs the real binary with writers going, takes
// snapshots with `tidal admin snapshot create` to s3rver and to the
// default file:// target while they write, restores each with `tidal admin
// snapshot restore` into an empty data dir, and checks that every write
// acknowledged before the snapshot began is in the restored data; the
// restored directory then serves as a data dir of the real binary.
func TestSnapshotUnderLoad(t *testing.T) {
	s3srv := s3server.Start(t)
	s3srv.Bucket(t, "parts")
	s3srv.Bucket(t, "backups")
	dir := t.TempDir()
	cfg := filepath.Join(dir, "tidal.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`storage:
  object: {endpoint: %s, bucket: parts, prefix: node1, access_key_id: S3RVER, secret_access_key: S3RVER, path_style: true}
`, s3srv.Endpoint)), 0o600); err != nil {
		t.Fatal(err)
	}
	dataDir := filepath.Join(dir, "data")
	srv := startServer(t, dataDir, "--config", cfg)
	ctx := ctxT(t)
	c := srv.writeClient()
	if _, err := c.CreateDatabase(ctx, &timestreamwrite.CreateDatabaseInput{DatabaseName: aws.String("snap")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateTable(ctx, &timestreamwrite.CreateTableInput{DatabaseName: aws.String("snap"), TableName: aws.String("tbl")}); err != nil {
		t.Fatal(err)
	}

	const writers = 3
	base := time.Now().UnixMilli() - 3_600_000
	var mu sync.Mutex
	acked := make([]int, writers) // per writer: batches 0..acked-1 acknowledged
	progress := sync.NewCond(&mu)
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
				if _, err := c.WriteRecords(context.Background(), &timestreamwrite.WriteRecordsInput{
					DatabaseName: aws.String("snap"), TableName: aws.String("tbl"), Records: recs}); err != nil {
					t.Errorf("write: %v", err)
					return
				}
				mu.Lock()
				acked[w] = batch + 1
				progress.Broadcast()
				mu.Unlock()
			}
		}()
	}
	// waitFor waits until every writer has n more batches acknowledged,
	// and returns the acknowledged counts then.
	waitFor := func(n int) []int {
		mu.Lock()
		defer mu.Unlock()
		start := append([]int(nil), acked...)
		for {
			done := true
			for w := range acked {
				done = done && acked[w] >= start[w]+n
			}
			if done || t.Failed() {
				return append([]int(nil), acked...)
			}
			progress.Wait()
		}
	}
	type snap struct {
		from   string
		before []int
		out    string
	}
	var snaps []snap
	for _, to := range []string{"s3://backups/tidal", "s3://backups/tidal", ""} {
		before := waitFor(5)
		args := []string{"admin", "snapshot", "create", "--endpoint", srv.url()}
		if to != "" {
			args = append(args, "--to", to)
		}
		out, err := runTidal(t, args...)
		if err != nil {
			t.Fatalf("snapshot create: %v\n%s", err, out)
		}
		m := snapshotLine.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("snapshot create printed %q", out)
		}
		t.Logf("%s", strings.TrimSpace(out))
		parts, _ := strconv.Atoi(m[3])
		copied, _ := strconv.Atoi(m[5])
		if len(snaps) == 1 && copied >= parts {
			// The second snapshot to the same target: the first one's
			// parts are there already (merges wait for four parts).
			t.Errorf("incremental snapshot copied %d of %d parts", copied, parts)
		}
		snaps = append(snaps, snap{from: m[2], before: before, out: out})
	}
	close(stop)
	wg.Wait()
	srv.stop()
	if snaps[2].from != "file://"+filepath.Join(dataDir, "snapshots") {
		t.Fatalf("default target %s", snaps[2].from)
	}

	out, err := runTidal(t, "admin", "snapshot", "list", "--from", "s3://backups/tidal", "--endpoint", startServer(t, dataDir, "--config", cfg).url())
	if err != nil || strings.Count(out, "\n") != 3 {
		t.Fatalf("snapshot list: %v\n%s", err, out)
	}

	for i, s := range snaps {
		if i == 0 {
			continue // the second snapshot of the same target is the later one
		}
		restored := filepath.Join(t.TempDir(), "restored")
		id := snapshotLine.FindStringSubmatch(s.out)[1]
		out, err := runTidal(t, "admin", "snapshot", "restore", "--from", s.from, "--id", id, "--data-dir", restored, "--config", cfg)
		if err != nil {
			t.Fatalf("snapshot restore: %v\n%s", err, out)
		}
		got := readAll(t, restored, "snap", "tbl")
		total := 0
		for w := range writers {
			for batch := range s.before[w] {
				for i := range 100 {
					key := fmt.Sprintf("%d/%d@%d", w, i%10, base+int64(batch*10+i/10))
					if v, ok := got[key]; !ok || v != float64(batch*100+i) {
						t.Fatalf("snapshot %s: record writer %d batch %d #%d acknowledged before it began: %v, %v", id, w, batch, i, v, ok)
					}
					total++
				}
			}
		}
		t.Logf("snapshot %s from %s: %d records acknowledged before it began, %d restored", id, s.from, total, len(got))
		// The restored directory serves.
		rs := startServer(t, restored)
		if _, err := rs.writeClient().DescribeTable(ctx, &timestreamwrite.DescribeTableInput{DatabaseName: aws.String("snap"), TableName: aws.String("tbl")}); err != nil {
			t.Fatalf("restored server: %v", err)
		}
		rs.stop()
	}
}
