package main

import "testing"

func TestRules(t *testing.T) {
	for _, tc := range []struct {
		from, imp string
		denied    bool
	}{
		{"ingest/promrw", module + "memstore", true},
		{"ingest/promrw", module + "memstore/wal", true},
		{"ingest/timestreamwrite", module + "magnetic/encoding", true},
		{"ingest/timestreamwrite", module + "catalog", false},
		{"ingest/promrw", module + "ingest", false},
		{"magnetic", module + "memstore/chunkenc", true},
		{"magnetic", module + "memstore", true},
		{"magnetic", module + "query/scan", false},
		{"magnetic", module + "query/exec", true},
		{"magnetic", module + "query/scan/scantest", true},
		{"magnetic/encoding", module + "query/parser", true},
		{"memstore", module + "query/scan", false},
		{"memstore", module + "query/promapi", true},
		{"memstore", module + "magnetic", false},
		{"memstore", module + "catalog", false},
		{"query/exec", module + "memstore", true},
		{"query/promapi", module + "magnetic", true},
		{"query/exec", module + "query/scan", false},
		{"query/exec", module + "catalog", false},
		{"query/scan", module + "ingest", false},
		{"query/scan", module + "query/exec", true},
		{"query/scan", module + "catalog", true},
		{"query/scan/scantest", module + "query/scan", false},
		{"query/scan/scantest", module + "memstore", true},
		{"cmd/tidal", module + "memstore", false},
		{"scheduled", module + "memstore", true},
		{"scheduled", module + "query/exec", false},
		{"cmd/tidal", "io/ioutil", true},
		{"bench", "github.com/pkg/errors", true},
		{"bench", "github.com/pkg/errorsx", false},
		{"query/scan", "github.com/prometheus/prometheus/model/labels", false},
		{"query/scan", "sort", false},
		{"memstoreextra", module + "query/exec", false},
	} {
		if got := violation(tc.from, tc.imp) != nil; got != tc.denied {
			t.Errorf("%s importing %s: denied = %v, want %v", tc.from, tc.imp, got, tc.denied)
		}
	}
}
