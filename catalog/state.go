package catalog

import (
	"maps"
	"slices"
)

// state is one immutable version of the catalog. Catalog.update clones it,
// changes the clone and publishes the clone; published states are never
// modified, so readers holding the read lock see a consistent version.
//
// clone is shallow: entries are shared with the previous version until a
// mutator replaces them through mutDB or mutTable.
type state struct {
	nextID uint64 // Next table ID to assign; IDs start at 1.
	dbs    map[string]*dbEntry
	tables map[uint64]*tableEntry
}

type dbEntry struct {
	db     Database
	tables map[string]uint64 // Table name -> ID.
}

type tableEntry struct {
	t    Table
	cols map[string]int // Column name -> index in t.Columns.
}

func newState() *state {
	return &state{nextID: 1, dbs: map[string]*dbEntry{}, tables: map[uint64]*tableEntry{}}
}

func (s *state) clone() *state {
	return &state{nextID: s.nextID, dbs: maps.Clone(s.dbs), tables: maps.Clone(s.tables)}
}

// mutDB replaces the entry of database name with a private copy and returns
// it; it returns nil if the database does not exist.
func (s *state) mutDB(name string) *dbEntry {
	d, ok := s.dbs[name]
	if !ok {
		return nil
	}
	cp := &dbEntry{db: cloneDatabase(d.db), tables: maps.Clone(d.tables)}
	s.dbs[name] = cp
	return cp
}

// mutTable replaces the entry of table id with a private copy and returns
// it; it returns nil if the table does not exist.
func (s *state) mutTable(id uint64) *tableEntry {
	e, ok := s.tables[id]
	if !ok {
		return nil
	}
	cp := &tableEntry{t: cloneTable(e.t), cols: maps.Clone(e.cols)}
	s.tables[id] = cp
	return cp
}

func (s *state) dbNames() []string {
	names := make([]string, 0, len(s.dbs))
	for n := range s.dbs {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// table returns the entry of db.name, or nil.
func (s *state) table(db, name string) *tableEntry {
	d, ok := s.dbs[db]
	if !ok {
		return nil
	}
	id, ok := d.tables[name]
	if !ok {
		return nil
	}
	return s.tables[id]
}

func (s *state) databaseValue(d *dbEntry) Database {
	out := cloneDatabase(d.db)
	out.TableCount = len(d.tables)
	return out
}

func cloneDatabase(d Database) Database {
	d.Tags = slices.Clone(d.Tags)
	return d
}

func cloneTable(t Table) Table {
	t.PartitionKeys = slices.Clone(t.PartitionKeys)
	t.Tags = slices.Clone(t.Tags)
	t.Columns = slices.Clone(t.Columns)
	return t
}
