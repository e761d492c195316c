package catalog

// AddColumns records the schema-on-write columns cols for table tableID.
// Columns that already exist with the same kind and type are ignored, so
// callers may pass every column of a batch; the common case where nothing is
// new takes only the read lock and writes nothing.
//
// The call is all or nothing. It fails with ErrNotFound if the table no
// longer exists and with ErrValidation if a column name is invalid or
// reserved, if a name exists with another kind or type, or if a per-table
// limit (dimensions, measure names, multi-measure attributes) would be
// exceeded; the message names the offending column.
func (c *Catalog) AddColumns(tableID uint64, cols []Column) error {
	c.mu.RLock()
	e, ok := c.st.tables[tableID]
	if !ok {
		c.mu.RUnlock()
		return errorf(ErrNotFound, "The table with ID %d does not exist.", tableID)
	}
	missing := false
	for _, col := range cols {
		i, ok := e.cols[col.Name]
		if !ok {
			missing = true
			continue
		}
		if err := sameColumn(&e.t, e.t.Columns[i], col); err != nil {
			c.mu.RUnlock()
			return err
		}
	}
	c.mu.RUnlock()
	if !missing {
		return nil
	}
	for _, col := range cols {
		if err := validateColumn(col); err != nil {
			return err
		}
	}
	return c.update(func(st *state) ([]Table, error) {
		e := st.mutTable(tableID)
		if e == nil {
			return nil, errorf(ErrNotFound, "The table with ID %d does not exist.", tableID)
		}
		n := len(e.t.Columns)
		if err := c.addColumns(e, cols); err != nil {
			return nil, err
		}
		if len(e.t.Columns) == n { // Added concurrently by someone else.
			return nil, nil
		}
		e.t.Updated = c.clock()
		return []Table{cloneTable(e.t)}, nil
	})
}

// sameColumn checks that want matches the existing column have.
func sameColumn(t *Table, have, want Column) error {
	if have.Kind != want.Kind {
		return errorf(ErrValidation, "Column %s already exists in table %s as a %s; it cannot also be used as a %s.", want.Name, t.Name, have.Kind, want.Kind)
	}
	if have.Type != want.Type {
		switch want.Kind {
		case KindMeasureName:
			return errorf(ErrValidation, "Measure %s was previously ingested into table %s with type %s; it cannot be written with type %s.", want.Name, t.Name, have.Type, want.Type)
		default:
			return errorf(ErrValidation, "The %s %s of table %s has type %s; it cannot be written with type %s.", want.Kind, want.Name, t.Name, have.Type, want.Type)
		}
	}
	return nil
}

// addColumns appends the new columns of cols to e, enforcing kinds, types
// and limits. e must be private to the caller.
func (c *Catalog) addColumns(e *tableEntry, cols []Column) error {
	var counts [4]int
	for _, col := range e.t.Columns {
		counts[col.Kind]++
	}
	for _, col := range cols {
		if i, ok := e.cols[col.Name]; ok {
			if err := sameColumn(&e.t, e.t.Columns[i], col); err != nil {
				return err
			}
			continue
		}
		if err := validateColumn(col); err != nil {
			return err
		}
		var limit int
		switch col.Kind {
		case KindDimension:
			limit = c.limits.DimensionsPerTable
		case KindMeasureName:
			limit = c.limits.MeasureNames
		case KindAttribute:
			limit = c.limits.AttributesPerTable
		}
		if counts[col.Kind] >= limit {
			return errorf(ErrValidation, "Table %s already has the maximum of %d %ss; the %s %s cannot be added.", e.t.Name, limit, col.Kind, col.Kind, col.Name)
		}
		counts[col.Kind]++
		e.cols[col.Name] = len(e.t.Columns)
		e.t.Columns = append(e.t.Columns, col)
	}
	return nil
}
