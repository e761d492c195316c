package sigv4

import (
	"encoding/json"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"
)

// devopsWriteRecords returns a Timestream WriteRecords body shaped like the
// TSBS devops cpu data: hosts × 10 cpu metrics at one 10 s tick, values from
// a seeded random walk, 100 records (the WriteRecords maximum).
func devopsWriteRecords() []byte {
	type dim struct{ Name, Value string }
	type record struct {
		Dimensions       []dim
		MeasureName      string
		MeasureValue     string
		MeasureValueType string
		Time             string
	}
	metrics := []string{"usage_user", "usage_system", "usage_idle", "usage_nice", "usage_iowait", "usage_irq", "usage_softirq", "usage_steal", "usage_guest", "usage_guest_nice"}
	rng := rand.New(rand.NewPCG(42, 7))
	ts := time.Date(2026, 11, 25, 1, 0, 0, 0, time.UTC)
	recs := make([]record, 0, 100)
	for h := range 10 {
		dims := []dim{
			{"hostname", "host_" + strconv.Itoa(h)}, {"region", "us-east-1"}, {"datacenter", "us-east-1a"},
			{"rack", strconv.Itoa(rng.IntN(100))}, {"os", "Ubuntu16.04LTS"}, {"arch", "x64"},
			{"team", "SF"}, {"service", strconv.Itoa(rng.IntN(20))}, {"service_version", "1"}, {"service_environment", "production"},
		}
		for _, m := range metrics {
			v := 50.0
			for range 6 { // a minute of 10 s steps of the walk
				v += rng.NormFloat64()
				v = min(max(v, 0), 100)
			}
			recs = append(recs, record{dims, m, strconv.FormatFloat(v, 'f', -1, 64), "DOUBLE", strconv.FormatInt(ts.UnixMilli(), 10)})
		}
	}
	body, err := json.Marshal(map[string]any{"DatabaseName": "devops", "TableName": "cpu", "Records": recs})
	if err != nil {
		panic("BUG: marshal benchmark body: " + err.Error())
	}
	return body
}

var sinkKey string

func BenchmarkVerify(b *testing.B) {
	cases := []struct {
		name string
		body string
	}{
		{"ListDatabases", "{}"},
		{"WriteRecords100", string(devopsWriteRecords())},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			r, body := signed(b, signSpec{body: c.body})
			v := testVerifier()
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				key, err := v.Verify(r, body)
				if err != nil {
					b.Fatal(err)
				}
				sinkKey = key
			}
		})
	}
}
