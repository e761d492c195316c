package chunkenc

import (
	"slices"
	"testing"
)

// benchChunk is the memstore's chunk length (maxChunkRows), so benchmarks
// measure chunks of the size the memstore keeps.
const benchChunk = 240

// benchSet is one column of realistic data, cut into chunks.
type benchSet[T any] struct {
	name   string
	chunks [][]T
}

// chunked cuts vs into benchChunk-long chunks.
func chunked[T any](vs []T) [][]T {
	var out [][]T
	for c := range slices.Chunk(vs, benchChunk) {
		out = append(out, c)
	}
	return out
}

// hostsOf concatenates gen over ten hosts (TSBS devops scale 10), each host
// with its own seed, so the data covers ten independent series.
func hostsOf[T any](gen func(n int, seed uint64) []T) [][]T {
	var out [][]T
	for h := range 10 {
		out = append(out, chunked(gen(4*benchChunk, uint64(h)))...)
	}
	return out
}

func timeSets() []benchSet[int64] {
	return []benchSet[int64]{
		{"regular10s", hostsOf(func(n int, s uint64) []int64 { return tsbsTimes(n, 0, 1, s) })},
		{"jitter_ms", hostsOf(func(n int, s uint64) []int64 { return tsbsTimes(n, 5e6, 1e6, s) })},
		{"jitter_ns", hostsOf(func(n int, s uint64) []int64 { return tsbsTimes(n, 5e5, 1, s) })},
	}
}

func floatSets() []benchSet[float64] {
	return []benchSet[float64]{
		{"tsbs_cpu", hostsOf(tsbsCPU)},
		{"gauge", hostsOf(gaugeFloats)},
	}
}

func intSets() []benchSet[int64] {
	return []benchSet[int64]{
		{"counter", hostsOf(counters)},
		{"walk", hostsOf(intWalk)},
		{"versions", hostsOf(func(n int, _ uint64) []int64 { return slices.Repeat([]int64{1}, n) })},
	}
}

func stringSets() []benchSet[string] {
	return []benchSet[string]{
		{"statuses", hostsOf(statuses)},
		{"unique_ids", hostsOf(requestIDs)},
	}
}

func boolSets() []benchSet[bool] {
	return []benchSet[bool]{
		{"sparse_nulls", hostsOf(sparseNulls)},
		{"random", hostsOf(randomBools)},
	}
}

// bytesPerSample returns the encoded size of the chunks per value.
func bytesPerSample[T any](a appender[T], chunks [][]T) float64 {
	var size, n int
	for _, c := range chunks {
		a.Reset()
		for _, v := range c {
			a.Append(v)
		}
		size += len(a.Bytes())
		n += len(c)
	}
	return float64(size) / float64(n)
}

// benchAppend measures one Append per op, resetting the appender at every
// chunk boundary as the memstore starts a new chunk.
func benchAppend[T any](b *testing.B, newA func() appender[T], set benchSet[T]) {
	a := newA()
	bps := bytesPerSample(a, set.chunks)
	b.ReportAllocs()
	ci, vi := 0, 0
	a.Reset()
	b.ResetTimer()
	for range b.N {
		c := set.chunks[ci]
		a.Append(c[vi])
		if vi++; vi == len(c) {
			vi = 0
			ci = (ci + 1) % len(set.chunks)
			a.Reset()
		}
	}
	b.ReportMetric(bps, "B/sample")
}

// benchDecode measures decoding one whole chunk per op into a reused slice.
func benchDecode[T any](b *testing.B, newA func() appender[T], decode decodeFunc[T], set benchSet[T]) {
	srcs := make([][]byte, len(set.chunks))
	for i, c := range set.chunks {
		a := newA()
		for _, v := range c {
			a.Append(v)
		}
		srcs[i] = a.Bytes()
	}
	bps := bytesPerSample(newA(), set.chunks)
	dst := make([]T, 0, benchChunk)
	var err error
	var samples int
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		ci := i % len(srcs)
		n := len(set.chunks[ci])
		if dst, err = decode(dst[:0], srcs[ci], n); err != nil {
			b.Fatal(err)
		}
		samples += n
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(samples), "ns/sample")
	b.ReportMetric(bps, "B/sample")
}

func BenchmarkTimes(b *testing.B) {
	newA := func() appender[int64] { return &TimeAppender{} }
	for _, set := range timeSets() {
		b.Run("append/"+set.name, func(b *testing.B) { benchAppend(b, newA, set) })
		b.Run("decode/"+set.name, func(b *testing.B) { benchDecode(b, newA, DecodeTimes, set) })
	}
}

func BenchmarkXOR(b *testing.B) {
	newA := func() appender[float64] { return &XORAppender{} }
	for _, set := range floatSets() {
		b.Run("append/"+set.name, func(b *testing.B) { benchAppend(b, newA, set) })
		b.Run("decode/"+set.name, func(b *testing.B) { benchDecode(b, newA, DecodeXOR, set) })
	}
}

func BenchmarkInts(b *testing.B) {
	newA := func() appender[int64] { return &IntAppender{} }
	for _, set := range intSets() {
		b.Run("append/"+set.name, func(b *testing.B) { benchAppend(b, newA, set) })
		b.Run("decode/"+set.name, func(b *testing.B) { benchDecode(b, newA, DecodeInts, set) })
	}
}

func BenchmarkStrings(b *testing.B) {
	newA := func() appender[string] { return &StringAppender{} }
	for _, set := range stringSets() {
		b.Run("append/"+set.name, func(b *testing.B) { benchAppend(b, newA, set) })
		b.Run("decode/"+set.name, func(b *testing.B) { benchDecode(b, newA, DecodeStrings, set) })
	}
}

func BenchmarkBools(b *testing.B) {
	newA := func() appender[bool] { return &BoolAppender{} }
	for _, set := range boolSets() {
		b.Run("append/"+set.name, func(b *testing.B) { benchAppend(b, newA, set) })
		b.Run("decode/"+set.name, func(b *testing.B) { benchDecode(b, newA, DecodeBools, set) })
	}
}
