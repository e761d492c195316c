package tsbs

import (
	"math"
	"testing"

	"github.com/tidaldb/tidal/ingest"
)

func samplePoint() *Point {
	return &Point{
		Measurement: "cpu",
		Tags:        []Tag{{"hostname", "host_3"}, {"region", "us-east-1"}, {"arch", "x64"}},
		Fields: []Field{
			{Name: "usage_user", Kind: FieldInt, Int: 58},
			{Name: "ratio", Kind: FieldFloat, Float: 1.25},
		},
		Time: 1704067200000000000,
	}
}

func TestToRecordsSingle(t *testing.T) {
	p := samplePoint()
	recs := ToRecords(p, false)
	want := []ingest.Record{
		{Time: p.Time, MeasureName: "usage_user", Value: ingest.Float(58)},
		{Time: p.Time, MeasureName: "ratio", Value: ingest.Float(1.25)},
	}
	if len(recs) != len(want) {
		t.Fatalf("got %d records, want %d", len(recs), len(want))
	}
	for i, r := range recs {
		w := want[i]
		if r.Time != w.Time || r.MeasureName != w.MeasureName || !r.Value.Equal(w.Value) || r.IsMulti() || r.Version != 0 {
			t.Errorf("record %d = %+v, want %+v", i, r, w)
		}
		if r.Value.Type != ingest.TypeDouble {
			t.Errorf("record %d type %v, want DOUBLE", i, r.Value.Type)
		}
		checkDims(t, r.Dimensions, p.Tags)
	}
}

func TestToRecordsMulti(t *testing.T) {
	p := samplePoint()
	recs := ToRecords(p, true)
	if len(recs) != 1 {
		t.Fatalf("got %d records, want 1", len(recs))
	}
	r := recs[0]
	if !r.IsMulti() || r.MeasureName != "cpu" || r.Time != p.Time || !r.Value.IsNull() {
		t.Fatalf("record = %+v", r)
	}
	want := []ingest.Measure{{Name: "usage_user", Value: ingest.Int(58)}, {Name: "ratio", Value: ingest.Float(1.25)}}
	if len(r.Measures) != len(want) {
		t.Fatalf("got %d measures, want %d", len(r.Measures), len(want))
	}
	for i, m := range r.Measures {
		if m.Name != want[i].Name || !m.Value.Equal(want[i].Value) {
			t.Errorf("measure %d = %+v, want %+v", i, m, want[i])
		}
	}
	checkDims(t, r.Dimensions, p.Tags)
}

func checkDims(t *testing.T, dims []ingest.Dimension, tags []Tag) {
	t.Helper()
	if len(dims) != len(tags) {
		t.Fatalf("%d dimensions, want %d", len(dims), len(tags))
	}
	for i, d := range dims {
		if d.Name != tags[i].Key || d.Value != tags[i].Value {
			t.Fatalf("dimension %d = %+v, want %+v", i, d, tags[i])
		}
	}
}

func TestToRecordsGenerated(t *testing.T) {
	// 101 values per host and tick, as the reference counts for devops.
	pts := generate(t, testConfig("devops", 1, 10e9, 123))
	n := 0
	for _, p := range pts {
		n += len(ToRecords(p, false))
		if m := ToRecords(p, true); len(m) != 1 || len(m[0].Measures) != len(p.Fields) {
			t.Fatalf("%s: multi record %+v", p.Measurement, m)
		}
	}
	if n != 101 {
		t.Fatalf("%d single-measure records per host and tick, want 101", n)
	}
}

func TestLabels(t *testing.T) {
	p := samplePoint()
	buf := make([]Label, 0, 8)
	name, lbls, v := p.Labels(1, buf)
	if name != "cpu_ratio" || v != 1.25 {
		t.Fatalf("Labels(1) = %q, %v", name, v)
	}
	want := []Label{{"arch", "x64"}, {"hostname", "host_3"}, {"region", "us-east-1"}}
	if len(lbls) != len(want) {
		t.Fatalf("labels %v, want %v", lbls, want)
	}
	for i := range want {
		if lbls[i] != want[i] {
			t.Fatalf("labels %v, want %v", lbls, want)
		}
	}
	if &lbls[0] != &buf[:1][0] {
		t.Fatal("Labels did not reuse dst")
	}
	name, _, v = p.Labels(0, lbls)
	if name != "cpu_usage_user" || v != 58 {
		t.Fatalf("Labels(0) = %q, %v", name, v)
	}
	if p.Tags[0].Key != "hostname" {
		t.Fatal("Labels reordered the point's tags")
	}
	for _, i := range []int{-1, 2} {
		name, lbls, v = p.Labels(i, buf)
		if name != "" || len(lbls) != 0 || v != 0 {
			t.Fatalf("Labels(%d) = %q, %v, %v; want empty", i, name, lbls, v)
		}
	}
}

func TestPointEqualAndClone(t *testing.T) {
	p := samplePoint()
	c := p.Clone()
	if !p.Equal(c) {
		t.Fatal("clone differs")
	}
	c.Tags[0].Value = "other"
	if p.Tags[0].Value != "host_3" {
		t.Fatal("clone shares tags")
	}
	tests := []func(q *Point){
		func(q *Point) { q.Time++ },
		func(q *Point) { q.Measurement = "mem" },
		func(q *Point) { q.Tags = q.Tags[:1] },
		func(q *Point) { q.Fields[1].Float = math.Copysign(0, -1) },
		func(q *Point) { q.Fields[0].Kind = FieldFloat },
	}
	for i, mut := range tests {
		q := p.Clone()
		mut(q)
		if p.Equal(q) {
			t.Errorf("mutation %d not detected", i)
		}
	}
	z := &Point{Fields: []Field{{Name: "a", Float: 0}}}
	nz := &Point{Fields: []Field{{Name: "a", Float: math.Copysign(0, -1)}}}
	if z.Equal(nz) {
		t.Fatal("+0 and -0 compare equal; Equal must compare bits")
	}
}
