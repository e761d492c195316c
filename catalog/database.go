package catalog

import "slices"

func dbNotFound(name string) *Error {
	return errorf(ErrNotFound, "The database %s does not exist.", name)
}

// CreateDatabase creates database name. It fails with ErrValidation for a bad
// name, KMS key or tags, ErrConflict if the database exists and ErrQuota when
// the database quota is reached.
func (c *Catalog) CreateDatabase(name, kmsKeyID string, tags []Tag) (Database, error) {
	if err := validateName("database", name); err != nil {
		return Database{}, err
	}
	if len(kmsKeyID) > MaxKmsKeyIDLen {
		return Database{}, errorf(ErrValidation, "KMS key ID is longer than %d characters.", MaxKmsKeyIDLen)
	}
	tags, err := mergeTags(nil, tags)
	if err != nil {
		return Database{}, err
	}
	var out Database
	err = c.update(func(st *state) ([]Table, error) {
		if _, ok := st.dbs[name]; ok {
			return nil, errorf(ErrConflict, "The database %s already exists.", name)
		}
		if len(st.dbs) >= c.limits.Databases {
			return nil, errorf(ErrQuota, "The database quota of %d has been reached.", c.limits.Databases)
		}
		now := c.clock()
		d := &dbEntry{db: Database{Name: name, KmsKeyID: kmsKeyID, Created: now, Updated: now, Tags: tags}, tables: map[string]uint64{}}
		st.dbs[name] = d
		out = st.databaseValue(d)
		return nil, nil
	})
	if err != nil {
		return Database{}, err
	}
	return out, nil
}

// Database returns database name, or an ErrNotFound error.
func (c *Catalog) Database(name string) (Database, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	d, ok := c.st.dbs[name]
	if !ok {
		return Database{}, dbNotFound(name)
	}
	return c.st.databaseValue(d), nil
}

// ListDatabases returns all databases sorted by name.
func (c *Catalog) ListDatabases() []Database {
	c.mu.RLock()
	defer c.mu.RUnlock()
	names := c.st.dbNames()
	out := make([]Database, len(names))
	for i, n := range names {
		out[i] = c.st.databaseValue(c.st.dbs[n])
	}
	return out
}

// UpdateDatabase sets the KMS key of database name. Setting the key it
// already has changes nothing (LastUpdatedTime included).
func (c *Catalog) UpdateDatabase(name, kmsKeyID string) (Database, error) {
	if kmsKeyID == "" || len(kmsKeyID) > MaxKmsKeyIDLen {
		return Database{}, errorf(ErrValidation, "KMS key ID must be 1 to %d characters long.", MaxKmsKeyIDLen)
	}
	var out Database
	err := c.update(func(st *state) ([]Table, error) {
		d := st.mutDB(name)
		if d == nil {
			return nil, dbNotFound(name)
		}
		if d.db.KmsKeyID != kmsKeyID {
			d.db.KmsKeyID = kmsKeyID
			d.db.Updated = c.clock()
		}
		out = st.databaseValue(d)
		return nil, nil
	})
	if err != nil {
		return Database{}, err
	}
	return out, nil
}

// DeleteDatabase deletes database name. A database that still has tables
// cannot be deleted (ErrValidation), as in Timestream.
func (c *Catalog) DeleteDatabase(name string) error {
	return c.update(func(st *state) ([]Table, error) {
		d, ok := st.dbs[name]
		if !ok {
			return nil, dbNotFound(name)
		}
		if n := len(d.tables); n > 0 {
			tables := make([]string, 0, n)
			for t := range d.tables {
				tables = append(tables, t)
			}
			slices.Sort(tables)
			return nil, errorf(ErrValidation, "The database %s cannot be deleted because it has %d table(s) (%s); delete all tables first.", name, n, joinFirst(tables, 5))
		}
		delete(st.dbs, name)
		return nil, nil
	})
}

// joinFirst joins up to n names, adding an ellipsis when there are more.
func joinFirst(names []string, n int) string {
	s := ""
	for i, name := range names {
		if i == n {
			return s + ", ..."
		}
		if i > 0 {
			s += ", "
		}
		s += name
	}
	return s
}
