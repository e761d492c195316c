package timestreamwrite

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/internal/awsjson"
)

type noopAppender struct{}

func (noopAppender) Append(_ context.Context, _, _ string, recs []ingest.Record, _ ingest.AppendOptions) (ingest.Result, error) {
	return ingest.Result{MemoryStore: len(recs)}, nil
}

// discardWriter is a ResponseWriter that keeps only the status.
type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(status int)      { w.status = status }

var tsbsMetrics = []string{"usage_user", "usage_system", "usage_idle", "usage_nice", "usage_iowait",
	"usage_irq", "usage_softirq", "usage_steal", "usage_guest", "usage_guest_nice"}

// tsbsHost returns the TSBS devops tags of host i.
func tsbsHost(rng *rand.Rand, i int) []wireDimension {
	regions := []string{"us-east-1", "us-west-1", "eu-west-1", "ap-southeast-2"}
	region := regions[rng.IntN(len(regions))]
	tags := [][2]string{
		{"hostname", fmt.Sprintf("host_%d", i)},
		{"region", region},
		{"datacenter", fmt.Sprintf("%sa", region)},
		{"rack", strconv.Itoa(rng.IntN(100))},
		{"os", "Ubuntu16.04LTS"},
		{"arch", "x64"},
		{"team", "SF"},
		{"service", strconv.Itoa(rng.IntN(20))},
		{"service_version", strconv.Itoa(rng.IntN(2))},
		{"service_environment", "production"},
	}
	dims := make([]wireDimension, len(tags))
	for j, t := range tags {
		dims[j] = wireDimension{Name: ptr(t[0]), Value: ptr(t[1]), DimensionValueType: ptr("VARCHAR")}
	}
	return dims
}

// tsbsBody builds a 100-record WriteRecords request in the TSBS devops
// shape: 10 hosts, 10 cpu metrics per host at a 10 s interval, random-walk
// values from a fixed seed. single writes one DOUBLE record per metric (10
// hosts x 10 metrics); otherwise each record is one MULTI record of the 10
// metrics (10 hosts x 10 intervals).
func tsbsBody(single bool) []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	start := int64(1700000000000)
	vals := make([]float64, len(tsbsMetrics))
	for i := range vals {
		vals[i] = rng.Float64() * 100
	}
	step := func() {
		for i := range vals {
			vals[i] = min(100, max(0, vals[i]+rng.NormFloat64()))
		}
	}
	req := writeRecordsRequest{DatabaseName: ptr("devops"), TableName: ptr("cpu")}
	for h := range 10 {
		dims := tsbsHost(rng, h)
		if single {
			step()
			for m, name := range tsbsMetrics {
				req.Records = append(req.Records, wireRecord{
					Dimensions: dims, MeasureName: ptr(name), MeasureValueType: ptr("DOUBLE"),
					MeasureValue: ptr(strconv.FormatFloat(vals[m], 'f', -1, 64)),
					Time:         ptr(strconv.FormatInt(start, 10)), TimeUnit: ptr("MILLISECONDS"),
				})
			}
			continue
		}
		for k := range 10 {
			step()
			r := wireRecord{Dimensions: dims, MeasureName: ptr("cpu"), MeasureValueType: ptr("MULTI"),
				Time: ptr(strconv.FormatInt(start+int64(k)*10_000, 10)), TimeUnit: ptr("MILLISECONDS")}
			for m, name := range tsbsMetrics {
				r.MeasureValues = append(r.MeasureValues, wireMeasureValue{Name: ptr(name), Value: ptr(strconv.FormatFloat(vals[m], 'f', -1, 64)), Type: ptr("DOUBLE")})
			}
			req.Records = append(req.Records, r)
		}
	}
	data, err := json.Marshal(&req)
	if err != nil {
		panic(err)
	}
	return data
}

// BenchmarkWriteRecords measures a whole WriteRecords request (JSON decode,
// validation, conversion, response) of 100 TSBS records with a no-op
// appender.
func BenchmarkWriteRecords(b *testing.B) {
	cat, err := catalog.Open(catalog.Options{})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := cat.CreateDatabase("devops", "", nil); err != nil {
		b.Fatal(err)
	}
	if _, err := cat.CreateTable(catalog.Table{Database: "devops", Name: "cpu"}); err != nil {
		b.Fatal(err)
	}
	api := New(cat, noopAppender{}, Options{})
	req := httptest.NewRequest(http.MethodPost, "/", nil)
	for _, shape := range []struct {
		name   string
		single bool
	}{{"single-double", true}, {"multi", false}} {
		b.Run(shape.name, func(b *testing.B) {
			body := tsbsBody(shape.single)
			w := &discardWriter{h: http.Header{}}
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				api.Serve(w, req, "WriteRecords", body)
				if w.status != 200 {
					b.Fatalf("status %d", w.status)
				}
			}
			b.ReportMetric(float64(100*b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// BenchmarkConvertRecords isolates validation and conversion (no JSON) of
// the same requests, decoded as the server decodes them (records of one
// host share their decoded dimensions).
func BenchmarkConvertRecords(b *testing.B) {
	table := &catalog.Table{PartitionKeys: []catalog.PartitionKey{{Type: catalog.PartitionKeyMeasure}}}
	for _, shape := range []struct {
		name   string
		single bool
	}{{"single-double", true}, {"multi", false}} {
		b.Run(shape.name, func(b *testing.B) {
			var req writeRecordsRequest
			if e := decodeWriteRecords(tsbsBody(shape.single), &req); e != nil {
				b.Fatal(e)
			}
			b.ReportAllocs()
			for b.Loop() {
				conv, e := convertRecords(req.CommonAttributes, req.Records, table)
				if e != nil || len(conv.recs) != 100 {
					b.Fatalf("converted %d records, %v", len(conv.recs), e)
				}
			}
			b.ReportMetric(float64(100*b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// BenchmarkDecodeWriteRecords compares the fast-path decoder with
// encoding/json (through awsjson.Decode) on the same TSBS bodies.
func BenchmarkDecodeWriteRecords(b *testing.B) {
	for _, shape := range []struct {
		name   string
		single bool
	}{{"single-double", true}, {"multi", false}} {
		body := tsbsBody(shape.single)
		b.Run(shape.name+"/fast", func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				var req writeRecordsRequest
				if e := decodeWriteRecords(body, &req); e != nil || len(req.Records) != 100 {
					b.Fatal(e)
				}
			}
		})
		b.Run(shape.name+"/encoding-json", func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				var req writeRecordsRequest
				if e := awsjson.Decode(body, &req); e != nil || len(req.Records) != 100 {
					b.Fatal(e)
				}
			}
		})
	}
}
