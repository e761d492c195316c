package scan

import (
	"reflect"
	"testing"

	"github.com/tidaldb/tidal/ingest"
)

// TestBatchClone: a clone is equal, Version included, and shares no memory
// with the original.
func TestBatchClone(t *testing.T) {
	b := &Batch{
		Series:  Series{Key: "k", MeasureName: "m", Dimensions: []ingest.Dimension{{Name: "host", Value: "a"}}},
		Time:    []int64{1, 2},
		Version: []int64{3, 4},
		Columns: []Column{{Name: "v", Type: ingest.TypeDouble, F: []float64{1.5, 0}, Null: []bool{false, true}}},
	}
	c := b.Clone()
	if !reflect.DeepEqual(b, c) {
		t.Fatalf("clone %+v differs from %+v", c, b)
	}
	c.Time[0], c.Version[0], c.Columns[0].F[0], c.Series.Dimensions[0].Value = 9, 9, 9, "z"
	if b.Time[0] != 1 || b.Version[0] != 3 || b.Columns[0].F[0] != 1.5 || b.Series.Dimensions[0].Value != "a" {
		t.Fatalf("clone shares memory: %+v", b)
	}
}

func TestColumnAppendLen(t *testing.T) {
	for _, c := range []struct {
		typ  ingest.ValueType
		vals []ingest.Value
	}{
		{ingest.TypeDouble, []ingest.Value{ingest.Float(1), {}, ingest.Float(2)}},
		{ingest.TypeBigint, []ingest.Value{ingest.Int(1), ingest.Int(2)}},
		{ingest.TypeVarchar, []ingest.Value{{}, ingest.String("x")}},
		{ingest.TypeBoolean, []ingest.Value{ingest.Bool(true)}},
		{ingest.TypeTimestamp, []ingest.Value{ingest.Timestamp(5), {}}},
	} {
		col := Column{Type: c.typ}
		for i, v := range c.vals {
			col.Append(v, i)
		}
		if col.Len() != len(c.vals) {
			t.Fatalf("%v: Len %d, want %d", c.typ, col.Len(), len(c.vals))
		}
		for i, v := range c.vals {
			if got := col.Value(i); got != v {
				t.Errorf("%v row %d: %+v, want %+v", c.typ, i, got, v)
			}
		}
	}
}
