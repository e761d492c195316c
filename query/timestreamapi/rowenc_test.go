package timestreamapi

import (
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/tidaldb/tidal/query/exec"
)

// highCPURows is high-cpu-all's result shape over the Prometheus table,
// as the paging window encodes it: ten tags, measure_name, time, value,
// and the join's time and hostname, a host's series one after another.
func highCPURows() (types []exec.Type, rows [][]exec.Value) {
	for range 10 {
		types = append(types, exec.TypeVarchar)
	}
	types = append(types, exec.TypeVarchar, exec.TypeTimestamp, exec.TypeDouble, exec.TypeTimestamp, exec.TypeVarchar)
	rng := rand.New(rand.NewPCG(1, 2))
	start := time.Date(2026, 12, 8, 3, 0, 0, 0, time.UTC).UnixNano()
	str := func(s string) exec.Value { return exec.Value{Kind: exec.KindVarchar, S: s} }
	for h := range 20 {
		host := "host_" + strconv.Itoa(h)
		tags := []exec.Value{str("x64"), str("eu-west-1a"), str(host), str("Ubuntu16.10"), str(strconv.Itoa(h % 100)),
			str("eu-west-1"), str(strconv.Itoa(h % 20)), str("staging"), str("0"), str("LON")}
		for m := range 10 {
			for s := range 30 {
				ts := exec.Value{Kind: exec.KindTimestamp, I: start + int64(s)*int64(10*time.Second)}
				r := append([]exec.Value(nil), tags...)
				r = append(r, str("cpu_usage_"+strconv.Itoa(m)), ts, exec.Value{Kind: exec.KindDouble, F: 90 + rng.Float64()*10}, ts, str(host))
				rows = append(rows, r)
			}
		}
	}
	return types, rows
}

func TestRowEncoderMatchesAppendRow(t *testing.T) {
	types, rows := highCPURows()
	rng := rand.New(rand.NewPCG(7, 8))
	// Repeats, NULLs in a cached column, a quote to escape, and the same
	// text in another column.
	for range 300 {
		r := rows[rng.IntN(len(rows))]
		r = append([]exec.Value(nil), r...)
		switch rng.IntN(5) {
		case 0:
			r[0] = exec.Value{Null: true}
		case 1:
			r[1] = exec.Value{Kind: exec.KindVarchar, S: `eu "west"`}
		case 2:
			r[3] = exec.Value{Null: true}
		case 3:
			r[14] = exec.Value{Kind: exec.KindTimestamp, I: time.Date(2024, 2, 29, 0, 0, 0, 1, time.UTC).UnixNano()}
		}
		rows = append(rows, r, r)
	}
	cases := []struct {
		name  string
		types []exec.Type
	}{
		{"declared types", types},
		{"no types", nil},
		{"fewer types than values", types[:3]},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newRowEncoder(c.types)
			for i, r := range rows {
				got := string(e.appendRow([]byte("x"), r))
				want := "x" + string(AppendRow(nil, c.types, r))
				if got != want {
					t.Fatalf("row %d:\n got %s\nwant %s", i, got, want)
				}
			}
		})
	}
}

// BenchmarkRowEncoder encodes high-cpu-all's rows with the paging
// window's rowEncoder and with AppendRow (the encoder before), and
// reports before/after.
func BenchmarkRowEncoder(b *testing.B) {
	types, rows := highCPURows()
	buf := make([]byte, 0, 1<<20)
	run := func(f func([]byte, []exec.Value) []byte) time.Duration {
		t0 := time.Now()
		for _, r := range rows {
			buf = f(buf[:0], r)
		}
		return time.Since(t0)
	}
	var now, before time.Duration
	b.ReportAllocs()
	for b.Loop() {
		e := newRowEncoder(types)
		now += run(e.appendRow)
		before += run(func(dst []byte, r []exec.Value) []byte { return AppendRow(dst, types, r) })
	}
	n := float64(b.N * len(rows))
	b.ReportMetric(float64(now.Nanoseconds())/n, "ns/row")
	b.ReportMetric(float64(before.Nanoseconds())/n, "ns/row-before")
	b.ReportMetric(float64(before)/float64(now), "before/after")
}
