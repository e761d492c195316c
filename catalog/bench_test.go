package catalog

import (
	"fmt"
	"testing"

	"github.com/tidaldb/tidal/ingest"
)

// tsbsColumns returns the columns of a TSBS devops cpu table: 10 host tags as
// dimensions and 10 cpu metrics, either as single-measure DOUBLE names or as
// attributes of one multi-measure record.
func tsbsColumns(multi bool) []Column {
	var cols []Column
	for _, d := range []string{"hostname", "region", "datacenter", "rack", "os", "arch", "team", "service", "service_version", "service_environment"} {
		cols = append(cols, Column{Name: d, Kind: KindDimension, Type: ingest.TypeVarchar})
	}
	metrics := []string{"usage_user", "usage_system", "usage_idle", "usage_nice", "usage_iowait", "usage_irq", "usage_softirq", "usage_steal", "usage_guest", "usage_guest_nice"}
	if multi {
		cols = append(cols, Column{Name: "cpu", Kind: KindMeasureName, Type: ingest.TypeMulti})
		for _, m := range metrics {
			cols = append(cols, Column{Name: m, Kind: KindAttribute, Type: ingest.TypeDouble})
		}
		return cols
	}
	for _, m := range metrics {
		cols = append(cols, Column{Name: m, Kind: KindMeasureName, Type: ingest.TypeDouble})
	}
	return cols
}

// BenchmarkAddColumnsExisting measures the write-path check that a batch's
// columns are already known, the case for all but the first writes.
func BenchmarkAddColumnsExisting(b *testing.B) {
	c, err := Open(Options{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := c.CreateDatabase("devops", "", nil); err != nil {
		b.Fatal(err)
	}
	// Other tables make the catalog realistic in size.
	for i := range 50 {
		if _, err := c.CreateTable(Table{Database: "devops", Name: fmt.Sprintf("t%03d", i)}); err != nil {
			b.Fatal(err)
		}
	}
	tb, err := c.CreateTable(Table{Database: "devops", Name: "cpu"})
	if err != nil {
		b.Fatal(err)
	}
	cols := tsbsColumns(true)
	if err := c.AddColumns(tb.ID, cols); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := c.AddColumns(tb.ID, cols); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTable measures a table lookup, which returns a deep copy.
func BenchmarkTable(b *testing.B) {
	c, err := Open(Options{})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := c.CreateDatabase("devops", "", nil); err != nil {
		b.Fatal(err)
	}
	tb, err := c.CreateTable(Table{Database: "devops", Name: "cpu"})
	if err != nil {
		b.Fatal(err)
	}
	if err := c.AddColumns(tb.ID, tsbsColumns(false)); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	var sink int
	for b.Loop() {
		t, err := c.Table("devops", "cpu")
		if err != nil {
			b.Fatal(err)
		}
		sink += len(t.Columns)
	}
	if sink == 0 {
		b.Fatal("no columns")
	}
}

// BenchmarkCreateTablePersist measures a durable catalog change (temp file,
// fsync, rename, directory fsync) on a catalog of 100 tables.
func BenchmarkCreateTablePersist(b *testing.B) {
	c, err := Open(Options{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := c.CreateDatabase("devops", "", nil); err != nil {
		b.Fatal(err)
	}
	for i := range 100 {
		tb, err := c.CreateTable(Table{Database: "devops", Name: fmt.Sprintf("t%03d", i)})
		if err != nil {
			b.Fatal(err)
		}
		if err := c.AddColumns(tb.ID, tsbsColumns(i%2 == 0)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		name := fmt.Sprintf("new%06d", i)
		i++
		if _, err := c.CreateTable(Table{Database: "devops", Name: name}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if _, err := c.DeleteTable("devops", name); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}
