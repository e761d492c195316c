package tombstone

import (
	"encoding/json"
	"reflect"
	"testing"
)

// FuzzDecode: the tombstone file decoder never panics, and what it accepts
// encodes and decodes back to the same tombstones.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"version":1,"last_id":3,"tombstones":[{"id":1,"table_id":2,"database":"db","table":"t","where":[{"name":"host","op":"=~","values":["a.*"]}],"min_time":0,"max_time":9,"created":5},{"id":3,"table_id":2,"min_time":-1,"max_time":-1}]}`))
	f.Add([]byte(`{"version":1,"last_id":0,"tombstones":[]}`))
	f.Add([]byte(`{"version":1,"last_id":2,"tombstones":[{"id":2,"where":[{"name":"x","op":"in","values":["a","b"]},{"name":"y","op":"absent"}],"min_time":1,"max_time":2}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := Decode(b)
		if err != nil {
			return
		}
		again, err := json.Marshal(file)
		if err != nil {
			t.Fatal(err)
		}
		file2, err := Decode(again)
		if err != nil {
			t.Fatalf("re-encoded file refused: %v", err)
		}
		if len(file.Tombstones) != len(file2.Tombstones) || file.LastID != file2.LastID {
			t.Fatalf("round trip changed the file")
		}
		for i, ts := range file.Tombstones {
			a, b := *ts, *file2.Tombstones[i]
			for j := range a.Where {
				a.Where[j].re, b.Where[j].re = nil, nil
				if len(a.Where[j].Values) == 0 {
					a.Where[j].Values, b.Where[j].Values = nil, nil
				}
			}
			if len(a.Where) == 0 { // [] and absent are the same
				a.Where, b.Where = nil, nil
			}
			if !reflect.DeepEqual(a, b) {
				t.Fatalf("round trip: %+v became %+v", a, b)
			}
		}
	})
}
