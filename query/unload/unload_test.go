package unload_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	qexec "github.com/tidaldb/tidal/query/exec"
	"github.com/tidaldb/tidal/query/unload"
)

func TestParse(t *testing.T) {
	tests := []struct {
		sql  string
		want string // spec summary, or "error: <substring>"
	}{
		{`UNLOAD (SELECT 1 AS a) TO 's3://b/p'`, "s3 b p/ PARQUET gz=true part=[] max=83751862272 hdr=false ',' '\\'"},
		{`unload (SELECT 1 AS a) TO 's3://b/p/q/' WITH (format = 'csv', compression = 'NONE', include_header = 'true', field_delimiter = '|', escaped_by = '#', max_file_size = '16MB', partitioned_by = ARRAY['a'])`,
			"s3 b p/q/ CSV gz=false part=[a] max=16777216 hdr=true '|' '#'"},
		{`-- c
 /* d */ UNLOAD (SELECT 1 AS a) TO 'file:///x' WITH (max_file_size = '1GB')`, "file  x/ PARQUET gz=true part=[] max=1073741824 hdr=false ',' '\\'"},
		{`UNLOAD (SELECT 1) TO 'http://b/p'`, "error: must start with s3:// or file://"},
		{`UNLOAD (SELECT 1) TO 's3:///p'`, "error: names no bucket"},
		{`UNLOAD (SELECT 1) TO 's3://b/../p'`, "error: must not contain"},
		{`UNLOAD (SELECT 1) TO 's3://b/p' WITH (format = 'JSON')`, "error: format must be"},
		{`UNLOAD (SELECT 1) TO 's3://b/p' WITH (compression = 'ZSTD')`, "error: compression must be"},
		{`UNLOAD (SELECT 1) TO 's3://b/p' WITH (max_file_size = '1MB')`, "error: outside 16MB..78GB"},
		{`UNLOAD (SELECT 1) TO 's3://b/p' WITH (max_file_size = 'big')`, "error: not a size"},
		{`UNLOAD (SELECT 1) TO 's3://b/p' WITH (include_header = 'true')`, "error: applies to format 'CSV' only"},
		{`UNLOAD (SELECT 1) TO 's3://b/p' WITH (format = 'CSV', include_header = '1')`, "error: include_header must be 'true' or 'false'"},
		{`UNLOAD (SELECT 1) TO 's3://b/p' WITH (format = 'CSV', field_delimiter = ',,')`, "error: must be one character"},
		{`UNLOAD (SELECT 1) TO 's3://b/p' WITH (format = 'CSV', field_delimiter = '\', escaped_by = '\')`, "error: must differ"},
		{`UNLOAD (SELECT 1) TO 's3://b/p' WITH (partitioned_by = 'a')`, "error: non-empty ARRAY"},
		{`UNLOAD (SELECT 1) TO 's3://b/p' WITH (format = 'CSV', format = 'CSV')`, "error: duplicate"},
		{`UNLOAD (SELECT 1) TO 's3://b/p' WITH (encryption = 'SSE_S3')`, "error: not supported"},
		{`UNLOAD (SELECT 1) TO 's3://b/p' WITH (colour = 'red')`, "error: unknown UNLOAD option colour"},
		{`UNLOAD SELECT 1 TO 's3://b/p'`, "error: mismatched input"},
	}
	for _, tt := range tests {
		t.Run(tt.sql, func(t *testing.T) {
			if !unload.IsUnload(tt.sql) && !strings.HasPrefix(tt.want, "error") {
				t.Fatalf("IsUnload = false")
			}
			s, err := unload.Parse(tt.sql)
			var got string
			if err != nil {
				var ee *qexec.Error
				if !errors.As(err, &ee) || ee.Kind != qexec.ErrValidation {
					t.Fatalf("error %v is not a validation error", err)
				}
				got = "error: " + err.Error()
				if !strings.Contains(got, strings.TrimPrefix(tt.want, "error: ")) || !strings.HasPrefix(tt.want, "error: ") {
					t.Fatalf("got %q, want %q", got, tt.want)
				}
				return
			}
			got = fmt.Sprintf("%s %s %s %s gz=%v part=%v max=%d hdr=%v %q %q", s.To.Scheme, s.To.Host, s.To.Path, s.Format, s.Gzip,
				s.PartitionedBy, s.MaxFileSize, s.IncludeHeader, s.Delimiter, s.Escape)
			got = strings.ReplaceAll(strings.ReplaceAll(got, `"`, `'`), `'\\'`, `'\'`)
			if got != tt.want {
				t.Fatalf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
	for _, s := range []string{"SELECT 1", " select unloaded FROM t", "/* UNLOAD */ SELECT 1", "-- UNLOAD", "unload_x", "UNLOADé"} {
		if unload.IsUnload(s) {
			t.Errorf("IsUnload(%q) = true", s)
		}
	}
}

// TestCSVBytes checks a CSV UNLOAD byte for byte: header, delimiter,
// quoting and escaping, NULL as an empty field, Timestream's timestamp text,
// and the manifest and metadata files.
func TestCSVBytes(t *testing.T) {
	u, root := newFileEngine(t, newEngine(t, 2, 2))
	res := runUnload(t, u, `UNLOAD (SELECT hostname, time, usage_user, usage_count, note, 'a|b\c' AS odd
		FROM devops.cpu ORDER BY time, hostname) TO 'file:///exp/csv' WITH (format = 'CSV', compression = 'NONE',
		include_header = 'true', field_delimiter = '|', escaped_by = '\')`)
	if res.Rows != 4 {
		t.Fatalf("rows = %d", res.Rows)
	}
	m := readManifest(t, root, res)
	if len(m.ResultFiles) != 1 {
		t.Fatalf("manifest files = %+v", m.ResultFiles)
	}
	got, err := os.ReadFile(localPath(root, m.ResultFiles[0].URL))
	if err != nil {
		t.Fatal(err)
	}
	want := `hostname|time|usage_user|usage_count|note|odd
host_0|2024-01-01 00:00:00.000000000|0|0|"step 0, \"quoted\""|"a|b\\c"
host_1|2024-01-01 00:00:00.000000000|0.01|0|"step 0, \"quoted\""|"a|b\\c"
host_0|2024-01-01 00:00:10.000000000|1|0||"a|b\\c"
host_1|2024-01-01 00:00:10.000000000|1.01|1||"a|b\\c"
`
	if string(got) != want {
		t.Fatalf("csv:\n%s\nwant:\n%s", got, want)
	}
	rf := m.ResultFiles[0]
	if rf.FileMetadata.RowCount != 4 || rf.FileMetadata.ContentLengthInBytes != int64(len(want)) ||
		!strings.HasPrefix(rf.URL, "file:///exp/csv/results/") || !strings.HasSuffix(rf.URL, "_1.csv") {
		t.Fatalf("result file = %+v", rf)
	}
	if m.QueryMetadata.RowCount != 4 || m.QueryMetadata.ResultFilesCount != 1 || m.QueryMetadata.TotalContentLengthInBytes != int64(len(want)) ||
		m.Author.Name != "Timestream" || m.Author.ManifestFileVersion != "1.0" {
		t.Fatalf("manifest = %+v", m)
	}
	if !strings.HasPrefix(res.ManifestFile, "file:///exp/csv/") || !strings.HasSuffix(res.ManifestFile, "_manifest.json") ||
		!strings.HasSuffix(res.MetadataFile, "_metadata.json") {
		t.Fatalf("result = %+v", res)
	}
	md, err := os.ReadFile(localPath(root, res.MetadataFile))
	if err != nil {
		t.Fatal(err)
	}
	wantMD := `{"ColumnInfo":[{"Name":"hostname","Type":{"ScalarType":"VARCHAR"}},{"Name":"time","Type":{"ScalarType":"TIMESTAMP"}},` +
		`{"Name":"usage_user","Type":{"ScalarType":"DOUBLE"}},{"Name":"usage_count","Type":{"ScalarType":"BIGINT"}},` +
		`{"Name":"note","Type":{"ScalarType":"VARCHAR"}},{"Name":"odd","Type":{"ScalarType":"VARCHAR"}}],` +
		`"Author":{"Name":"Timestream","MetadataFileVersion":"1.0"}}`
	if string(md) != wantMD {
		t.Fatalf("metadata:\n%s\nwant\n%s", md, wantMD)
	}
	assertNoTemp(t, root)
}

func assertNoTemp(t *testing.T, root string) {
	t.Helper()
	_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".tmp") {
			t.Errorf("temporary file left: %s", p)
		}
		return nil
	})
}

// TestCSVGzipPartitioned unloads gzip CSV partitioned by region: one folder
// per region, the partition column left out of the files, and every row
// there, equal to the SQL result.
func TestCSVGzipPartitioned(t *testing.T) {
	eng := newEngine(t, 4, 30)
	u, root := newFileEngine(t, eng)
	res := runUnload(t, u, `UNLOAD (SELECT hostname, time, usage_system, region FROM devops.cpu ORDER BY time, hostname)
		TO 'file:///gz/' WITH (format = 'CSV', partitioned_by = ARRAY['region'])`)
	if res.Rows != 120 {
		t.Fatalf("rows = %d", res.Rows)
	}
	m := readManifest(t, root, res)
	got := map[string][]string{}
	for _, f := range m.ResultFiles {
		dir := filepath.Base(filepath.Dir(localPath(root, f.URL)))
		if !strings.HasSuffix(f.URL, ".csv.gz") || !strings.Contains(f.URL, "/gz/results/region=") {
			t.Fatalf("file url %s", f.URL)
		}
		raw, err := os.ReadFile(localPath(root, f.URL))
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(raw)) != f.FileMetadata.ContentLengthInBytes {
			t.Fatalf("%s: %d bytes, manifest says %d", f.URL, len(raw), f.FileMetadata.ContentLengthInBytes)
		}
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		text, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(string(text), "\n"), "\n")
		if int64(len(lines)) != f.FileMetadata.RowCount {
			t.Fatalf("%s: %d lines, manifest says %d", f.URL, len(lines), f.FileMetadata.RowCount)
		}
		got[dir] = append(got[dir], lines...)
	}
	want := map[string][]string{}
	r, err := eng.Query(context.Background(), `SELECT region, hostname, time, usage_system FROM devops.cpu ORDER BY time, hostname`, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range r.Rows {
		want["region="+row[0].String()] = append(want["region="+row[0].String()],
			row[1].String()+","+row[2].String()+","+row[3].String())
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("files:\n%v\nwant\n%v", got, want)
	}
}

// TestParquetDuckDB unloads to Parquet (gzip and none, partitioned and
// not) and reads the files with DuckDB: typed columns, equal values.
func TestParquetDuckDB(t *testing.T) {
	eng := newEngine(t, 5, 40)
	u, root := newFileEngine(t, eng)
	const query = `SELECT hostname, region, time, usage_user, usage_count, note FROM devops.cpu`
	ref, err := eng.Query(context.Background(), query+` ORDER BY time, hostname`, nil)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, r := range ref.Rows {
		note := "<nil>"
		if !r[5].Null {
			note = r[5].S
		}
		want = append(want, fmt.Sprintf("%s|%s|%s|%v|%s|%s", r[0].S, r[1].S, qexec.FormatTimestamp(r[2].I), r[3].F, r[4], note))
	}
	for _, tc := range []struct{ name, with, glob string }{
		{"gzip", ``, `results/*.parquet`},
		{"none", `WITH (compression = 'NONE')`, `results/*.parquet`},
		{"partitioned", `WITH (partitioned_by = ARRAY['region'])`, `results/*/*.parquet`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := runUnload(t, u, `UNLOAD (`+query+`) TO 'file:///pq/`+tc.name+`' `+tc.with)
			if res.Rows != int64(len(want)) {
				t.Fatalf("rows = %d", res.Rows)
			}
			glob := filepath.Join(root, "pq", tc.name, tc.glob)
			cols, rows := duckdb(t, `SELECT hostname, region, strftime(time, '%Y-%m-%d %H:%M:%S.%n'), usage_user, usage_count, note,
				typeof(time), typeof(usage_user), typeof(usage_count), typeof(hostname)
				FROM read_parquet('`+glob+`', hive_partitioning = true) ORDER BY time, hostname`)
			if len(cols) != 10 || len(rows) != len(want) {
				t.Fatalf("duckdb: %d columns, %d rows", len(cols), len(rows))
			}
			for i, r := range rows {
				got := fmt.Sprintf("%v|%v|%v|%v|%v|%v", r[0], r[1], r[2], r[3], r[4], r[5])
				if got != want[i] {
					t.Fatalf("row %d = %s, want %s", i, got, want[i])
				}
				if i == 0 {
					types := fmt.Sprint(r[6:])
					if types != "[TIMESTAMP_NS DOUBLE BIGINT VARCHAR]" {
						t.Fatalf("types = %s", types)
					}
				}
			}
		})
	}
}

// TestMaxFileSize splits the output into files of about MaxFileSize.
func TestMaxFileSize(t *testing.T) {
	eng := newEngine(t, 10, 200)
	u, root := newFileEngine(t, eng)
	spec, err := unload.Parse(`UNLOAD (SELECT hostname, time, usage_user FROM devops.cpu) TO 'file:///split' WITH (format = 'CSV', compression = 'NONE')`)
	if err != nil {
		t.Fatal(err)
	}
	spec.MaxFileSize = 8 << 10 // below Timestream's minimum, to keep the test small
	res, _, err := u.RunSpec(context.Background(), spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := readManifest(t, root, res)
	var total int64
	var names []string
	for _, f := range m.ResultFiles {
		if f.FileMetadata.ContentLengthInBytes > spec.MaxFileSize+200 || f.FileMetadata.ContentLengthInBytes < spec.MaxFileSize && f.URL != m.ResultFiles[len(m.ResultFiles)-1].URL {
			t.Errorf("%s has %d bytes", f.URL, f.FileMetadata.ContentLengthInBytes)
		}
		total += f.FileMetadata.RowCount
		names = append(names, filepath.Base(f.URL))
	}
	if total != 2000 || res.Rows != 2000 || len(m.ResultFiles) < 5 {
		t.Fatalf("%d files, %d rows (%d)", len(m.ResultFiles), total, res.Rows)
	}
	sort.Strings(names)
	if len(names) != len(m.ResultFiles) {
		t.Fatal(names)
	}
}

// TestFailedUnload: a query that fails halfway leaves no manifest, no
// metadata and no temporary files.
func TestFailedUnload(t *testing.T) {
	eng := newEngine(t, 3, 20)
	u, root := newFileEngine(t, eng)
	_, _, err := u.Unload(context.Background(), `UNLOAD (SELECT hostname, 10 / (usage_count - 12) AS x FROM devops.cpu ORDER BY time)
		TO 'file:///bad' WITH (format = 'CSV')`, nil)
	if err == nil || !strings.Contains(err.Error(), "by zero") {
		t.Fatalf("err = %v", err)
	}
	matches, _ := filepath.Glob(filepath.Join(root, "bad", "*.json"))
	if len(matches) != 0 {
		t.Fatalf("left %v", matches)
	}
	assertNoTemp(t, root)
	for _, tc := range []struct{ sql, msg string }{
		{`UNLOAD (SELECT hostname FROM devops.cpu) TO 'file:///x' WITH (partitioned_by = ARRAY['hostname'])`, "at least one column"},
		{`UNLOAD (SELECT hostname FROM devops.cpu) TO 'file:///x' WITH (partitioned_by = ARRAY['nope'])`, "not a column"},
		{`UNLOAD (SELECT hostname, hostname FROM devops.cpu) TO 'file:///x'`, "unique column names"},
		{`UNLOAD (SELECT hostname FROM devops.cpu) TO 's3://b/x'`, "s3:// is not configured"},
	} {
		_, _, err := u.Unload(context.Background(), tc.sql, nil)
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: err = %v, want %q", tc.sql, err, tc.msg)
		}
	}
}

// TestStreamPassThrough: statements other than UNLOAD reach the inner
// engine; UNLOAD answers with Timestream's result columns.
func TestStreamPassThrough(t *testing.T) {
	eng := newEngine(t, 2, 3)
	u, _ := newFileEngine(t, eng)
	r, err := u.Query(context.Background(), `SELECT count(*) FROM devops.cpu`, nil)
	if err != nil || r.Rows[0][0].I != 6 {
		t.Fatalf("count = %v, %v", r, err)
	}
	r, err = u.Query(context.Background(), `UNLOAD (SELECT hostname FROM devops.cpu) TO 'file:///p' WITH (format = 'CSV')`, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(r.Columns)
	if len(r.Rows) != 1 || r.Rows[0][0].I != 6 || !strings.Contains(string(b), `"metadataFile"`) {
		t.Fatalf("result = %s %v", b, r.Rows)
	}
	cols, _, err := u.Prepare(`UNLOAD (SELECT hostname FROM devops.cpu) TO 'file:///p'`)
	if err != nil || len(cols) != 3 || cols[2].Name != "manifestFile" {
		t.Fatalf("prepare = %v, %v", cols, err)
	}
}

// TestOpenFilesAndRowGroups bounds open partitions and buffered row
// groups: with two files open at a time, rows of five partitions in time
// order go to many files, and a tiny buffer budget cuts many row groups;
// DuckDB reads every row back either way.
func TestOpenFilesAndRowGroups(t *testing.T) {
	eng := newEngine(t, 5, 20)
	root := t.TempDir()
	for _, tc := range []struct {
		name      string
		opts      unload.Options
		minFiles  int
		minGroups int
	}{
		{"defaults", unload.Options{}, 5, 5},
		{"two open", unload.Options{MaxOpenFiles: 2}, 20, 20},
		{"tiny budget", unload.Options{MaxBufferedBytes: 1}, 5, 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.FileRoot = root
			u := unload.New(eng, tc.opts)
			dir := strings.ReplaceAll(tc.name, " ", "_")
			res := runUnload(t, u, `UNLOAD (SELECT hostname, time, usage_user FROM devops.cpu ORDER BY time, hostname)
				TO 'file:///og/`+dir+`/' WITH (partitioned_by = ARRAY['hostname'])`)
			m := readManifest(t, root, res)
			if len(m.ResultFiles) < tc.minFiles || res.Rows != 100 {
				t.Fatalf("%d files, %d rows", len(m.ResultFiles), res.Rows)
			}
			glob := filepath.Join(root, "og", dir, "results", "*", "*.parquet")
			_, rows := duckdb(t, `SELECT (SELECT count(*) FROM read_parquet('`+glob+`')),
				(SELECT count(DISTINCT (file_name, row_group_id)) FROM parquet_metadata('`+glob+`')),
				(SELECT CAST(round(sum(usage_user) * 100) AS BIGINT) FROM read_parquet('`+glob+`'))`)
			// usage_user is s + h/100 for steps s < 20 and hosts h < 5.
			if got := fmt.Sprint(rows[0][0], " ", rows[0][2]); got != "100 95200" {
				t.Fatalf("count, sum*100 = %s, want 100 95200", got)
			}
			if g, _ := rows[0][1].(string); len(g) == 0 || atoi(g) < tc.minGroups {
				t.Fatalf("%v row groups, want at least %d", rows[0][1], tc.minGroups)
			}
		})
	}
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}
