package kinesis

import (
	"bytes"
	"crypto/md5"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

func TestDeaggregate(t *testing.T) {
	agg := Aggregate([]SubRecord{{"a", []byte("one")}, {"b", []byte("two")}, {"a", []byte("")}, {"c", []byte("four")}})
	corrupt := bytes.Clone(agg)
	corrupt[len(corrupt)-1] ^= 1
	// A body with a record whose key index is past the table, with a
	// correct checksum: an aggregate, but a broken one.
	var body []byte
	body = protowire.AppendTag(body, 1, protowire.BytesType)
	body = protowire.AppendString(body, "k")
	var rec []byte
	rec = protowire.AppendTag(rec, 1, protowire.VarintType)
	rec = protowire.AppendVarint(rec, 3)
	rec = protowire.AppendTag(rec, 3, protowire.BytesType)
	rec = protowire.AppendBytes(rec, []byte("x"))
	body = protowire.AppendTag(body, 3, protowire.BytesType)
	body = protowire.AppendBytes(body, rec)
	sum := md5.Sum(body)
	badIndex := append(append(append([]byte{}, kplMagic...), body...), sum[:]...)
	// Unknown fields and explicit hash keys are skipped.
	withExtras := append(append([]byte{}, kplMagic...), protowire.AppendString(protowire.AppendTag(nil, 2, protowire.BytesType), "123")...)
	withExtras = append(withExtras, agg[len(kplMagic):len(agg)-md5.Size]...)
	extraSum := md5.Sum(withExtras[len(kplMagic):])
	withExtras = append(withExtras, extraSum[:]...)

	tests := []struct {
		name    string
		in      []byte
		want    []SubRecord
		ok, err bool
	}{
		{"plain json", []byte(`{"t": 1}`), nil, false, false},
		{"too short", kplMagic, nil, false, false},
		{"aggregate", agg, []SubRecord{{"a", []byte("one")}, {"b", []byte("two")}, {"a", []byte("")}, {"c", []byte("four")}}, true, false},
		{"checksum mismatch is a plain record", corrupt, nil, false, false},
		{"key index out of range", badIndex, nil, true, true},
		{"explicit hash key table skipped", withExtras, []SubRecord{{"a", []byte("one")}, {"b", []byte("two")}, {"a", []byte("")}, {"c", []byte("four")}}, true, false},
		{"empty aggregate", Aggregate(nil), []SubRecord{}, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok, err := Deaggregate(tc.in)
			if ok != tc.ok || (err != nil) != tc.err {
				t.Fatalf("ok=%v err=%v, want ok=%v err=%v", ok, err, tc.ok, tc.err)
			}
			if tc.err {
				return
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d records, want %d", len(got), len(tc.want))
			}
			for i := range got {
				if got[i].PartitionKey != tc.want[i].PartitionKey || !bytes.Equal(got[i].Data, tc.want[i].Data) {
					t.Fatalf("record %d = %q/%q, want %q/%q", i, got[i].PartitionKey, got[i].Data, tc.want[i].PartitionKey, tc.want[i].Data)
				}
			}
		})
	}
}

// FuzzDeaggregate feeds arbitrary aggregate bodies (with a correct magic
// and checksum, so the protobuf parser is reached) and arbitrary records:
// no panic, and a parsed aggregate re-encodes to the same records.
func FuzzDeaggregate(f *testing.F) {
	f.Add([]byte{}, false)
	f.Add(Aggregate([]SubRecord{{"k", []byte(`{"t":1}`)}, {"j", nil}})[len(kplMagic):], true)
	f.Add([]byte{0x0a, 0x01, 'k', 0x1a, 0x04, 0x08, 0x00, 0x1a, 0x00}, true)
	f.Add([]byte{0x1a, 0x02, 0x08, 0x05}, true)
	f.Fuzz(func(t *testing.T, body []byte, wrap bool) {
		in := body
		if wrap {
			sum := md5.Sum(body)
			in = append(append(append([]byte{}, kplMagic...), body...), sum[:]...)
		}
		subs, ok, err := Deaggregate(in)
		if !ok || err != nil {
			return
		}
		again, ok, err := Deaggregate(Aggregate(subs))
		if !ok || err != nil || len(again) != len(subs) {
			t.Fatalf("re-encoded aggregate: ok=%v err=%v, %d records, want %d", ok, err, len(again), len(subs))
		}
		for i := range subs {
			if again[i].PartitionKey != subs[i].PartitionKey || !bytes.Equal(again[i].Data, subs[i].Data) {
				t.Fatalf("record %d changed in a round trip", i)
			}
		}
	})
}

// BenchmarkDeaggregate splits a KPL aggregate of 100 TSBS-sized JSON
// records (the KPL's usual fill).
//
//	go test -run '^$' -bench Deaggregate ./ingest/kinesis
func BenchmarkDeaggregate(b *testing.B) {
	var subs []SubRecord
	for i := range 100 {
		subs = append(subs, SubRecord{PartitionKey: "host_" + string(rune('a'+i%26)),
			Data: []byte(`{"timestamp":1700000000000000000,"tags":{"hostname":"host_1","region":"eu-west-1"},"usage_user":12,"usage_system":40}`)})
	}
	agg := Aggregate(subs)
	b.SetBytes(int64(len(agg)))
	for b.Loop() {
		got, ok, err := Deaggregate(agg)
		if !ok || err != nil || len(got) != 100 {
			b.Fatal(ok, err, len(got))
		}
	}
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "records/s")
}
