package wal

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
)

// devopsRecords returns n WAL records shaped like a TSBS devops cpu scrape:
// each record holds one 10 s tick for 12 hosts, every host with its 10 cpu
// metrics as random walks, about 1 KiB in all. The seed is fixed.
func devopsRecords(n int) [][]byte {
	const hosts, metrics = 12, 10
	r := rand.New(rand.NewPCG(1, 2))
	vals := make([][metrics]float64, hosts)
	for h := range vals {
		for m := range vals[h] {
			vals[h][m] = r.Float64() * 100
		}
	}
	ts := int64(1451606400) * 1e9
	out := make([][]byte, n)
	for i := range out {
		b := binary.LittleEndian.AppendUint64(nil, uint64(ts))
		for h := range vals {
			b = fmt.Appendf(b, "host_%d", h)
			for m := range vals[h] {
				v := vals[h][m] + r.NormFloat64()
				vals[h][m] = math.Max(0, math.Min(100, v))
				b = binary.LittleEndian.AppendUint64(b, math.Float64bits(vals[h][m]))
			}
		}
		out[i] = b
		ts += 10e9
	}
	return out
}

// BenchmarkAppend measures group commit: appenders goroutines append ~1 KiB
// records concurrently. fsyncs/record shows how well rounds amortise the
// fsync; SyncNever is the no-fsync baseline.
func BenchmarkAppend(b *testing.B) {
	recs := devopsRecords(1024)
	for _, policy := range []SyncPolicy{SyncBatch, SyncNever} {
		for _, appenders := range []int{1, 4, 16} {
			b.Run(fmt.Sprintf("sync=%s/appenders=%d", policy, appenders), func(b *testing.B) {
				benchAppend(b, recs, policy, appenders)
			})
		}
	}
}

func benchAppend(b *testing.B, recs [][]byte, policy SyncPolicy, appenders int) {
	w := openT(b, Options{Dir: b.TempDir(), Sync: policy})
	ctx := context.Background()
	b.SetBytes(int64(len(recs[0])))
	b.ReportAllocs()
	b.ResetTimer()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range appenders {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				if err := w.Append(ctx, recs[i%int64(len(recs))]); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(w.fsyncs.Load())/float64(b.N), "fsyncs/record")
	closeT(b, w)
}

// BenchmarkReplay measures start-up replay of 16 MiB of ~1 KiB records.
func BenchmarkReplay(b *testing.B) {
	recs := devopsRecords(16 << 10)
	dir := b.TempDir()
	w := openT(b, Options{Dir: dir, Sync: SyncNever, SegmentSize: 4 << 20})
	var total int64
	for i := 0; i < len(recs); i += 8 {
		appendT(b, w, recs[i:i+8]...)
		for _, r := range recs[i : i+8] {
			total += int64(len(r))
		}
	}
	closeT(b, w)
	w = openT(b, Options{Dir: dir, Sync: SyncNever})
	defer closeT(b, w)
	b.SetBytes(total)
	b.ReportAllocs()
	var sink int
	for b.Loop() {
		n := 0
		err := w.Replay(0, func(_ int, rec []byte) error {
			n += len(rec)
			return nil
		})
		if err != nil || int64(n) != total {
			b.Fatalf("replayed %d bytes, %v; want %d", n, err, total)
		}
		sink += n
	}
	_ = sink
}
