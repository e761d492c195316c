package unload_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/ingest"
	qexec "github.com/tidaldb/tidal/query/exec"
	"github.com/tidaldb/tidal/query/scan/scantest"
	"github.com/tidaldb/tidal/query/unload"
)

// start is the first timestamp of the test data.
var start = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// newEngine is a TSBS devops-shaped table devops.cpu (hostname, region;
// multi-measure cpu with usage_user, usage_system DOUBLE, usage_count
// BIGINT and note VARCHAR on every tenth step) of hosts hosts over steps
// 10 s steps.
func newEngine(t testing.TB, hosts, steps int) *qexec.Engine {
	t.Helper()
	cat, err := catalog.Open(catalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cat.CreateDatabase("devops", "", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := cat.CreateTable(catalog.Table{Database: "devops", Name: "cpu", Columns: []catalog.Column{
		{Name: "hostname", Kind: catalog.KindDimension, Type: ingest.TypeVarchar},
		{Name: "region", Kind: catalog.KindDimension, Type: ingest.TypeVarchar},
		{Name: "cpu", Kind: catalog.KindMeasureName, Type: ingest.TypeMulti},
		{Name: "usage_user", Kind: catalog.KindAttribute, Type: ingest.TypeDouble},
		{Name: "usage_system", Kind: catalog.KindAttribute, Type: ingest.TypeDouble},
		{Name: "usage_count", Kind: catalog.KindAttribute, Type: ingest.TypeBigint},
		{Name: "note", Kind: catalog.KindAttribute, Type: ingest.TypeVarchar},
	}}); err != nil {
		t.Fatal(err)
	}
	var recs []ingest.Record
	for s := range steps {
		for h := range hosts {
			ms := []ingest.Measure{
				{Name: "usage_user", Value: ingest.Float(float64(s) + float64(h)/100)},
				{Name: "usage_system", Value: ingest.Float(float64(h) * 0.5)},
				{Name: "usage_count", Value: ingest.Int(int64(s * h))},
			}
			if s%10 == 0 {
				ms = append(ms, ingest.Measure{Name: "note", Value: ingest.String("step " + strconv.Itoa(s) + `, "quoted"`)})
			}
			recs = append(recs, ingest.Record{
				Time: start.Add(time.Duration(s) * 10 * time.Second).UnixNano(),
				Dimensions: []ingest.Dimension{
					{Name: "hostname", Value: fmt.Sprintf("host_%d", h)},
					{Name: "region", Value: fmt.Sprintf("region_%d", h%2)},
				},
				MeasureName: "cpu",
				Measures:    ms,
			})
		}
	}
	return qexec.New(cat, scantest.NewModel(recs), qexec.Options{Now: func() time.Time { return start.Add(time.Hour) }})
}

// newFileEngine wraps eng with file:// targets under a fresh directory.
func newFileEngine(t testing.TB, eng *qexec.Engine) (*unload.Engine, string) {
	root := t.TempDir()
	return unload.New(eng, unload.Options{FileRoot: root}), root
}

// runUnload runs sql and returns its result.
func runUnload(t testing.TB, u *unload.Engine, sql string) *unload.Result {
	t.Helper()
	res, _, err := u.Unload(context.Background(), sql, nil)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return res
}

// duckdb runs sql in DuckDB (scripts/duckdb, installed by scripts/deps.sh)
// and returns its rows as JSON-decoded values.
func duckdb(t testing.TB, sql string) (cols []string, rows [][]any) {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "scripts", "duckdb")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@duckdb", "node-api")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("DuckDB is not installed (run scripts/deps.sh): %v", err)
		}
		t.Skipf("DuckDB is not installed (run scripts/deps.sh): %v", err)
	}
	cmd := exec.Command("node", filepath.Join(dir, "query.mjs"), sql)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			stderr = ee.Stderr
		}
		t.Fatalf("duckdb %q: %v\n%s", sql, err, stderr)
	}
	var res struct {
		Columns []string `json:"columns"`
		Rows    [][]any  `json:"rows"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("duckdb output %q: %v", out, err)
	}
	return res.Columns, res.Rows
}

// readManifest decodes the manifest file of a file:// UNLOAD.
func readManifest(t testing.TB, root string, res *unload.Result) unload.Manifest {
	t.Helper()
	b, err := os.ReadFile(localPath(root, res.ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	var m unload.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("manifest %s: %v", b, err)
	}
	return m
}

// localPath maps a file:/// URL to its path under root.
func localPath(root, u string) string {
	return filepath.Join(root, filepath.FromSlash(u[len("file:///"):]))
}
