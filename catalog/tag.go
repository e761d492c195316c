package catalog

import "slices"

// mergeTags returns have with tags added, a tag replacing an existing one
// with the same key (the last of duplicates in tags wins). The result is a
// new slice, in first-seen key order.
func mergeTags(have, tags []Tag) ([]Tag, error) {
	if err := validateTags(tags); err != nil {
		return nil, err
	}
	out := slices.Clone(have)
	for _, t := range tags {
		i := slices.IndexFunc(out, func(o Tag) bool { return o.Key == t.Key })
		if i >= 0 {
			out[i].Value = t.Value
			continue
		}
		out = append(out, t)
	}
	if len(out) > MaxTagsPerResource {
		return nil, errorf(ErrQuota, "A resource can have at most %d tags; this request would give it %d.", MaxTagsPerResource, len(out))
	}
	return out, nil
}

// Tag adds tags to the database or table identified by arn, replacing the
// values of existing keys.
func (c *Catalog) Tag(arn string, tags []Tag) error {
	db, table, err := parseARN(arn)
	if err != nil {
		return err
	}
	if err := validateTags(tags); err != nil {
		return err
	}
	return c.updateTags(arn, db, table, func(have []Tag) ([]Tag, error) {
		return mergeTags(have, tags)
	})
}

// Untag removes the tags with the given keys from the database or table
// identified by arn. Keys that are not present are ignored.
func (c *Catalog) Untag(arn string, keys []string) error {
	db, table, err := parseARN(arn)
	if err != nil {
		return err
	}
	if len(keys) > MaxTagsPerResource {
		return errorf(ErrValidation, "At most %d tag keys can be removed at once.", MaxTagsPerResource)
	}
	for _, k := range keys {
		if err := validateTagKey(k); err != nil {
			return err
		}
	}
	return c.updateTags(arn, db, table, func(have []Tag) ([]Tag, error) {
		return slices.DeleteFunc(slices.Clone(have), func(t Tag) bool { return slices.Contains(keys, t.Key) }), nil
	})
}

// Tags returns the tags of the database or table identified by arn.
func (c *Catalog) Tags(arn string) ([]Tag, error) {
	db, table, err := parseARN(arn)
	if err != nil {
		return nil, err
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	d, ok := c.st.dbs[db]
	if !ok {
		return nil, errorf(ErrNotFound, "The resource %s does not exist.", arn)
	}
	if table == "" {
		return slices.Clone(d.db.Tags), nil
	}
	e := c.st.table(db, table)
	if e == nil {
		return nil, errorf(ErrNotFound, "The resource %s does not exist.", arn)
	}
	return slices.Clone(e.t.Tags), nil
}

func (c *Catalog) updateTags(arn, db, table string, apply func([]Tag) ([]Tag, error)) error {
	fn := func(have []Tag) ([]Tag, error) {
		tags, err := apply(have)
		if len(tags) == 0 {
			tags = nil
		}
		return tags, err
	}
	return c.update(func(st *state) ([]Table, error) {
		if table == "" {
			d := st.mutDB(db)
			if d == nil {
				return nil, errorf(ErrNotFound, "The resource %s does not exist.", arn)
			}
			tags, err := fn(d.db.Tags)
			if err != nil {
				return nil, err
			}
			d.db.Tags = tags
			return nil, nil
		}
		cur := st.table(db, table)
		if cur == nil {
			return nil, errorf(ErrNotFound, "The resource %s does not exist.", arn)
		}
		e := st.mutTable(cur.t.ID)
		tags, err := fn(e.t.Tags)
		if err != nil {
			return nil, err
		}
		e.t.Tags = tags
		return []Table{cloneTable(e.t)}, nil
	})
}
