package snapshot_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/internal/objstore"
	"github.com/tidaldb/tidal/internal/testutil/s3server"
	"github.com/tidaldb/tidal/query/scan"
	"github.com/tidaldb/tidal/snapshot"
)

// writeDevops writes hours of the small TSBS devops shape (100 hosts x
// 10 cpu metrics at 10 s, random walks) as one part per hour.
func (s *server) writeDevops(b *testing.B, hours int) {
	rng := rand.New(rand.NewPCG(1, 2))
	for hr := range hours {
		var bs []*scan.Batch
		for h := range 100 {
			dims := []ingest.Dimension{{Name: "hostname", Value: fmt.Sprint("host_", h)}, {Name: "region", Value: "eu-central-1"}}
			for m := range 10 {
				name := fmt.Sprint("usage_", m)
				bt := &scan.Batch{Series: scan.Series{Key: string(scan.AppendSeriesKey(nil, name, dims)), Dimensions: dims, MeasureName: name}}
				c := scan.Column{Name: scan.ColMeasureValue, Type: ingest.TypeDouble}
				v := float64(rng.IntN(100))
				for i := range 360 {
					bt.Time = append(bt.Time, day0.Add(time.Duration(hr)*time.Hour+time.Duration(i)*10*time.Second).UnixNano())
					bt.Version = append(bt.Version, 1)
					v = min(100, max(0, v+float64(rng.IntN(5)-2)))
					c.F = append(c.F, v)
				}
				bt.Columns = []scan.Column{c}
				bs = append(bs, bt)
			}
		}
		if _, err := s.mag.WritePart(context.Background(), s.id, scan.NewSlice(bs)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCreate takes snapshots of 6 hours of the small devops preset
// (2.16M samples in 6 parts): full ones to an empty target and
// incremental ones (one new part since the previous snapshot), to a local
// directory (hard links) and to s3rver.
func BenchmarkCreate(b *testing.B) {
	srv := s3server.Start(b)
	srv.Bucket(b, "backups")
	for _, kind := range []string{"file", "s3"} {
		for _, incremental := range []bool{false, true} {
			b.Run(fmt.Sprintf("%s/incremental=%v", kind, incremental), func(b *testing.B) {
				src := openServer(b, b.TempDir(), nil, true)
				src.writeDevops(b, 6)
				i := 0
				target := func() snapshot.Target {
					i++
					if kind == "file" {
						return &snapshot.FileTarget{Root: filepath.Join(b.TempDir(), fmt.Sprint(i))}
					}
					bk, err := objstore.New(objstore.Config{Endpoint: srv.Endpoint, Bucket: "backups", Prefix: fmt.Sprint(b.Name(), i), PathStyle: true,
						AccessKeyID: s3server.AccessKeyID, SecretAccessKey: s3server.SecretAccessKey})
					if err != nil {
						b.Fatal(err)
					}
					return snapshot.BucketTarget{Bucket: bk}
				}
				tgt := target()
				var res snapshot.Result
				for b.Loop() {
					if !incremental {
						b.StopTimer()
						tgt = target()
						b.StartTimer()
					} else {
						b.StopTimer()
						src.write(b, i*10, 10)
						i++
						b.StartTimer()
					}
					var err error
					if res, err = snapshot.Create(context.Background(), tgt, src.source()); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(res.Bytes), "snapshot-bytes")
				b.ReportMetric(float64(res.BytesCopied), "copied-bytes")
				b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N), "ms/snapshot")
			})
		}
	}
}
