package encoding

import (
	"fmt"
	"testing"
	"time"
)

// Benchmarks on TSBS-shaped data (see data_test.go): 8192-sample blocks,
// 10 s interval, cpu random walks. Each reports B/sample (encoded size per
// value, after the named compression) and values/s.

var (
	sinkBytes  []byte
	sinkInts   []int64
	sinkFloats []float64
)

func reportPerValue(b *testing.B, values, encoded int) {
	b.Helper()
	b.ReportMetric(float64(encoded)/float64(values), "B/sample")
	b.ReportMetric(float64(b.N)*float64(values)/b.Elapsed().Seconds(), "values/s")
}

// reportCPU adds cpu-ns/value when the loop's CPU time was measured.
func reportCPU(b *testing.B, cpu time.Duration, values int) {
	b.Helper()
	if cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N)/float64(values), "cpu-ns/value")
	}
}

func benchTimestampData() []struct {
	name string
	ts   []int64
} {
	return []struct {
		name string
		ts   []int64
	}{
		{"regular10s", regularTimestamps(blockLen)},
		{"jitter5ms", jitteredTimestamps(11, blockLen, 5)},
	}
}

func BenchmarkAppendTimestamps(b *testing.B) {
	for _, d := range benchTimestampData() {
		for _, c := range reportCompressions {
			b.Run(d.name+"/"+c.String(), func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(8 * len(d.ts)))
				var buf, out []byte
				for b.Loop() {
					buf = AppendTimestamps(buf[:0], d.ts)
					if c != None {
						out = Compress(out[:0], buf, c)
					} else {
						out = buf
					}
				}
				sinkBytes = out
				reportPerValue(b, len(d.ts), len(out))
			})
		}
	}
}

// BenchmarkTimestampCandidates reports the size of each candidate timestamp
// encoding after each compression (encode + compress time).
func BenchmarkTimestampCandidates(b *testing.B) {
	for _, d := range benchTimestampData() {
		for _, k := range []Kind{TimestampConst, TimestampDeltaOfDelta, TimestampDelta} {
			blk := forceTimestamps(d.ts, k)
			if blk == nil || (k == TimestampConst && Kind(blk[0]) != k) {
				continue // not applicable to this data
			}
			for _, c := range reportCompressions {
				b.Run(fmt.Sprintf("%s/%s/%s", d.name, k, c), func(b *testing.B) {
					b.ReportAllocs()
					b.SetBytes(int64(8 * len(d.ts)))
					var out []byte
					for b.Loop() {
						out = Compress(out[:0], forceTimestamps(d.ts, k), c)
					}
					sinkBytes = out
					reportPerValue(b, len(d.ts), len(out))
				})
			}
		}
	}
}

func BenchmarkDecodeTimestamps(b *testing.B) {
	for _, d := range benchTimestampData() {
		b.Run(d.name, func(b *testing.B) {
			src := AppendTimestamps(nil, d.ts)
			b.ReportAllocs()
			b.SetBytes(int64(8 * len(d.ts)))
			var dst []int64
			for b.Loop() {
				var err error
				dst, err = DecodeTimestamps(dst[:0], src)
				if err != nil {
					b.Fatal(err)
				}
			}
			sinkInts = dst
			reportPerValue(b, len(d.ts), len(src))
		})
	}
}

func benchFloatData() []struct {
	name   string
	blocks [][]float64
} {
	return []struct {
		name   string
		blocks [][]float64
	}{
		{"tsbs-int", cpuBlocks(reportSeed1, 1, 0)},
		{"walk-2dp", cpuBlocks(reportSeed1, 1, 2)},
	}
}

// BenchmarkAppendFloats measures the full encoder (all candidates sized,
// smallest written) per compression.
func BenchmarkAppendFloats(b *testing.B) {
	for _, d := range benchFloatData() {
		for _, c := range reportCompressions {
			b.Run(d.name+"/"+c.String(), func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(8 * blockLen))
				var buf, out []byte
				total, i := 0, 0
				for b.Loop() {
					vs := d.blocks[i%len(d.blocks)]
					i++
					buf = AppendFloats(buf[:0], vs)
					if c != None {
						out = Compress(out[:0], buf, c)
					} else {
						out = buf
					}
					total += len(out)
				}
				sinkBytes = out
				reportPerValue(b, blockLen, total/i)
			})
		}
	}
}

// BenchmarkFloatCandidates reports the size of each candidate encoding
// after each compression (encode + compress time).
func BenchmarkFloatCandidates(b *testing.B) {
	for _, d := range benchFloatData() {
		for _, k := range []Kind{FloatDecimal, FloatXOR, FloatRaw} {
			for _, c := range reportCompressions {
				b.Run(fmt.Sprintf("%s/%s/%s", d.name, k, c), func(b *testing.B) {
					b.ReportAllocs()
					b.SetBytes(int64(8 * blockLen))
					var out []byte
					total, i := 0, 0
					for b.Loop() {
						blk := forceFloats(d.blocks[i%len(d.blocks)], k)
						i++
						out = Compress(out[:0], blk, c)
						total += len(out)
					}
					sinkBytes = out
					reportPerValue(b, blockLen, total/i)
				})
			}
		}
	}
}

func BenchmarkDecodeFloats(b *testing.B) {
	for _, d := range benchFloatData() {
		for _, k := range []Kind{FloatDecimal, FloatXOR, FloatRaw} {
			b.Run(d.name+"/"+k.String(), func(b *testing.B) {
				src := forceFloats(d.blocks[0], k)
				b.ReportAllocs()
				b.SetBytes(int64(8 * blockLen))
				var dst []float64
				for b.Loop() {
					var err error
					dst, err = DecodeFloats(dst[:0], src)
					if err != nil {
						b.Fatal(err)
					}
				}
				sinkFloats = dst
				reportPerValue(b, blockLen, len(src))
			})
		}
	}
}

// BenchmarkDecompress decompresses raw-encoded TSBS values, the one
// candidate general-purpose compression shrinks substantially.
func BenchmarkDecompress(b *testing.B) {
	blk := forceFloats(cpuBlocks(reportSeed1, 1, 0)[0], FloatRaw)
	for _, c := range []Compression{Snappy, Zstd} {
		b.Run(c.String(), func(b *testing.B) {
			src := Compress(nil, blk, c)
			b.ReportAllocs()
			b.SetBytes(int64(len(blk)))
			var dst []byte
			for b.Loop() {
				var err error
				dst, err = Decompress(dst[:0], src)
				if err != nil {
					b.Fatal(err)
				}
			}
			sinkBytes = dst
			reportPerValue(b, blockLen, len(src))
		})
	}
}

func benchCounter() []int64 {
	vs := make([]int64, blockLen)
	var acc int64
	for i, d := range cpuBlocks(reportSeed1, 1, 0)[0] {
		acc += int64(d) * 1000 // a byte counter fed by cpu-shaped rates
		vs[i] = acc
	}
	return vs
}

func BenchmarkAppendInts(b *testing.B) {
	vs := benchCounter()
	b.ReportAllocs()
	b.SetBytes(int64(8 * len(vs)))
	var out []byte
	for b.Loop() {
		out = AppendInts(out[:0], vs)
	}
	sinkBytes = out
	reportPerValue(b, len(vs), len(out))
}

func BenchmarkDecodeInts(b *testing.B) {
	vs := benchCounter()
	src := AppendInts(nil, vs)
	b.ReportAllocs()
	b.SetBytes(int64(8 * len(vs)))
	var dst []int64
	for b.Loop() {
		var err error
		dst, err = DecodeInts(dst[:0], src)
		if err != nil {
			b.Fatal(err)
		}
	}
	sinkInts = dst
	reportPerValue(b, len(vs), len(src))
}

// benchHostnames is a hostname column of a multi-series block: 100 hosts,
// 82 samples each.
func benchHostnames() []string {
	vs := make([]string, 0, blockLen)
	for h := 0; len(vs) < blockLen; h++ {
		name := fmt.Sprintf("host_%d", h)
		for j := 0; j < 82 && len(vs) < blockLen; j++ {
			vs = append(vs, name)
		}
	}
	return vs
}

// stringBytes is the raw size of vs, for b.SetBytes.
func stringBytes(vs []string) int64 {
	n := 0
	for _, s := range vs {
		n += len(s)
	}
	return int64(n)
}

func BenchmarkAppendStrings(b *testing.B) {
	vs := benchHostnames()
	b.ReportAllocs()
	b.SetBytes(stringBytes(vs))
	var out []byte
	for b.Loop() {
		out = AppendStrings(out[:0], vs)
	}
	sinkBytes = out
	reportPerValue(b, len(vs), len(out))
}

func BenchmarkDecodeStrings(b *testing.B) {
	vs := benchHostnames()
	src := AppendStrings(nil, vs)
	b.ReportAllocs()
	b.SetBytes(stringBytes(vs))
	var dst []string
	for b.Loop() {
		var err error
		dst, err = DecodeStrings(dst[:0], src)
		if err != nil {
			b.Fatal(err)
		}
	}
	reportPerValue(b, len(vs), len(src))
}

func BenchmarkBools(b *testing.B) {
	vs := make([]bool, blockLen)
	for i, v := range cpuBlocks(reportSeed1, 1, 0)[0] {
		vs[i] = v > 50 // e.g. a "usage over 50" flag
	}
	b.Run("append", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(vs)))
		var out []byte
		for b.Loop() {
			out = AppendBools(out[:0], vs)
		}
		sinkBytes = out
		reportPerValue(b, len(vs), len(out))
	})
	b.Run("decode", func(b *testing.B) {
		src := AppendBools(nil, vs)
		b.ReportAllocs()
		b.SetBytes(int64(len(vs)))
		var dst []bool
		for b.Loop() {
			var err error
			dst, err = DecodeBools(dst[:0], src)
			if err != nil {
				b.Fatal(err)
			}
		}
		reportPerValue(b, len(vs), len(src))
	})
}

// forceDecimal encodes vs as FloatDecimal with IntDeltaHuffman mantissas
// (k = IntDeltaHuffman, as version 1 wrote TSBS values) or as
// FloatDecimalFSE (k = IntDeltaFSE), or returns nil when k does not
// apply.
func forceDecimal(vs []float64, k Kind) []byte {
	ms := getInt64s(len(vs))
	defer putInt64s(ms)
	e, ok := decimalMantissas(ms, vs)
	if !ok {
		return nil
	}
	if k == IntDeltaFSE { // as AppendFloats writes it: FloatDecimalFSE
		h := getHuffScratch()
		defer putHuffScratch(h)
		if !deltaBytes(h, ms.s) {
			return nil
		}
		fb, ok := fseDeltas(h)
		if !ok {
			return nil
		}
		dst := appendHeader(nil, FloatDecimalFSE, len(vs))
		dst = appendZvarint(dst, int64(e))
		dst = appendZvarint(dst, ms.s[0])
		return append(dst, fb...)
	}
	inner := forceInts(ms.s, k)
	if inner == nil {
		return nil
	}
	dst := appendHeader(nil, FloatDecimal, len(vs))
	dst = appendZvarint(dst, int64(e))
	return append(dst, inner...)
}

// BenchmarkMantissaCoders compares the mantissa coders of TSBS cpu values
// (integers, random walk) in the same run: FloatDecimal with
// IntDeltaHuffman mantissas (format version 1's choice) against
// FloatDecimalFSE (version 2), in blocks of 1080 samples
// (one 3 h flush at 10 s, the bench harness' small preset) and of 8192
// (BlockRows). Each reports B/sample of the whole float block and
// values/s, and cpu-ns/value: CPU time of the loop's thread, which a
// loaded machine does not inflate as it does wall-clock time. "auto" is
// AppendFloats' own choice.
func BenchmarkMantissaCoders(b *testing.B) {
	all := cpuBlocks(reportSeed1, benchHosts, 0)
	for _, n := range []int{1080, blockLen} {
		blocks := make([][]float64, len(all))
		for i, blk := range all {
			blocks[i] = blk[:n]
		}
		for _, k := range []Kind{IntDeltaHuffman, IntDeltaFSE, 0} {
			name := "auto"
			if k != 0 {
				name = k.String()
			}
			enc := func(vs []float64) []byte {
				if k == 0 {
					return AppendFloats(nil, vs)
				}
				return forceDecimal(vs, k)
			}
			srcs := make([][]byte, len(blocks))
			total := 0
			for i, vs := range blocks {
				srcs[i] = enc(vs)
				total += len(srcs[i])
			}
			perBlock := total / len(blocks)
			b.Run(fmt.Sprintf("n=%d/%s/encode", n, name), func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(8 * n))
				i := 0
				m := startCPU()
				for b.Loop() {
					sinkBytes = enc(blocks[i%len(blocks)])
					i++
				}
				reportCPU(b, m.stop(), n)
				reportPerValue(b, n, perBlock)
			})
			b.Run(fmt.Sprintf("n=%d/%s/decode", n, name), func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(8 * n))
				var dst []float64
				i := 0
				m := startCPU()
				for b.Loop() {
					var err error
					dst, err = DecodeFloats(dst[:0], srcs[i%len(srcs)])
					if err != nil {
						b.Fatal(err)
					}
					i++
				}
				reportCPU(b, m.stop(), n)
				sinkFloats = dst
				reportPerValue(b, n, perBlock)
			})
		}
	}
}
