package timestreamwrite

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/internal/awsjson"
)

// captureAppender keeps the records of the last Append.
type captureAppender struct{ recs []ingest.Record }

func (c *captureAppender) Append(_ context.Context, _, _ string, recs []ingest.Record, _ ingest.AppendOptions) (ingest.Result, error) {
	c.recs = c.recs[:0]
	for _, r := range recs {
		r.Dimensions = append([]ingest.Dimension(nil), r.Dimensions...)
		r.Measures = append([]ingest.Measure(nil), r.Measures...)
		c.recs = append(c.recs, r)
	}
	return ingest.Result{MemoryStore: len(recs)}, nil
}

func formatValue(v ingest.Value) string {
	switch v.Type {
	case ingest.TypeDouble:
		return strconv.FormatFloat(v.Float(), 'g', -1, 64)
	case ingest.TypeBigint, ingest.TypeTimestamp:
		return strconv.FormatInt(v.Int(), 10)
	case ingest.TypeBoolean:
		return strconv.FormatBool(v.Bool())
	default:
		return v.Str
	}
}

// encodeRecords renders records as a WriteRecords request with explicit
// types and nanosecond times.
func encodeRecords(db, table string, recs []ingest.Record) []byte {
	req := writeRecordsRequest{DatabaseName: ptr(db), TableName: ptr(table)}
	for _, r := range recs {
		w := wireRecord{MeasureName: ptr(r.MeasureName), Time: ptr(strconv.FormatInt(r.Time, 10)), TimeUnit: ptr("NANOSECONDS"), Version: ptr(r.Version)}
		for _, d := range r.Dimensions {
			w.Dimensions = append(w.Dimensions, wireDimension{Name: ptr(d.Name), Value: ptr(d.Value), DimensionValueType: ptr("VARCHAR")})
		}
		if r.IsMulti() {
			w.MeasureValueType = ptr("MULTI")
			for _, m := range r.Measures {
				w.MeasureValues = append(w.MeasureValues, wireMeasureValue{Name: ptr(m.Name), Value: ptr(formatValue(m.Value)), Type: ptr(m.Value.Type.String())})
			}
		} else {
			w.MeasureValueType = ptr(r.Value.Type.String())
			w.MeasureValue = ptr(formatValue(r.Value))
		}
		req.Records = append(req.Records, w)
	}
	data, _ := json.Marshal(&req)
	return data
}

// FuzzWriteRecordsDecode sends arbitrary bodies to WriteRecords. It must
// never panic or answer with a server error, every answer must be JSON, and
// whatever is stored must survive a re-encode (explicit types, nanosecond
// times) bit for bit.
func FuzzWriteRecordsDecode(f *testing.F) {
	seeds := []string{
		`{"DatabaseName":"devops","TableName":"cpu","Records":[{"Dimensions":[{"Name":"host","Value":"h1"}],"MeasureName":"cpu","MeasureValue":"35.2","Time":"1700000000000"}]}`,
		`{"DatabaseName":"devops","TableName":"cpu","CommonAttributes":{"Dimensions":[{"Name":"host","Value":"h1","DimensionValueType":"VARCHAR"}],"TimeUnit":"MILLISECONDS"},
		  "Records":[{"MeasureName":"cpu","MeasureValue":"35.2","MeasureValueType":"DOUBLE","Time":"1700000000000"},
		  {"MeasureName":"metrics","MeasureValueType":"MULTI","Time":"1700000000000","Version":2,
		   "MeasureValues":[{"Name":"mem","Value":"61","Type":"BIGINT"},{"Name":"ok","Value":"true","Type":"BOOLEAN"},{"Name":"at","Value":"5","Type":"TIMESTAMP"},{"Name":"s","Value":"x","Type":"VARCHAR"}]}]}`,
		`{"DatabaseName":"devops","TableName":"cpu","Records":[{"Dimensions":[{"Name":"host","Value":"h1"}],"MeasureName":"c","MeasureValue":"NaN","Time":"1","TimeUnit":"SECONDS","Version":0}]}`,
		`{"DatabaseName":"devops","TableName":"cpu","Records":[]}`,
		`{"DatabaseName":"devops","TableName":"nope","Records":[{}]}`,
		`{"DatabaseName":"devops","TableName":"cpu","Records":[{"Version":1.5}]}`,
		`{"DatabaseName":"devops","TableName":"cpu","Records":[null, {"Dimensions":null}]}`,
		`{"DatabaseName":"devops","TableName":"cpu","Records":[{"Dimensions":[{"Name":"host","Value":"h1"}],"MeasureName":"c","MeasureValue":"1e308","MeasureValueType":"DOUBLE","Time":"9223372036854775807","TimeUnit":"NANOSECONDS"}]}`,
		`{"DatabaseName":"devops","TableName":"cpu","CommonAttributes":{"Dimensions":[{"Name":"host"}]},"Records":[{}]}`,
		`[]`, ``, `{`, `{"Records":"x"}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	cat, err := catalog.Open(catalog.Options{})
	if err != nil {
		f.Fatal(err)
	}
	if _, err := cat.CreateDatabase("devops", "", nil); err != nil {
		f.Fatal(err)
	}
	if _, err := cat.CreateTable(catalog.Table{Database: "devops", Name: "cpu"}); err != nil {
		f.Fatal(err)
	}
	first, second := &captureAppender{}, &captureAppender{}
	api1 := New(cat, first, Options{})
	api2 := New(cat, second, Options{})
	httpReq := httptest.NewRequest(http.MethodPost, "/", nil)

	f.Fuzz(func(t *testing.T, body []byte) {
		first.recs, second.recs = first.recs[:0], second.recs[:0]
		rec := httptest.NewRecorder()
		api1.Serve(rec, httpReq, "WriteRecords", body)
		if rec.Code != 200 && rec.Code != 400 && rec.Code != 419 {
			t.Fatalf("status %d for body %q: %s", rec.Code, body, rec.Body.String())
		}
		var resp map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
			t.Fatalf("response is not JSON: %q", rec.Body.String())
		}
		if len(first.recs) == 0 {
			return
		}
		again := encodeRecords("devops", "cpu", first.recs)
		rec2 := httptest.NewRecorder()
		api2.Serve(rec2, httpReq, "WriteRecords", again)
		if rec2.Code != 200 {
			// Re-encoding may lengthen value strings ("1e5" -> "100000")
			// past a size limit; nothing else may fail.
			if !strings.Contains(rec2.Body.String(), "bytes") {
				t.Fatalf("re-encoded request failed: %s\n%s", rec2.Body.String(), again)
			}
			return
		}
		if !reflect.DeepEqual(first.recs, second.recs) {
			t.Fatalf("round trip changed records:\n%+v\n%+v", first.recs, second.recs)
		}
	})
}

// FuzzFastDecode checks that the WriteRecords fast-path decoder agrees
// exactly with awsjson.Decode whenever it accepts an input.
func FuzzFastDecode(f *testing.F) {
	f.Add([]byte(`{"DatabaseName":"devops","TableName":"cpu","Records":[{"Dimensions":[{"Name":"hostname","Value":"host_0","DimensionValueType":"VARCHAR"},` +
		`{"Name":"region","Value":"eu-west-1","DimensionValueType":"VARCHAR"}],"MeasureName":"cpu","MeasureValueType":"MULTI","Time":"1700000000000",` +
		`"TimeUnit":"MILLISECONDS","MeasureValues":[{"Name":"usage_user","Value":"58.1","Type":"DOUBLE"},{"Name":"usage_system","Value":"2.5","Type":"DOUBLE"}]},` +
		`{"Dimensions":[{"Name":"hostname","Value":"host_0"}],"MeasureName":"usage_idle","MeasureValue":"12","Time":"1700000010000","Version":3}]}`))
	for _, s := range []string{
		`{"DatabaseName":"a","Records":[null,{},{"Dimensions":null,"Version":-0}],"CommonAttributes":null}`,
		`{"Records":[],"TableName":"t"}`, ` { } `, `{"Records":[{"Version":1.0}]}`, `{"databasename":"a"}`,
		`{"DatabaseName":"a","DatabaseName":"b"}`, `{"DatabaseName":"\u0041"}`, `{"DatabaseName":"é"}`,
		`{"Records":[{"MeasureValues":[{"Name":"n","Value":"v","Type":"DOUBLE"},null]}]}`, `{"Records":[{"Version":9223372036854775808}]}`,
		`{"Extra":1}`, `{"DatabaseName":"a"} x`, `{"Records":[{"Dimensions":[{"Name":"h","Value":"v","DimensionValueType":"VARCHAR"}]}]}`,
		// Repeated dimensions and times, and near misses of them.
		`{"Records":[{"Dimensions":[{"Name":"h","Value":"v"}],"Time":"1"},{"Dimensions":[{"Name":"h","Value":"v"}],"Time":"1"},{"Dimensions":[{"Name":"h","Value":"w"}],"Time":"2"}]}`,
		`{"Records":[{"Dimensions":[{"Name":"h","Value":"v"}]},{"Dimensions":[{"Name":"h","Value":"v"}],}]}`,
		`{"Records":[{"Dimensions":[{"Name":"h","Value":"v"}]},{"Dimensions":[{"Name":"h","Value":"v"},{"Name":"i","Value":"v"}]}]}`,
		`{"Records":[{"MeasureValues":[{"Name":"a","Value":"1","Type":"DOUBLE"},{"Name":"b","Value":"2","Type":"DOUBLE"}]},{"MeasureValues":[{"Name":"b","Value":"1","Type":"DOUBLE"}]}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var fast writeRecordsRequest
		p := fastParser{buf: body}
		if !p.request(&fast) {
			return
		}
		var slow writeRecordsRequest
		if e := awsjson.Decode(body, &slow); e != nil {
			t.Fatalf("fast path accepted %q; awsjson.Decode: %v", body, e)
		}
		if !reflect.DeepEqual(fast, slow) {
			a, _ := json.Marshal(fast)
			b, _ := json.Marshal(slow)
			t.Fatalf("fast path differs for %q:\nfast %s\nslow %s", body, a, b)
		}
	})
}
