package encoding

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// forceFloats encodes vs with kind k regardless of what AppendFloats would
// pick; it returns nil when k cannot represent vs.
func forceFloats(vs []float64, k Kind) []byte {
	dst := appendHeader(nil, k, len(vs))
	switch k {
	case FloatDecimal:
		ms := getInt64s(len(vs))
		defer putInt64s(ms)
		e, ok := decimalMantissas(ms, vs)
		if !ok {
			return nil
		}
		dst = appendZvarint(dst, int64(e))
		return AppendInts(dst, ms.s)
	case FloatXOR:
		return appendXOR(dst, vs)
	case FloatRaw:
		for _, v := range vs {
			dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(v))
		}
		return dst
	}
	return AppendFloats(nil, vs)
}

// forceInts encodes vs with the entropy-coded kind k (IntDeltaHuffman or
// IntDeltaFSE), or returns nil when k does not apply to vs.
func forceInts(vs []int64, k Kind) []byte {
	h := getHuffScratch()
	defer putHuffScratch(h)
	if !deltaBytes(h, vs) {
		return nil
	}
	var b []byte
	var ok bool
	if k == IntDeltaHuffman {
		b, ok = huffmanDeltas(h)
	} else {
		b, ok = fseDeltas(h)
	}
	if !ok {
		return nil
	}
	return appendIntsKind(nil, vs, k, b)
}

// forceTimestamps encodes ts with kind k (TimestampDeltaOfDelta or
// TimestampDelta), or AppendTimestamps' choice for any other k.
func forceTimestamps(ts []int64, k Kind) []byte {
	switch k {
	case TimestampDelta:
		dst := appendHeader(nil, k, len(ts))
		dst = appendZvarint(dst, ts[0])
		for i := 1; i < len(ts); i++ {
			dst = appendZvarint(dst, ts[i]-ts[i-1])
		}
		return dst
	case TimestampDeltaOfDelta:
		// Perturb nothing: a regular series picks const; encode via the
		// jittered path by checking the chosen kind.
		b := AppendTimestamps(nil, ts)
		if Kind(b[0]) == k {
			return b
		}
		return nil
	}
	return AppendTimestamps(nil, ts)
}

type reportRow struct {
	column, data, encoding string
	bytes                  [4]int // none, snappy, zstd, auto
	samples                int
}

var reportCompressions = [4]Compression{None, Snappy, Zstd, Auto}

func (r *reportRow) add(block []byte) {
	for i, c := range reportCompressions {
		r.bytes[i] += len(Compress(nil, block, c))
	}
}

func (r *reportRow) perSample(i int) float64 { return float64(r.bytes[i]) / float64(r.samples) }

// compressionReport measures bytes per sample on TSBS-shaped data: 4 hosts x
// 10 cpu fields x 8192 samples (10 s interval), for each candidate encoding
// and compression.
func compressionReport() []reportRow {
	var rows []reportRow
	tsData := []struct {
		name string
		ts   []int64
	}{
		{"regular 10s", regularTimestamps(blockLen)},
		{"10s +-5ms jitter", jitteredTimestamps(11, blockLen, 5)},
	}
	for _, d := range tsData {
		for _, k := range []Kind{0, TimestampDeltaOfDelta, TimestampDelta} {
			b := forceTimestamps(d.ts, k)
			if b == nil {
				continue
			}
			name := "chosen: " + Kind(b[0]).String()
			if k != 0 {
				name = k.String()
			}
			r := reportRow{column: "timestamps", data: d.name, encoding: name, samples: len(d.ts)}
			r.add(b)
			rows = append(rows, r)
		}
	}
	valData := []struct {
		name   string
		blocks [][]float64
	}{
		{"tsbs cpu (integers)", cpuBlocks(reportSeed1, benchHosts, 0)},
		{"cpu walk, 2 decimals", cpuBlocks(reportSeed1, benchHosts, 2)},
	}
	for _, d := range valData {
		for _, k := range []Kind{0, FloatDecimal, FloatXOR, FloatRaw} {
			r := reportRow{column: "values", data: d.name, encoding: k.String()}
			if k == FloatDecimal {
				r.encoding = blockLabel(forceFloats(d.blocks[0], k))
			}
			chosen := map[string]int{}
			for _, vs := range d.blocks {
				b := forceFloats(vs, k)
				chosen[blockLabel(b)]++
				r.add(b)
				r.samples += len(vs)
			}
			if k == 0 {
				var ks []string
				for ck, n := range chosen {
					ks = append(ks, fmt.Sprintf("%s x%d", ck, n))
				}
				r.encoding = "chosen: " + strings.Join(ks, ",")
			}
			rows = append(rows, r)
		}
	}
	strData := []struct {
		name string
		vs   []string
	}{
		{"hostnames 100 x 82", benchHostnames()},
		{"unique request ids", uniqueIDs(blockLen)},
	}
	for _, d := range strData {
		b := AppendStrings(nil, d.vs)
		r := reportRow{column: "strings", data: d.name, encoding: "chosen: " + Kind(b[0]).String(), samples: len(d.vs)}
		r.add(b)
		rows = append(rows, r)
	}
	return rows
}

// blockLabel names a block's kind, and for FloatDecimal the kind of its
// embedded mantissa block.
func blockLabel(b []byte) string {
	k := Kind(b[0])
	if k != FloatDecimal {
		return k.String()
	}
	_, _, rest, err := readHeader(b, FloatDecimal)
	if err != nil {
		return k.String()
	}
	if _, rest, ok := readZvarint(rest); ok && len(rest) > 0 {
		return k.String() + "(" + Kind(rest[0]).String() + ")"
	}
	return k.String()
}

// uniqueIDs returns n distinct ids like "req-000000a3f1c2".
func uniqueIDs(n int) []string {
	r := rand.New(rand.NewPCG(77, 77))
	vs := make([]string, n)
	for i := range vs {
		vs[i] = fmt.Sprintf("req-%012x", r.Uint64()>>16)
	}
	return vs
}

// TestCompressionReport prints bytes/sample per encoding and compression
// and checks the targets: on TSBS cpu data timestamps + values stay under
// 0.5 bytes/sample, and under Gorilla's 1.37 for two-decimal values.
func TestCompressionReport(t *testing.T) {
	rows := compressionReport()
	var sb strings.Builder
	fmt.Fprintf(&sb, "\n%-10s | %-22s | %-46s | %8s | %8s | %8s | %8s\n", "column", "data", "encoding", "none", "snappy", "zstd", "auto")
	for _, r := range rows {
		fmt.Fprintf(&sb, "%-10s | %-22s | %-46s | %8.4f | %8.4f | %8.4f | %8.4f\n",
			r.column, r.data, r.encoding, r.perSample(0), r.perSample(1), r.perSample(2), r.perSample(3))
	}
	t.Log(sb.String())

	find := func(column, data string) reportRow {
		for _, r := range rows {
			if r.column == column && r.data == data && strings.HasPrefix(r.encoding, "chosen") {
				return r
			}
		}
		t.Fatalf("no chosen row for %s %s", column, data)
		return reportRow{}
	}
	ts := find("timestamps", "regular 10s")
	for _, c := range []struct {
		data  string
		limit float64
	}{{"tsbs cpu (integers)", 0.5}, {"cpu walk, 2 decimals", 1.37}} {
		v := find("values", c.data)
		total := ts.perSample(3) + v.perSample(3)
		t.Logf("total %s: %.4f bytes/sample (limit %.2f)", c.data, total, c.limit)
		if total >= c.limit {
			t.Errorf("%s: %.4f bytes/sample, want < %.2f", c.data, total, c.limit)
		}
		if !strings.Contains(v.encoding, FloatDecimal.String()) {
			t.Errorf("%s: chosen %s, want %s", c.data, v.encoding, FloatDecimal)
		}
	}
	if !strings.Contains(ts.encoding, TimestampConst.String()) {
		t.Errorf("regular timestamps chose %s, want %s", ts.encoding, TimestampConst)
	}
}
