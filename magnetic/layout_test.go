package magnetic

import (
	"context"
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/magnetic/encoding"
	"github.com/tidaldb/tidal/query/scan"
	"github.com/tidaldb/tidal/query/scan/scantest"
)

const hourNs = int64(time.Hour)

func TestChooseWidth(t *testing.T) {
	for _, tc := range []struct {
		name       string
		rows       int
		minT, maxT int64
		want       time.Duration
	}{
		{"one host of tsbs devops for a day", 8640 * 10, 0, dayNs, WeekPartitionWidth},
		{"100 hosts for a day", 100 * 8640 * 10, 0, dayNs, DefaultPartitionWidth},
		{"500 hosts for an hour", 500 * 360 * 10, 0, hourNs, DefaultPartitionWidth},
		{"1000 hosts for an hour", 1000 * 360 * 10, 0, hourNs, HourPartitionWidth},
		{"10000 hosts for an hour", 10000 * 360 * 10, 0, hourNs, HourPartitionWidth},
		{"exactly the hour threshold is a day", 50_000_000, 0, dayNs, DefaultPartitionWidth},
		{"exactly the week threshold is a day", 100_000, 0, dayNs, DefaultPartitionWidth},
		{"one row", 1, 5, 5, WeekPartitionWidth},
		{"a burst at one instant counts over an hour", 3_000_000, 7, 7, HourPartitionWidth},
		{"a burst of two million at one instant", 2_000_000, 7, 7, DefaultPartitionWidth},
		{"span over the whole int64 range", 1 << 30, math.MinInt64, math.MaxInt64, WeekPartitionWidth},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := chooseWidth(tc.rows, tc.minT, tc.maxT, DefaultHourPartitionRowsPerDay, DefaultWeekPartitionRowsPerDay)
			if got != tc.want {
				t.Fatalf("chooseWidth(%d rows over %d ns) = %v, want %v", tc.rows, tc.maxT-tc.minT, got, tc.want)
			}
		})
	}
}

func TestPartitionNames(t *testing.T) {
	wed := time.Date(2026, 11, 25, 13, 45, 0, 0, time.UTC).UnixNano() // a Wednesday
	for _, tc := range []struct {
		t     int64
		w     time.Duration
		start time.Time
		name  string
	}{
		{wed, HourPartitionWidth, time.Date(2026, 11, 25, 13, 0, 0, 0, time.UTC), "2026112513h"},
		{wed, DefaultPartitionWidth, time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC), "20261125"},
		{wed, WeekPartitionWidth, time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC), "20261123w"},
		{day0 - 1, HourPartitionWidth, time.Date(2026, 11, 24, 23, 0, 0, 0, time.UTC), "2026112423h"},
		{time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC).UnixNano(), WeekPartitionWidth, time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC), "20261130w"},
		{time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC).UnixNano() - 1, WeekPartitionWidth, time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC), "20261123w"},
		{0, WeekPartitionWidth, time.Date(1969, 12, 29, 0, 0, 0, 0, time.UTC), "19691229w"},
		{-1, HourPartitionWidth, time.Date(1969, 12, 31, 23, 0, 0, 0, time.UTC), "1969123123h"},
		{-1, DefaultPartitionWidth, time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC), "19691231"},
	} {
		start, ok := partitionStart(tc.t, tc.w)
		if !ok || start != tc.start.UnixNano() {
			t.Errorf("partitionStart(%d, %v) = %v %v, want %v", tc.t, tc.w, time.Unix(0, start).UTC(), ok, tc.start)
			continue
		}
		if got := partitionName(start, tc.w); got != tc.name {
			t.Errorf("partitionName(%v, %v) = %q, want %q", tc.start, tc.w, got, tc.name)
		}
		gs, gw, ok := parsePartitionName(tc.name)
		if !ok || gs != start || gw != tc.w {
			t.Errorf("parsePartitionName(%q) = %v %v %v", tc.name, time.Unix(0, gs).UTC(), gw, ok)
		}
	}
	for _, bad := range []string{"", "layout", "layout.tmp", "2026112", "202611250", "20261125h", "2026112524h",
		"20261125w" /* a Wednesday */, "20261323", "+2026112", "2026112513x", "2026-11-2", "20261123W"} {
		if _, _, ok := parsePartitionName(bad); ok {
			t.Errorf("parsePartitionName(%q) accepted", bad)
		}
	}
	if _, ok := partitionStart(math.MinInt64, WeekPartitionWidth); ok {
		t.Error("partitionStart(MinInt64, week) is representable")
	}
	if got := partitionLast(math.MaxInt64-10, HourPartitionWidth); got != math.MaxInt64 {
		t.Errorf("partitionLast near MaxInt64 = %d", got)
	}
}

func TestLayoutEncoding(t *testing.T) {
	for _, w := range []time.Duration{HourPartitionWidth, DefaultPartitionWidth, WeekPartitionWidth} {
		b := encodeLayout(w)
		if len(b) != layoutSize || string(b[:8]) != "TIDALLAY" {
			t.Fatalf("encodeLayout(%v) = %x", w, b)
		}
		got, err := decodeLayout(b)
		if err != nil || got != w {
			t.Fatalf("decodeLayout(encodeLayout(%v)) = %v, %v", w, got, err)
		}
	}
	good := encodeLayout(HourPartitionWidth)
	flip := func(i int) []byte { b := slices.Clone(good); b[i] ^= 1; return b }
	for _, tc := range []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrBadLayout},
		{"short", good[:23], ErrBadLayout},
		{"magic", flip(0), ErrBadLayout},
		{"width bit", flip(13), ErrBadLayout},
		{"checksum", flip(23), ErrBadLayout},
		{"unsupported width", withCRC(append(slices.Clone(good[:12]), 0, 0, 0, 0, 0, 0, 0, 0)), ErrBadLayout},
		{"version 2", withCRC(append(append([]byte("TIDALLAY"), 2, 0, 0, 0), good[12:20]...)), ErrUnsupportedVersion},
	} {
		if _, err := decodeLayout(tc.b); !errors.Is(err, tc.want) {
			t.Errorf("%s: decodeLayout error %v, want %v", tc.name, err, tc.want)
		}
	}
}

// withCRC appends a correct checksum to 20 layout bytes.
func withCRC(b []byte) []byte {
	return binary.LittleEndian.AppendUint32(b[:20:20], encoding.Checksum(b[:20]))
}

// rateRecords returns n rows of one series at equal steps over span from
// base.
func rateRecords(n int, base, span int64, host string) []ingest.Record {
	recs := make([]ingest.Record, n)
	for i := range recs {
		recs[i] = ingest.Record{MeasureName: "cpu", Dimensions: []ingest.Dimension{{Name: "host", Value: host}},
			Time: base + int64(i)*(span/int64(n)), Value: ingest.Float(float64(i))}
	}
	return recs
}

// rateOptions are thresholds small enough for test data: above 10 000
// rows per day hour partitions, below 1 000 week partitions.
func rateOptions(dir string) Options {
	return Options{Dir: dir, Now: coldNow, HourPartitionRowsPerDay: 10_000, WeekPartitionRowsPerDay: 1_000}
}

func tableDirNames(t *testing.T, dir string, id uint64) []string {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(dir, strconv.FormatUint(id, 10)))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

func TestWidthChosenFromRate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		recs  []ingest.Record
		width time.Duration
		dirs  []string
	}{
		{"low rate: 500 rows a day", rateRecords(500, day0, dayNs, "a"), WeekPartitionWidth, []string{"20261123w", "layout"}},
		{"medium rate: 5000 rows a day", rateRecords(5000, day0, dayNs, "a"), DefaultPartitionWidth, []string{"20261125", "layout"}},
		{"high rate: 1000 rows in two hours", rateRecords(1000, day0, 2*hourNs, "a"), HourPartitionWidth, []string{"2026112500h", "2026112501h", "layout"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cat, id := newCatalog(t)
			dir := t.TempDir()
			opts := rateOptions(dir)
			opts.Catalog = cat
			s, err := Open(opts)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			infos := writeRecords(t, s, id, tc.recs)
			for _, in := range infos {
				if in.PartitionWidth != tc.width {
					t.Errorf("part %s in partition %v has width %v, want %v", in.Name, in.Partition, in.PartitionWidth, tc.width)
				}
			}
			if got := tableDirNames(t, dir, id); !slices.Equal(got, tc.dirs) {
				t.Errorf("table directory holds %v, want %v", got, tc.dirs)
			}
			if w, err := readLayout(filepath.Join(dir, strconv.FormatUint(id, 10))); err != nil || w != tc.width {
				t.Errorf("layout file says %v (%v), want %v", w, err, tc.width)
			}
			if rows := collect(t, s, all()); len(rows) != len(tc.recs) {
				t.Errorf("scan returned %d rows, want %d", len(rows), len(tc.recs))
			}
		})
	}
}

func TestWidthPersistsAcrossReopen(t *testing.T) {
	cat, id := newCatalog(t)
	dir := t.TempDir()
	opts := rateOptions(dir)
	opts.Catalog = cat
	s, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	low := rateRecords(20, day0, dayNs, "a")
	writeRecords(t, s, id, low)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Neither a high rate nor a forced width changes the table's width.
	opts.PartitionWidth = HourPartitionWidth
	s, err = Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	high := rateRecords(5000, day0+9*dayNs, hourNs, "b")
	for _, in := range writeRecords(t, s, id, high) {
		if in.PartitionWidth != WeekPartitionWidth {
			t.Errorf("part after reopen has width %v, want a week", in.PartitionWidth)
		}
	}
	want := []string{"20261123w", "20261130w", "layout"}
	if got := tableDirNames(t, dir, id); !slices.Equal(got, want) {
		t.Errorf("table directory holds %v, want %v", got, want)
	}
	rows := collect(t, s, all())
	if len(rows) != len(low)+len(high) {
		t.Fatalf("scan returned %d rows, want %d", len(rows), len(low)+len(high))
	}
	// Another table of the same store gets the forced width.
	tbl, err := cat.CreateTable(catalog.Table{Database: scantest.Database, Name: "other",
		Retention: catalog.Retention{MemoryHours: 1, MagneticDays: 10}})
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range writeRecords(t, s, tbl.ID, low) {
		if in.PartitionWidth != HourPartitionWidth {
			t.Errorf("new table part has width %v, want the forced hour", in.PartitionWidth)
		}
	}
}

func TestVersion1TableKeepsDayWidth(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(goldenV1Dir)); err != nil {
		t.Fatal(err)
	}
	cat, id := newCatalog(t)
	opts := rateOptions(dir)
	opts.Catalog = cat
	opts.PartitionWidth = HourPartitionWidth
	s, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	before := len(collect(t, s, all()))
	for _, in := range writeRecords(t, s, id, rateRecords(1000, day0, hourNs, "new")) {
		if in.PartitionWidth != DefaultPartitionWidth || in.Partition.UnixNano() != day0 {
			t.Errorf("part in a version 1 table: partition %v width %v", in.Partition, in.PartitionWidth)
		}
	}
	if w, err := readLayout(filepath.Join(dir, strconv.FormatUint(id, 10))); err != nil || w != DefaultPartitionWidth {
		t.Errorf("layout of a version 1 table after a write: %v %v", w, err)
	}
	if after := len(collect(t, s, all())); after != before+1000 {
		t.Errorf("%d rows after the write, want %d", after, before+1000)
	}
}

func TestScanAcceptanceWidths(t *testing.T) {
	for _, tc := range []struct {
		width time.Duration
		cfg   scantest.Config
		merge bool
		min   int // partitions at least
	}{
		// 30 hours from 23:30: 31 hour partitions.
		{HourPartitionWidth, scantest.Config{Seed: 3, Base: day0 - 1800e9, Span: 30 * hourNs, Rows: 2000}, false, 31},
		{HourPartitionWidth, scantest.Config{Seed: 5, Base: day0 - 1800e9, Span: 30 * hourNs, Rows: 2000}, true, 31},
		// 20 days from Saturday 2026-11-21: 4 week partitions.
		{WeekPartitionWidth, scantest.Config{Seed: 4, Base: day0 - 4*dayNs, Span: 20 * dayNs, Rows: 2000}, true, 4},
	} {
		name := tc.width.String()
		if tc.merge {
			name += " merged"
		}
		t.Run(name, func(t *testing.T) {
			open := func(t *testing.T, recs []ingest.Record) scan.Source {
				cat, id := newCatalog(t)
				s, err := Open(Options{Dir: t.TempDir(), Catalog: cat, PartitionWidth: tc.width, Now: coldNow})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = s.Close() })
				rng := rand.New(rand.NewPCG(11, 11))
				for _, g := range scantest.Split(rng, recs, 3) {
					writeRecords(t, s, id, g)
				}
				if tc.merge {
					mergeAll(t, s)
				}
				starts := map[time.Time]bool{}
				for _, p := range s.Parts() {
					starts[p.Partition] = true
					if p.PartitionWidth != tc.width {
						t.Fatalf("part width %v", p.PartitionWidth)
					}
					if p.MinTime < p.Partition.UnixNano() || p.MaxTime > p.Partition.UnixNano()+int64(tc.width)-1 {
						t.Fatalf("part %s [%d, %d] outside its partition %v", p.Name, p.MinTime, p.MaxTime, p.Partition)
					}
				}
				if len(starts) < tc.min {
					t.Fatalf("%d partitions, want at least %d", len(starts), tc.min)
				}
				return s
			}
			scantest.Run(t, tc.cfg, open)
		})
	}
}

func TestRetentionHourPartitions(t *testing.T) {
	cat, id := newCatalog(t) // MagneticDays 10
	dir := t.TempDir()
	s, err := Open(Options{Dir: dir, Catalog: cat, PartitionWidth: HourPartitionWidth, Now: coldNow})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// One row in each of the hours 10 days ago at 02:00 .. 05:00.
	cut := day0 - 10*dayNs
	var recs []ingest.Record
	for h := range int64(4) {
		recs = append(recs, ingest.Record{MeasureName: "cpu", Time: cut + (2+h)*hourNs + 1, Value: ingest.Float(float64(h))})
	}
	writeRecords(t, s, id, recs)
	hours := func() []string {
		var out []string
		for _, p := range s.Parts() {
			out = append(out, partitionName(p.Partition.UnixNano(), p.PartitionWidth))
		}
		return out
	}
	for _, tc := range []struct {
		now  int64
		want []string
	}{
		{day0 + 3*hourNs - 1, []string{"2026111502h", "2026111503h", "2026111504h", "2026111505h"}},
		// The cutoff reaches the end of 02:00-03:00 exactly: dropped.
		{day0 + 3*hourNs, []string{"2026111503h", "2026111504h", "2026111505h"}},
		{day0 + 5*hourNs - 1, []string{"2026111504h", "2026111505h"}},
		{day0 + 5*hourNs, []string{"2026111505h"}},
	} {
		if err := s.ApplyRetention(time.Unix(0, tc.now)); err != nil {
			t.Fatal(err)
		}
		if got := hours(); !slices.Equal(got, tc.want) {
			t.Fatalf("retention at %v: partitions %v, want %v", time.Unix(0, tc.now).UTC(), got, tc.want)
		}
	}
	want := []string{"2026111505h", "layout"}
	if got := tableDirNames(t, dir, id); !slices.Equal(got, want) {
		t.Errorf("table directory holds %v, want %v", got, want)
	}
	// Deleting the table removes its directory, layout file included.
	if _, err := cat.DeleteTable(scantest.Database, scantest.Table); err != nil {
		t.Fatal(err)
	}
	if err := s.ApplyRetention(time.Unix(0, day0)); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, strconv.FormatUint(id, 10))); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("deleted table directory still present: %v", err)
	}
}

func TestMergePolicyHourPartitions(t *testing.T) {
	cat, id := newCatalog(t) // MemoryHours 1
	now := day0
	s, err := Open(Options{Dir: t.TempDir(), Catalog: cat, PartitionWidth: HourPartitionWidth, Now: func() time.Time { return time.Unix(0, now) }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Partition 2026-11-25T00h is hot until its end (01:00) plus the
	// memory retention (1 h) plus the grace hour: 03:00.
	for i := range 3 {
		writeRecords(t, s, id, []ingest.Record{{MeasureName: "x", Time: day0 + int64(i), Value: ingest.Int(1)}})
	}
	if n := mergeAll(t, s); n != 0 {
		t.Fatalf("hot hour partition with 3 parts: %d merges", n)
	}
	now = day0 + 3*hourNs - 1
	if n := mergeAll(t, s); n != 0 {
		t.Fatalf("hour partition a nanosecond before it cools: %d merges", n)
	}
	now = day0 + 3*hourNs
	if n := mergeAll(t, s); n != 1 || len(s.Parts()) != 1 {
		t.Fatalf("cold hour partition: %d merges, %d parts left", n, len(s.Parts()))
	}
	rows := collect(t, s, all())
	if len(rows) != 3 || rows[0].Time != day0 || rows[2].Time != day0+2 {
		t.Fatalf("rows after merge: %+v", rows)
	}
}

func TestOpenLayoutCrashAndCorruption(t *testing.T) {
	cat, id := newCatalog(t)
	dir := t.TempDir()
	tdir := filepath.Join(dir, strconv.FormatUint(id, 10))
	// A crash while writing the layout: a temporary file and no
	// partition yet. Open removes it and the next write chooses.
	if err := os.MkdirAll(tdir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tdir, "layout.tmp"), encodeLayout(WeekPartitionWidth)[:10], 0o644); err != nil {
		t.Fatal(err)
	}
	opts := rateOptions(dir)
	opts.Catalog = cat
	s, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := tableDirNames(t, dir, id); len(got) != 0 {
		t.Fatalf("after Open the table directory holds %v", got)
	}
	writeRecords(t, s, id, rateRecords(1000, day0, hourNs, "a"))
	if got, want := tableDirNames(t, dir, id), []string{"2026112500h", "layout"}; !slices.Equal(got, want) {
		t.Fatalf("table directory holds %v, want %v", got, want)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// A partition directory of another width than the layout's.
	if err := os.Mkdir(filepath.Join(tdir, "20261125"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(opts); !errors.Is(err, ErrBadLayout) {
		t.Fatalf("Open with a day partition in an hour table: %v, want ErrBadLayout", err)
	}
	if err := os.Remove(filepath.Join(tdir, "20261125")); err != nil {
		t.Fatal(err)
	}
	// A damaged layout file.
	b := encodeLayout(HourPartitionWidth)
	b[14] ^= 0x80
	if err := os.WriteFile(filepath.Join(tdir, "layout"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(opts); !errors.Is(err, ErrBadLayout) || !strings.Contains(err.Error(), "open store") {
		t.Fatalf("Open with a damaged layout: %v, want ErrBadLayout", err)
	}
	if _, err := Open(Options{Dir: dir, PartitionWidth: 2 * time.Hour}); err == nil {
		t.Fatal("Open accepted a 2h PartitionWidth")
	}
}

// FuzzDecodeLayout checks that decoding never panics, that whatever it
// accepts re-encodes to the same bytes, and that encodings round trip.
func FuzzDecodeLayout(f *testing.F) {
	for _, w := range []time.Duration{HourPartitionWidth, DefaultPartitionWidth, WeekPartitionWidth} {
		f.Add(encodeLayout(w))
	}
	f.Add([]byte("TIDALLAY"))
	f.Add(make([]byte, layoutSize))
	f.Fuzz(func(t *testing.T, b []byte) {
		w, err := decodeLayout(b)
		if err != nil {
			return
		}
		if !validWidth(w) {
			t.Fatalf("decoded width %v", w)
		}
		if got := encodeLayout(w); !slices.Equal(got, b) {
			t.Fatalf("re-encoding %x gave %x", b, got)
		}
	})
}

// FuzzParsePartitionName checks that parsing never panics and that every
// accepted name is what partitionName prints for an aligned start.
func FuzzParsePartitionName(f *testing.F) {
	for _, s := range []string{"20261125", "2026112513h", "20261123w", "20261125w", "layout", "1969123123h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		start, w, ok := parsePartitionName(name)
		if !ok {
			return
		}
		if got := partitionName(start, w); got != name {
			t.Fatalf("%q parsed to %d %v, which prints %q", name, start, w, got)
		}
		if st, ok := partitionStart(start, w); !ok || st != start {
			t.Fatalf("%q: start %d not aligned to %v", name, start, w)
		}
	})
}

// BenchmarkPartitionWidth writes one day of TSBS cpu data (100 hosts, 8.64M
// rows a day: the default rule gives one-day partitions) with each width
// forced, and reports write throughput, bytes per sample on disk and cold
// scan throughput over the whole day: the cost of splitting a day into 24
// hour partitions.
func BenchmarkPartitionWidth(b *testing.B) {
	tsbsData()
	cat, id := newCatalog(b)
	for _, w := range []time.Duration{HourPartitionWidth, DefaultPartitionWidth, WeekPartitionWidth} {
		dir := b.TempDir()
		b.Run("write/"+w.String(), func(b *testing.B) {
			b.ReportAllocs()
			var bytes int64
			for i := 0; b.Loop(); i++ {
				d := dir
				if i > 0 {
					d = b.TempDir()
				}
				s, err := Open(Options{Dir: d, Catalog: cat, PartitionWidth: w, CacheBytes: -1})
				if err != nil {
					b.Fatal(err)
				}
				infos, err := s.WritePart(context.Background(), id, tsbsSlice(0, benchRows))
				if err != nil {
					b.Fatal(err)
				}
				bytes = 0
				for _, in := range infos {
					bytes += in.Bytes
				}
				if err := s.Close(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(benchSamples)*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
			b.ReportMetric(float64(bytes)/benchSamples, "B/sample")
		})
		b.Run("scan-cold/"+w.String(), func(b *testing.B) {
			s, err := Open(Options{Dir: dir, Catalog: cat, CacheBytes: -1})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			b.ReportAllocs()
			for b.Loop() {
				cur, err := s.Scan(context.Background(), all2())
				if err != nil {
					b.Fatal(err)
				}
				n := 0
				for cur.Next() {
					n += cur.Batch().Len()
				}
				if err := errors.Join(cur.Err(), cur.Close()); err != nil {
					b.Fatal(err)
				}
				if n != benchSamples {
					b.Fatalf("scanned %d samples, want %d", n, benchSamples)
				}
			}
			b.ReportMetric(float64(benchSamples)*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
		})
	}
}
