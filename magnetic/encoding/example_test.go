package encoding_test

import (
	"fmt"

	"github.com/tidaldb/tidal/magnetic/encoding"
)

func ExampleAppendFloats() {
	vs := []float64{52.5, 52.25, 53, 0.1}
	block := encoding.AppendFloats(nil, vs)
	stored := encoding.Compress(nil, block, encoding.Auto)
	fmt.Println(encoding.Kind(block[0]), encoding.Compression(stored[0]))

	raw, err := encoding.Decompress(nil, stored)
	if err != nil {
		panic(err)
	}
	got, err := encoding.DecodeFloats(nil, raw)
	fmt.Println(got, err)
	// Output:
	// float-decimal none
	// [52.5 52.25 53 0.1] <nil>
}

func ExampleAppendTimestamps() {
	ts := []int64{1704067200e9, 1704067210e9, 1704067220e9, 1704067230e9}
	block := encoding.AppendTimestamps(nil, ts)
	got, err := encoding.DecodeTimestamps(nil, block)
	fmt.Println(encoding.Kind(block[0]), len(block), got[3]-got[0], err)
	// Output:
	// timestamp-const 16 30000000000 <nil>
}
