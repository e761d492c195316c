package timestreamapi

import (
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/tidaldb/tidal/internal/awsjson"
	"github.com/tidaldb/tidal/query/exec"
)

// FuzzQueryRequestDecode checks that decoding any Query request body never
// panics, that failures are ValidationExceptions, and that an accepted
// request re-encoded and decoded again is the same request.
func FuzzQueryRequestDecode(f *testing.F) {
	for _, seed := range []string{
		`{"QueryString":"SELECT 1"}`,
		`{"QueryString":"SELECT * FROM \"db\".\"t\"","MaxRows":100,"ClientToken":"0123456789abcdef0123456789abcdef"}`,
		`{"QueryString":"SELECT 1","NextToken":"abc","MaxRows":1000}`,
		`{"QueryString":"SELECT 1","QueryInsights":{"Mode":"DISABLED"}}`,
		`{"QueryString":"","MaxRows":0}`,
		`{"QueryString":"x","MaxRows":1001}`,
		`{"QueryString":5}`,
		`{"MaxRows":"5"}`,
		`{}`,
		``,
		`[]`,
		`{"QueryString":"\ud800"}`,
		`{"QueryString":"a"} trailing`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		in, err := DecodeQueryInput(body, 1024)
		if err != nil {
			var e *awsjson.Error
			if !errors.As(err, &e) || e.Type != awsjson.TypeValidation {
				t.Fatalf("DecodeQueryInput(%q) error %v is not a ValidationException", body, err)
			}
			return
		}
		if in.QueryString == nil || len(*in.QueryString) == 0 || len(*in.QueryString) > 1024 {
			t.Fatalf("accepted invalid QueryString in %q", body)
		}
		if in.MaxRows != nil && (*in.MaxRows < 1 || *in.MaxRows > 1000) {
			t.Fatalf("accepted MaxRows %d", *in.MaxRows)
		}
		again, err := json.Marshal(in)
		if err != nil {
			t.Fatalf("re-encode %+v: %v", in, err)
		}
		in2, err := DecodeQueryInput(again, 1024)
		if err != nil {
			t.Fatalf("decode re-encoded %s: %v", again, err)
		}
		again2, _ := json.Marshal(in2)
		if string(again) != string(again2) {
			t.Fatalf("round trip changed the request:\n %s\n %s", again, again2)
		}
	})
}

// FuzzParseToken checks that any NextToken text parses without panicking
// and that issued tokens parse back to their QueryId.
func FuzzParseToken(f *testing.F) {
	s := newCursorStore(1<<20, 0, 0, 0, nil)
	c := &cursor{id: newQueryID(), tokens: map[string]*token{}}
	f.Add(s.issueLocked(c, 0), 0)
	f.Add("", 5)
	f.Add("QUJD", 100)
	f.Add("not base64!", 1)
	f.Fuzz(func(t *testing.T, tok string, offset int) {
		_, _, _ = parseToken(tok)
		if offset < 0 {
			return
		}
		issued := s.issueLocked(c, offset)
		id, nonce, ok := parseToken(issued)
		if !ok || id != c.id || c.tokens[nonce] == nil || c.tokens[nonce].offset != offset {
			t.Fatalf("issued token %q for offset %d parses as (%q, %q, %v)", issued, offset, id, nonce, ok)
		}
		delete(c.tokens, nonce)
	})
}

// FuzzAppendDouble checks that every double's text parses back to the same
// bits (NaN aside) and is valid inside a JSON string.
func FuzzAppendDouble(f *testing.F) {
	for _, v := range []float64{0, 1, -1, 35.2, 1e-3, 1e7, 1e-300, math.MaxFloat64, math.SmallestNonzeroFloat64} {
		f.Add(math.Float64bits(v))
	}
	f.Fuzz(func(t *testing.T, bits uint64) {
		v := math.Float64frombits(bits)
		s := string(AppendDouble(nil, v))
		if math.IsNaN(v) {
			if s != "NaN" {
				t.Fatalf("NaN rendered %q", s)
			}
			return
		}
		back, err := strconv.ParseFloat(strings.Replace(strings.Replace(s, "Infinity", "Inf", 1), "E", "e", 1), 64)
		if err != nil || math.Float64bits(back) != bits {
			t.Fatalf("AppendDouble(%v) = %q parses back as %v (%v)", v, s, back, err)
		}
		d := exec.Value{Kind: exec.KindDouble, F: v}
		var out struct{ ScalarValue string }
		if err := json.Unmarshal(AppendDatum(nil, nil, &d), &out); err != nil || out.ScalarValue != s {
			t.Fatalf("datum of %v: %q, %v", v, out.ScalarValue, err)
		}
	})
}
