package promrw

import (
	"math"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/prompb"

	"github.com/tidaldb/tidal/ingest"
)

// gogoRecords decodes raw with the generated gogo code, the reference the
// hand-written parser must agree with, in the parser's record form.
func gogoRecords(raw []byte) ([]recordView, error) {
	var req prompb.WriteRequest
	if err := req.Unmarshal(raw); err != nil {
		return nil, err
	}
	var out []recordView
	for _, ts := range req.Timeseries {
		var metric string
		var dims []string
		ok := true
		for _, l := range ts.Labels {
			switch {
			case l.Name == "__name__":
				metric = l.Value
			case l.Name == "":
				ok = false
			case l.Value != "":
				dims = append(dims, l.Name+"="+l.Value)
			}
			if !ok {
				break
			}
		}
		if !ok || metric == "" {
			continue
		}
		for _, s := range ts.Samples {
			if storable(metric, dims, s.Timestamp) {
				out = append(out, recordView{metric: metric, dims: dims, ms: s.Timestamp, bits: math.Float64bits(s.Value)})
			}
		}
	}
	return out, nil
}

// storable applies the record rules every ingestor shares to a sample of
// the reference decoders.
func storable(metric string, dims []string, ms int64) bool {
	ns, ok := ingest.TimeFromUnits(ms, 1e6)
	if !ok {
		return false
	}
	r := ingest.Record{Time: ns, MeasureName: metric, Value: ingest.Float(0)}
	for _, d := range dims {
		name, value, _ := strings.Cut(d, "=")
		r.Dimensions = append(r.Dimensions, ingest.Dimension{Name: name, Value: value})
	}
	return ingest.ValidateRecord(&r) == ""
}

// recordView is a record reduced to comparable values.
type recordView struct {
	metric string
	dims   []string
	ms     int64
	bits   uint64
}

func parsedRecords(st *decodeState) []recordView {
	var out []recordView
	for _, r := range st.recs {
		var dims []string
		for _, d := range r.Dimensions {
			dims = append(dims, d.Name+"="+d.Value)
		}
		out = append(out, recordView{metric: r.MeasureName, dims: dims, ms: r.Time / 1e6, bits: math.Float64bits(r.Value.Float())})
	}
	return out
}

func sameViews(a, b []recordView) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].metric != b[i].metric || a[i].ms != b[i].ms || a[i].bits != b[i].bits || len(a[i].dims) != len(b[i].dims) {
			return false
		}
		for j := range a[i].dims {
			if a[i].dims[j] != b[i].dims[j] {
				return false
			}
		}
	}
	return true
}

func marshalV1(t testing.TB, req *prompb.WriteRequest) []byte {
	t.Helper()
	raw, err := req.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestDecodeV1MatchesGogo(t *testing.T) {
	lbl := func(kv ...string) []prompb.Label {
		var out []prompb.Label
		for i := 0; i < len(kv); i += 2 {
			out = append(out, prompb.Label{Name: kv[i], Value: kv[i+1]})
		}
		return out
	}
	cases := []struct {
		name    string
		req     prompb.WriteRequest
		records int
		bad     int
	}{
		{"one series", prompb.WriteRequest{Timeseries: []prompb.TimeSeries{
			{Labels: lbl("__name__", "up", "job", "a"), Samples: []prompb.Sample{{Value: 1, Timestamp: 10}, {Value: 2.5, Timestamp: 20}}},
		}}, 2, 0},
		{"stale NaN", prompb.WriteRequest{Timeseries: []prompb.TimeSeries{
			{Labels: lbl("__name__", "x", "a", "b"), Samples: []prompb.Sample{{Value: math.Float64frombits(staleNaN), Timestamp: 5}}},
		}}, 1, 0},
		{"no name and empty label name", prompb.WriteRequest{Timeseries: []prompb.TimeSeries{
			{Labels: lbl("job", "a"), Samples: []prompb.Sample{{Value: 1, Timestamp: 1}}},
			{Labels: lbl("__name__", "y", "", "v"), Samples: []prompb.Sample{{Value: 1, Timestamp: 1}}},
			{Labels: lbl("__name__", "z", "k", "v"), Samples: []prompb.Sample{{Value: 3, Timestamp: 3}}},
		}}, 1, 2},
		{"empty value dropped, metadata skipped", prompb.WriteRequest{Timeseries: []prompb.TimeSeries{
			{Labels: lbl("__name__", "m", "e", "", "k", "v"), Samples: []prompb.Sample{{Value: 4, Timestamp: 4}}},
		}, Metadata: []prompb.MetricMetadata{{MetricFamilyName: "m", Help: "h"}}}, 1, 0},
		{"histogram refused, exemplar counted", prompb.WriteRequest{Timeseries: []prompb.TimeSeries{
			{Labels: lbl("__name__", "h", "k", "v"), Histograms: []prompb.Histogram{{Timestamp: 1}},
				Exemplars: []prompb.Exemplar{{Value: 1, Timestamp: 1}}, Samples: []prompb.Sample{{Value: 5, Timestamp: 5}}},
		}}, 1, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			raw := marshalV1(t, &c.req)
			st := &decodeState{raw: raw}
			var res result
			if err := st.decodeV1(&res); err != nil {
				t.Fatal(err)
			}
			want, err := gogoRecords(raw)
			if err != nil {
				t.Fatal(err)
			}
			got := parsedRecords(st)
			if len(got) != c.records || !sameViews(got, want) {
				t.Fatalf("records = %+v, want %d: %+v", got, c.records, want)
			}
			if len(res.bad) != c.bad {
				t.Fatalf("bad = %q, want %d", res.bad, c.bad)
			}
		})
	}
}

func TestDecodeV1Malformed(t *testing.T) {
	valid := marshalV1(t, &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{
		{Labels: []prompb.Label{{Name: "__name__", Value: "x"}}, Samples: []prompb.Sample{{Value: 1, Timestamp: 1}}},
	}})
	cases := []struct {
		name string
		raw  []byte
	}{
		{"truncated", valid[:len(valid)-2]},
		{"varint timeseries", []byte{0x08, 0x01}},
		{"field zero", []byte{0x00}},
		{"overlong length", []byte{0x0a, 0x7f, 0x00}},
		{"sample value as varint", []byte{0x0a, 0x04, 0x12, 0x02, 0x08, 0x01}},
	}
	for _, c := range cases {
		st := &decodeState{raw: c.raw}
		if err := st.decodeV1(&result{}); err == nil {
			t.Errorf("%s: no error, records %+v", c.name, st.recs)
		}
		if _, err := gogoRecords(c.raw); err == nil {
			t.Errorf("%s: gogo accepts it", c.name)
		}
	}
}

// FuzzDecodeV1 checks that the hand-written parser never panics, that
// whatever it accepts the generated gogo code accepts with the same records
// (unless the difference lies in the parts the parser skips unread:
// metadata, exemplars, histograms), and that whatever gogo accepts, once
// re-encoded canonically, the parser decodes to gogo's records. The parser
// may refuse non-canonical input gogo tolerates (groups, overlong varints).
func FuzzDecodeV1(f *testing.F) {
	f.Add(marshalV1(f, &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{
		{Labels: []prompb.Label{{Name: "__name__", Value: "x"}, {Name: "a", Value: "b"}}, Samples: []prompb.Sample{{Value: 1, Timestamp: 1}, {Value: 2, Timestamp: 2}}},
		{Labels: []prompb.Label{{Name: "b", Value: "c"}}, Samples: []prompb.Sample{{Value: 3, Timestamp: 3}}},
	}, Metadata: []prompb.MetricMetadata{{MetricFamilyName: "x"}}}))
	f.Add([]byte{})
	f.Add([]byte{0x0a, 0x04, 0x12, 0x02, 0x08, 0x01})
	st := &decodeState{}
	f.Fuzz(func(t *testing.T, raw []byte) {
		st.raw = raw
		err := st.decodeV1(&result{})
		want, gerr := gogoRecords(raw)
		if err == nil && gerr != nil && st.unchecked == 0 {
			t.Fatalf("parser accepts what gogo refuses (%v): %x", gerr, raw)
		}
		if err == nil && gerr == nil && !sameViews(parsedRecords(st), want) {
			t.Fatalf("parser %+v, gogo %+v for %x", parsedRecords(st), want, raw)
		}
		if gerr != nil {
			return
		}
		var req prompb.WriteRequest
		if err := req.Unmarshal(raw); err != nil {
			t.Fatal(err)
		}
		// Re-encode the stored parts only, without unknown fields.
		var canon prompb.WriteRequest
		for _, ts := range req.Timeseries {
			var c prompb.TimeSeries
			for _, l := range ts.Labels {
				c.Labels = append(c.Labels, prompb.Label{Name: l.Name, Value: l.Value})
			}
			for _, x := range ts.Samples {
				c.Samples = append(c.Samples, prompb.Sample{Value: x.Value, Timestamp: x.Timestamp})
			}
			canon.Timeseries = append(canon.Timeseries, c)
		}
		st.raw = marshalV1(t, &canon)
		if err := st.decodeV1(&result{}); err != nil {
			t.Fatalf("parser refuses gogo's canonical encoding %x: %v", st.raw, err)
		}
		if got := parsedRecords(st); !sameViews(got, want) {
			t.Fatalf("round trip: parser %+v, gogo %+v", got, want)
		}
	})
}
