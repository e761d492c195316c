package memstore

import (
	"context"
	"fmt"
	"sort"

	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/query/scan"
)

// writeMagnetic writes late records (older than the memory window, inside
// the magnetic window of a table that allows magnetic store writes) straight
// to the magnetic tier as one part, durable when it returns. recs[i] for i in
// idx are validated and have sorted dimensions.
//
// As in Timestream, version conflicts of magnetic store writes are not
// reported synchronously: a row with a higher version wins when read, and of
// two rows with the same version the later write wins.
func (db *DB) writeMagnetic(ctx context.Context, t *table, recs []ingest.Record, idx []int) error {
	type series struct {
		rec  *ingest.Record // the first record, for the identity
		rows []int
	}
	bySeries := map[string]*series{}
	var key []byte
	for _, i := range idx {
		r := &recs[i]
		key = seriesKey(key[:0], r.MeasureName, r.Dimensions)
		s := bySeries[string(key)]
		if s == nil {
			s = &series{rec: r}
			bySeries[string(key)] = s
		}
		s.rows = append(s.rows, i)
	}
	keys := make([]string, 0, len(bySeries))
	for k := range bySeries {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	batches := make([]*scan.Batch, 0, len(keys))
	var names []string
	var vals []ingest.Value
	for _, k := range keys {
		s := bySeries[k]
		// Time order; of equal times the last in the request wins.
		sort.SliceStable(s.rows, func(a, b int) bool { return recs[s.rows[a]].Time < recs[s.rows[b]].Time })
		b := &scan.Batch{Series: scan.Series{Key: k, Dimensions: s.rec.Dimensions, MeasureName: s.rec.MeasureName}}
		for n, i := range s.rows {
			r := &recs[i]
			if n+1 < len(s.rows) && recs[s.rows[n+1]].Time == r.Time {
				continue
			}
			row := len(b.Time)
			b.Time = append(b.Time, r.Time)
			b.Version = append(b.Version, max(r.Version, 1))
			names, vals = recordValues(r, names[:0], vals[:0])
			for c, name := range names {
				col := b.Column(name)
				if col == nil {
					b.Columns = append(b.Columns, scan.Column{Name: name, Type: vals[c].Type})
					col = &b.Columns[len(b.Columns)-1]
				}
				if col.Type != vals[c].Type {
					return fmt.Errorf("memstore: magnetic write: column %q is %s and %s in one series", name, col.Type, vals[c].Type)
				}
				putValue(col, row, vals[c])
			}
		}
		for c := range b.Columns {
			for b.Columns[c].Len() < len(b.Time) {
				appendNull(&b.Columns[c])
			}
		}
		batches = append(batches, b)
	}
	if err := db.opts.PartWriter.WritePart(ctx, t.id, scan.NewSlice(batches)); err != nil {
		return fmt.Errorf("memstore: magnetic write to %s.%s: %w", t.database, t.name, err)
	}
	return nil
}

// putValue sets row number row of c to v, padding the rows before it with
// NULLs.
func putValue(c *scan.Column, row int, v ingest.Value) {
	for c.Len() < row {
		appendNull(c)
	}
	if c.Null != nil {
		c.Null = append(c.Null, false)
	}
	appendPayload(c, v)
}

// appendNull appends a NULL row to c.
func appendNull(c *scan.Column) {
	if c.Null == nil {
		c.Null = make([]bool, c.Len())
	}
	c.Null = append(c.Null, true)
	appendPayload(c, ingest.Value{Type: c.Type})
}

// appendPayload appends v's payload to the typed slice of c.
func appendPayload(c *scan.Column, v ingest.Value) {
	switch c.Type {
	case ingest.TypeDouble:
		c.F = append(c.F, v.Float())
	case ingest.TypeBigint, ingest.TypeTimestamp:
		c.I = append(c.I, v.Int())
	case ingest.TypeVarchar:
		c.S = append(c.S, v.Str)
	case ingest.TypeBoolean:
		c.B = append(c.B, v.Bool())
	}
}
