package timestreamapi

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// timeFormatTimestamp is AppendTimestamp as it was: time's layout
// interpreter. The tests hold the fast one to it.
func timeFormatTimestamp(dst []byte, ns int64) []byte {
	return time.Unix(0, ns).UTC().AppendFormat(dst, TimestampLayout)
}

func TestAppendTimestampMatchesTimeFormat(t *testing.T) {
	cases := []struct {
		name string
		ns   int64
		want string
	}{
		{"epoch", 0, "1970-01-01 00:00:00.000000000"},
		{"one before epoch", -1, "1969-12-31 23:59:59.999999999"},
		{"nanoseconds", 1700000000123456789, "2023-11-14 22:13:20.123456789"},
		{"leap day", time.Date(2024, 2, 29, 23, 59, 59, 5, time.UTC).UnixNano(), "2024-02-29 23:59:59.000000005"},
		{"march after leap", time.Date(2000, 3, 1, 0, 0, 0, 0, time.UTC).UnixNano(), "2000-03-01 00:00:00.000000000"},
		{"century not leap", time.Date(1900, 3, 1, 1, 2, 3, 0, time.UTC).UnixNano(), "1900-03-01 01:02:03.000000000"},
		{"new year eve", time.Date(1999, 12, 31, 23, 59, 59, 999999999, time.UTC).UnixNano(), "1999-12-31 23:59:59.999999999"},
		{"min int64", math.MinInt64, "1677-09-21 00:12:43.145224192"},
		{"max int64", math.MaxInt64, "2262-04-11 23:47:16.854775807"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := string(AppendTimestamp([]byte("x"), c.ns)); got != "x"+c.want {
				t.Fatalf("AppendTimestamp(%d) = %q, want %q", c.ns, got, "x"+c.want)
			}
			if ref := string(timeFormatTimestamp(nil, c.ns)); ref != c.want {
				t.Fatalf("time formats %d as %q, table says %q", c.ns, ref, c.want)
			}
		})
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 200000 {
		ns := int64(rng.Uint64())
		if rng.IntN(2) == 0 {
			ns %= int64(200 * 365 * 24 * time.Hour) // dense around the epoch
		}
		if got, want := string(AppendTimestamp(nil, ns)), string(timeFormatTimestamp(nil, ns)); got != want {
			t.Fatalf("AppendTimestamp(%d) = %q, want %q", ns, got, want)
		}
	}
}

func FuzzAppendTimestamp(f *testing.F) {
	for _, ns := range []int64{0, -1, 1700000000123456789, math.MinInt64, math.MaxInt64} {
		f.Add(ns)
	}
	f.Fuzz(func(t *testing.T, ns int64) {
		if got, want := string(AppendTimestamp(nil, ns)), string(timeFormatTimestamp(nil, ns)); got != want {
			t.Fatalf("AppendTimestamp(%d) = %q, want %q", ns, got, want)
		}
	})
}

// BenchmarkAppendTimestamp encodes a page's worth of 10 s-apart
// timestamps with AppendTimestamp and with time's layout interpreter (the
// encoder before), and reports before/after.
func BenchmarkAppendTimestamp(b *testing.B) {
	const n = 4096
	start := time.Date(2026, 12, 8, 3, 0, 0, 0, time.UTC).UnixNano()
	buf := make([]byte, 0, 32)
	run := func(f func([]byte, int64) []byte) time.Duration {
		t0 := time.Now()
		for i := range n {
			buf = f(buf[:0], start+int64(i)*int64(10*time.Second))
		}
		return time.Since(t0)
	}
	var fast, slow time.Duration
	b.ReportAllocs()
	for b.Loop() {
		fast += run(AppendTimestamp)
		slow += run(timeFormatTimestamp)
	}
	b.ReportMetric(float64(fast.Nanoseconds())/float64(b.N*n), "ns/timestamp")
	b.ReportMetric(float64(slow.Nanoseconds())/float64(b.N*n), "ns/timestamp-before")
	b.ReportMetric(float64(slow)/float64(fast), "before/after")
}
