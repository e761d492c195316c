package lineproto

import (
	"strconv"
	"strings"
	"testing"

	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/ingest/pipeline"
)

func TestPipelineDecoder(t *testing.T) {
	m := pipeline.Mapping{Database: "plant", Table: "agents"}
	d, err := pipeline.NewDecoder(pipeline.FormatLineProtocol, m, map[string]pipeline.DecoderFunc{pipeline.FormatLineProtocol: PipelineDecoder})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		msg     string
		want    []string // measure name, dimensions, time per record
		wantErr string
	}{
		{"cpu,host=a u=1 10\nmem,host=a,rack=r1 used=2i 20\n", []string{"cpu host=a 10", "mem host=a,rack=r1 20"}, ""},
		{"cpu,host=a u=1 10\ncpu,host= u=2 20\n", nil, `decode line protocol: line 2: tag "host": missing tag value`},
		{"# only a comment\n", nil, "no lines"},
	}
	for _, tt := range tests {
		recs, err := d.Decode([]byte(tt.msg), nil)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%q: error %v, want %q", tt.msg, err, tt.wantErr)
			}
			continue
		}
		if err != nil || len(recs) != len(tt.want) {
			t.Fatalf("%q: %d records, %v", tt.msg, len(recs), err)
		}
		for i, r := range recs {
			var dims []string
			for _, x := range r.Dimensions {
				dims = append(dims, x.Name+"="+x.Value)
			}
			if got := r.MeasureName + " " + strings.Join(dims, ",") + " " + strconv.FormatInt(r.Time, 10); got != tt.want[i] {
				t.Errorf("%q record %d: %s, want %s", tt.msg, i, got, tt.want[i])
			}
		}
	}
}

// FuzzPipelineDecoder: a message the pipeline decoder accepts gives
// valid records, as many as Decode's points, none for a refused one.
func FuzzPipelineDecoder(f *testing.F) {
	f.Add([]byte("cpu,host=a u=1 10\nmem,host=a,rack=r1 used=2i,s=\"x\" 20\n"))
	f.Add([]byte("cpu u=1\nbad line\n"))
	d, err := PipelineDecoder(pipeline.Mapping{Database: "plant", Table: "agents"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		recs, err := d.Decode(msg, nil)
		pts, errs := Decode(msg, Options{})
		if err != nil {
			if len(recs) != 0 || len(errs) == 0 && len(pts) != 0 {
				t.Fatalf("refused (%v) with %d records; Decode: %d points, %v", err, len(recs), len(pts), errs)
			}
			return
		}
		if len(recs) != len(pts) || len(errs) != 0 {
			t.Fatalf("%d records; Decode: %d points, %v", len(recs), len(pts), errs)
		}
		for i := range recs {
			if reason := ingest.ValidateRecord(&recs[i]); reason != "" {
				t.Fatalf("record %d invalid: %s", i, reason)
			}
		}
	})
}
