package awsjson

import (
	"encoding/json"
	"testing"
	"time"
)

type fuzzShape struct {
	DatabaseName *string
	MaxResults   *int32
	Version      *int64
	Enabled      *bool
	Tags         []struct{ Key, Value *string }
	Created      *Timestamp
}

// FuzzDecode checks that Decode never panics, that every failure is a
// ValidationException, and that a decoded value survives an encode/decode
// round trip unchanged.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		``, `{}`, `{"DatabaseName":"db"}`, `{"MaxResults":20,"Tags":[{"Key":"k","Value":"v"}]}`,
		`{"Version":9223372036854775807}`, `{"Created":1700000000.5}`, `{"Enabled":true} x`,
		`[`, `{"MaxResults":1e3}`, `{"Tags":{}}`, `"str"`, `{"DatabaseName":"\u00e9\ud800"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var v fuzzShape
		e := Decode(body, &v)
		if e != nil {
			if e.Type != TypeValidation || e.HTTPStatus() != 400 || e.Message == "" {
				t.Fatalf("Decode error %+v is not a 400 ValidationException", e)
			}
			return
		}
		data, err := json.Marshal(&v)
		if err != nil {
			t.Fatalf("re-encode %+v: %v", v, err)
		}
		var again fuzzShape
		if e := Decode(data, &again); e != nil {
			t.Fatalf("decode of re-encoded %s: %v", data, e)
		}
		if normalize(v) != normalize(again) {
			t.Fatalf("round trip changed value:\n%+v\n%+v", v, again)
		}
	})
}

// normalize drops what JSON cannot carry exactly: strings with invalid UTF-8
// are replaced on encode, and timestamps keep millisecond precision.
func normalize(v fuzzShape) string {
	data, _ := json.Marshal(v)
	return string(data)
}

// FuzzTimestamp checks that any accepted epoch-seconds text decodes to a
// time that re-encodes to the same millisecond.
func FuzzTimestamp(f *testing.F) {
	for _, s := range []string{"0", "1700000000.123", "-2.5", "1.", "abc", "9223372036854775.807"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var ts Timestamp
		if err := ts.UnmarshalJSON([]byte(s)); err != nil {
			return
		}
		data, err := ts.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		var back Timestamp
		if err := back.UnmarshalJSON(data); err != nil {
			t.Fatalf("decode %s (from %q): %v", data, s, err)
		}
		if !time.Time(back).Equal(time.Time(ts)) {
			t.Fatalf("round trip %q -> %s -> %v, want %v", s, data, time.Time(back), time.Time(ts))
		}
	})
}
