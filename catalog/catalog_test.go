package catalog

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tidaldb/tidal/ingest"
)

// fakeClock returns t0, t0+1s, t0+2s, ... so that Created/Updated differ
// predictably.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Second)
	return c.t
}

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)

func openTest(t *testing.T, dir string) *Catalog {
	t.Helper()
	c, err := Open(Options{Dir: dir, Now: (&fakeClock{t: t0}).Now})
	if err != nil {
		t.Fatalf("Open(%q): %v", dir, err)
	}
	return c
}

func wantKind(t *testing.T, err error, kind ErrorKind, msgPart string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v; want *Error of kind %d", err, kind)
	}
	if e.Kind != kind || !strings.Contains(e.Message, msgPart) {
		t.Fatalf("err = kind %d %q; want kind %d containing %q", e.Kind, e.Message, kind, msgPart)
	}
}

func TestDatabaseLifecycle(t *testing.T) {
	c := openTest(t, t.TempDir())

	d, err := c.CreateDatabase("metrics", "key-1", []Tag{{"env", "prod"}, {"team", "a"}, {"env", "dev"}})
	if err != nil {
		t.Fatal(err)
	}
	want := Database{Name: "metrics", KmsKeyID: "key-1", Created: t0.Add(time.Second), Updated: t0.Add(time.Second),
		Tags: []Tag{{"env", "dev"}, {"team", "a"}}}
	if !reflect.DeepEqual(d, want) {
		t.Fatalf("CreateDatabase = %+v; want %+v", d, want)
	}
	if _, err := c.CreateDatabase("metrics", "", nil); err == nil {
		t.Fatal("duplicate database created")
	} else {
		wantKind(t, err, ErrConflict, "The database metrics already exists.")
		if !IsConflict(fmt.Errorf("wrap: %w", err)) {
			t.Error("IsConflict does not see through wrapping")
		}
	}

	for _, bad := range []string{"ab", strings.Repeat("x", 257), "has space", "sl/ash", "ünï", ""} {
		_, err := c.CreateDatabase(bad, "", nil)
		wantKind(t, err, ErrValidation, "Invalid database name")
	}
	_, err = c.CreateDatabase("big-kms", strings.Repeat("k", 2049), nil)
	wantKind(t, err, ErrValidation, "KMS key ID")
	_, err = c.CreateDatabase("tagged", "", []Tag{{"", "v"}})
	wantKind(t, err, ErrValidation, "Tag key")

	if _, err := c.CreateDatabase("a.b-c_d", "", nil); err != nil {
		t.Fatal(err)
	}
	got, err := c.Database("metrics")
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("Database = %+v, %v; want %+v", got, err, want)
	}
	_, err = c.Database("nope")
	wantKind(t, err, ErrNotFound, "The database nope does not exist.")
	if !IsNotFound(err) || IsValidation(err) || IsQuota(err) {
		t.Error("Is* helpers disagree with the kind")
	}

	list := c.ListDatabases()
	if len(list) != 2 || list[0].Name != "a.b-c_d" || list[1].Name != "metrics" {
		t.Fatalf("ListDatabases = %+v", list)
	}

	upd, err := c.UpdateDatabase("metrics", "key-2")
	if err != nil || upd.KmsKeyID != "key-2" || !upd.Updated.After(upd.Created) {
		t.Fatalf("UpdateDatabase = %+v, %v", upd, err)
	}
	same, err := c.UpdateDatabase("metrics", "key-2")
	if err != nil || !same.Updated.Equal(upd.Updated) {
		t.Fatalf("no-op UpdateDatabase changed LastUpdated: %+v, %v", same, err)
	}
	_, err = c.UpdateDatabase("nope", "k")
	wantKind(t, err, ErrNotFound, "nope")
	_, err = c.UpdateDatabase("metrics", "")
	wantKind(t, err, ErrValidation, "KMS key ID")

	if _, err := c.CreateTable(Table{Database: "metrics", Name: "cpu"}); err != nil {
		t.Fatal(err)
	}
	d, _ = c.Database("metrics")
	if d.TableCount != 1 {
		t.Fatalf("TableCount = %d; want 1", d.TableCount)
	}
	err = c.DeleteDatabase("metrics")
	wantKind(t, err, ErrValidation, "cannot be deleted because it has 1 table(s) (cpu)")
	if _, err := c.DeleteTable("metrics", "cpu"); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteDatabase("metrics"); err != nil {
		t.Fatal(err)
	}
	wantKind(t, c.DeleteDatabase("metrics"), ErrNotFound, "metrics")
	if list := c.ListDatabases(); len(list) != 1 || list[0].Name != "a.b-c_d" {
		t.Fatalf("after delete ListDatabases = %+v", list)
	}
}

func TestTableLifecycle(t *testing.T) {
	c := openTest(t, t.TempDir())
	if _, err := c.CreateDatabase("db1", "", nil); err != nil {
		t.Fatal(err)
	}
	tb, err := c.CreateTable(Table{Database: "db1", Name: "cpu", Tags: []Tag{{"k", "v"}}})
	if err != nil {
		t.Fatal(err)
	}
	want := Table{
		ID: 1, Database: "db1", Name: "cpu", Status: StatusActive,
		Retention:     Retention{MemoryHours: 6, MagneticDays: 73000},
		PartitionKeys: []PartitionKey{{Type: PartitionKeyMeasure}},
		Created:       t0.Add(2 * time.Second), Updated: t0.Add(2 * time.Second),
		Tags: []Tag{{"k", "v"}},
	}
	if !reflect.DeepEqual(tb, want) {
		t.Fatalf("CreateTable = %+v\nwant %+v", tb, want)
	}

	custom := Table{
		Database: "db1", Name: "mem",
		Retention:      Retention{MemoryHours: 24, MagneticDays: 365},
		MagneticWrites: MagneticWrites{Enabled: true, S3Bucket: "rejects", S3Prefix: "p/", S3EncryptionOption: EncryptionSSEKMS, S3KmsKeyID: "kms"},
		PartitionKeys:  []PartitionKey{{Type: PartitionKeyDimension, Name: "host", Enforcement: EnforcementRequired}},
		Columns:        []Column{{Name: "host", Kind: KindDimension, Type: ingest.TypeVarchar}},
		ID:             99, Status: "bogus", // Ignored.
	}
	tb2, err := c.CreateTable(custom)
	if err != nil {
		t.Fatal(err)
	}
	if tb2.ID != 2 || tb2.Status != StatusActive || tb2.Retention != custom.Retention || tb2.MagneticWrites != custom.MagneticWrites ||
		!reflect.DeepEqual(tb2.PartitionKeys, custom.PartitionKeys) || !reflect.DeepEqual(tb2.Columns, custom.Columns) {
		t.Fatalf("CreateTable(custom) = %+v", tb2)
	}

	errCases := []struct {
		name string
		t    Table
		kind ErrorKind
		msg  string
	}{
		{"exists", Table{Database: "db1", Name: "cpu"}, ErrConflict, "The table cpu already exists in database db1."},
		{"no db", Table{Database: "nodb", Name: "cpu"}, ErrNotFound, "The database nodb does not exist."},
		{"bad name", Table{Database: "db1", Name: "c"}, ErrValidation, "Invalid table name"},
		{"bad db name", Table{Database: "d", Name: "cpu"}, ErrValidation, "Invalid database name"},
		{"memory 0", Table{Database: "db1", Name: "tx1", Retention: Retention{0, 5}}, ErrValidation, "Memory store retention must be between 1 and 8766 hours, got 0."},
		{"memory big", Table{Database: "db1", Name: "tx1", Retention: Retention{8767, 5}}, ErrValidation, "got 8767"},
		{"magnetic big", Table{Database: "db1", Name: "tx1", Retention: Retention{1, 73001}}, ErrValidation, "Magnetic store retention must be between 1 and 73000 days, got 73001."},
		{"encryption", Table{Database: "db1", Name: "tx1", MagneticWrites: MagneticWrites{S3EncryptionOption: "ROT13"}}, ErrValidation, "Invalid S3 encryption option"},
		{"empty keys", Table{Database: "db1", Name: "tx1", PartitionKeys: []PartitionKey{}}, ErrValidation, "at least one partition key"},
		{"dim key no name", Table{Database: "db1", Name: "tx1", PartitionKeys: []PartitionKey{{Type: PartitionKeyDimension}}}, ErrValidation, "must name a dimension"},
		{"bad key type", Table{Database: "db1", Name: "tx1", PartitionKeys: []PartitionKey{{Type: "TIME"}}}, ErrValidation, "Invalid partition key type"},
		{"bad enforcement", Table{Database: "db1", Name: "tx1", PartitionKeys: []PartitionKey{{Type: PartitionKeyMeasure, Enforcement: "MAYBE"}}}, ErrValidation, "Invalid partition key enforcement"},
		{"reserved column", Table{Database: "db1", Name: "tx1", Columns: []Column{{Name: "time", Kind: KindDimension, Type: ingest.TypeVarchar}}}, ErrValidation, "reserved"},
	}
	for _, tc := range errCases {
		_, err := c.CreateTable(tc.t)
		if err == nil {
			t.Fatalf("%s: CreateTable succeeded", tc.name)
		}
		wantKind(t, err, tc.kind, tc.msg)
	}

	got, err := c.Table("db1", "cpu")
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("Table = %+v, %v", got, err)
	}
	got.Tags[0].Value = "mutated"
	if again, _ := c.Table("db1", "cpu"); again.Tags[0].Value != "v" {
		t.Fatal("Table returned an alias of internal state")
	}
	_, err = c.Table("db1", "nope")
	wantKind(t, err, ErrNotFound, "The table nope does not exist in database db1.")
	_, err = c.Table("nodb", "cpu")
	wantKind(t, err, ErrNotFound, "The database nodb does not exist.")
	if byID, ok := c.TableByID(2); !ok || byID.Name != "mem" {
		t.Fatalf("TableByID(2) = %+v, %v", byID, ok)
	}
	if _, ok := c.TableByID(42); ok {
		t.Fatal("TableByID(42) found a table")
	}

	if _, err := c.CreateDatabase("db0", "", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateTable(Table{Database: "db0", Name: "zzz"}); err != nil {
		t.Fatal(err)
	}
	all, err := c.ListTables("")
	if err != nil {
		t.Fatal(err)
	}
	if names := tableNames(all); names != "db0.zzz db1.cpu db1.mem" {
		t.Fatalf("ListTables(\"\") = %s", names)
	}
	in1, err := c.ListTables("db1")
	if err != nil || tableNames(in1) != "db1.cpu db1.mem" {
		t.Fatalf("ListTables(db1) = %s, %v", tableNames(in1), err)
	}
	_, err = c.ListTables("nodb")
	wantKind(t, err, ErrNotFound, "nodb")

	// UpdateTable.
	ret := Retention{MemoryHours: 12, MagneticDays: 30}
	mw := MagneticWrites{Enabled: true}
	keys := []PartitionKey{{Type: PartitionKeyDimension, Name: "host", Enforcement: EnforcementOptional}}
	up, err := c.UpdateTable("db1", "mem", TableUpdate{Retention: &ret, MagneticWrites: &mw, PartitionKeys: &keys})
	if err != nil {
		t.Fatal(err)
	}
	if up.Retention != ret || up.MagneticWrites != mw || !reflect.DeepEqual(up.PartitionKeys, keys) || !up.Updated.After(up.Created) || up.ID != 2 {
		t.Fatalf("UpdateTable = %+v", up)
	}
	bad := Retention{MemoryHours: 0, MagneticDays: 1}
	_, err = c.UpdateTable("db1", "mem", TableUpdate{Retention: &bad})
	wantKind(t, err, ErrValidation, "Memory store retention")
	renamed := []PartitionKey{{Type: PartitionKeyDimension, Name: "region"}}
	_, err = c.UpdateTable("db1", "mem", TableUpdate{PartitionKeys: &renamed})
	wantKind(t, err, ErrValidation, "only the enforcement level")
	two := []PartitionKey{{Type: PartitionKeyDimension, Name: "host"}, {Type: PartitionKeyMeasure}}
	_, err = c.UpdateTable("db1", "mem", TableUpdate{PartitionKeys: &two})
	wantKind(t, err, ErrValidation, "only the enforcement level")
	_, err = c.UpdateTable("db1", "nope", TableUpdate{Retention: &ret})
	wantKind(t, err, ErrNotFound, "nope")
	_, err = c.UpdateTable("nodb", "mem", TableUpdate{})
	wantKind(t, err, ErrNotFound, "nodb")

	// DeleteTable and ID reuse.
	del, err := c.DeleteTable("db1", "cpu")
	if err != nil || del.ID != 1 || del.Status != StatusActive {
		t.Fatalf("DeleteTable = %+v, %v", del, err)
	}
	_, err = c.DeleteTable("db1", "cpu")
	wantKind(t, err, ErrNotFound, "cpu")
	_, err = c.DeleteTable("nodb", "cpu")
	wantKind(t, err, ErrNotFound, "nodb")
	if _, ok := c.TableByID(1); ok {
		t.Fatal("deleted table still found by ID")
	}
	re, err := c.CreateTable(Table{Database: "db1", Name: "cpu"})
	if err != nil || re.ID != 4 {
		t.Fatalf("recreated table = %+v, %v; want ID 4", re, err)
	}
}

func tableNames(ts []Table) string {
	var s []string
	for _, t := range ts {
		s = append(s, t.Database+"."+t.Name)
	}
	return strings.Join(s, " ")
}

func TestEnsureTable(t *testing.T) {
	var events []Table
	c, err := Open(Options{Dir: t.TempDir(), Now: (&fakeClock{t: t0}).Now, DefaultRetention: Retention{MemoryHours: 2}})
	if err != nil {
		t.Fatal(err)
	}
	c.Subscribe(func(tb Table) { events = append(events, tb) })
	tb, err := c.EnsureTable("prometheus", "metrics")
	if err != nil {
		t.Fatal(err)
	}
	if tb.ID != 1 || tb.Retention != (Retention{MemoryHours: 2, MagneticDays: 73000}) || tb.Status != StatusActive {
		t.Fatalf("EnsureTable = %+v", tb)
	}
	if d, err := c.Database("prometheus"); err != nil || d.TableCount != 1 {
		t.Fatalf("database after EnsureTable = %+v, %v", d, err)
	}
	again, err := c.EnsureTable("prometheus", "metrics")
	if err != nil || !reflect.DeepEqual(again, tb) {
		t.Fatalf("second EnsureTable = %+v, %v; want %+v", again, err, tb)
	}
	if len(events) != 1 || events[0].ID != 1 {
		t.Fatalf("events = %+v; want one create", events)
	}
	if _, err := c.EnsureTable("prometheus", "x"); err == nil {
		t.Fatal("EnsureTable accepted an invalid name")
	} else {
		wantKind(t, err, ErrValidation, "Invalid table name")
	}
}

func TestAddColumns(t *testing.T) {
	c, err := Open(Options{Dir: t.TempDir(), Now: (&fakeClock{t: t0}).Now,
		Limits: Limits{DimensionsPerTable: 2, MeasureNames: 2, AttributesPerTable: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateDatabase("db1", "", nil); err != nil {
		t.Fatal(err)
	}
	tb, err := c.CreateTable(Table{Database: "db1", Name: "tb1"})
	if err != nil {
		t.Fatal(err)
	}
	var events []Table
	c.Subscribe(func(tb Table) { events = append(events, tb) })

	dim := func(n string) Column { return Column{Name: n, Kind: KindDimension, Type: ingest.TypeVarchar} }
	meas := func(n string, ty ingest.ValueType) Column { return Column{Name: n, Kind: KindMeasureName, Type: ty} }
	attr := func(n string, ty ingest.ValueType) Column { return Column{Name: n, Kind: KindAttribute, Type: ty} }

	if err := c.AddColumns(tb.ID, []Column{dim("host"), meas("cpu", ingest.TypeDouble), meas("cpu", ingest.TypeDouble)}); err != nil {
		t.Fatal(err)
	}
	if err := c.AddColumns(tb.ID, []Column{dim("host")}); err != nil { // No-op.
		t.Fatal(err)
	}
	if len(events) != 1 {
		t.Fatalf("events = %d; want 1 (the no-op must not notify)", len(events))
	}
	got, _ := c.Table("db1", "tb1")
	wantCols := []Column{dim("host"), meas("cpu", ingest.TypeDouble)}
	if !reflect.DeepEqual(got.Columns, wantCols) {
		t.Fatalf("Columns = %+v; want %+v", got.Columns, wantCols)
	}
	if col, ok := got.Column("cpu"); !ok || col.Type != ingest.TypeDouble {
		t.Fatalf("Column(cpu) = %+v, %v", col, ok)
	}

	tests := []struct {
		name string
		cols []Column
		msg  string
	}{
		{"kind conflict", []Column{meas("host", ingest.TypeDouble)}, "Column host already exists in table tb1 as a dimension; it cannot also be used as a measure name."},
		{"type conflict", []Column{meas("cpu", ingest.TypeBigint)}, "Measure cpu was previously ingested into table tb1 with type DOUBLE; it cannot be written with type BIGINT."},
		{"conflict within batch", []Column{attr("a1", ingest.TypeBigint), attr("a1", ingest.TypeDouble)}, "multi-measure attribute a1 of table tb1 has type BIGINT"},
		{"reserved", []Column{dim("measure_name_x")}, "reserved"},
		{"reserved ts_", []Column{attr("ts_x", ingest.TypeDouble)}, "reserved"},
		{"long dimension", []Column{dim(strings.Repeat("d", 61))}, "longer than 60 bytes"},
		{"empty measure", []Column{meas("", ingest.TypeDouble)}, "must not be empty"},
		{"dimension type", []Column{{Name: "d2", Kind: KindDimension, Type: ingest.TypeBigint}}, "must be VARCHAR"},
		{"attribute multi", []Column{attr("a2", ingest.TypeMulti)}, "invalid type MULTI"},
		{"bad kind", []Column{{Name: "k", Kind: 9, Type: ingest.TypeDouble}}, "Invalid column kind"},
		{"dimension limit", []Column{dim("d2"), dim("d3")}, "Table tb1 already has the maximum of 2 dimensions; the dimension d3 cannot be added."},
		{"measure limit", []Column{meas("m2", ingest.TypeMulti), meas("m3", ingest.TypeBigint)}, "maximum of 2 measure names"},
		{"attribute limit", []Column{attr("a1", ingest.TypeDouble), attr("a2", ingest.TypeDouble)}, "maximum of 1 multi-measure attributes"},
	}
	for _, tc := range tests {
		err := c.AddColumns(tb.ID, tc.cols)
		if err == nil {
			t.Fatalf("%s: AddColumns succeeded", tc.name)
		}
		wantKind(t, err, ErrValidation, tc.msg)
	}
	// All or nothing: the failed batches added nothing.
	got, _ = c.Table("db1", "tb1")
	if !reflect.DeepEqual(got.Columns, wantCols) {
		t.Fatalf("after failures Columns = %+v; want %+v", got.Columns, wantCols)
	}
	if err := c.AddColumns(tb.ID, []Column{dim("d2"), meas("m2", ingest.TypeMulti), attr("a1", ingest.TypeTimestamp)}); err != nil {
		t.Fatal(err)
	}
	if len(events) != 2 || len(events[1].Columns) != 5 {
		t.Fatalf("events = %+v", events)
	}
	wantKind(t, c.AddColumns(999, []Column{dim("x1")}), ErrNotFound, "ID 999")
}

func TestDefaultColumnLimits(t *testing.T) {
	c := openTest(t, "")
	if _, err := c.CreateDatabase("db1", "", nil); err != nil {
		t.Fatal(err)
	}
	tb, err := c.CreateTable(Table{Database: "db1", Name: "tb1"})
	if err != nil {
		t.Fatal(err)
	}
	var cols []Column
	for i := range 128 {
		cols = append(cols, Column{Name: fmt.Sprintf("dim%03d", i), Kind: KindDimension, Type: ingest.TypeVarchar})
	}
	if err := c.AddColumns(tb.ID, cols); err != nil {
		t.Fatal(err)
	}
	err = c.AddColumns(tb.ID, []Column{{Name: "dim128", Kind: KindDimension, Type: ingest.TypeVarchar}})
	wantKind(t, err, ErrValidation, "maximum of 128 dimensions")
}

func TestTags(t *testing.T) {
	c := openTest(t, t.TempDir())
	if _, err := c.CreateDatabase("db1", "", []Tag{{"a", "1"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateTable(Table{Database: "db1", Name: "tb1"}); err != nil {
		t.Fatal(err)
	}
	dbARN, tbARN := c.DatabaseARN("db1"), c.TableARN("db1", "tb1")
	if dbARN != "arn:aws:timestream:us-east-1:000000000000:database/db1" || tbARN != dbARN+"/table/tb1" {
		t.Fatalf("ARNs = %q, %q", dbARN, tbARN)
	}
	if err := c.Tag(dbARN, []Tag{{"b", "2"}, {"a", "9"}}); err != nil {
		t.Fatal(err)
	}
	if tags, err := c.Tags(dbARN); err != nil || !reflect.DeepEqual(tags, []Tag{{"a", "9"}, {"b", "2"}}) {
		t.Fatalf("Tags(db) = %+v, %v", tags, err)
	}
	if err := c.Tag(tbARN, []Tag{{"x", ""}}); err != nil {
		t.Fatal(err)
	}
	if tags, err := c.Tags(tbARN); err != nil || !reflect.DeepEqual(tags, []Tag{{"x", ""}}) {
		t.Fatalf("Tags(table) = %+v, %v", tags, err)
	}
	// A foreign region or account still resolves.
	if tags, err := c.Tags("arn:aws:timestream:eu-west-1:123456789012:database/db1/table/tb1"); err != nil || len(tags) != 1 {
		t.Fatalf("Tags(foreign region) = %+v, %v", tags, err)
	}
	if err := c.Untag(dbARN, []string{"a", "missing"}); err != nil {
		t.Fatal(err)
	}
	if tags, _ := c.Tags(dbARN); !reflect.DeepEqual(tags, []Tag{{"b", "2"}}) {
		t.Fatalf("after Untag = %+v", tags)
	}
	if err := c.Untag(tbARN, []string{"x"}); err != nil {
		t.Fatal(err)
	}
	if tags, _ := c.Tags(tbARN); tags != nil {
		t.Fatalf("after removing all tags = %#v; want nil", tags)
	}

	wantKind(t, c.Tag("arn:aws:s3:::bucket", []Tag{{"k", "v"}}), ErrValidation, "Invalid resource ARN")
	wantKind(t, c.Tag("arn:aws:timestream:us-east-1:0:scheduled-query/x", []Tag{{"k", "v"}}), ErrValidation, "expected database")
	wantKind(t, c.Tag("arn:aws:timestream:us-east-1:0:database/db1/table/", nil), ErrValidation, "expected database")
	wantKind(t, c.Tag(c.DatabaseARN("nodb"), []Tag{{"k", "v"}}), ErrNotFound, "does not exist")
	wantKind(t, c.Tag(c.TableARN("db1", "nope"), []Tag{{"k", "v"}}), ErrNotFound, "does not exist")
	_, err := c.Tags(c.TableARN("db1", "nope"))
	wantKind(t, err, ErrNotFound, "does not exist")
	_, err = c.Tags(c.DatabaseARN("nodb"))
	wantKind(t, err, ErrNotFound, "does not exist")
	wantKind(t, c.Untag(c.DatabaseARN("nodb"), []string{"k"}), ErrNotFound, "does not exist")
	wantKind(t, c.Untag(dbARN, []string{""}), ErrValidation, "Tag key")
	wantKind(t, c.Tag(dbARN, []Tag{{strings.Repeat("k", 129), "v"}}), ErrValidation, "Tag key")
	wantKind(t, c.Tag(dbARN, []Tag{{"k", strings.Repeat("v", 257)}}), ErrValidation, "Tag value")

	var many []Tag
	for i := range 199 {
		many = append(many, Tag{fmt.Sprintf("k%d", i), "v"})
	}
	if err := c.Tag(dbARN, many); err != nil { // "b" + 199 = 200.
		t.Fatal(err)
	}
	wantKind(t, c.Tag(dbARN, []Tag{{"one-more", "v"}}), ErrQuota, "at most 200 tags")
	wantKind(t, c.Tag(dbARN, append(many, Tag{"x", "y"}, Tag{"z", "w"})), ErrValidation, "Too many tags")
}

func TestQuotas(t *testing.T) {
	c, err := Open(Options{Limits: Limits{Databases: 1, Tables: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateDatabase("db1", "", nil); err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateDatabase("db2", "", nil)
	wantKind(t, err, ErrQuota, "database quota of 1")
	if _, err := c.CreateTable(Table{Database: "db1", Name: "tb1"}); err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateTable(Table{Database: "db1", Name: "tb2"})
	wantKind(t, err, ErrQuota, "table quota of 1")
	_, err = c.EnsureTable("db2", "tb1")
	wantKind(t, err, ErrQuota, "database quota")
	_, err = c.EnsureTable("db1", "tb2")
	wantKind(t, err, ErrQuota, "table quota")
}

func TestOpenOptions(t *testing.T) {
	if _, err := Open(Options{DefaultRetention: Retention{MemoryHours: 9000}}); err == nil {
		t.Fatal("Open accepted an invalid default retention")
	}
	c, err := Open(Options{Region: "eu-west-1", Account: "123456789012"})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.TableARN("db", "t"); got != "arn:aws:timestream:eu-west-1:123456789012:database/db/table/t" {
		t.Fatalf("TableARN = %q", got)
	}
	// A file where the directory should be.
	f := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(f, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(Options{Dir: f}); err == nil {
		t.Fatal("Open succeeded with a file as the directory")
	}
}

func TestSubscribeEvents(t *testing.T) {
	c := openTest(t, "")
	var got []string
	c.Subscribe(func(tb Table) {
		// Subscribers may read the catalog.
		_, err := c.Table(tb.Database, tb.Name)
		got = append(got, fmt.Sprintf("%d:%s:%s:%d:%v", tb.ID, tb.Name, tb.Status, tb.Retention.MemoryHours, err == nil))
	})
	if _, err := c.CreateDatabase("db1", "", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateTable(Table{Database: "db1", Name: "tb1"}); err != nil {
		t.Fatal(err)
	}
	ret := Retention{MemoryHours: 1, MagneticDays: 1}
	if _, err := c.UpdateTable("db1", "tb1", TableUpdate{Retention: &ret}); err != nil {
		t.Fatal(err)
	}
	if err := c.Tag(c.TableARN("db1", "tb1"), []Tag{{"k", "v"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteTable("db1", "tb1"); err != nil {
		t.Fatal(err)
	}
	want := []string{"1:tb1:ACTIVE:6:true", "1:tb1:ACTIVE:1:true", "1:tb1:ACTIVE:1:true", "1:tb1:DELETING:1:false"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("events = %v; want %v", got, want)
	}
}

func TestConcurrentUse(t *testing.T) {
	c := openTest(t, t.TempDir())
	if _, err := c.CreateDatabase("db1", "", nil); err != nil {
		t.Fatal(err)
	}
	tb, err := c.CreateTable(Table{Database: "db1", Name: "tb1"})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 20 {
				col := Column{Name: fmt.Sprintf("d%d_%d", w, i%10), Kind: KindDimension, Type: ingest.TypeVarchar}
				if err := c.AddColumns(tb.ID, []Column{col}); err != nil {
					t.Error(err)
					return
				}
				if _, err := c.Table("db1", "tb1"); err != nil {
					t.Error(err)
					return
				}
				c.ListDatabases()
			}
		})
	}
	wg.Wait()
	got, _ := c.Table("db1", "tb1")
	if len(got.Columns) != 40 {
		t.Fatalf("columns = %d; want 40", len(got.Columns))
	}
}

func TestUnsubscribe(t *testing.T) {
	c, err := Open(Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	var a, b int
	unsubA := c.Subscribe(func(Table) { a++ })
	c.Subscribe(func(Table) { b++ })
	if _, err := c.CreateDatabase("ddd", "", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateTable(Table{Database: "ddd", Name: "tt1"}); err != nil {
		t.Fatal(err)
	}
	unsubA()
	unsubA() // idempotent
	if _, err := c.CreateTable(Table{Database: "ddd", Name: "tt2"}); err != nil {
		t.Fatal(err)
	}
	if a != 1 || b != 2 {
		t.Fatalf("events: unsubscribed %d (want 1), still subscribed %d (want 2)", a, b)
	}
}

// TestEnsureTableMagneticWrites: implicit tables take magnetic writes when
// the option says so (issue 14); CreateTable keeps what it is given.
func TestEnsureTableMagneticWrites(t *testing.T) {
	for _, on := range []bool{false, true} {
		c, err := Open(Options{Now: (&fakeClock{t: t0}).Now, ImplicitMagneticWrites: on})
		if err != nil {
			t.Fatal(err)
		}
		tb, err := c.EnsureTable("prometheus", "metrics")
		if err != nil {
			t.Fatal(err)
		}
		if tb.MagneticWrites.Enabled != on {
			t.Fatalf("option %v: EnsureTable magnetic writes = %v", on, tb.MagneticWrites.Enabled)
		}
		if _, err := c.CreateDatabase("made_db", "", nil); err != nil {
			t.Fatal(err)
		}
		ct, err := c.CreateTable(Table{Database: "made_db", Name: "made"})
		if err != nil {
			t.Fatal(err)
		}
		if ct.MagneticWrites.Enabled {
			t.Fatalf("option %v: CreateTable without magnetic writes got them", on)
		}
	}
}
