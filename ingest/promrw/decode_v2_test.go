package promrw

import (
	"math"
	"testing"

	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"
)

// gogoRecordsV2 decodes raw with the generated gogo code, the reference the
// hand-written v2 parser must agree with.
func gogoRecordsV2(raw []byte) ([]recordView, *writev2.Request, error) {
	var req writev2.Request
	if err := req.Unmarshal(raw); err != nil {
		return nil, nil, err
	}
	if len(req.Symbols) > 0 && req.Symbols[0] != "" {
		return nil, nil, errProto
	}
	var out []recordView
	for _, ts := range req.Timeseries {
		if len(ts.LabelsRefs)%2 != 0 {
			continue
		}
		var metric string
		var dims []string
		ok := true
		for j := 0; ok && j < len(ts.LabelsRefs); j += 2 {
			n, v := ts.LabelsRefs[j], ts.LabelsRefs[j+1]
			if int(n) >= len(req.Symbols) || int(v) >= len(req.Symbols) {
				ok = false
				break
			}
			name, value := req.Symbols[n], req.Symbols[v]
			switch {
			case name == "__name__":
				metric = value
			case name == "":
				ok = false
			case value != "":
				dims = append(dims, name+"="+value)
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
	return out, &req, nil
}

func marshalV2(t testing.TB, req *writev2.Request) []byte {
	t.Helper()
	raw, err := req.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestDecodeV2MatchesGogo(t *testing.T) {
	syms := []string{"", "__name__", "up", "job", "a", "x", "", "k"}
	cases := []struct {
		name    string
		ts      []writev2.TimeSeries
		records int
		bad     int
	}{
		{"one series", []writev2.TimeSeries{{LabelsRefs: []uint32{1, 2, 3, 4}, Samples: []writev2.Sample{{Value: 1, Timestamp: 10}, {Value: 2, Timestamp: 20, StartTimestamp: 5}}}}, 2, 0},
		{"odd refs, out of range, no name", []writev2.TimeSeries{
			{LabelsRefs: []uint32{1, 2, 3}, Samples: []writev2.Sample{{Value: 1, Timestamp: 1}}},
			{LabelsRefs: []uint32{1, 99}, Samples: []writev2.Sample{{Value: 1, Timestamp: 1}}},
			{LabelsRefs: []uint32{3, 4}, Samples: []writev2.Sample{{Value: 1, Timestamp: 1}}},
			{LabelsRefs: []uint32{1, 5, 7, 4}, Samples: []writev2.Sample{{Value: math.Float64frombits(staleNaN), Timestamp: 3}}},
		}, 1, 3},
		{"histogram and exemplar", []writev2.TimeSeries{{LabelsRefs: []uint32{1, 2}, Histograms: []writev2.Histogram{{Timestamp: 1}},
			Exemplars: []writev2.Exemplar{{Value: 1}}, Samples: []writev2.Sample{{Value: 5, Timestamp: 5}}}}, 1, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			raw := marshalV2(t, &writev2.Request{Symbols: syms, Timeseries: c.ts})
			st := &decodeState{raw: raw}
			var res result
			if err := st.decodeV2(&res); err != nil {
				t.Fatal(err)
			}
			want, _, err := gogoRecordsV2(raw)
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

// FuzzDecodeV2 checks the hand-written v2 parser as FuzzDecodeV1 checks the
// v1 parser: no panics, agreement with gogo on what the parser accepts, and
// an exact round trip of gogo's canonical re-encoding.
func FuzzDecodeV2(f *testing.F) {
	f.Add(marshalV2(f, &writev2.Request{Symbols: []string{"", "__name__", "up", "a", "b"}, Timeseries: []writev2.TimeSeries{
		{LabelsRefs: []uint32{1, 2, 3, 4}, Samples: []writev2.Sample{{Value: 1, Timestamp: 1}, {Value: 2, Timestamp: 2}}},
		{LabelsRefs: []uint32{3, 4}, Samples: []writev2.Sample{{Value: 3, Timestamp: 3}}},
	}}))
	f.Add([]byte{})
	f.Add([]byte{0x2a, 0x02, 0x08, 0x01})
	st := &decodeState{}
	f.Fuzz(func(t *testing.T, raw []byte) {
		st.raw = raw
		err := st.decodeV2(&result{})
		want, req, gerr := gogoRecordsV2(raw)
		if err == nil && gerr != nil && st.unchecked == 0 {
			t.Fatalf("parser accepts what gogo refuses (%v): %x", gerr, raw)
		}
		if err == nil && gerr == nil && !sameViews(parsedRecords(st), want) {
			t.Fatalf("parser %+v, gogo %+v for %x", parsedRecords(st), want, raw)
		}
		if gerr != nil {
			return
		}
		canon := writev2.Request{Symbols: req.Symbols}
		for _, ts := range req.Timeseries {
			c := writev2.TimeSeries{LabelsRefs: ts.LabelsRefs}
			for _, x := range ts.Samples {
				c.Samples = append(c.Samples, writev2.Sample{Value: x.Value, Timestamp: x.Timestamp, StartTimestamp: x.StartTimestamp})
			}
			canon.Timeseries = append(canon.Timeseries, c)
		}
		st.raw = marshalV2(t, &canon)
		if err := st.decodeV2(&result{}); err != nil {
			t.Fatalf("parser refuses gogo's canonical encoding %x: %v", st.raw, err)
		}
		if got := parsedRecords(st); !sameViews(got, want) {
			t.Fatalf("round trip: parser %+v, gogo %+v", got, want)
		}
	})
}
