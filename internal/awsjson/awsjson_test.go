package awsjson

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestParseTarget(t *testing.T) {
	tests := []struct {
		in         string
		prefix, op string
		wantErr    bool
	}{
		{"Timestream_20181101.WriteRecords", "Timestream_20181101", "WriteRecords", false},
		{"a.b.c", "a.b", "c", false},
		{"", "", "", true},
		{"NoDot", "", "", true},
		{".Op", "", "", true},
		{"Prefix.", "", "", true},
	}
	for _, tc := range tests {
		prefix, op, err := ParseTarget(tc.in)
		if (err != nil) != tc.wantErr {
			t.Fatalf("ParseTarget(%q) err = %v, wantErr %v", tc.in, err, tc.wantErr)
		}
		if prefix != tc.prefix || op != tc.op {
			t.Errorf("ParseTarget(%q) = %q, %q; want %q, %q", tc.in, prefix, op, tc.prefix, tc.op)
		}
	}
}

func TestOperation(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/", nil)
	r.Header.Set(TargetHeader, "Timestream_20181101.DescribeEndpoints")
	op, e := Operation(r, TimestreamPrefix)
	if e != nil || op != "DescribeEndpoints" {
		t.Fatalf("Operation = %q, %v; want DescribeEndpoints", op, e)
	}
	r.Header.Set(TargetHeader, "DynamoDB_20120810.GetItem")
	_, e = Operation(r, TimestreamPrefix)
	if e == nil || e.Type != TypeUnknownOperation || e.HTTPStatus() != 404 {
		t.Fatalf("foreign target: got %v, want 404 UnknownOperationException", e)
	}
}

type sample struct {
	Name    *string
	Count   int64
	Items   []string
	Nested  *struct{ Flag bool }
	Created Timestamp
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		want    sample
		wantMsg string // substring of the ValidationException message; "" = success
	}{
		{name: "empty body", body: "", want: sample{}},
		{name: "whitespace", body: " \n ", want: sample{}},
		{name: "unknown members ignored", body: `{"Name":"x","Bogus":[1,2,{"a":null}],"Count":3}`, want: sample{Name: ptr("x"), Count: 3}},
		{name: "null member", body: `{"Name":null}`, want: sample{}},
		{name: "nested", body: `{"Nested":{"Flag":true},"Items":["a","b"]}`, want: sample{Nested: &struct{ Flag bool }{true}, Items: []string{"a", "b"}}},
		{name: "timestamp", body: `{"Created":1700000000.25}`, want: sample{Created: Timestamp(time.UnixMilli(1700000000250).UTC())}},
		{name: "wrong type", body: `{"Count":"3"}`, wantMsg: `Invalid value for member "Count": expected an integer, got JSON string`},
		{name: "wrong nested type", body: `{"Nested":{"Flag":"yes"}}`, wantMsg: `member "Nested.Flag": expected a boolean`},
		{name: "list expected", body: `{"Items":"a"}`, wantMsg: `member "Items": expected a list`},
		{name: "not an object", body: `[1]`, wantMsg: "must be a JSON object"},
		{name: "truncated", body: `{"Name":"x"`, wantMsg: "unexpected end of input"},
		{name: "syntax", body: `{"Name":x}`, wantMsg: "Malformed JSON request body at byte offset"},
		{name: "trailing data", body: `{"Name":"x"} {}`, wantMsg: "trailing data"},
		{name: "bad timestamp", body: `{"Created":"abc"}`, wantMsg: "Malformed JSON request body"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got sample
			e := Decode([]byte(tc.body), &got)
			if tc.wantMsg != "" {
				if e == nil {
					t.Fatalf("Decode(%q) succeeded with %+v; want error containing %q", tc.body, got, tc.wantMsg)
				}
				if e.Type != TypeValidation || e.HTTPStatus() != 400 || !strings.Contains(e.Message, tc.wantMsg) {
					t.Fatalf("Decode(%q) = %s (status %d); want ValidationException containing %q", tc.body, e, e.HTTPStatus(), tc.wantMsg)
				}
				return
			}
			if e != nil {
				t.Fatalf("Decode(%q) = %v", tc.body, e)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Decode(%q) = %+v; want %+v", tc.body, got, tc.want)
			}
		})
	}
}

func TestReadBody(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"a":1}`))
	data, e := ReadBody(r, 16)
	if e != nil || string(data) != `{"a":1}` {
		t.Fatalf("ReadBody = %q, %v", data, e)
	}
	r = httptest.NewRequest(http.MethodPost, "/", strings.NewReader(strings.Repeat("x", 17)))
	_, e = ReadBody(r, 16)
	if e == nil || e.Type != TypeValidation || !strings.Contains(e.Message, "exceeds the limit of 16 bytes") {
		t.Fatalf("oversized body: got %v", e)
	}
	r = httptest.NewRequest(http.MethodPost, "/", strings.NewReader(strings.Repeat("x", 17)))
	r.ContentLength = -1 // unknown length: the limit is enforced while reading
	_, e = ReadBody(r, 16)
	if e == nil || !strings.Contains(e.Message, "exceeds the limit of 16 bytes") {
		t.Fatalf("oversized chunked body: got %v", e)
	}
}

func TestWriteJSON(t *testing.T) {
	rec := httptest.NewRecorder()
	type resp struct {
		Created Timestamp
		N       int
	}
	if err := WriteJSON(rec, "rid-1", resp{Created: Timestamp(time.UnixMilli(1700000000123)), N: 2}); err != nil {
		t.Fatal(err)
	}
	if rec.Code != 200 {
		t.Fatalf("status = %d", rec.Code)
	}
	if got := rec.Header().Get("Content-Type"); got != ContentType {
		t.Errorf("Content-Type = %q", got)
	}
	if got := rec.Header().Get(RequestIDHeader); got != "rid-1" {
		t.Errorf("request id = %q", got)
	}
	if got, want := rec.Body.String(), `{"Created":1700000000.123,"N":2}`; got != want {
		t.Errorf("body = %s; want %s", got, want)
	}

	rec = httptest.NewRecorder()
	if err := WriteJSON(rec, "", nil); err != nil {
		t.Fatal(err)
	}
	if rec.Body.String() != "{}" {
		t.Errorf("nil body = %q; want {}", rec.Body.String())
	}
}

func TestWriteError(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantType   string
		wantBody   map[string]any
	}{
		{
			name:       "validation",
			err:        Validation("Bad %s.", "thing"),
			wantStatus: 400, wantType: "ValidationException",
			wantBody: map[string]any{"__type": "ValidationException", "Message": "Bad thing."},
		},
		{
			name: "rejected records with extra",
			err: &Error{Type: TypeRejectedRecords, Message: "One or more records have been rejected.", Extra: map[string]any{
				"RejectedRecords": []map[string]any{{"RecordIndex": 1, "Reason": "r"}},
				"__type":          "ignored",
			}},
			wantStatus: 419, wantType: "RejectedRecordsException",
			wantBody: map[string]any{"__type": "RejectedRecordsException", "Message": "One or more records have been rejected.",
				"RejectedRecords": []any{map[string]any{"RecordIndex": float64(1), "Reason": "r"}}},
		},
		{
			name:       "unknown operation",
			err:        UnknownOperation("Nope"),
			wantStatus: 404, wantType: "UnknownOperationException",
			wantBody: map[string]any{"__type": "UnknownOperationException", "Message": `Unknown operation "Nope".`},
		},
		{
			name:       "wrapped typed error",
			err:        errors.Join(errors.New("ctx"), NotFound("The table t does not exist.")),
			wantStatus: 400, wantType: "ResourceNotFoundException",
			wantBody: map[string]any{"__type": "ResourceNotFoundException", "Message": "The table t does not exist."},
		},
		{
			name:       "plain error is internal",
			err:        errors.New("disk on fire"),
			wantStatus: 500, wantType: "InternalServerException",
			wantBody: map[string]any{"__type": "InternalServerException", "Message": Internal().Message},
		},
		{
			name:       "auth",
			err:        NewError(TypeInvalidSignature, "The request signature we calculated does not match."),
			wantStatus: 403, wantType: "InvalidSignatureException",
			wantBody: map[string]any{"__type": "InvalidSignatureException", "Message": "The request signature we calculated does not match."},
		},
		{
			name:       "explicit status",
			err:        &Error{Type: "RequestEntityTooLarge", Message: "big", Status: 413},
			wantStatus: 413, wantType: "RequestEntityTooLarge",
			wantBody: map[string]any{"__type": "RequestEntityTooLarge", "Message": "big"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			WriteError(rec, "rid", tc.err)
			if rec.Code != tc.wantStatus {
				t.Errorf("status = %d; want %d", rec.Code, tc.wantStatus)
			}
			if got := rec.Header().Get(ErrorTypeHeader); got != tc.wantType {
				t.Errorf("%s = %q; want %q", ErrorTypeHeader, got, tc.wantType)
			}
			var body map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("body %q: %v", rec.Body.String(), err)
			}
			if !reflect.DeepEqual(body, tc.wantBody) {
				t.Errorf("body = %v; want %v", body, tc.wantBody)
			}
		})
	}
}

func TestTimestamp(t *testing.T) {
	tests := []struct {
		ms   int64
		json string
	}{
		{1700000000000, "1700000000"},
		{1700000000500, "1700000000.5"},
		{1700000000120, "1700000000.12"},
		{1700000000123, "1700000000.123"},
		{0, "0"},
		{-1500, "-1.5"},
		{-1, "-0.001"},
	}
	for _, tc := range tests {
		got, err := json.Marshal(Timestamp(time.UnixMilli(tc.ms)))
		if err != nil || string(got) != tc.json {
			t.Errorf("Marshal(%d ms) = %s, %v; want %s", tc.ms, got, err, tc.json)
		}
		var back Timestamp
		if err := json.Unmarshal([]byte(tc.json), &back); err != nil {
			t.Fatalf("Unmarshal(%s): %v", tc.json, err)
		}
		if got := time.Time(back).UnixMilli(); got != tc.ms {
			t.Errorf("Unmarshal(%s) = %d ms; want %d", tc.json, got, tc.ms)
		}
	}
	// Sub-millisecond precision is truncated.
	got, _ := json.Marshal(Timestamp(time.Unix(1, 999_999)))
	if string(got) != "1" {
		t.Errorf("sub-ms = %s; want 1", got)
	}
	var ts Timestamp
	if err := json.Unmarshal([]byte(`"1700000000.1239"`), &ts); err != nil || time.Time(ts).UnixMilli() != 1700000000123 {
		t.Errorf("string form = %v, %v", time.Time(ts), err)
	}
	for _, bad := range []string{`"x"`, `"1."`, `"."`, `"-"`, `"1.2e3"`, `"99999999999999999999"`} {
		if err := json.Unmarshal([]byte(bad), &ts); err == nil {
			t.Errorf("Unmarshal(%s) succeeded", bad)
		}
	}
}

func TestNewRequestID(t *testing.T) {
	re := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	a, b := NewRequestID(), NewRequestID()
	if !re.MatchString(a) || !re.MatchString(b) || a == b {
		t.Fatalf("request IDs %q, %q", a, b)
	}
}

func ptr[T any](v T) *T { return &v }

func TestReadBodyContentLength(t *testing.T) {
	for _, tc := range []struct {
		name    string
		body    string
		length  int64
		want    string
		wantErr string
	}{
		{"exact", `{"a":1}`, 7, `{"a":1}`, ""},
		{"unknown length", `{"a":1}`, -1, `{"a":1}`, ""},
		{"shorter than announced", `{"a"`, 7, "", "Unable to read the request body"},
		{"longer than announced, within the limit", `{"a":12}`, 7, `{"a":12}`, ""},
		{"longer than announced, over the limit", strings.Repeat("x", 20), 7, "", "exceeds the limit of 16 bytes"},
		{"at the limit", strings.Repeat("x", 16), 16, strings.Repeat("x", 16), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tc.body))
			r.ContentLength = tc.length
			data, e := ReadBody(r, 16)
			if tc.wantErr != "" {
				if e == nil || e.Type != TypeValidation || !strings.Contains(e.Message, tc.wantErr) {
					t.Fatalf("ReadBody = %q, %v; want a ValidationException containing %q", data, e, tc.wantErr)
				}
				return
			}
			if e != nil || string(data) != tc.want {
				t.Fatalf("ReadBody = %q, %v; want %q", data, e, tc.want)
			}
		})
	}
}
