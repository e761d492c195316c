package chunkenc_test

import (
	"fmt"

	"github.com/tidaldb/tidal/memstore/chunkenc"
)

// A chunk keeps one appender per column and the row count; decoding takes
// the count back.
func Example() {
	var times chunkenc.TimeAppender
	var usage chunkenc.XORAppender
	start := int64(1704067200) * 1e9
	for i, v := range []float64{58, 58, 59, 57} {
		times.Append(start + int64(i)*10e9)
		usage.Append(v)
	}
	n := times.Len()
	ts, err := chunkenc.DecodeTimes(nil, times.Bytes(), n)
	if err != nil {
		fmt.Println(err)
		return
	}
	vs, err := chunkenc.DecodeXOR(nil, usage.Bytes(), n)
	if err != nil {
		fmt.Println(err)
		return
	}
	for i := range n {
		fmt.Println(ts[i]-start, vs[i])
	}
	fmt.Println(len(times.Bytes()), "bytes of times,", len(usage.Bytes()), "bytes of values")
	// Output:
	// 0 58
	// 10000000000 58
	// 20000000000 59
	// 30000000000 57
	// 10 bytes of times, 12 bytes of values
}

func ExampleDecodeBools_truncated() {
	var nulls chunkenc.BoolAppender
	for i := range 100 {
		nulls.Append(i%3 == 0)
	}
	_, err := chunkenc.DecodeBools(nil, nulls.Bytes()[:9], nulls.Len())
	fmt.Println(err)
	// Output:
	// decode bools: value 64 of 100: chunkenc: input ends before the requested values
}
