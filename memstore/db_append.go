package memstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/query/scan"
)

// ErrClosed is returned by Append after Close.
var ErrClosed = errors.New("memstore: closed")

// measureValueCol is the column name single-measure values are kept under.
const measureValueCol = scan.ColMeasureValue

// Append implements ingest.Appender: it validates recs, applies Timestream's
// window, schema and upsert rules, logs the accepted records to the WAL and
// returns once they are durable.
//
// The order is log first, then apply (see stage and commit): a row becomes
// visible to scans, flushes and checkpoints only after its WAL record is
// durable under the sync policy, and a row whose WAL append failed is
// dropped without ever having been visible. An Append is acknowledged (nil
// error) only when every row it reports accepted is durable: its own WAL
// record, or a committed row with the same values.
func (db *DB) Append(ctx context.Context, dbName, tableName string, recs []ingest.Record, opts ingest.AppendOptions) (ingest.Result, error) {
	select {
	case <-db.stop:
		return ingest.Result{}, ErrClosed
	default:
	}
	var res ingest.Result
	reject := func(i int, reason string, existing int64) {
		res.Rejected = append(res.Rejected, ingest.Rejection{Index: i, Reason: reason, ExistingVersion: existing})
	}
	t, err := db.table(dbName, tableName, false)
	if err != nil && opts.CreateTable && catalog.IsNotFound(err) {
		// A batch with nothing the new table could store creates neither
		// the table nor its database.
		var stored bool
		if stored, err = db.anyStorable(dbName, tableName, recs, reject); err != nil {
			return ingest.Result{}, err
		}
		if !stored {
			db.m.records.WithLabelValues("rejected").Add(float64(len(res.Rejected)))
			return res, nil
		}
		res.Rejected = res.Rejected[:0]
		t, err = db.table(dbName, tableName, true)
	}
	if err != nil {
		return ingest.Result{}, err
	}

	// Phase 1: validate.
	status, err := db.validate(t, recs, reject)
	if err != nil {
		return ingest.Result{}, err
	}
	defer putStatus(status)

	// Phase 2: decide each row under its series lock and stage it; encode
	// the rows to log. Nothing is visible yet.
	st, err := db.stage(t, recs, status, opts, reject)
	if err != nil {
		return ingest.Result{}, err
	}
	defer st.release()
	res.MemoryStore, res.MagneticStore = st.memory, st.magnetic

	// Phase 3: durability, then visibility.
	samples := st.samples
	if err := db.commit(ctx, t, st); err != nil {
		return ingest.Result{}, err
	}
	if st.magnetic > 0 && db.opts.PartWriter != nil {
		db.noteLate(st.magnetic)
	}
	sortRejections(res.Rejected)
	db.m.records.WithLabelValues("memory").Add(float64(res.MemoryStore))
	db.m.records.WithLabelValues("magnetic").Add(float64(res.MagneticStore))
	db.m.records.WithLabelValues("rejected").Add(float64(len(res.Rejected)))
	db.m.samples.Add(float64(samples))
	return res, nil
}

// validate is phase 1 of Append: per-record validation (the shared ingest
// rules, then names, values, the time window, series and schema), under one
// read lock of the table, and the schema columns the batch adds. It returns
// each record's status; rejected records are reported through reject.
func (db *DB) validate(t *table, recs []ingest.Record, reject func(int, string, int64)) ([]recStatus, error) {
	now := db.now()
	t.mu.RLock()
	memFrom := now.Add(-time.Duration(t.memoryHours) * time.Hour).UnixNano()
	magFrom := now.Add(-time.Duration(t.magneticDays) * 24 * time.Hour).UnixNano()
	magWrites := t.magneticWrites
	t.mu.RUnlock()
	until := now.Add(db.opts.FutureWindow).UnixNano()

	// Phase 1: per-record validation, tier, series and schema, under one
	// read lock of the table. A record of a known series needs only its
	// measure checked: the series' dimensions were checked when it was
	// created, and a column never changes kind or type.
	//
	// Ingestors that send several samples of a series in one batch
	// (remote-write) give those records one shared dimension slice: a record
	// of the same series as the last one that passed the name and dimension
	// checks skips the sort, the key and the lookup (run), and, when that
	// record was accepted, the schema check of its dimensions too.
	status := getStatus(len(recs))
	var newCols []catalog.Column
	var keyBuf []byte
	var run *ingest.Record // last record whose name and dimensions passed
	var runS *memSeries
	runAccepted := false // run passed every phase 1 check
	// pending holds, by hint, the last record of a new series that passed
	// every phase 1 check (only batches that create series make it).
	var pending map[*ingest.SeriesHint]*ingest.Record
	t.mu.RLock()
	for i := range recs {
		r := &recs[i]
		var reason string
		var s *memSeries
		same := run != nil && sameSeries(r, run)
		// The shared rules of every ingestor first (ingest.ValidateRecord):
		// they bound the record's size before any sort, key or schema work.
		known := false
		if h := matchHint(r, t); h != nil {
			// A series this ingestor sent before (ingest.SeriesHint): its
			// name and dimensions passed every check, its measure columns
			// have the record's types, its attribute names passed theirs
			// (matchHint), and its dimensions are sorted. Without a
			// VARCHAR value, its size is the hinted record's too: only its
			// time is left for ingest.ValidateSample to check.
			if h.varchar || r.Time < ingest.MinTime || r.Time > ingest.MaxTime {
				reason = ingest.ValidateSample(r)
			}
			if reason == "" {
				reason = validateHinted(r)
			}
			if reason != "" {
				status[i].rejected = true
				reject(i, reason, 0)
				continue
			}
			if !inWindow(r.Time, memFrom, magFrom, until, magWrites, &status[i]) {
				reject(i, windowReason(memFrom, magFrom, until, magWrites), 0)
				continue
			}
			status[i].s = h.s
			run, runS, runAccepted = r, h.s, true
			continue
		}
		if p := pending[r.Hint]; p != nil && r.Hint != nil && sameSeries(r, p) && sameAttrs(r, p) {
			// A new series an earlier record of this batch passed every
			// check for, with the same measure names and types: as for a
			// hint, only the sample is left to check; stage finds the
			// series that record creates through the hint.
			if reason = ingest.ValidateSample(r); reason == "" {
				reason = validateHinted(r)
			}
			if reason != "" {
				status[i].rejected = true
				reject(i, reason, 0)
				continue
			}
			if !inWindow(r.Time, memFrom, magFrom, until, magWrites, &status[i]) {
				reject(i, windowReason(memFrom, magFrom, until, magWrites), 0)
				continue
			}
			run, runS, runAccepted = r, nil, true
			continue
		}
		if same {
			if reason = ingest.ValidateSample(r); reason == "" {
				reason, s = validateRepeat(r), runS
			}
		} else if s, known = lookupKnown(r, t, &keyBuf); known {
			// The series' name and dimensions passed every check when it
			// was created: only the sample is left to check.
			if reason = ingest.ValidateSample(r); reason == "" {
				reason = validateRepeat(r)
			}
		} else if reason = ingest.ValidateRecord(r); reason == "" {
			reason, s = validateRecord(r, t, &keyBuf)
		}
		if reason != "" {
			status[i].rejected = true
			reject(i, reason, 0)
			continue
		}
		if !same {
			run, runS, runAccepted = r, s, false
		}
		if !inWindow(r.Time, memFrom, magFrom, until, magWrites, &status[i]) {
			reject(i, windowReason(memFrom, magFrom, until, magWrites), 0)
			continue
		}
		status[i].s = s
		if same && runAccepted && repeatSkipsSchema && !r.IsMulti() && !run.IsMulti() && r.Value.Type == run.Value.Type {
			// The run's first record passed the schema check with this
			// measure name and type: this one would too.
			continue
		}
		if reason := t.checkSchemaLocked(r, s != nil || (same && runAccepted), &newCols); reason != "" {
			status[i].rejected = true
			reject(i, reason, 0)
			continue
		}
		runAccepted = true
		if s == nil && r.Hint != nil && len(r.Dimensions) > 0 {
			if pending == nil {
				pending = map[*ingest.SeriesHint]*ingest.Record{}
			}
			pending[r.Hint] = r
		}
	}
	t.mu.RUnlock()
	if len(newCols) > 0 {
		if err := db.addColumns(t, recs, status, newCols, reject); err != nil {
			return nil, err
		}
	}
	return status, nil
}

// repeatSkipsSchema lets a record of the same series as the accepted one
// before it (sameSeries), with the same measure type, skip the schema
// check; only a benchmark turns it off, to measure what it saves.
var repeatSkipsSchema = true

// inWindow reports whether time t falls in the memory store's window or,
// with magWrites, the magnetic store's, and marks st magnetic for the
// latter and rejected when it is in neither.
func inWindow(t, memFrom, magFrom, until int64, magWrites bool, st *recStatus) bool {
	switch {
	case t >= memFrom && t <= until:
		return true
	case magWrites && t >= magFrom && t < memFrom:
		st.magnetic = true
		return true
	}
	st.rejected = true
	return false
}

// seriesHint is the memstore's handle in an ingest.SeriesHint: the series
// the record with this dimension slice and measure name resolved to in
// table t, whose measure column has type typ or, for a multi-measure
// record (multi), whose attributes had the names and types of sig.
type seriesHint struct {
	t       *table
	s       *memSeries
	dims    *ingest.Dimension
	ndims   int
	measure string
	typ     ingest.ValueType
	multi   bool
	sig     []hintAttr
	// varchar: the measure or an attribute is a VARCHAR.
	varchar bool
}

// hintAttr is one attribute of the multi-measure record a hint was stored
// for.
type hintAttr struct {
	name string
	typ  ingest.ValueType
}

// matchHint returns the hint of r when it was stored for a record of the
// same series in t: same dimension slice, measure name and measure type
// or, for a multi-measure record, the same attribute names and types in
// the same order (so that the record passes the name and schema checks
// the hinted one passed).
func matchHint(r *ingest.Record, t *table) *seriesHint {
	if r.Hint == nil || len(r.Dimensions) == 0 {
		return nil
	}
	h, ok := r.Hint.Load().(*seriesHint)
	if !ok || !h.matches(r, t) {
		return nil
	}
	return h
}

func (h *seriesHint) matches(r *ingest.Record, t *table) bool {
	if h.t != t || h.dims != &r.Dimensions[0] || h.ndims != len(r.Dimensions) || h.measure != r.MeasureName {
		return false
	}
	if !r.IsMulti() {
		return !h.multi && h.typ == r.Value.Type
	}
	if !h.multi || len(h.sig) != len(r.Measures) {
		return false
	}
	for i := range r.Measures {
		if m := &r.Measures[i]; h.sig[i].typ != m.Value.Type || h.sig[i].name != m.Name {
			return false
		}
	}
	return true
}

// sameAttrs reports whether a and b have the same measure type or, both
// multi-measure, the same attribute names and types in the same order.
func sameAttrs(a, b *ingest.Record) bool {
	if a.IsMulti() != b.IsMulti() || len(a.Measures) != len(b.Measures) {
		return false
	}
	if !a.IsMulti() {
		return a.Value.Type == b.Value.Type
	}
	for i := range a.Measures {
		if x, y := &a.Measures[i], &b.Measures[i]; x.Value.Type != y.Value.Type || x.Name != y.Name {
			return false
		}
	}
	return true
}

// setHint stores s as the series of r (which passed validation: its
// dimensions are sorted and its measure columns have its types) in r's
// hint.
func setHint(r *ingest.Record, t *table, s *memSeries) {
	if r.Hint == nil || len(r.Dimensions) == 0 {
		return
	}
	if h, ok := r.Hint.Load().(*seriesHint); ok && h.s == s && h.matches(r, t) {
		return
	}
	h := &seriesHint{t: t, s: s, dims: &r.Dimensions[0], ndims: len(r.Dimensions), measure: r.MeasureName, typ: r.Value.Type,
		varchar: !r.IsMulti() && r.Value.Type == ingest.TypeVarchar}
	if r.IsMulti() {
		// The record's attributes are the ingestor's (reused batch after
		// batch): the hint keeps a copy of their names and types.
		h.multi, h.sig = true, make([]hintAttr, len(r.Measures))
		for i, m := range r.Measures {
			h.sig[i] = hintAttr{name: m.Name, typ: m.Value.Type}
			h.varchar = h.varchar || m.Value.Type == ingest.TypeVarchar
		}
	}
	r.Hint.Store(h)
}

// anyStorable reports whether a record of recs passes the shared ingest
// rules and falls in the time window of the table EnsureTable would create
// for dbName.tableName. When none does, every record is reported through
// reject.
func (db *DB) anyStorable(dbName, tableName string, recs []ingest.Record, reject func(int, string, int64)) (bool, error) {
	ct, err := db.cat.ImplicitTable(dbName, tableName)
	if err != nil {
		return false, err
	}
	now := db.now()
	memFrom := now.Add(-time.Duration(ct.Retention.MemoryHours) * time.Hour).UnixNano()
	magFrom := now.Add(-time.Duration(ct.Retention.MagneticDays) * 24 * time.Hour).UnixNano()
	until := now.Add(db.opts.FutureWindow).UnixNano()
	magWrites := ct.MagneticWrites.Enabled
	for i := range recs {
		r := &recs[i]
		if ingest.ValidateRecord(r) != "" {
			continue
		}
		if r.Time >= memFrom && r.Time <= until || magWrites && r.Time >= magFrom && r.Time < memFrom {
			return true, nil
		}
	}
	for i := range recs {
		reason := ingest.ValidateRecord(&recs[i])
		if reason == "" {
			reason = windowReason(memFrom, magFrom, until, magWrites)
		}
		reject(i, reason, 0)
	}
	return false, nil
}

// sameSeries reports whether a and b are records of one series because they
// share their dimension slice (not only equal dimensions) and measure name.
func sameSeries(a, b *ingest.Record) bool {
	return len(a.Dimensions) > 0 && len(a.Dimensions) == len(b.Dimensions) &&
		&a.Dimensions[0] == &b.Dimensions[0] && a.MeasureName == b.MeasureName
}

type recStatus struct {
	s        *memSeries // the record's series when phase 1 found it
	rejected bool
	magnetic bool
}

// recordValues lists a record's measure columns and values.
func recordValues(r *ingest.Record, names []string, vals []ingest.Value) ([]string, []ingest.Value) {
	if !r.IsMulti() {
		return append(names, measureValueCol), append(vals, r.Value)
	}
	for _, m := range r.Measures {
		names = append(names, m.Name)
		vals = append(vals, m.Value)
	}
	return names, vals
}

func sortRejections(rs []ingest.Rejection) {
	for i := 1; i < len(rs); i++ {
		for j := i; j > 0 && rs[j].Index < rs[j-1].Index; j-- {
			rs[j], rs[j-1] = rs[j-1], rs[j]
		}
	}
}

func windowReason(memFrom, magFrom, until int64, magWrites bool) string {
	from, store := memFrom, "memory store"
	if magWrites {
		from, store = magFrom, "data ingestion window"
	}
	f := func(ns int64) string { return time.Unix(0, ns).UTC().Format("2006-01-02T15:04:05.000Z") }
	return fmt.Sprintf("The record timestamp is outside the time range [%s, %s) of the %s.", f(from), f(until), store)
}

// validateRecord checks what the schema does not: names, values, version.
// It sorts the record's dimensions and, once they are known to be sane, looks
// the record's series up in t (whose lock the caller holds), building its key
// in *key: the dimensions of a known series were checked when it was created.
func validateRecord(r *ingest.Record, t *table, key *[]byte) (string, *memSeries) {
	if r.MeasureName == "" {
		return "Measure name must be specified.", nil
	}
	if reason := reservedName(r.MeasureName); reason != "" {
		return reason, nil
	}
	if len(r.Dimensions) == 0 {
		return "At least one dimension is required for a record.", nil
	}
	if r.Version < 0 {
		return fmt.Sprintf("Invalid version %d: the record version must be at least 1.", r.Version), nil
	}
	sortDims(r.Dimensions)
	*key = seriesKey((*key)[:0], r.MeasureName, r.Dimensions)
	s := t.series[string(*key)]
	if s == nil {
		if reason := validateDims(r); reason != "" {
			return reason, nil
		}
	}
	if reason := validateValues(r); reason != "" {
		return reason, nil
	}
	return "", s
}

// lookupKnown finds the series of r in t (whose lock the caller holds)
// before any validation of its name and dimensions, which a series in the
// index passed when it was created: most records of a steady load are of
// known series, and checking every label's size and UTF-8 again was the
// largest cost of Append. It sorts the dimensions and builds the key in
// *key only when the record is within the dimension count bound, so that
// the sort is cheap; otherwise, and for an unknown series, it reports false
// and the full validation runs.
func lookupKnown(r *ingest.Record, t *table, key *[]byte) (*memSeries, bool) {
	if r.MeasureName == "" || len(r.Dimensions) == 0 || len(r.Dimensions) > ingest.MaxDimensions {
		return nil, false
	}
	sortDims(r.Dimensions)
	*key = seriesKey((*key)[:0], r.MeasureName, r.Dimensions)
	s := t.series[string(*key)]
	return s, s != nil
}

// validateRepeat is validateRecord for a record of the same series as one
// that passed it (sameSeries): its name and dimensions are known to be good
// and sorted, and its series was looked up.
func validateRepeat(r *ingest.Record) string {
	if r.Version < 0 {
		return fmt.Sprintf("Invalid version %d: the record version must be at least 1.", r.Version)
	}
	return validateValues(r)
}

// validateHinted is validateRecord for a record whose hint matched
// (matchHint): its name, dimensions and measure names and types are those
// of a record that passed it.
func validateHinted(r *ingest.Record) string {
	if r.Version < 0 {
		return fmt.Sprintf("Invalid version %d: the record version must be at least 1.", r.Version)
	}
	return ""
}

// validateDims checks the sorted dimensions of r.
func validateDims(r *ingest.Record) string {
	for i, d := range r.Dimensions {
		if d.Name == "" {
			return "Dimension name must not be empty."
		}
		if d.Value == "" {
			return fmt.Sprintf("Dimension %q has an empty value.", d.Name)
		}
		if reason := reservedName(d.Name); reason != "" {
			return reason
		}
		if i > 0 && r.Dimensions[i-1].Name == d.Name {
			return fmt.Sprintf("Duplicate dimension name %q in record.", d.Name)
		}
		if d.Name == r.MeasureName {
			return fmt.Sprintf("Dimension name %q is the same as the measure name.", d.Name)
		}
	}
	return ""
}

// validateValues checks the measure value or the multi-measure attributes
// of r.
func validateValues(r *ingest.Record) string {
	if !r.IsMulti() {
		switch r.Value.Type {
		case ingest.TypeDouble, ingest.TypeBigint, ingest.TypeVarchar, ingest.TypeBoolean:
		case ingest.TypeTimestamp:
			return "TIMESTAMP is an invalid measure value type for a single-measure record; use it inside a MULTI record."
		default:
			return fmt.Sprintf("Invalid measure value type %s.", r.Value.Type)
		}
		return ""
	}
	for i, m := range r.Measures {
		if m.Name == "" {
			return "Multi-measure attribute name must not be empty."
		}
		if reason := reservedName(m.Name); reason != "" {
			return reason
		}
		switch m.Value.Type {
		case ingest.TypeDouble, ingest.TypeBigint, ingest.TypeVarchar, ingest.TypeBoolean, ingest.TypeTimestamp:
		default:
			return fmt.Sprintf("Invalid type %s for multi-measure attribute %q.", m.Value.Type, m.Name)
		}
		for _, o := range r.Measures[:i] {
			if o.Name == m.Name {
				return fmt.Sprintf("Duplicate multi-measure attribute name %q.", m.Name)
			}
		}
		if _, dup := dimValue(r.Dimensions, m.Name); dup {
			return fmt.Sprintf("Multi-measure attribute %q has the name of a dimension.", m.Name)
		}
	}
	return ""
}

func reservedName(n string) string {
	switch {
	case n == scan.ColTime, n == scan.ColMeasureValue, n == "ts_non_existent_col", n == scan.ColMeasureName:
		return fmt.Sprintf("%q is a reserved name and cannot be used as a dimension or measure name.", n)
	case strings.HasPrefix(n, "ts_"), strings.HasPrefix(n, "measure_value::"):
		return fmt.Sprintf("Name %q is not allowed: names may not start with ts_ or measure_value::.", n)
	}
	return ""
}

// checkSchemaLocked compares the record's columns with the table's schema,
// collecting unknown columns into newCols. It returns a reason when a column
// exists with another kind or type.
// The caller holds t.mu; known says the record's series exists, so that its
// dimensions need no check.
func (t *table) checkSchemaLocked(r *ingest.Record, known bool, newCols *[]catalog.Column) string {
	check := func(name string, kind catalog.ColumnKind, typ ingest.ValueType) string {
		c, ok := t.schema[name]
		if !ok {
			for _, n := range *newCols {
				if n.Name == name {
					if n.Kind != kind || n.Type != typ {
						return conflictReason(name, kind, typ, uint8(n.Kind), n.Type)
					}
					return ""
				}
			}
			*newCols = append(*newCols, catalog.Column{Name: name, Kind: kind, Type: typ})
			return ""
		}
		if catalog.ColumnKind(c.kind) != kind || c.typ != typ {
			return conflictReason(name, kind, typ, c.kind, c.typ)
		}
		return ""
	}
	for _, d := range r.Dimensions {
		if known {
			break
		}
		if reason := check(d.Name, catalog.KindDimension, ingest.TypeVarchar); reason != "" {
			return reason
		}
	}
	typ := r.Value.Type
	if r.IsMulti() {
		typ = ingest.TypeMulti
	}
	if reason := check(r.MeasureName, catalog.KindMeasureName, typ); reason != "" {
		return reason
	}
	for _, m := range r.Measures {
		if reason := check(m.Name, catalog.KindAttribute, m.Value.Type); reason != "" {
			return reason
		}
	}
	return ""
}

func conflictReason(name string, kind catalog.ColumnKind, typ ingest.ValueType, haveKind uint8, haveTyp ingest.ValueType) string {
	what := func(k catalog.ColumnKind, t ingest.ValueType) string {
		switch k {
		case catalog.KindDimension:
			return "a dimension"
		case catalog.KindMeasureName:
			return "a measure of type " + t.String()
		default:
			return "a multi-measure attribute of type " + t.String()
		}
	}
	return fmt.Sprintf("Column %q already exists in the table as %s; the record uses it as %s.",
		name, what(catalog.ColumnKind(haveKind), haveTyp), what(kind, typ))
}

// addColumns persists new schema columns in the catalog. If the catalog
// refuses some (limits, races with other writers), the records that need
// them are rejected and the rest go on.
func (db *DB) addColumns(t *table, recs []ingest.Record, status []recStatus, cols []catalog.Column, reject func(int, string, int64)) error {
	err := db.cat.AddColumns(t.id, cols)
	if err == nil {
		t.mu.Lock()
		for _, c := range cols {
			t.schema[c.Name] = schemaCol{kind: uint8(c.Kind), typ: c.Type}
		}
		t.mu.Unlock()
		return nil
	}
	var ce *catalog.Error
	if !errors.As(err, &ce) {
		return fmt.Errorf("memstore: add columns to table %s.%s: %w", t.database, t.name, err)
	}
	// Add one at a time to find the refused ones.
	refused := map[string]string{}
	for _, c := range cols {
		if err := db.cat.AddColumns(t.id, []catalog.Column{c}); err != nil {
			if !errors.As(err, &ce) {
				return fmt.Errorf("memstore: add column %q: %w", c.Name, err)
			}
			refused[c.Name] = ce.Message
			continue
		}
		t.mu.Lock()
		t.schema[c.Name] = schemaCol{kind: uint8(c.Kind), typ: c.Type}
		t.mu.Unlock()
	}
	for i := range recs {
		if status[i].rejected {
			continue
		}
		r := &recs[i]
		reason := refused[r.MeasureName]
		for _, d := range r.Dimensions {
			if reason == "" {
				reason = refused[d.Name]
			}
		}
		for _, m := range r.Measures {
			if reason == "" {
				reason = refused[m.Name]
			}
		}
		if reason != "" {
			status[i].rejected = true
			reject(i, reason, 0)
		}
	}
	return nil
}

// createSeries adds the series of r (whose key is key) to t, unless a
// concurrent writer did first. It returns nil when MaxSeries is reached.
func (db *DB) createSeries(t *table, key []byte, r *ingest.Record) (*memSeries, error) {
	return db.createSeriesLimit(t, key, r, true)
}

// createSeriesLimit is createSeries; limit says whether MaxSeries applies.
func (db *DB) createSeriesLimit(t *table, key []byte, r *ingest.Record, limit bool) (*memSeries, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.dropped {
		return nil, fmt.Errorf("memstore: table %s.%s was deleted", t.database, t.name)
	}
	if s := t.series[string(key)]; s != nil {
		return s, nil
	}
	if limit && db.opts.MaxSeries > 0 && db.nseries.Load() >= int64(db.opts.MaxSeries) {
		return nil, nil
	}
	db.nseries.Add(1)
	k := string(key)
	s := &memSeries{
		ref:     db.nextRef.Add(1),
		tableID: t.id,
		key:     k,
	}
	t.addSeries(s)
	return s, nil
}
