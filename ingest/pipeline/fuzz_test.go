package pipeline

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tidaldb/tidal/ingest"
)

// checkRecords holds for every record a decoder returns without error: a
// time in range, a measure name, and either a typed value or measures.
func checkRecords(t *testing.T, recs []ingest.Record) {
	t.Helper()
	for i, r := range recs {
		if r.Time < ingest.MinTime {
			t.Fatalf("record %d: time %d before the epoch", i, r.Time)
		}
		if r.MeasureName == "" {
			t.Fatalf("record %d: no measure name", i)
		}
		if r.IsMulti() {
			for _, m := range r.Measures {
				if m.Value.IsNull() || m.Value.Type == ingest.TypeMulti {
					t.Fatalf("record %d: measure %q has type %s", i, m.Name, m.Value.Type)
				}
			}
		} else if r.Value.IsNull() || r.Value.Type == ingest.TypeMulti {
			t.Fatalf("record %d: value type %s", i, r.Value.Type)
		}
	}
}

// fuzzDecoder decodes every input twice, with a fresh and a reused
// decoder: both must agree (no state leaks between messages).
func fuzzDecoder(f *testing.F, format string, m Mapping, seeds ...[]byte) {
	for _, s := range seeds {
		f.Add(s)
	}
	reused := mustDecoder(f, format, m)
	f.Fuzz(func(t *testing.T, msg []byte) {
		recs, err := mustDecoder(t, format, m).Decode(msg, nil)
		again, err2 := reused.Decode(msg, nil)
		if (err == nil) != (err2 == nil) || len(recs) != len(again) {
			t.Fatalf("fresh decoder: %d records, %v; reused: %d records, %v", len(recs), err, len(again), err2)
		}
		if err != nil {
			return
		}
		checkRecords(t, recs)
		for i := range recs {
			if recString(recs[i]) != recString(again[i]) {
				t.Fatalf("record %d differs: %s vs %s", i, recString(recs[i]), recString(again[i]))
			}
		}
	})
}

func FuzzJSONDecoder(f *testing.F) {
	m := plantMapping
	m.Measures = append(m.Measures, MeasureField{Field: "ok", Type: ingest.TypeBoolean}, MeasureField{Field: "s.v", Type: ingest.TypeVarchar})
	fuzzDecoder(f, FormatJSON, m,
		[]byte(`{"ts": 1700000000123, "device": "d1", "meta": {"site": "n"}, "temp": 21.5, "rpm": 1500, "ok": true, "s": {"v": "x"}}`),
		[]byte(`[{"ts": "1", "temp": "2"}, {"ts": 2.5, "rpm": 3}]`),
		[]byte(`{"ts": -1e300, "temp": 1e400}`),
		[]byte(`[]`), []byte(`null`), []byte(`[null]`))
}

func FuzzPromDecoder(f *testing.F) {
	fuzzDecoder(f, FormatPromRW, Mapping{}, promBody(f, false), promBody(f, true), []byte{0x0a, 0x00})
}

func FuzzTimestreamDecoder(f *testing.F) {
	fuzzDecoder(f, FormatTimestream, Mapping{},
		[]byte(`{"CommonAttributes":{"Dimensions":[{"Name":"h","Value":"1"}],"TimeUnit":"SECONDS"},"Records":[{"MeasureName":"cpu","MeasureValue":"5","Time":"10"}]}`),
		[]byte(`{"Records":[{"MeasureName":"m","MeasureValueType":"MULTI","Time":"7","MeasureValues":[{"Name":"a","Value":"1","Type":"TIMESTAMP"}]}]}`),
		[]byte(`{"Records":[{"MeasureName":"m","MeasureValue":"1","Time":"99999999999999999","TimeUnit":"SECONDS"}]}`))
}

// FuzzJSONDecoderAgainstReference: the scanner-based JSON decoder accepts
// exactly what encoding/json (the reference decoder) accepts and maps it to
// the same records.
func FuzzJSONDecoderAgainstReference(f *testing.F) {
	m := plantMapping
	m.Measures = append(m.Measures, MeasureField{Field: "ok", Type: ingest.TypeBoolean}, MeasureField{Field: "s.v", Type: ingest.TypeVarchar})
	for _, s := range []string{
		`{"ts": 1700000000123, "device": "d1", "meta": {"site": "n"}, "temp": 21.5, "rpm": 1500, "ok": true, "s": {"v": "x"}}`,
		`[{"ts": "1", "temp": "2"}, {"ts": 2.5, "rpm": 3, "x": [1, {"a": null}]}]`,
		`{"ts": 1, "temp": 1, "device": "a\u00e9\ud83d\ude00\ud800x\n", "meta": {"site": 1}, "meta": 2}`,
		`{"ts": 1, "temp": 1, "meta": {"site": "x"}, "meta": {"other": 1}}`,
		"{\"ts\": 1, \"temp\": 1, \"device\": \"\xff\xfe\"}",
		`{"ts": 1e3, "temp": -0.0e+1, "rpm": 01}`, `{"ts": 1, "temp": 1} {}`, `[{"ts":1,"temp":1},]`, `[]`, `null`, `[null]`, ` `,
	} {
		f.Add([]byte(s))
	}
	fast, ref := mustDecoder(f, FormatJSON, m), newRefJSONDecoder
	f.Fuzz(func(t *testing.T, msg []byte) {
		r, err := ref(m)
		if err != nil {
			t.Fatal(err)
		}
		want, werr := r.Decode(msg, nil)
		got, gerr := fast.Decode(msg, nil)
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("reference error %v, scanner error %v", werr, gerr)
		}
		if werr != nil {
			return
		}
		if len(got) != len(want) {
			t.Fatalf("%d records, reference %d", len(got), len(want))
		}
		for i := range got {
			if recString(got[i]) != recString(want[i]) {
				t.Fatalf("record %d: %s, reference %s", i, recString(got[i]), recString(want[i]))
			}
		}
	})
}

func FuzzAutoJSONDecoder(f *testing.F) {
	m := Mapping{Database: "plant", Table: "telemetry", AllFields: true, Dimensions: []string{"device", "meta.site"},
		Now: func() time.Time { return time.Unix(1700000000, 0) }}
	fuzzDecoder(f, FormatJSON, m,
		[]byte(`{"time": 1700000000123, "device": "d1", "meta": {"site": "n", "x": 1}, "temp": 21.5, "ok": true, "s": {"v": "x"}, "n": null}`),
		[]byte(`[{"v": 1}, {"time": "2023-11-14T22:13:20.5Z", "v": 2}]`),
		[]byte(`{"time": -1e300, "temp": 1e400}`), []byte(`{"v": [1]}`), []byte(`{"device": {}}`),
		[]byte(`[]`), []byte(`null`), []byte(`[null]`), []byte(`{"v": 1} {"v": 2}`))
}

// FuzzJSONDecoderSharedAgainstReference: in shared mode (a pipeline with a
// fixed target) the decoder, its series cache and measure slab kept from
// input to input, maps every input as the reference decoder does (the
// dimensions sorted by name), twice (the second time from the cache), and
// its verdict on each record is ingest.ValidateRecord's on the reference
// record, whose dimensions are in mapping order as the pipeline checked
// them before.
func FuzzJSONDecoderSharedAgainstReference(f *testing.F) {
	multi := plantMapping
	multi.Measures = append(multi.Measures, MeasureField{Field: "ok", Type: ingest.TypeBoolean}, MeasureField{Field: "s.v", Type: ingest.TypeVarchar})
	single := multi
	single.Single = true
	for _, s := range []string{
		`{"ts": 1700000000123, "device": "d1", "meta": {"site": "n"}, "temp": 21.5, "rpm": 1500, "ok": true, "s": {"v": "x"}}`,
		`{"meta": {"site": "n"}, "device": "d1", "ts": 1700000000123, "rpm": 1500, "temp": -0}`,
		`[{"ts": "1", "temp": "2", "device": true}, {"ts": 2.5, "rpm": 3, "device": 7, "x": [1, {"a": null}]}]`,
		`{"ts": 1, "temp": 1, "device": "a\u00e9\ud83d\ude00\ud800x\n", "meta": {"site": 1}, "meta": 2}`,
		"{\"ts\": 1, \"temp\": 1, \"device\": \"\xff\xfe\", \"meta\": {\"site\": \"\xff\"}}",
		`{"ts": 1, "temp": 123456789012345, "rpm": -12, "device": "", "s": {"v": "ts_x"}}`,
		`{"ts": 1, "temp": 1.5e3, "device": "ts_0123456789012345678901234567890123456789012345678901234567890123"}`,
		`{"ts": 1e3, "temp": -0.0e+1, "rpm": 01}`, `[{"ts":1,"temp":1},]`, `[]`, `null`,
		// Records over the size limits, by their dimensions or a VARCHAR.
		`{"ts": 1, "temp": 1, "device": "` + strings.Repeat("d", 1500) + `", "meta": {"site": "` + strings.Repeat("s", 540) + `"}}`,
		`{"ts": 1, "temp": 1, "device": "` + strings.Repeat("d", 1900) + `", "s": {"v": "` + strings.Repeat("v", 200) + `"}}`,
	} {
		f.Add([]byte(s))
	}
	type pair struct {
		m    Mapping
		fast *jsonDecoder
	}
	var decs []pair
	for _, m := range []Mapping{multi, single} {
		d, err := newJSONDecoder(m)
		if err != nil {
			f.Fatal(err)
		}
		jd := d.(*jsonDecoder)
		jd.share()
		jd.check()
		decs = append(decs, pair{m, jd})
	}
	type seriesOf struct {
		dims    *ingest.Dimension
		measure string
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		for _, p := range decs {
			// The records of one series (dimension slice and measure
			// name) carry one SeriesHint in both passes, and a hint is
			// never another series'.
			hints := map[seriesOf]*ingest.SeriesHint{}
			owners := map[*ingest.SeriesHint]string{}
			r, err := newRefJSONDecoder(p.m)
			if err != nil {
				t.Fatal(err)
			}
			want, werr := r.Decode(msg, nil)
			for pass := range 2 {
				p.fast.resetBatch()
				got, gerr := p.fast.Decode(msg, nil)
				if (werr == nil) != (gerr == nil) {
					t.Fatalf("single=%v pass %d: reference error %v, shared decoder error %v", p.m.Single, pass, werr, gerr)
				}
				if werr != nil {
					continue
				}
				if len(got) != len(want) {
					t.Fatalf("single=%v pass %d: %d records, reference %d", p.m.Single, pass, len(got), len(want))
				}
				verdicts := p.fast.checked()
				for i := range got {
					w := want[i]
					w.Dimensions = slices.Clone(w.Dimensions)
					slices.SortFunc(w.Dimensions, func(a, b ingest.Dimension) int { return strings.Compare(a.Name, b.Name) })
					if recString(got[i]) != recString(w) {
						t.Fatalf("single=%v pass %d record %d: %s, reference %s", p.m.Single, pass, i, recString(got[i]), recString(w))
					}
					if len(got[i].Dimensions) > 0 {
						h := got[i].Hint
						key := seriesOf{&got[i].Dimensions[0], got[i].MeasureName}
						series := fmt.Sprint(got[i].MeasureName, got[i].Dimensions)
						if h == nil {
							t.Fatalf("single=%v pass %d record %d: no series hint", p.m.Single, pass, i)
						}
						if prev, ok := hints[key]; ok && prev != h {
							t.Fatalf("single=%v pass %d record %d: series %s has two hints", p.m.Single, pass, i, series)
						}
						if o, ok := owners[h]; ok && o != series {
							t.Fatalf("single=%v pass %d record %d: the hint of series %s is also %s's", p.m.Single, pass, i, o, series)
						}
						hints[key], owners[h] = h, series
					}
					v := ""
					if i < len(verdicts) {
						v = verdicts[i]
					}
					if ref := ingest.ValidateRecord(&want[i]); v != ref {
						t.Fatalf("single=%v pass %d record %d: verdict %q, ValidateRecord %q", p.m.Single, pass, i, v, ref)
					}
				}
			}
		}
	})
}

// FuzzTemplatedPipelineAgainstReference: a pipeline with a templated table
// (its JSON decoder in shared mode, each series resolved and checked once)
// decodes every batch (the input's lines are its messages) to the records,
// targets and dead letters that a pipeline on the reference decoder (every
// record resolved and checked) gives, the dimensions sorted by name. Both
// pipelines live through the whole run, so their caches and target lists
// carry over from input to input, and max_tables is small enough to refuse.
func FuzzTemplatedPipelineAgainstReference(f *testing.F) {
	for _, s := range []string{
		`{"ts": 1700000000123, "device": "d1", "meta": {"site": "n", "kind": "pump"}, "temp": 21.5, "rpm": 1500}` + "\n" +
			`{"ts": 1700000000124, "device": "d1", "meta": {"site": "n", "kind": "pump"}, "temp": 22}` + "\n" +
			`{"ts": 1700000000125, "device": "d2", "meta": {"kind": "fan"}, "rpm": 3}`,
		`{"ts": 1, "device": "d1", "meta": {"kind": "a"}, "temp": 1}` + "\n" + `{"ts": 1, "device": "d1", "meta": {"kind": "b"}, "temp": 1}` + "\n" +
			`{"ts": 1, "device": "d1", "meta": {"kind": "c"}, "temp": 1}` + "\n" + `{"ts": 1, "device": "d1", "meta": {"kind": "d"}, "temp": 1}`,
		"{\"ts\": 1, \"device\": \"\xff\", \"meta\": {\"site\": \"\xfe\", \"kind\": \"k\"}, \"temp\": 1}",
		`{"ts": 1, "meta": {"kind": "bad name!"}, "temp": 1}` + "\n" + `{"ts": 1, "device": "x", "temp": 1}`,
		`[{"ts": 1, "device": "a", "meta": {"kind": "k"}, "temp": 1}, {"ts": 2, "device": "b", "meta": {"kind": "k"}, "rpm": 2}]`,
		`{"ts": 1, "device": "` + strings.Repeat("d", 2040) + `", "meta": {"kind": "k"}, "temp": 1}`,
	} {
		f.Add([]byte(s))
	}
	var fast, ref []*Pipeline
	for _, single := range []bool{false, true} {
		m := plantMapping
		m.Table, m.MaxTargets, m.Single = "t_{{.meta.kind}}", 3, single
		p, err := New(discard{}, Options{Name: "fast", Format: FormatJSON, Mapping: m})
		if err != nil {
			f.Fatal(err)
		}
		r, err := New(discard{}, Options{Name: "ref", Format: FormatJSON, Mapping: m,
			Formats: map[string]DecoderFunc{FormatJSON: newRefJSONDecoder}})
		if err != nil {
			f.Fatal(err)
		}
		fast, ref = append(fast, p), append(ref, r)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var msgs []Message
		for i, line := range bytes.Split(in, []byte("\n")) {
			msgs = append(msgs, Message{Partition: "p/0", Offset: strconv.Itoa(i), Value: line})
		}
		for k := range fast {
			show := func(p *Pipeline, d *Decoded) []string {
				var out []string
				for i, r := range d.st.recs {
					r.Dimensions = slices.Clone(r.Dimensions)
					slices.SortFunc(r.Dimensions, func(a, b ingest.Dimension) int { return strings.Compare(a.Name, b.Name) })
					tg := p.targetList[d.st.tix[i]]
					out = append(out, fmt.Sprintf("%s.%s msg %d: %s", tg.db, tg.table, d.st.owner[i], recString(r)))
				}
				for _, dl := range d.dead {
					reason := dl.reason
					if !strings.HasPrefix(reason, "record rejected: ") && !strings.HasPrefix(reason, "database template: ") &&
						!strings.HasPrefix(reason, "table template: ") && !strings.HasPrefix(reason, "target ") {
						// The decoders word (and order) their errors
						// differently; FuzzJSONDecoderAgainstReference
						// holds them to the same messages refused.
						reason = "decode error"
					}
					out = append(out, fmt.Sprintf("dead msg %d db %q: %s", dl.msg, dl.db, reason))
				}
				return out
			}
			df, dr := fast[k].Decode(msgs), ref[k].Decode(msgs)
			got, want := show(fast[k], df), show(ref[k], dr)
			df.Release()
			dr.Release()
			if !slices.Equal(got, want) {
				t.Fatalf("single=%v:\n got %q\nwant %q", k == 1, got, want)
			}
		}
	})
}
