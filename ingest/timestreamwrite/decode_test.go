package timestreamwrite

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/tidaldb/tidal/internal/awsjson"
)

// decodeBoth decodes body with the fast path and with awsjson.Decode (the
// encoding/json path that defines the semantics). ok is false when the fast
// path declined.
func decodeBoth(t *testing.T, body []byte) (fast, slow writeRecordsRequest, ok bool) {
	t.Helper()
	p := fastParser{buf: body}
	if !p.request(&fast) {
		return fast, slow, false
	}
	if e := awsjson.Decode(body, &slow); e != nil {
		t.Fatalf("fast path accepted %s; awsjson.Decode: %v", body, e)
	}
	return fast, slow, true
}

// TestFastDecodeMatchesEncodingJSON is the differential test of the fast
// decoder on the shapes its shortcuts serve (dimensions and times repeated
// by consecutive records) and on the near misses that must not take them.
func TestFastDecodeMatchesEncodingJSON(t *testing.T) {
	const dims = `[{"Name":"hostname","Value":"host_0","DimensionValueType":"VARCHAR"},{"Name":"region","Value":"eu-west-1"}]`
	for _, tc := range []struct {
		name string
		body string
		fast bool // the fast path must accept it
	}{
		{"tsbs single", string(tsbsBody(true)), true},
		{"tsbs multi", string(tsbsBody(false)), true},
		{"same dimensions and time", `{"Records":[{"Dimensions":` + dims + `,"Time":"1","MeasureName":"a"},{"Dimensions":` + dims + `,"Time":"1","MeasureName":"b"}]}`, true},
		{"same dimensions, other spacing", `{"Records":[{"Dimensions":` + dims + `},{"Dimensions": [ {"Name":"hostname","Value":"host_0","DimensionValueType":"VARCHAR"},{"Name":"region","Value":"eu-west-1"}]}]}`, true},
		{"last dimension value differs", `{"Records":[{"Dimensions":` + dims + `},{"Dimensions":[{"Name":"hostname","Value":"host_0","DimensionValueType":"VARCHAR"},{"Name":"region","Value":"eu-west-2"}]}]}`, true},
		{"one dimension more", `{"Records":[{"Dimensions":` + dims + `},{"Dimensions":[{"Name":"hostname","Value":"host_0","DimensionValueType":"VARCHAR"},{"Name":"region","Value":"eu-west-1"},{"Name":"rack","Value":"1"}]}]}`, true},
		{"one dimension fewer", `{"Records":[{"Dimensions":` + dims + `},{"Dimensions":[{"Name":"hostname","Value":"host_0","DimensionValueType":"VARCHAR"}]}]}`, true},
		{"dimensions after common attributes", `{"CommonAttributes":{"Dimensions":` + dims + `},"Records":[{"Dimensions":` + dims + `}]}`, true},
		{"empty then full dimensions", `{"Records":[{"Dimensions":[]},{"Dimensions":` + dims + `},{"Dimensions":null},{"Dimensions":` + dims + `}]}`, true},
		{"time differs in the last digit", `{"Records":[{"Time":"1700000000000"},{"Time":"1700000000001"},{"Time":"1700000000001"},{"Time":null},{"Time":"1700000000001"}]}`, true},
		{"same dimensions, second malformed after them", `{"Records":[{"Dimensions":` + dims + `},{"Dimensions":` + dims + `,}]}`, false},
		{"escape in a repeated value", `{"Records":[{"Dimensions":` + dims + `},{"Dimensions":[{"Name":"hostname","Value":"host_\u0030"}]}]}`, false},
		{"measure counts differ", `{"Records":[{"MeasureValues":[{"Name":"a","Value":"1","Type":"DOUBLE"},{"Name":"b","Value":"2","Type":"DOUBLE"}]},{"MeasureValues":[{"Name":"a","Value":"1","Type":"DOUBLE"}]},{"MeasureValues":[]}]}`, true},
		{"non-ASCII names", `{"Records":[{"Dimensions":[{"Name":"hôte","Value":"é"}],"MeasureName":"température"}]}`, true},
		{"invalid UTF-8", "{\"Records\":[{\"MeasureName\":\"\xff\"}]}", false},
		{"control character", "{\"Records\":[{\"MeasureName\":\"a\tb\"}]}", false},
		{"unterminated string", `{"Records":[{"MeasureName":"abc`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fast, slow, ok := decodeBoth(t, []byte(tc.body))
			if ok != tc.fast {
				t.Fatalf("fast path accepted = %v, want %v", ok, tc.fast)
			}
			if !ok {
				return
			}
			if !reflect.DeepEqual(fast, slow) {
				a, _ := json.Marshal(fast)
				b, _ := json.Marshal(slow)
				t.Fatalf("fast path differs:\nfast %s\nslow %s", a, b)
			}
			// The full decoder agrees too, whichever path it takes.
			var got writeRecordsRequest
			if e := decodeWriteRecords([]byte(tc.body), &got); e == nil && !reflect.DeepEqual(got, slow) {
				t.Fatal("decodeWriteRecords differs from awsjson.Decode")
			}
		})
	}
}

// TestFastDecodeSharesRepeats checks that the shortcuts are taken: records
// with byte-identical dimensions share one decoded slice, and equal times
// one string.
func TestFastDecodeSharesRepeats(t *testing.T) {
	var req writeRecordsRequest
	if e := decodeWriteRecords(tsbsBody(true), &req); e != nil {
		t.Fatal(e)
	}
	if len(req.Records) != 100 {
		t.Fatalf("%d records, want 100", len(req.Records))
	}
	for i := 1; i < 10; i++ {
		a, b := req.Records[0], req.Records[i]
		if &a.Dimensions[0] != &b.Dimensions[0] {
			t.Errorf("record %d does not share the dimensions of record 0", i)
		}
		if a.Time != b.Time {
			t.Errorf("record %d does not share the time of record 0", i)
		}
	}
	if &req.Records[9].Dimensions[0] == &req.Records[10].Dimensions[0] {
		t.Error("records of different hosts share dimensions")
	}
	if *req.Records[10].Dimensions[0].Value != "host_1" {
		t.Errorf("record 10 hostname %q, want host_1", *req.Records[10].Dimensions[0].Value)
	}
}
