package mqtt

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/tidaldb/tidal/ingest"
)

// spM is a metric to encode: name or alias, data type and value.
type spM struct {
	name  string
	alias int64 // -1: none
	dt    uint32
	v     any // int64, uint64, float32, float64, bool, string, nil (is_null)
	ts    uint64
}

// encodeSparkplug writes a Sparkplug B Payload as the specification's
// protobuf schema lays it out (field numbers from sparkplug_b.proto).
func encodeSparkplug(ts uint64, seq int64, metrics ...spM) []byte {
	var b []byte
	if ts > 0 {
		b = protowire.AppendTag(b, 1, protowire.VarintType)
		b = protowire.AppendVarint(b, ts)
	}
	for _, m := range metrics {
		var mb []byte
		if m.name != "" {
			mb = protowire.AppendTag(mb, 1, protowire.BytesType)
			mb = protowire.AppendString(mb, m.name)
		}
		if m.alias >= 0 {
			mb = protowire.AppendTag(mb, 2, protowire.VarintType)
			mb = protowire.AppendVarint(mb, uint64(m.alias))
		}
		if m.ts > 0 {
			mb = protowire.AppendTag(mb, 3, protowire.VarintType)
			mb = protowire.AppendVarint(mb, m.ts)
		}
		mb = protowire.AppendTag(mb, 4, protowire.VarintType)
		mb = protowire.AppendVarint(mb, uint64(m.dt))
		switch v := m.v.(type) {
		case nil:
			mb = protowire.AppendTag(mb, 7, protowire.VarintType)
			mb = protowire.AppendVarint(mb, 1)
		case int64:
			if m.dt == spInt64 || m.dt == spUInt64 || m.dt == spDateTime {
				mb = protowire.AppendTag(mb, 11, protowire.VarintType)
				mb = protowire.AppendVarint(mb, uint64(v))
			} else {
				mb = protowire.AppendTag(mb, 10, protowire.VarintType)
				mb = protowire.AppendVarint(mb, uint64(uint32(int32(v))))
			}
		case uint64:
			mb = protowire.AppendTag(mb, 11, protowire.VarintType)
			mb = protowire.AppendVarint(mb, v)
		case float32:
			mb = protowire.AppendTag(mb, 12, protowire.Fixed32Type)
			mb = protowire.AppendFixed32(mb, math.Float32bits(v))
		case float64:
			mb = protowire.AppendTag(mb, 13, protowire.Fixed64Type)
			mb = protowire.AppendFixed64(mb, math.Float64bits(v))
		case bool:
			mb = protowire.AppendTag(mb, 14, protowire.VarintType)
			mb = protowire.AppendVarint(mb, protowire.EncodeBool(v))
		case string:
			mb = protowire.AppendTag(mb, 15, protowire.BytesType)
			mb = protowire.AppendString(mb, v)
		}
		b = protowire.AppendTag(b, 2, protowire.BytesType)
		b = protowire.AppendBytes(b, mb)
	}
	if seq >= 0 {
		b = protowire.AppendTag(b, 3, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(seq))
	}
	return b
}

// recString is a record as "measure=value@ms dims".
func recString(r ingest.Record) string {
	var v string
	switch r.Value.Type {
	case ingest.TypeDouble:
		v = fmt.Sprint(r.Value.Float())
	case ingest.TypeBigint:
		v = fmt.Sprintf("%di", r.Value.Int())
	case ingest.TypeBoolean:
		v = fmt.Sprint(r.Value.Bool())
	case ingest.TypeVarchar:
		v = fmt.Sprintf("%q", r.Value.Str)
	case ingest.TypeTimestamp:
		v = fmt.Sprintf("ts%d", r.Value.Int()/1e6)
	}
	var d []string
	for _, x := range r.Dimensions {
		d = append(d, x.Name+"="+x.Value)
	}
	return fmt.Sprintf("%s=%s@%d %s", r.MeasureName, v, r.Time/1e6, strings.Join(d, ","))
}

func TestSparkplug(t *testing.T) {
	s := &sparkplug{}
	now := time.UnixMilli(5000)
	const node = "group_id=g1,edge_node_id=e1"
	const dev = "group_id=g1,edge_node_id=e1,device_id=d1"
	steps := []struct {
		topic   string
		payload []byte
		want    []string
		errs    string
	}{
		{"spBv1.0/g1/NBIRTH/e1", encodeSparkplug(1000, 0,
			spM{name: "bdSeq", alias: -1, dt: spInt64, v: int64(3)},
			spM{name: "Node Control/Rebirth", alias: 0, dt: spBoolean, v: false},
			spM{name: "temp", alias: 1, dt: spFloat, v: float32(20.5)},
			spM{name: "count", alias: 2, dt: spInt32, v: int64(-7)},
			spM{name: "big", alias: 3, dt: spUInt64, v: uint64(1 << 40)},
			spM{name: "label", alias: 4, dt: spString, v: "boiler"},
			spM{name: "empty", alias: 5, dt: spDouble, v: nil},
		), []string{`status="online"@1000 ` + node, "Node Control/Rebirth=false@1000 " + node, "temp=20.5@1000 " + node,
			"count=-7i@1000 " + node, "big=1099511627776i@1000 " + node, `label="boiler"@1000 ` + node}, ""},
		// NDATA by alias only; a metric timestamp wins over the payload's.
		{"spBv1.0/g1/NDATA/e1", encodeSparkplug(2000, 1,
			spM{alias: 1, dt: spFloat, v: float32(21.25)}, spM{alias: 2, dt: spInt32, v: int64(8), ts: 1900}),
			[]string{"temp=21.25@2000 " + node, "count=8i@1900 " + node}, ""},
		{"spBv1.0/g1/DBIRTH/e1/d1", encodeSparkplug(3000, 2,
			spM{name: "rpm", alias: 10, dt: spDouble, v: 1200.5}, spM{name: "on", alias: 11, dt: spBoolean, v: true},
			spM{name: "since", alias: 12, dt: spDateTime, v: int64(42)}),
			[]string{`status="online"@3000 ` + dev, "rpm=1200.5@3000 " + dev, "on=true@3000 " + dev, "since=ts42@3000 " + dev}, ""},
		// seq 3 is missing: counted, the data kept.
		{"spBv1.0/g1/DDATA/e1/d1", encodeSparkplug(4000, 4, spM{alias: 10, dt: spDouble, v: 1300.0}, spM{alias: 99, dt: spDouble, v: 1.0}),
			[]string{"rpm=1300@4000 " + dev}, "seq 4 after 2"},
		{"spBv1.0/g1/DDEATH/e1/d1", encodeSparkplug(4500, 5), []string{`status="offline"@4500 ` + dev}, ""},
		// The will of an earlier session (bdSeq 2, the NBIRTH said 3)
		// arrives late: stale, the node stays online.
		{"spBv1.0/g1/NDEATH/e1", encodeSparkplug(0, -1, spM{name: "bdSeq", alias: -1, dt: spUInt64, v: uint64(2)}), nil, ""},
		{"spBv1.0/g1/NDEATH/e1", encodeSparkplug(0, -1, spM{name: "bdSeq", alias: -1, dt: spInt64, v: int64(3)}),
			[]string{`status="offline"@5000 ` + node}, ""},
		// The node is reborn with bdSeq 4; the death of session 3 arriving
		// again is stale, the death of session 4 is not.
		{"spBv1.0/g1/NBIRTH/e1", encodeSparkplug(6000, 0, spM{name: "bdSeq", alias: -1, dt: spUInt64, v: uint64(4)}),
			[]string{`status="online"@6000 ` + node}, ""},
		{"spBv1.0/g1/NDEATH/e1", encodeSparkplug(0, -1, spM{name: "bdSeq", alias: -1, dt: spInt64, v: int64(3)}), nil, ""},
		{"spBv1.0/g1/NDEATH/e1", encodeSparkplug(7000, -1, spM{name: "bdSeq", alias: -1, dt: spUInt64, v: uint64(4)}),
			[]string{`status="offline"@7000 ` + node}, ""},
		// An edge node never seen born: its death is believed.
		{"spBv1.0/g1/NDEATH/e7", encodeSparkplug(7000, -1, spM{name: "bdSeq", alias: -1, dt: spUInt64, v: uint64(9)}),
			[]string{`status="offline"@7000 group_id=g1,edge_node_id=e7`}, ""},
		{"spBv1.0/g1/NCMD/e1", encodeSparkplug(0, -1, spM{name: "Node Control/Rebirth", alias: -1, dt: spBoolean, v: true}), nil, ""},
		{"spBv1.0/g1/NDATA", []byte{}, nil, "not spBv1.0"},
		{"spBv1.0/g1/DDATA/e1", []byte{}, nil, "missing group, edge node or device"},
		{"spBv1.0/g1/NDATA/e1", []byte{0x0a, 0xff}, nil, "decode sparkplug"},
		{"spBv1.0/g2/NDATA/e9", encodeSparkplug(0, 0, spM{alias: 1, dt: spFloat, v: float32(1)}), nil, "unknown metric alias 1"},
	}
	for i, st := range steps {
		recs, errs := s.decode(st.topic, st.payload, now)
		var got []string
		for _, r := range recs {
			got = append(got, recString(r))
		}
		if strings.Join(got, "\n") != strings.Join(st.want, "\n") {
			t.Errorf("step %d %s:\n got %q\nwant %q", i, st.topic, got, st.want)
		}
		if st.errs == "" && len(errs) > 0 || st.errs != "" && !strings.Contains(strings.Join(errs, "\n"), st.errs) {
			t.Errorf("step %d %s: errors %q, want %q", i, st.topic, errs, st.errs)
		}
	}
	if s.seqGaps != 1 || s.staleDeaths != 2 {
		t.Errorf("seq gaps %d, stale deaths %d; want 1 and 2", s.seqGaps, s.staleDeaths)
	}
}

func FuzzSparkplug(f *testing.F) {
	f.Add("spBv1.0/g/NBIRTH/e", encodeSparkplug(1000, 0, spM{name: "t", alias: 1, dt: spFloat, v: float32(1)}))
	f.Add("spBv1.0/g/DDATA/e/d", encodeSparkplug(1000, 1, spM{alias: 1, dt: spDouble, v: 2.5}, spM{name: "s", alias: -1, dt: spString, v: "x"}))
	f.Add("spBv1.0/g/NDEATH/e", encodeSparkplug(0, -1, spM{name: "bdSeq", alias: -1, dt: spUInt64, v: uint64(1)}))
	now := time.UnixMilli(5000)
	f.Fuzz(func(t *testing.T, topic string, payload []byte) {
		s := &sparkplug{}
		for range 2 { // the second pass sees the first one's aliases
			recs, _ := s.decode(topic, payload, now)
			for i := range recs {
				if reason := ingest.ValidateRecord(&recs[i]); reason != "" {
					t.Fatalf("invalid record %+v: %s", recs[i], reason)
				}
			}
		}
	})
}
