package main

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/timestreamwrite"
	"github.com/aws/aws-sdk-go-v2/service/timestreamwrite/types"

	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/memstore"
)

var cpuFields = []string{"usage_user", "usage_system", "usage_idle", "usage_nice", "usage_iowait",
	"usage_irq", "usage_softirq", "usage_steal", "usage_guest", "usage_guest_nice"}

// devopsBatch returns batch number n of client c: 100 records, 10 cpu
// metrics x 10 hosts at one 10 s step, integer-valued random walks as TSBS
// generates them, with the 10 TSBS host tags as dimensions.
func devopsBatch(rng *rand.Rand, c, n int, start time.Time) []ingest.Record {
	recs := make([]ingest.Record, 0, 100)
	at := start.Add(time.Duration(n) * 10 * time.Second).UnixNano()
	for h := range 10 {
		host := c*10 + h
		dims := []ingest.Dimension{
			{Name: "hostname", Value: "host_" + strconv.Itoa(host)}, {Name: "region", Value: "eu-west-1"},
			{Name: "datacenter", Value: "eu-west-1c"}, {Name: "rack", Value: strconv.Itoa(host % 100)},
			{Name: "os", Value: "Ubuntu16.04LTS"}, {Name: "arch", Value: "x64"}, {Name: "team", Value: "NYC"},
			{Name: "service", Value: strconv.Itoa(host % 20)}, {Name: "service_version", Value: "1"},
			{Name: "service_environment", Value: "production"},
		}
		for _, f := range cpuFields {
			recs = append(recs, ingest.Record{Time: at, Dimensions: dims, MeasureName: f, Value: ingest.Float(float64(rng.IntN(100))), Version: 1})
		}
	}
	return recs
}

func toSDK(recs []ingest.Record) []types.Record {
	out := make([]types.Record, len(recs))
	for i, r := range recs {
		dims := make([]types.Dimension, len(r.Dimensions))
		for j, d := range r.Dimensions {
			dims[j] = types.Dimension{Name: aws.String(d.Name), Value: aws.String(d.Value)}
		}
		out[i] = types.Record{Dimensions: dims, MeasureName: aws.String(r.MeasureName),
			MeasureValue: aws.String(strconv.FormatFloat(r.Value.Float(), 'f', -1, 64)), MeasureValueType: types.MeasureValueTypeDouble,
			Time: aws.String(strconv.FormatInt(r.Time, 10)), TimeUnit: types.TimeUnitNanoseconds}
	}
	return out
}

const benchClients = 4

// BenchmarkWriteRecords measures records/s of TSBS devops cpu batches (100
// records) from 4 concurrent clients, through the real server with the AWS
// SDK over HTTP ("http") and, as the baseline of the same run, appended
// directly to an in-process memstore ("memstore"); both fsync every
// acknowledged batch (group commit).
//
//	go test -run '^$' -bench WriteRecords -benchtime 2000x ./cmd/tidal
func BenchmarkWriteRecords(b *testing.B) {
	start := time.Now().Add(-5 * time.Hour).Truncate(time.Hour)
	b.Run("http", func(b *testing.B) {
		srv := startServer(b, b.TempDir())
		ctx := ctxT(b)
		c := srv.writeClient()
		if _, err := c.CreateDatabase(ctx, &timestreamwrite.CreateDatabaseInput{DatabaseName: aws.String("benchmark")}); err != nil {
			b.Fatal(err)
		}
		if _, err := c.CreateTable(ctx, &timestreamwrite.CreateTableInput{DatabaseName: aws.String("benchmark"), TableName: aws.String("cpu")}); err != nil {
			b.Fatal(err)
		}
		// Pre-build the requests so that the clients only send.
		reqs := make([][]*timestreamwrite.WriteRecordsInput, benchClients)
		for cl := range benchClients {
			rng := rand.New(rand.NewPCG(uint64(cl), 1))
			for n := range b.N/benchClients + 1 {
				reqs[cl] = append(reqs[cl], &timestreamwrite.WriteRecordsInput{DatabaseName: aws.String("benchmark"),
					TableName: aws.String("cpu"), Records: toSDK(devopsBatch(rng, cl, n, start))})
			}
		}
		clients := make([]*timestreamwrite.Client, benchClients)
		for i := range clients {
			clients[i] = srv.writeClient()
		}
		runClients(b, func(cl, n int) error {
			_, err := clients[cl].WriteRecords(context.Background(), reqs[cl][n])
			return err
		})
	})
	b.Run("memstore", func(b *testing.B) {
		dir := b.TempDir()
		cat, err := catalog.Open(catalog.Options{Dir: dir})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := cat.CreateDatabase("benchmark", "", nil); err != nil {
			b.Fatal(err)
		}
		if _, err := cat.CreateTable(catalog.Table{Database: "benchmark", Name: "cpu"}); err != nil {
			b.Fatal(err)
		}
		mem, err := memstore.Open(cat, memstore.DefaultOptions(filepath.Join(dir, "memstore")))
		if err != nil {
			b.Fatal(err)
		}
		defer mem.Close()
		batches := make([][][]ingest.Record, benchClients)
		for cl := range benchClients {
			rng := rand.New(rand.NewPCG(uint64(cl), 1))
			for n := range b.N/benchClients + 1 {
				batches[cl] = append(batches[cl], devopsBatch(rng, cl, n, start))
			}
		}
		runClients(b, func(cl, n int) error {
			_, err := mem.Append(context.Background(), "benchmark", "cpu", batches[cl][n], ingest.AppendOptions{})
			return err
		})
	})
}

// runClients runs b.N batches split evenly over benchClients goroutines
// (client c sends its batches 0, 1, ...) and reports records/s.
func runClients(b *testing.B, send func(client, n int) error) {
	b.ReportAllocs()
	b.ResetTimer()
	var wg sync.WaitGroup
	var failed atomic.Value
	for cl := range benchClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Client cl sends batches cl, cl+benchClients, ... below b.N.
			for n := 0; n*benchClients+cl < b.N; n++ {
				if err := send(cl, n); err != nil {
					failed.Store(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)*100/b.Elapsed().Seconds(), "records/s")
}
