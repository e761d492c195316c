package catalog

import (
	"cmp"
	"slices"
)

func tableNotFound(db, name string) *Error {
	return errorf(ErrNotFound, "The table %s does not exist in database %s.", name, db)
}

// defaultPartitionKeys is Timestream's default: partition by measure name.
func defaultPartitionKeys() []PartitionKey {
	return []PartitionKey{{Type: PartitionKeyMeasure}}
}

// CreateTable creates table t.Name in database t.Database and returns it with
// its ID, status and times filled in. Zero Retention takes the catalog's
// default retention and nil PartitionKeys the default measure-name key.
// t.Columns, if any, are validated and declared up front. It fails with
// ErrNotFound if the database does not exist, ErrConflict if the table
// exists, ErrValidation for bad names or properties and ErrQuota when the
// table quota is reached.
func (c *Catalog) CreateTable(t Table) (Table, error) {
	t, err := c.prepareTable(t)
	if err != nil {
		return Table{}, err
	}
	var out Table
	err = c.update(func(st *state) ([]Table, error) {
		e, err := c.addTable(st, t)
		if err != nil {
			return nil, err
		}
		out = cloneTable(e.t)
		return []Table{out}, nil
	})
	if err != nil {
		return Table{}, err
	}
	return out, nil
}

// prepareTable validates a table definition and fills defaults.
func (c *Catalog) prepareTable(t Table) (Table, error) {
	if err := validateName("database", t.Database); err != nil {
		return Table{}, err
	}
	if err := validateName("table", t.Name); err != nil {
		return Table{}, err
	}
	if t.Retention == (Retention{}) {
		t.Retention = c.defRet
	}
	if err := validateRetention(t.Retention); err != nil {
		return Table{}, err
	}
	if err := validateMagneticWrites(t.MagneticWrites); err != nil {
		return Table{}, err
	}
	if t.PartitionKeys == nil {
		t.PartitionKeys = defaultPartitionKeys()
	}
	if err := validatePartitionKeys(t.PartitionKeys); err != nil {
		return Table{}, err
	}
	tags, err := mergeTags(nil, t.Tags)
	if err != nil {
		return Table{}, err
	}
	t.Tags = tags
	t.PartitionKeys = slices.Clone(t.PartitionKeys)
	t.Columns = slices.Clone(t.Columns)
	return t, nil
}

// addTable inserts a prepared table into st.
func (c *Catalog) addTable(st *state, t Table) (*tableEntry, error) {
	d := st.mutDB(t.Database)
	if d == nil {
		return nil, dbNotFound(t.Database)
	}
	if _, ok := d.tables[t.Name]; ok {
		return nil, errorf(ErrConflict, "The table %s already exists in database %s.", t.Name, t.Database)
	}
	if len(st.tables) >= c.limits.Tables {
		return nil, errorf(ErrQuota, "The table quota of %d has been reached.", c.limits.Tables)
	}
	cols := t.Columns
	now := c.clock()
	t.ID = st.nextID
	t.Status = StatusActive
	t.Created, t.Updated = now, now
	t.Columns = nil
	e := &tableEntry{t: t, cols: map[string]int{}}
	if err := c.addColumns(e, cols); err != nil {
		return nil, err
	}
	st.nextID++
	st.tables[t.ID] = e
	d.tables[t.Name] = t.ID
	return e, nil
}

// Table returns a copy of table db.name, or an ErrNotFound error naming the
// missing database or table.
func (c *Catalog) Table(db, name string) (Table, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if _, ok := c.st.dbs[db]; !ok {
		return Table{}, dbNotFound(db)
	}
	e := c.st.table(db, name)
	if e == nil {
		return Table{}, tableNotFound(db, name)
	}
	return cloneTable(e.t), nil
}

// TableByID returns a copy of the table with the given ID, if it still
// exists.
func (c *Catalog) TableByID(id uint64) (Table, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, ok := c.st.tables[id]
	if !ok {
		return Table{}, false
	}
	return cloneTable(e.t), true
}

// ListTables returns the tables of database db sorted by name, or, when db
// is empty, all tables sorted by database and name.
func (c *Catalog) ListTables(db string) ([]Table, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []Table
	if db != "" {
		d, ok := c.st.dbs[db]
		if !ok {
			return nil, dbNotFound(db)
		}
		out = make([]Table, 0, len(d.tables))
		for _, id := range d.tables {
			out = append(out, cloneTable(c.st.tables[id].t))
		}
	} else {
		out = make([]Table, 0, len(c.st.tables))
		for _, e := range c.st.tables {
			out = append(out, cloneTable(e.t))
		}
	}
	slices.SortFunc(out, func(a, b Table) int {
		return cmp.Or(cmp.Compare(a.Database, b.Database), cmp.Compare(a.Name, b.Name))
	})
	return out, nil
}

// UpdateTable changes the properties given in upd and returns the updated
// table. Subscribers see the change (a retention change applies without a
// restart).
func (c *Catalog) UpdateTable(db, name string, upd TableUpdate) (Table, error) {
	if upd.Retention != nil {
		if err := validateRetention(*upd.Retention); err != nil {
			return Table{}, err
		}
	}
	if upd.MagneticWrites != nil {
		if err := validateMagneticWrites(*upd.MagneticWrites); err != nil {
			return Table{}, err
		}
	}
	if upd.PartitionKeys != nil {
		if err := validatePartitionKeys(*upd.PartitionKeys); err != nil {
			return Table{}, err
		}
	}
	var out Table
	err := c.update(func(st *state) ([]Table, error) {
		if _, ok := st.dbs[db]; !ok {
			return nil, dbNotFound(db)
		}
		cur := st.table(db, name)
		if cur == nil {
			return nil, tableNotFound(db, name)
		}
		e := st.mutTable(cur.t.ID)
		if upd.Retention != nil {
			e.t.Retention = *upd.Retention
		}
		if upd.MagneticWrites != nil {
			e.t.MagneticWrites = *upd.MagneticWrites
		}
		if upd.PartitionKeys != nil {
			keys := *upd.PartitionKeys
			if len(keys) != len(e.t.PartitionKeys) {
				return nil, errorf(ErrValidation, "The composite partition key of table %s cannot change: only the enforcement level of existing keys can be updated.", name)
			}
			for i, k := range keys {
				old := e.t.PartitionKeys[i]
				if k.Type != old.Type || k.Name != old.Name {
					return nil, errorf(ErrValidation, "The composite partition key of table %s cannot change: only the enforcement level of existing keys can be updated.", name)
				}
			}
			e.t.PartitionKeys = slices.Clone(keys)
		}
		e.t.Updated = c.clock()
		out = cloneTable(e.t)
		return []Table{out}, nil
	})
	if err != nil {
		return Table{}, err
	}
	return out, nil
}

// DeleteTable deletes table db.name and returns it as it was. Its ID is
// never reused. Subscribers receive it with Status StatusDeleting.
func (c *Catalog) DeleteTable(db, name string) (Table, error) {
	var out Table
	err := c.update(func(st *state) ([]Table, error) {
		d := st.mutDB(db)
		if d == nil {
			return nil, dbNotFound(db)
		}
		id, ok := d.tables[name]
		if !ok {
			return nil, tableNotFound(db, name)
		}
		out = cloneTable(st.tables[id].t)
		delete(d.tables, name)
		delete(st.tables, id)
		gone := cloneTable(out)
		gone.Status = StatusDeleting
		return []Table{gone}, nil
	})
	if err != nil {
		return Table{}, err
	}
	return out, nil
}

// ImplicitTable returns the table EnsureTable would create for db.name,
// without creating anything: ingestors check a batch against its retention
// first, so that a batch with nothing to store creates no database.
func (c *Catalog) ImplicitTable(db, name string) (Table, error) {
	return c.prepareTable(Table{Database: db, Name: name, MagneticWrites: MagneticWrites{Enabled: c.implicitMag}})
}

// EnsureTable returns table db.name, creating the database and the table
// with default properties if they are missing. Prometheus, line protocol
// and stream ingestors use it.
func (c *Catalog) EnsureTable(db, name string) (Table, error) {
	if t, err := c.Table(db, name); err == nil {
		return t, nil
	}
	t, err := c.ImplicitTable(db, name)
	if err != nil {
		return Table{}, err
	}
	var out Table
	err = c.update(func(st *state) ([]Table, error) {
		if e := st.table(db, name); e != nil { // Created meanwhile.
			out = cloneTable(e.t)
			return nil, nil
		}
		if _, ok := st.dbs[db]; !ok {
			if len(st.dbs) >= c.limits.Databases {
				return nil, errorf(ErrQuota, "The database quota of %d has been reached.", c.limits.Databases)
			}
			now := c.clock()
			st.dbs[db] = &dbEntry{db: Database{Name: db, Created: now, Updated: now}, tables: map[string]uint64{}}
		}
		e, err := c.addTable(st, t)
		if err != nil {
			return nil, err
		}
		out = cloneTable(e.t)
		return []Table{out}, nil
	})
	if err != nil {
		return Table{}, err
	}
	return out, nil
}
