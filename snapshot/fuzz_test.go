package snapshot_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/tidaldb/tidal/snapshot"
)

// FuzzList feeds arbitrary manifest files and target URLs to List and
// Open: errors, never panics.
func FuzzList(f *testing.F) {
	f.Add([]byte(`{"id":"x","created":"2026-12-08T00:00:00Z","catalog":"snapshots/x/catalog.json","parts":[{"key":"parts/1/0-86400000000000/0000000000000001.part","table_id":1,"width_ns":86400000000000,"name":"0000000000000001.part","size":100}],"bytes":100}`), "file:///tmp/x")
	f.Add([]byte(`{"id":"y"}`), "s3://b/p")
	f.Add([]byte(`[`), "file://x/../y")
	f.Fuzz(func(t *testing.T, manifest []byte, u string) {
		_, _ = snapshot.Open(u, nil)
		root := t.TempDir()
		p := filepath.Join(root, "snapshots", "x", "manifest.json")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, manifest, 0o644); err != nil {
			t.Fatal(err)
		}
		ms, err := snapshot.List(context.Background(), &snapshot.FileTarget{Root: root})
		if err == nil && (len(ms) != 1 || ms[0].ID != "x") {
			t.Fatalf("listed %+v", ms)
		}
	})
}
