package awsfuzz

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/ingest/timestreamwrite"
	"github.com/tidaldb/tidal/internal/awsjson"
	"github.com/tidaldb/tidal/magnetic"
	"github.com/tidaldb/tidal/memstore"
	"github.com/tidaldb/tidal/memstore/wal"
	"github.com/tidaldb/tidal/query/exec"
	"github.com/tidaldb/tidal/query/scan"
	"github.com/tidaldb/tidal/query/timestreamapi"
)

// env is a server's AWS JSON stack over real tiers in a temporary
// directory, as cmd/tidal wires it (without HTTP listener and auth).
type env struct {
	h   http.Handler
	ops []string
}

func newEnv(tb testing.TB) *env {
	tb.Helper()
	dir := tb.TempDir()
	cat, err := catalog.Open(catalog.Options{Dir: dir})
	if err != nil {
		tb.Fatal(err)
	}
	mag, err := magnetic.Open(magnetic.Options{Dir: filepath.Join(dir, "magnetic"), Catalog: cat})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = mag.Close() })
	mopts := memstore.DefaultOptions(filepath.Join(dir, "memstore"))
	mopts.PartWriter = partWriter{mag}
	// Fuzzing is about request handling, not fsync: the WAL is not synced.
	mopts.WAL = wal.Options{Sync: wal.SyncNever}
	mem, err := memstore.Open(cat, mopts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = mem.Close() })
	// Small bounds keep each input fast: a fuzzed cross join or deep
	// expression is cut off by the timeout or the memory budget.
	engine := exec.New(cat, scan.Merge(mag, mem), exec.Options{MaxMemoryBytes: 32 << 20, Timeout: time.Second})
	tq := timestreamapi.New(engine, timestreamapi.Options{QueryTimeout: time.Second})
	tb.Cleanup(func() { _ = tq.Close() })
	tw := timestreamwrite.New(cat, mem, timestreamwrite.Options{})
	d := &awsjson.Dispatcher{Prefix: awsjson.TimestreamPrefix}
	for _, op := range tq.Operations() {
		d.Handle(op, tq.Serve)
	}
	for _, op := range tw.Operations() {
		d.Handle(op, tw.Serve)
	}
	return &env{h: d, ops: d.Operations()}
}

type partWriter struct{ s *magnetic.Store }

func (p partWriter) WritePart(ctx context.Context, tableID uint64, src scan.Batches) error {
	_, err := p.s.WritePart(ctx, tableID, src)
	return err
}

// do sends one request and returns the status and body.
func (e *env) do(target string, body []byte) (int, http.Header, []byte) {
	r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	r.Header.Set("Content-Type", awsjson.ContentType)
	r.Header.Set(awsjson.TargetHeader, target)
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	return w.Code, w.Header(), w.Body.Bytes()
}

func (e *env) must(tb testing.TB, op, body string) []byte {
	tb.Helper()
	code, _, out := e.do(awsjson.TimestreamPrefix+"."+op, []byte(body))
	if code != 200 {
		tb.Fatalf("%s %s: %d %s", op, body, code, out)
	}
	return out
}

// The good data: database good, table kept, goodRows records written at
// set-up. No request other than one that may delete or write them (see
// touchesGood) may change what a query of them returns.
const (
	goodRows  = 5
	goodQuery = `SELECT count(*), sum(measure_value::double) FROM "good"."kept"`
	goodWant  = `[{"ScalarValue":"5"},{"ScalarValue":"15.0"}]` // count, sum of 1..5
)

// seed (re)creates the good data.
func (e *env) seed(tb testing.TB) {
	tb.Helper()
	e.do(awsjson.TimestreamPrefix+".DeleteTable", []byte(`{"DatabaseName":"good","TableName":"kept"}`))
	e.do(awsjson.TimestreamPrefix+".DeleteDatabase", []byte(`{"DatabaseName":"good"}`))
	e.must(tb, "CreateDatabase", `{"DatabaseName":"good"}`)
	e.must(tb, "CreateTable", `{"DatabaseName":"good","TableName":"kept"}`)
	now := time.Now().UnixMilli()
	var recs []string
	for i := 1; i <= goodRows; i++ {
		recs = append(recs, fmt.Sprintf(`{"Dimensions":[{"Name":"host","Value":"h%d"}],"MeasureName":"cpu","MeasureValue":"%d","MeasureValueType":"DOUBLE","Time":"%d"}`, i, i, now-int64(i)*1000))
	}
	e.must(tb, "WriteRecords", `{"DatabaseName":"good","TableName":"kept","Records":[`+strings.Join(recs, ",")+`]}`)
	e.checkGood(tb, "seed")
	// A second database for the fuzzer to write to and change.
	e.do(awsjson.TimestreamPrefix+".CreateDatabase", []byte(`{"DatabaseName":"fuzz"}`))
	e.do(awsjson.TimestreamPrefix+".CreateTable", []byte(`{"DatabaseName":"fuzz","TableName":"tbl"}`))
}

// checkGood fails when the good data no longer reads as written.
func (e *env) checkGood(tb testing.TB, after string) {
	tb.Helper()
	out := e.must(tb, "Query", `{"QueryString":`+strconv.Quote(goodQuery)+`}`)
	if !bytes.Contains(out, []byte(goodWant)) {
		tb.Fatalf("good data changed after %s: %s", after, out)
	}
}

// TestSeeds checks that each seed reaches the path it is meant to (a seed
// refused at decoding would leave the fuzzer far from the handlers).
func TestSeeds(t *testing.T) {
	e := newEnv(t)
	e.seed(t)
	for i, s := range seeds {
		body := bytes.ReplaceAll([]byte(s.body), []byte("NOWMS"), []byte(strconv.FormatInt(time.Now().UnixMilli(), 10)))
		if code, _, out := e.do(awsjson.TimestreamPrefix+"."+s.op, body); code != s.want {
			t.Errorf("seed %d %s: %d %s, want %d", i, s.op, code, out, s.want)
		}
	}
	e.checkGood(t, "the seeds")
}

// touchesGood reports whether a request of op may legitimately change the
// good data: deletes, updates and writes, which the fuzzer can point at it.
func touchesGood(op string) bool {
	switch op {
	case "DeleteDatabase", "DeleteTable", "UpdateTable", "UpdateDatabase", "WriteRecords":
		return true
	}
	return false
}

// allowedStatus are the statuses the APIs document: 200, the 400 family
// (validation, conflict, not found, quota all answer 400 as AWS does), 404
// for an unknown operation, 413 for a body past the limit, 419 for
// RejectedRecordsException, and 503 for a busy query API. A 500 is a bug.
var allowedStatus = []int{200, 400, 404, 413, 419, 429, 503}

// seeds are requests of every operation, the status each gets in order on
// a fresh env (after seed), and so the paths they reach.
var seeds = []struct {
	op, body string
	want     int
}{
	{"WriteRecords", `{"DatabaseName":"fuzz","TableName":"tbl","Records":[{"Dimensions":[{"Name":"host","Value":"a"}],"MeasureName":"cpu","MeasureValue":"1.5","MeasureValueType":"DOUBLE","Time":"NOWMS"}]}`, 200},
	{"WriteRecords", `{"DatabaseName":"fuzz","TableName":"tbl","CommonAttributes":{"Dimensions":[{"Name":"region","Value":"eu"}],"TimeUnit":"MILLISECONDS","Time":"NOWMS"},"Records":[{"MeasureName":"m","MeasureValueType":"MULTI","MeasureValues":[{"Name":"a","Value":"1","Type":"BIGINT"},{"Name":"b","Value":"x","Type":"VARCHAR"},{"Name":"c","Value":"true","Type":"BOOLEAN"}]}]}`, 200},
	{"WriteRecords", `{"DatabaseName":"fuzz","TableName":"tbl","Records":[{"MeasureName":"cpu","MeasureValue":"2","MeasureValueType":"DOUBLE","Time":"99999999999999999999","TimeUnit":"SECONDS","Version":9223372036854775807}]}`, 419},
	{"WriteRecords", `{"DatabaseName":"good","TableName":"kept","Records":[{"MeasureName":"cpu","MeasureValue":"NaN","MeasureValueType":"DOUBLE","Time":"NOWMS"}]}`, 419},
	{"CreateDatabase", `{"DatabaseName":"fuzz","Tags":[{"Key":"k","Value":"v"}]}`, 400},
	{"CreateDatabase", `{"DatabaseName":"a"}`, 400},
	{"CreateTable", `{"DatabaseName":"fuzz","TableName":"tbl","RetentionProperties":{"MemoryStoreRetentionPeriodInHours":24,"MagneticStoreRetentionPeriodInDays":7},"MagneticStoreWriteProperties":{"EnableMagneticStoreWrites":true}}`, 400},
	{"CreateTable", `{"DatabaseName":"fuzz","TableName":"sch","Schema":{"CompositePartitionKey":[{"Type":"DIMENSION","Name":"host","EnforcementInRecord":"REQUIRED"}]}}`, 200},
	{"UpdateTable", `{"DatabaseName":"fuzz","TableName":"tbl","RetentionProperties":{"MemoryStoreRetentionPeriodInHours":0,"MagneticStoreRetentionPeriodInDays":-1}}`, 400},
	{"UpdateDatabase", `{"DatabaseName":"fuzz","KmsKeyId":"k"}`, 200},
	{"DescribeDatabase", `{"DatabaseName":"good"}`, 200},
	{"DescribeTable", `{"DatabaseName":"good","TableName":"kept"}`, 200},
	{"ListDatabases", `{"MaxResults":1,"NextToken":"x"}`, 400},
	{"ListTables", `{"DatabaseName":"good","MaxResults":20}`, 200},
	{"DeleteTable", `{"DatabaseName":"fuzz","TableName":"tbl"}`, 200},
	{"DeleteDatabase", `{"DatabaseName":"fuzz"}`, 400},
	{"DescribeEndpoints", `{}`, 200},
	{"TagResource", `{"ResourceARN":"arn:aws:timestream:us-east-1:000000000000:database/good","Tags":[{"Key":"a","Value":"b"}]}`, 200},
	{"UntagResource", `{"ResourceARN":"arn:aws:timestream:us-east-1:000000000000:database/good","TagKeys":["a"]}`, 200},
	{"ListTagsForResource", `{"ResourceARN":"arn:aws:timestream:us-east-1:000000000000:database/good/table/kept"}`, 200},
	{"Query", `{"QueryString":"SELECT host, avg(measure_value::double) FROM \"good\".\"kept\" WHERE time > ago(1h) GROUP BY host ORDER BY host","MaxRows":2}`, 200},
	{"Query", `{"QueryString":"SELECT * FROM \"good\".\"kept\"","NextToken":"bm90IGEgdG9rZW4="}`, 400},
	{"Query", `{"QueryString":"SELECT count(*) FROM unnest(sequence(1, 300)) AS a(x) CROSS JOIN unnest(sequence(1, 300)) AS b(y)"}`, 200},
	{"Query", `{"QueryString":"SELECT 1","ClientToken":"0123456789abcdef0123456789abcdef","QueryInsights":{"Mode":"ENABLED_WITH_RATE_CONTROL"}}`, 200},
	{"PrepareQuery", `{"QueryString":"SELECT * FROM \"good\".\"kept\" WHERE host = @h","ValidateOnly":true}`, 200},
	{"CancelQuery", `{"QueryId":"AEDQCANNGOOD"}`, 200},
	{"Nope", `{}`, 404},
	{"Query", `{"QueryString":"SELECT 1"`, 400},
	{"WriteRecords", ``, 400},
}

// FuzzAWSJSON sends fuzzed request bodies, with the operation chosen by
// op, to the Dispatcher in front of the real Write and Query API handlers.
// The token NOWMS in a body becomes the current time in milliseconds, so
// that seeds can write records inside the memory store window. Every
// answer must have a documented status, an error must be an AWS error
// shape ({"__type", "Message"} matching X-Amzn-ErrorType), a success must
// be a JSON object, and the good data written at set-up must still read
// the same unless the request was one that may change it.
func FuzzAWSJSON(f *testing.F) {
	e := newEnv(f)
	e.seed(f)
	for _, s := range seeds {
		i := slices.Index(e.ops, s.op)
		if i < 0 {
			i = len(e.ops) // the unknown operation
		}
		f.Add(uint8(i), []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		op := "NoSuchOperation"
		if int(which) < len(e.ops) {
			op = e.ops[which]
		}
		body = bytes.ReplaceAll(body, []byte("NOWMS"), []byte(strconv.FormatInt(time.Now().UnixMilli(), 10)))
		code, hdr, out := e.do(awsjson.TimestreamPrefix+"."+op, body)
		if testing.Verbose() {
			t.Logf("%s -> %d %.200s", op, code, out)
		}
		if !slices.Contains(allowedStatus, code) {
			t.Fatalf("%s %q: status %d %s", op, body, code, out)
		}
		if code == 200 {
			var v map[string]any
			if err := json.Unmarshal(out, &v); err != nil {
				t.Fatalf("%s %q: 200 with a body that is no JSON object (%v): %s", op, body, err, out)
			}
		} else {
			var shape struct {
				Type    string `json:"__type"`
				Message string `json:"Message"`
			}
			if err := json.Unmarshal(out, &shape); err != nil || shape.Type == "" || shape.Message == "" ||
				hdr.Get(awsjson.ErrorTypeHeader) != shape.Type || awsjson.StatusOf(shape.Type) != code && code != 413 {
				t.Fatalf("%s %q: %d %v with an error that is not an AWS error shape (%v): %s", op, body, code, hdr, err, out)
			}
		}
		if touchesGood(op) {
			e.seed(t)
			return
		}
		e.checkGood(t, op+" "+string(body))
	})
}
