// Package catalog owns TidalDB's metadata: databases and tables with their
// properties (retention, magnetic-store writes, partition keys), tags, and
// the schema-on-write columns each table has acquired. The Timestream Write
// API, the memstore, magnetic retention and the query layer all read it; only
// this package writes it.
//
// The whole catalog lives in memory and is persisted as one JSON file,
// catalog.json, in the data directory. Every change writes a complete new
// file to a temporary name, fsyncs it, renames it over catalog.json and
// fsyncs the directory, so after a crash the file is either the old or the
// new version, never a mix. A change is visible to readers only once it is
// durable; if persisting fails the change is discarded and the error is
// returned.
//
// Catalog is safe for concurrent use. Reads take a shared lock and return
// copies. Changes are serialised; each builds a new version of the catalog,
// persists it and swaps it in under a brief exclusive lock, so readers never
// wait for a disk write. Subscribers are notified of table changes in commit
// order, outside the locks.
package catalog

import (
	"github.com/tidaldb/tidal/internal/fileutil"

	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tidaldb/tidal/ingest"
)

// FileName is the name of the catalog file inside Options.Dir.
const FileName = "catalog.json"

// Table statuses, as Timestream reports them.
const (
	StatusActive = "ACTIVE"
	// StatusDeleting is the status of the Table value passed to
	// subscribers when a table has been deleted.
	StatusDeleting = "DELETING"
)

// Partition key types and enforcement levels.
const (
	PartitionKeyDimension = "DIMENSION"
	PartitionKeyMeasure   = "MEASURE"
	EnforcementRequired   = "REQUIRED"
	EnforcementOptional   = "OPTIONAL"
)

// S3 encryption options of MagneticWrites.
const (
	EncryptionSSES3  = "SSE_S3"
	EncryptionSSEKMS = "SSE_KMS"
)

// Timestream limits enforced by the catalog.
const (
	MinNameLen          = 3
	MaxNameLen          = 256
	MinMemoryHours      = 1
	MaxMemoryHours      = 8766
	MinMagneticDays     = 1
	MaxMagneticDays     = 73000
	MaxTagsPerResource  = 200
	MaxTagKeyLen        = 128
	MaxTagValueLen      = 256
	MaxDimensionNameLen = 60
	MaxMeasureNameLen   = 256
	MaxKmsKeyIDLen      = 2048
)

// Timestream's default retention: 6 hours in memory, 73000 days on
// magnetic storage.
const (
	DefaultMemoryHours  = 6
	DefaultMagneticDays = 73000
)

// Retention is how long a table keeps records in each tier, counted from the
// record's time.
type Retention struct {
	MemoryHours  int64
	MagneticDays int64
}

// MagneticWrites are a table's magnetic store write properties. The S3
// fields describe where Timestream would report asynchronously rejected
// records; TidalDB stores and returns them.
type MagneticWrites struct {
	Enabled            bool
	S3Bucket           string
	S3Prefix           string
	S3EncryptionOption string
	S3KmsKeyID         string
}

// PartitionKey is one entry of a table's composite partition key.
type PartitionKey struct {
	// Type is PartitionKeyDimension or PartitionKeyMeasure.
	Type string
	// Name is the dimension name (DIMENSION keys only).
	Name string
	// Enforcement is EnforcementRequired, EnforcementOptional or empty.
	Enforcement string
}

// Tag is a key/value label on a database or table.
type Tag struct {
	Key   string
	Value string
}

// ColumnKind says what a schema-on-write column holds.
type ColumnKind uint8

// Column kinds.
const (
	// KindDimension is a dimension (always VARCHAR).
	KindDimension ColumnKind = iota + 1
	// KindMeasureName is a measure name: of a single-measure record (Type
	// is the value's type) or of a multi-measure record (Type is
	// ingest.TypeMulti).
	KindMeasureName
	// KindAttribute is a multi-measure attribute column.
	KindAttribute
)

var kindNames = [...]string{"", "dimension", "measure name", "multi-measure attribute"}

// String returns a human-readable name ("dimension", ...).
func (k ColumnKind) String() string {
	if int(k) < len(kindNames) && k != 0 {
		return kindNames[k]
	}
	return fmt.Sprintf("ColumnKind(%d)", uint8(k))
}

// Column is one schema-on-write column of a table. Dimension names, measure
// names and multi-measure attribute names share one namespace per table.
type Column struct {
	Name string
	Kind ColumnKind
	Type ingest.ValueType
}

// Database is a Timestream database.
type Database struct {
	Name     string
	KmsKeyID string
	Created  time.Time
	Updated  time.Time
	Tags     []Tag
	// TableCount is computed when the value is returned.
	TableCount int
}

// Table is a Timestream table. Values returned by the Catalog are copies.
type Table struct {
	// ID identifies the table forever: it is never reused, even after the
	// table is deleted and a table of the same name is created.
	ID             uint64
	Database       string
	Name           string
	Status         string
	Retention      Retention
	MagneticWrites MagneticWrites
	PartitionKeys  []PartitionKey
	Created        time.Time
	Updated        time.Time
	Tags           []Tag
	// Columns in the order they were added.
	Columns []Column
}

// Column returns the column named name.
func (t *Table) Column(name string) (Column, bool) {
	for _, c := range t.Columns {
		if c.Name == name {
			return c, true
		}
	}
	return Column{}, false
}

// TableUpdate lists the properties UpdateTable changes; nil fields are left
// as they are. Each given field replaces the whole property.
type TableUpdate struct {
	Retention      *Retention
	MagneticWrites *MagneticWrites
	// PartitionKeys may only change the Enforcement of existing keys:
	// their number, order, types and names must be unchanged.
	PartitionKeys *[]PartitionKey
}

// Limits are the per-account and per-table quotas. Zero fields take the
// Timestream defaults.
type Limits struct {
	Databases          int // default 500
	Tables             int // default 50000 (all databases together)
	DimensionsPerTable int // default 128
	MeasureNames       int // default 8192 per table
	AttributesPerTable int // default 1024 multi-measure attributes per table
}

func (l *Limits) ensureDefaults() {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.Databases, 500)
	def(&l.Tables, 50000)
	def(&l.DimensionsPerTable, 128)
	def(&l.MeasureNames, 8192)
	def(&l.AttributesPerTable, 1024)
}

// Options configures Open.
type Options struct {
	// Dir is the data directory holding catalog.json. It is created if
	// missing. An empty Dir keeps the catalog in memory only.
	Dir string
	// FS is the file system catalog.json is written through. Default
	// fileutil.OS; tests inject faults through it.
	FS fileutil.FS
	// Now returns the current time; defaults to time.Now.
	Now func() time.Time
	// DefaultRetention applies to tables created without retention
	// properties; zero fields take the Timestream defaults (6 h, 73000 d).
	DefaultRetention Retention
	// ImplicitMagneticWrites enables magnetic store writes on tables that
	// EnsureTable creates (the ingestors' implicit tables), so that records
	// older than the memory retention (a backfill, a sender that was cut
	// off) are kept. Tables made by CreateTable take what the request says.
	ImplicitMagneticWrites bool
	// Region and Account appear in ARNs; defaults "us-east-1" and
	// "000000000000".
	Region  string
	Account string
	// Limits are the quotas; zero fields take the Timestream defaults.
	Limits Limits
}

// ErrorKind classifies catalog errors so that API layers can map them to
// their own error shapes.
type ErrorKind int

// Error kinds.
const (
	// ErrNotFound: the database, table or resource does not exist.
	ErrNotFound ErrorKind = iota + 1
	// ErrConflict: the database or table already exists.
	ErrConflict
	// ErrValidation: the request is invalid (names, ranges, schema).
	ErrValidation
	// ErrQuota: a quota would be exceeded.
	ErrQuota
)

// Error is a user-facing catalog error. Message is a sentence in
// Timestream's style, suitable for API responses.
type Error struct {
	Kind    ErrorKind
	Message string
}

// Error returns the message with the package prefix.
func (e *Error) Error() string { return "catalog: " + e.Message }

func errorf(kind ErrorKind, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

func isKind(err error, kind ErrorKind) bool {
	var e *Error
	return errors.As(err, &e) && e.Kind == kind
}

// IsNotFound reports whether err is a catalog ErrNotFound error.
func IsNotFound(err error) bool { return isKind(err, ErrNotFound) }

// IsConflict reports whether err is a catalog ErrConflict error.
func IsConflict(err error) bool { return isKind(err, ErrConflict) }

// IsValidation reports whether err is a catalog ErrValidation error.
func IsValidation(err error) bool { return isKind(err, ErrValidation) }

// IsQuota reports whether err is a catalog ErrQuota error.
func IsQuota(err error) bool { return isKind(err, ErrQuota) }

// Catalog is the set of databases and tables. Create it with Open.
type Catalog struct {
	// Immutable after Open.
	dir    string
	now    func() time.Time
	defRet Retention
	// implicitMag is Options.ImplicitMagneticWrites.
	implicitMag bool
	region      string
	account     string
	limits      Limits
	// fs is the file system catalog.json is written through.
	fs fileutil.FS

	// writeMu serialises changes, including their fsyncs, so that readers
	// only wait for mu while a finished state is swapped in.
	writeMu sync.Mutex

	mu      sync.RWMutex // Guards the fields below.
	st      *state       // Replaced, never mutated, once published.
	subs    []subscriber
	nextSub int
	pending []Table // Table change events not yet delivered.

	notifyMu sync.Mutex // Serialises delivery of pending events.
}

// Open loads the catalog from opts.Dir (a missing file is an empty catalog)
// and removes temporary files left by an interrupted write.
func Open(opts Options) (*Catalog, error) {
	c := &Catalog{
		dir:         opts.Dir,
		now:         opts.Now,
		defRet:      opts.DefaultRetention,
		implicitMag: opts.ImplicitMagneticWrites,
		region:      opts.Region,
		account:     opts.Account,
		limits:      opts.Limits,
		fs:          opts.FS,
	}
	if c.fs == nil {
		c.fs = fileutil.OS
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.defRet.MemoryHours == 0 {
		c.defRet.MemoryHours = DefaultMemoryHours
	}
	if c.defRet.MagneticDays == 0 {
		c.defRet.MagneticDays = DefaultMagneticDays
	}
	if err := validateRetention(c.defRet); err != nil {
		return nil, fmt.Errorf("validate default retention: %w", err)
	}
	if c.region == "" {
		c.region = "us-east-1"
	}
	if c.account == "" {
		c.account = "000000000000"
	}
	c.limits.ensureDefaults()
	c.st = newState()
	if c.dir == "" {
		return c, nil
	}
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return nil, fmt.Errorf("create catalog dir: %w", err)
	}
	if err := removeTemps(c.dir); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(filepath.Join(c.dir, FileName))
	switch {
	case errors.Is(err, os.ErrNotExist):
		return c, nil
	case err != nil:
		return nil, fmt.Errorf("read catalog: %w", err)
	}
	st, err := decode(data)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", filepath.Join(c.dir, FileName), err)
	}
	c.st = st
	return c, nil
}

func removeTemps(dir string) error {
	matches, err := filepath.Glob(filepath.Join(dir, FileName+".tmp*"))
	if err != nil {
		return fmt.Errorf("list catalog temp files: %w", err)
	}
	for _, m := range matches {
		if err := os.Remove(m); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove stale catalog temp file: %w", err)
		}
	}
	return nil
}

// clock returns the current time in UTC without a monotonic reading, at
// the nanosecond precision the file keeps.
func (c *Catalog) clock() time.Time {
	return time.Unix(0, c.now().UnixNano()).UTC()
}

// update applies fn to a copy of the state, persists the result and
// publishes it. fn returns the table change events to deliver. If fn or the
// write fails, the published state is unchanged.
//
// Changes are serialised by writeMu; the current state is only read while
// writeMu is held, so it cannot change between the clone and the publish,
// and readers are not blocked while the file is written and fsynced.
func (c *Catalog) update(fn func(st *state) ([]Table, error)) error {
	c.writeMu.Lock()
	c.mu.RLock()
	next := c.st.clone()
	c.mu.RUnlock()
	events, err := fn(next)
	if err == nil {
		err = c.persist(next)
	}
	if err != nil {
		c.writeMu.Unlock()
		return err
	}
	c.mu.Lock()
	c.st = next
	c.pending = append(c.pending, events...)
	c.mu.Unlock()
	c.writeMu.Unlock()
	c.deliver()
	return nil
}

// deliver hands pending events to subscribers in commit order. Holding
// notifyMu while draining keeps concurrent committers from reordering
// events; the catalog lock is not held while subscribers run, so they may
// read the catalog (but must not change it).
func (c *Catalog) deliver() {
	c.notifyMu.Lock()
	defer c.notifyMu.Unlock()
	for {
		c.mu.Lock()
		events, subs := c.pending, c.subs
		c.pending = nil
		c.mu.Unlock()
		if len(events) == 0 {
			return
		}
		for _, ev := range events {
			for _, sub := range subs {
				sub.fn(cloneTable(ev))
			}
		}
	}
}

// Subscribe registers fn to be called after every committed table change
// (create, update, delete, new columns, tags) with a copy of the table as it
// now is. A deleted table is passed with Status StatusDeleting. Calls are
// made one at a time in commit order, after the change is durable and
// visible, on the goroutine of the method that made the change (or of a
// concurrent one), before that method returns. fn may read the Catalog but
// must not change it, and callers of changing methods must not hold locks
// that fn takes.
//
// The returned function unsubscribes fn: no call starts after it returns
// that was not already being delivered. A component that closes calls it.
func (c *Catalog) Subscribe(fn func(Table)) (unsubscribe func()) {
	c.mu.Lock()
	c.nextSub++
	id := c.nextSub
	c.subs = append(slices.Clip(c.subs), subscriber{id: id, fn: fn})
	c.mu.Unlock()
	return func() {
		c.mu.Lock()
		c.subs = slices.DeleteFunc(slices.Clone(c.subs), func(s subscriber) bool { return s.id == id })
		c.mu.Unlock()
	}
}

// subscriber is one Subscribe registration.
type subscriber struct {
	id int
	fn func(Table)
}

// DatabaseARN returns the ARN of database db.
func (c *Catalog) DatabaseARN(db string) string {
	return "arn:aws:timestream:" + c.region + ":" + c.account + ":database/" + db
}

// TableARN returns the ARN of table db.table.
func (c *Catalog) TableARN(db, table string) string {
	return c.DatabaseARN(db) + "/table/" + table
}

// parseARN splits a Timestream database or table ARN. The region and
// account are not checked, so ARNs stay valid if the server's region
// setting changes.
func parseARN(arn string) (db, table string, err error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "timestream" {
		return "", "", errorf(ErrValidation, "Invalid resource ARN %q.", arn)
	}
	res := parts[5]
	rest, ok := strings.CutPrefix(res, "database/")
	if !ok || rest == "" {
		return "", "", errorf(ErrValidation, "Invalid resource ARN %q: expected database/{name} or database/{name}/table/{name}.", arn)
	}
	db, table, hasTable := strings.Cut(rest, "/table/")
	if hasTable && (table == "" || strings.Contains(table, "/")) || strings.Contains(db, "/") {
		return "", "", errorf(ErrValidation, "Invalid resource ARN %q: expected database/{name} or database/{name}/table/{name}.", arn)
	}
	return db, table, nil
}

// --- validation ---

func validName(s string) bool {
	if len(s) < MinNameLen || len(s) > MaxNameLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

func validateName(what, name string) error {
	if !validName(name) {
		return errorf(ErrValidation, "Invalid %s name %q: a name must be %d to %d bytes long and contain only letters, digits, '_', '.' and '-'.", what, name, MinNameLen, MaxNameLen)
	}
	return nil
}

func validateRetention(r Retention) error {
	if r.MemoryHours < MinMemoryHours || r.MemoryHours > MaxMemoryHours {
		return errorf(ErrValidation, "Memory store retention must be between %d and %d hours, got %d.", MinMemoryHours, MaxMemoryHours, r.MemoryHours)
	}
	if r.MagneticDays < MinMagneticDays || r.MagneticDays > MaxMagneticDays {
		return errorf(ErrValidation, "Magnetic store retention must be between %d and %d days, got %d.", MinMagneticDays, MaxMagneticDays, r.MagneticDays)
	}
	return nil
}

func validateMagneticWrites(m MagneticWrites) error {
	switch m.S3EncryptionOption {
	case "", EncryptionSSES3, EncryptionSSEKMS:
	default:
		return errorf(ErrValidation, "Invalid S3 encryption option %q: must be %s or %s.", m.S3EncryptionOption, EncryptionSSES3, EncryptionSSEKMS)
	}
	if m.S3Bucket != "" && (len(m.S3Bucket) < 3 || len(m.S3Bucket) > 63) {
		return errorf(ErrValidation, "Invalid S3 bucket name %q: must be 3 to 63 characters long.", m.S3Bucket)
	}
	if len(m.S3Prefix) > 928 {
		return errorf(ErrValidation, "S3 object key prefix is longer than 928 characters.")
	}
	if len(m.S3KmsKeyID) > MaxKmsKeyIDLen {
		return errorf(ErrValidation, "S3 KMS key ID is longer than %d characters.", MaxKmsKeyIDLen)
	}
	return nil
}

func validatePartitionKeys(keys []PartitionKey) error {
	if len(keys) == 0 {
		return errorf(ErrValidation, "The composite partition key must have at least one partition key.")
	}
	measures := 0
	for i, k := range keys {
		switch k.Type {
		case PartitionKeyMeasure:
			measures++
			if k.Name != "" {
				return errorf(ErrValidation, "Partition key %d of type MEASURE must not have a name.", i)
			}
		case PartitionKeyDimension:
			if k.Name == "" {
				return errorf(ErrValidation, "Partition key %d of type DIMENSION must name a dimension.", i)
			}
			if err := validateColumnName(KindDimension, k.Name); err != nil {
				return err
			}
		default:
			return errorf(ErrValidation, "Invalid partition key type %q: must be DIMENSION or MEASURE.", k.Type)
		}
		switch k.Enforcement {
		case "", EnforcementRequired, EnforcementOptional:
		default:
			return errorf(ErrValidation, "Invalid partition key enforcement %q: must be REQUIRED or OPTIONAL.", k.Enforcement)
		}
	}
	if measures > 1 {
		return errorf(ErrValidation, "The composite partition key may contain at most one MEASURE key.")
	}
	return nil
}

func validateTags(tags []Tag) error {
	if len(tags) > MaxTagsPerResource {
		return errorf(ErrValidation, "Too many tags: %d given, at most %d are allowed per resource.", len(tags), MaxTagsPerResource)
	}
	for _, t := range tags {
		if err := validateTagKey(t.Key); err != nil {
			return err
		}
		if len(t.Value) > MaxTagValueLen {
			return errorf(ErrValidation, "Tag value for key %q is longer than %d characters.", t.Key, MaxTagValueLen)
		}
	}
	return nil
}

func validateTagKey(k string) error {
	if k == "" || len(k) > MaxTagKeyLen {
		return errorf(ErrValidation, "Tag key %q must be 1 to %d characters long.", k, MaxTagKeyLen)
	}
	return nil
}

// reservedColumn reports whether name is one of Timestream's system
// identifiers or uses a reserved prefix.
func reservedColumn(name string) bool {
	switch name {
	case "time", "measure_value", "ts_non_existent_col":
		return true
	}
	return strings.HasPrefix(name, "ts_") || strings.HasPrefix(name, "measure_name")
}

func validateColumnName(kind ColumnKind, name string) error {
	switch kind {
	case KindDimension, KindAttribute:
		if name == "" {
			return errorf(ErrValidation, "A %s name must not be empty.", kind)
		}
		if kind == KindDimension && len(name) > MaxDimensionNameLen {
			return errorf(ErrValidation, "Dimension name %q is longer than %d bytes.", name, MaxDimensionNameLen)
		}
		if len(name) > MaxMeasureNameLen {
			return errorf(ErrValidation, "Measure name %q is longer than %d bytes.", name, MaxMeasureNameLen)
		}
		if reservedColumn(name) {
			return errorf(ErrValidation, "Column name %q is reserved: time, measure_value, ts_non_existent_col and names starting with ts_ or measure_name cannot be used.", name)
		}
	case KindMeasureName:
		if name == "" {
			return errorf(ErrValidation, "A measure name must not be empty.")
		}
		if len(name) > MaxMeasureNameLen {
			return errorf(ErrValidation, "Measure name %q is longer than %d bytes.", name, MaxMeasureNameLen)
		}
	default:
		return errorf(ErrValidation, "Invalid column kind %d for %q.", kind, name)
	}
	return nil
}

func validateColumn(col Column) error {
	if err := validateColumnName(col.Kind, col.Name); err != nil {
		return err
	}
	switch col.Kind {
	case KindDimension:
		if col.Type != ingest.TypeVarchar {
			return errorf(ErrValidation, "Dimension %q must be VARCHAR, got %s.", col.Name, col.Type)
		}
	case KindMeasureName:
		if col.Type < ingest.TypeDouble || col.Type > ingest.TypeMulti {
			return errorf(ErrValidation, "Measure %q has invalid type %s.", col.Name, col.Type)
		}
	case KindAttribute:
		if col.Type < ingest.TypeDouble || col.Type > ingest.TypeTimestamp {
			return errorf(ErrValidation, "Multi-measure attribute %q has invalid type %s.", col.Name, col.Type)
		}
	}
	return nil
}

// ValidName reports whether s is a valid database or table name: what a
// tenant header value must be to name a database.
func ValidName(s string) bool { return validName(s) }
