package magnetic

import (
	"context"
	"runtime"
	"slices"
	"strconv"
	"testing"

	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/query/scan"
	"github.com/tidaldb/tidal/query/scan/scantest"
)

// tsbsDims returns the ten TSBS devops tags of host h, sorted by name.
func tsbsDims(h int) []ingest.Dimension {
	return []ingest.Dimension{
		{Name: "arch", Value: []string{"x64", "x86"}[h%2]},
		{Name: "datacenter", Value: "eu-central-1" + string(rune('a'+h%3))},
		{Name: "hostname", Value: "host_" + strconv.Itoa(h)},
		{Name: "os", Value: "Ubuntu16.04LTS"},
		{Name: "rack", Value: strconv.Itoa(h % 100)},
		{Name: "region", Value: "eu-central-1"},
		{Name: "service", Value: strconv.Itoa(h % 20)},
		{Name: "service_environment", Value: "production"},
		{Name: "service_version", Value: strconv.Itoa(h % 2)},
		{Name: "team", Value: "SF"},
	}
}

// TestPartIndexHeap opens parts of several partitions that each hold the
// same TSBS-shaped series (ten tags, one block each) and reports the heap
// their open indexes take per part and series.
func TestPartIndexHeap(t *testing.T) {
	const hosts, partitions = 200, 6
	cat, id := newCatalog(t)
	dir := t.TempDir()
	s, err := Open(Options{PartitionWidth: DefaultPartitionWidth, Dir: dir, Catalog: cat, Now: coldNow, CacheBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	day := int64(24 * 3600e9)
	for p := range partitions {
		var bs []*scan.Batch
		for h := range hosts {
			dims := tsbsDims(h)
			for _, m := range cpuMetrics {
				col := scan.Column{Name: scan.ColMeasureValue, Type: ingest.TypeDouble}
				b := &scan.Batch{Series: scan.Series{Key: string(scan.AppendSeriesKey(nil, m, dims)), Dimensions: dims, MeasureName: m}}
				for i := range 30 {
					b.Time = append(b.Time, day0+int64(p)*day+int64(i)*10e9)
					col.F = append(col.F, float64(i%7))
				}
				b.Columns = []scan.Column{col}
				bs = append(bs, b)
			}
		}
		if _, err := s.WritePart(context.Background(), id, scan.NewSlice(bs)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	base := liveHeap()
	s, err = Open(Options{Dir: dir, Catalog: cat, Now: coldNow, CacheBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	held := liveHeap() - base
	series := hosts * len(cpuMetrics)
	perEntry := float64(held) / float64(partitions*series)
	t.Logf("open part indexes: %d parts x %d series hold %d KiB: %.0f B per part and series", partitions, series, held>>10, perEntry)
	// Every series is still readable with its dimensions.
	rows := collect(t, s, &scan.Request{Database: scantest.Database, Table: scantest.Table, MinTime: day0, MaxTime: day0 + partitions*day,
		Where: []scan.Matcher{{Name: "hostname", Op: scan.MatchEqual, Values: []string{"host_7"}}}})
	if len(rows) != partitions*len(cpuMetrics)*30 {
		t.Fatalf("host_7: %d rows, want %d", len(rows), partitions*len(cpuMetrics)*30)
	}
	if perEntry > 400 {
		t.Errorf("%.0f B per part and series, want at most 400", perEntry)
	}
}

// TestSeriesIdentShared checks that parts holding the same series share
// its identity, and that the identity's entry goes once no part holds it.
func TestSeriesIdentShared(t *testing.T) {
	key := []byte(scan.AppendSeriesKey(nil, "cpu_ident_test", tsbsDims(3)))
	func() { // the identities are unreachable once this returns
		a, err := internSeries(key)
		if err != nil {
			t.Fatal(err)
		}
		b, err := internSeries(append([]byte(nil), key...))
		if err != nil {
			t.Fatal(err)
		}
		if a != b || a.measure != "cpu_ident_test" || len(a.dims) != 10 || a.dims[2] != (ingest.Dimension{Name: "hostname", Value: "host_3"}) {
			t.Fatalf("interned %p %p: %+v", a, b, a)
		}
	}()
	gone := func() bool {
		idents.Lock()
		defer idents.Unlock()
		_, ok := idents.m[string(key)]
		return !ok
	}
	for i := 0; i < 100 && !gone(); i++ {
		runtime.GC()
		runtime.Gosched()
	}
	if !gone() {
		t.Errorf("identity of %q still interned after its last holder went", key)
	}
	if _, err := internSeries([]byte{5, 'a'}); err == nil {
		t.Errorf("internSeries of a truncated key: no error")
	}
}

// FuzzParseSeriesKey checks that parseSeriesKey never panics and that
// what it parses encodes back to a key that parses the same.
func FuzzParseSeriesKey(f *testing.F) {
	f.Add(string(scan.AppendSeriesKey(nil, "cpu", tsbsDims(1))))
	f.Add(string(scan.AppendSeriesKey(nil, "", nil)))
	f.Add("\x80\x00a")
	f.Add("\x03cpu\x01a")
	f.Fuzz(func(t *testing.T, key string) {
		m, dims, err := parseSeriesKey(key)
		if err != nil {
			return
		}
		again := string(scan.AppendSeriesKey(nil, m, dims))
		m2, dims2, err := parseSeriesKey(again)
		if err != nil || m2 != m || !slices.Equal(dims2, dims) {
			t.Fatalf("%q parsed to %q %v, re-encoded %q parses to %q %v %v", key, m, dims, again, m2, dims2, err)
		}
		if len(dims) > 0 && cap(dims) != len(dims) {
			t.Errorf("dims cap %d, len %d", cap(dims), len(dims))
		}
	})
}
