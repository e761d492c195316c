package catalog

import (
	"github.com/tidaldb/tidal/internal/fileutil"
	"syscall"

	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/tidaldb/tidal/ingest"
)

// populate builds a catalog with every kind of content.
func populate(t *testing.T, c *Catalog) {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err := c.CreateDatabase("db1", "kms-1", []Tag{{"env", "prod"}})
	must(err)
	_, err = c.CreateDatabase("db2", "", nil)
	must(err)
	_, err = c.CreateTable(Table{Database: "db1", Name: "cpu",
		Retention:      Retention{MemoryHours: 12, MagneticDays: 7},
		MagneticWrites: MagneticWrites{Enabled: true, S3Bucket: "bucket", S3Prefix: "x/", S3EncryptionOption: EncryptionSSES3},
		PartitionKeys:  []PartitionKey{{Type: PartitionKeyDimension, Name: "host", Enforcement: EnforcementRequired}},
		Tags:           []Tag{{"a", "b"}},
	})
	must(err)
	tb, err := c.CreateTable(Table{Database: "db1", Name: "mem"})
	must(err)
	must(c.AddColumns(tb.ID, []Column{
		{Name: "host", Kind: KindDimension, Type: ingest.TypeVarchar},
		{Name: "metrics", Kind: KindMeasureName, Type: ingest.TypeMulti},
		{Name: "used", Kind: KindAttribute, Type: ingest.TypeBigint},
		{Name: "seen", Kind: KindAttribute, Type: ingest.TypeTimestamp},
		{Name: "ok", Kind: KindMeasureName, Type: ingest.TypeBoolean},
	}))
	_, err = c.CreateTable(Table{Database: "db2", Name: "gone"})
	must(err)
	_, err = c.DeleteTable("db2", "gone")
	must(err)
}

type snapshot struct {
	DBs    []Database
	Tables []Table
}

func snap(t *testing.T, c *Catalog) snapshot {
	t.Helper()
	tables, err := c.ListTables("")
	if err != nil {
		t.Fatal(err)
	}
	return snapshot{DBs: c.ListDatabases(), Tables: tables}
}

func TestPersistenceAcrossReopen(t *testing.T) {
	dir := t.TempDir()
	c := openTest(t, dir)
	populate(t, c)
	before := snap(t, c)

	c2 := openTest(t, dir)
	after := snap(t, c2)
	if !reflect.DeepEqual(before, after) {
		t.Fatalf("reopened catalog differs:\nbefore %+v\nafter  %+v", before, after)
	}
	if len(after.Tables) != 2 || after.Tables[1].Columns[3].Type != ingest.TypeTimestamp {
		t.Fatalf("unexpected reopened tables %+v", after.Tables)
	}
	// IDs are never reused, even across restarts: 1 cpu, 2 mem, 3 gone (deleted).
	tb, err := c2.CreateTable(Table{Database: "db2", Name: "gone"})
	if err != nil || tb.ID != 4 {
		t.Fatalf("recreated after reopen = %+v, %v; want ID 4", tb, err)
	}
	// The file is readable JSON with the expected version.
	data, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil || !strings.Contains(string(data), `"version": 1`) || !strings.Contains(string(data), `"next_table_id": 5`) {
		t.Fatalf("catalog file = %s, %v", data, err)
	}
}

func TestMissingFileIsEmpty(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "nested")
	c := openTest(t, dir)
	if dbs := c.ListDatabases(); len(dbs) != 0 {
		t.Fatalf("ListDatabases = %+v", dbs)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("data dir not created: %v", err)
	}
}

func TestCrashDuringRenameKeepsOldVersion(t *testing.T) {
	dir := t.TempDir()
	c := openTest(t, dir)
	populate(t, c)
	before := snap(t, c)
	oldFile, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}

	// The process "dies" between writing the temporary file and renaming
	// it: the rename fails and the temp file is left behind, as after a
	// crash.
	leftTemp := filepath.Join(dir, FileName+".tmp-crash")
	if err := os.WriteFile(leftTemp, []byte(`{"half":`), 0o644); err != nil {
		t.Fatal(err)
	}
	c.fs = fileutil.NewFaultFS(fileutil.OS, fileutil.Fault{Op: fileutil.OpRename, Err: syscall.EIO})
	_, err = c.CreateDatabase("db3", "", nil)
	if !errors.Is(err, syscall.EIO) || !strings.Contains(err.Error(), "replace catalog file") {
		t.Fatalf("CreateDatabase err = %v", err)
	}
	if IsConflict(err) || IsValidation(err) {
		t.Fatalf("an I/O failure was classified as a user error: %v", err)
	}
	// The failed change is not visible.
	if _, err := c.Database("db3"); !IsNotFound(err) {
		t.Fatalf("db3 visible after failed persist: %v", err)
	}
	if now := snap(t, c); !reflect.DeepEqual(now, before) {
		t.Fatal("in-memory state changed after failed persist")
	}
	// The file on disk is the old version, byte for byte.
	if data, _ := os.ReadFile(filepath.Join(dir, FileName)); string(data) != string(oldFile) {
		t.Fatal("catalog file changed although the rename failed")
	}
	matches, _ := filepath.Glob(filepath.Join(dir, FileName+".tmp*"))
	if len(matches) != 1 || matches[0] != leftTemp {
		t.Fatalf("temp files = %v; want only the stray %s", matches, leftTemp)
	}

	// Restart: the old version loads and the stray temp file is removed.
	c2 := openTest(t, dir)
	if after := snap(t, c2); !reflect.DeepEqual(after, before) {
		t.Fatalf("reopened after crash:\n%+v\nwant\n%+v", after, before)
	}
	if matches, _ := filepath.Glob(filepath.Join(dir, FileName+".tmp*")); len(matches) != 0 {
		t.Fatalf("stray temp files survive Open: %v", matches)
	}
	// And work continues.
	if _, err := c2.CreateDatabase("db3", "", nil); err != nil {
		t.Fatal(err)
	}
}

func TestStrayPartialTempFileIgnored(t *testing.T) {
	dir := t.TempDir()
	c := openTest(t, dir)
	populate(t, c)
	before := snap(t, c)
	// A torn write of a newer version that never got renamed.
	if err := os.WriteFile(filepath.Join(dir, FileName+".tmp123"), []byte(`{"version":1,"next_ta`), 0o644); err != nil {
		t.Fatal(err)
	}
	c2 := openTest(t, dir)
	if after := snap(t, c2); !reflect.DeepEqual(after, before) {
		t.Fatal("stray temp file changed the loaded catalog")
	}
}

func TestCorruptFileIsAnError(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, FileName), []byte(`{"version":1,`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Open(Options{Dir: dir})
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Open(corrupt) = %v; want ErrCorrupt", err)
	}
}

func TestDecodeRejectsInvariantViolations(t *testing.T) {
	base := func(tables string) string {
		return `{"version":1,"next_table_id":3,"databases":[{"name":"db1","created":0,"updated":0}],"tables":[` + tables + `]}`
	}
	tbl := func(id, name, extra string) string {
		return `{"id":` + id + `,"database":"db1","name":"` + name + `","status":"ACTIVE","memory_hours":6,"magnetic_days":1,` +
			`"magnetic_writes":{"enabled":false},"partition_keys":[{"type":"MEASURE"}],"created":0,"updated":0` + extra + `}`
	}
	tests := []struct {
		name, data, msg string
	}{
		{"not json", `nope`, "invalid character"},
		{"trailing", base("") + `{}`, "trailing data"},
		{"version", `{"version":2,"next_table_id":1,"databases":[],"tables":[]}`, "unsupported version 2"},
		{"next id", `{"version":1,"next_table_id":0,"databases":[],"tables":[]}`, "next_table_id"},
		{"unknown field", `{"version":1,"next_table_id":1,"databases":[],"tables":[],"x":1}`, "unknown field"},
		{"bad db name", `{"version":1,"next_table_id":1,"databases":[{"name":"x"}],"tables":[]}`, "Invalid database name"},
		{"dup db", `{"version":1,"next_table_id":1,"databases":[{"name":"db1"},{"name":"db1"}],"tables":[]}`, "duplicate database"},
		{"dup tag", `{"version":1,"next_table_id":1,"databases":[{"name":"db1","tags":[{"key":"a","value":""},{"key":"a","value":""}]}],"tables":[]}`, "Duplicate tag key"},
		{"id zero", base(tbl("0", "tb1", "")), "outside [1, 3)"},
		{"id too big", base(tbl("3", "tb1", "")), "outside [1, 3)"},
		{"dup id", base(tbl("1", "tb1", "") + "," + tbl("1", "tb2", "")), "duplicate table id 1"},
		{"dup name", base(tbl("1", "tb1", "") + "," + tbl("2", "tb1", "")), "duplicate table db1.tb1"},
		{"unknown db", strings.Replace(base(tbl("1", "tb1", "")), `"database":"db1"`, `"database":"zz9"`, 1), "unknown database"},
		{"retention", strings.Replace(base(tbl("1", "tb1", "")), `"memory_hours":6`, `"memory_hours":0`, 1), "Memory store retention"},
		{"status", strings.Replace(base(tbl("1", "tb1", "")), `ACTIVE`, `GONE`, 1), "invalid status"},
		{"col kind", base(tbl("1", "tb1", `,"columns":[{"name":"h","kind":"weird","type":"VARCHAR"}]`)), "unknown kind"},
		{"col type", base(tbl("1", "tb1", `,"columns":[{"name":"h","kind":"dimension","type":"TEXT"}]`)), "unknown type"},
		{"col empty type", base(tbl("1", "tb1", `,"columns":[{"name":"h","kind":"dimension","type":""}]`)), "unknown type"},
		{"col invalid", base(tbl("1", "tb1", `,"columns":[{"name":"h","kind":"dimension","type":"DOUBLE"}]`)), "must be VARCHAR"},
		{"col dup", base(tbl("1", "tb1", `,"columns":[{"name":"h","kind":"dimension","type":"VARCHAR"},{"name":"h","kind":"dimension","type":"VARCHAR"}]`)), "duplicate column"},
	}
	for _, tc := range tests {
		_, err := decode([]byte(tc.data))
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: decode = %v; want ErrCorrupt containing %q", tc.name, err, tc.msg)
		}
	}
	if _, err := decode([]byte(base(tbl("1", "tb1", "")))); err != nil {
		t.Fatalf("valid file rejected: %v", err)
	}
}

// FuzzLoad checks that decoding an arbitrary catalog file never panics, that
// failures wrap ErrCorrupt, and that whatever decodes re-encodes to a file
// that decodes to the same catalog.
func FuzzLoad(f *testing.F) {
	c, err := Open(Options{Now: (&fakeClock{t: t0}).Now})
	if err != nil {
		f.Fatal(err)
	}
	dir := f.TempDir()
	c.dir = dir
	populateF(f, c)
	data, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte(`{"version":1,"next_table_id":1,"databases":[],"tables":[]}`))
	f.Add([]byte(`{"version":1,"next_table_id":1}`))
	f.Add([]byte(`{"version":1,"next_table_id":2,"databases":[{"name":"abc"}],"tables":[{"id":1,"database":"abc","name":"def","status":"ACTIVE","memory_hours":1,"magnetic_days":1,"partition_keys":[{"type":"MEASURE"}]}]}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`[]`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := decode(data)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("decode error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		enc, err := encode(st)
		if err != nil {
			t.Fatalf("encode decoded state: %v", err)
		}
		st2, err := decode(enc)
		if err != nil {
			t.Fatalf("decode re-encoded state: %v\n%s", err, enc)
		}
		enc2, err := encode(st2)
		if err != nil {
			t.Fatal(err)
		}
		if string(enc) != string(enc2) {
			t.Fatalf("round trip not exact:\n%s\n%s", enc, enc2)
		}
		if !reflect.DeepEqual(st, st2) {
			t.Fatalf("round trip changed the state")
		}
	})
}

// populateF is populate for a fuzz target's setup.
func populateF(f *testing.F, c *Catalog) {
	if _, err := c.CreateDatabase("db1", "kms-1", []Tag{{"env", "prod"}}); err != nil {
		f.Fatal(err)
	}
	tb, err := c.CreateTable(Table{Database: "db1", Name: "cpu",
		MagneticWrites: MagneticWrites{Enabled: true, S3Bucket: "bucket"},
		PartitionKeys:  []PartitionKey{{Type: PartitionKeyDimension, Name: "host", Enforcement: EnforcementOptional}},
		Tags:           []Tag{{"a", "b"}}})
	if err != nil {
		f.Fatal(err)
	}
	if err := c.AddColumns(tb.ID, []Column{
		{Name: "host", Kind: KindDimension, Type: ingest.TypeVarchar},
		{Name: "usage", Kind: KindMeasureName, Type: ingest.TypeDouble},
		{Name: "n", Kind: KindAttribute, Type: ingest.TypeBigint},
	}); err != nil {
		f.Fatal(err)
	}
}

func TestPersistFailureLeavesStateUnchanged(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	c := openTest(t, dir)
	if _, err := c.CreateDatabase("db1", "", nil); err != nil {
		t.Fatal(err)
	}
	// The data directory disappears: writing the temp file fails.
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	_, err := c.CreateTable(Table{Database: "db1", Name: "tb1"})
	if err == nil || !strings.Contains(err.Error(), "replace catalog file: create") {
		t.Fatalf("CreateTable err = %v", err)
	}
	if _, err := c.Table("db1", "tb1"); !IsNotFound(err) {
		t.Fatalf("table visible after failed persist: %v", err)
	}
	// IDs are not consumed by failed changes either: the next table gets 1.
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	tb, err := c.CreateTable(Table{Database: "db1", Name: "tb1"})
	if err != nil || tb.ID != 1 {
		t.Fatalf("CreateTable after recovery = %+v, %v", tb, err)
	}
	c2 := openTest(t, dir)
	if got, err := c2.Table("db1", "tb1"); err != nil || got.ID != 1 {
		t.Fatalf("reopened = %+v, %v", got, err)
	}
}
