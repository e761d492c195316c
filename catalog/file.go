package catalog

import (
	"github.com/tidaldb/tidal/internal/fileutil"

	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"time"

	"github.com/tidaldb/tidal/ingest"
)

// ErrCorrupt is wrapped by Open when catalog.json cannot be decoded or
// violates the catalog's invariants.
var ErrCorrupt = errors.New("catalog: corrupt catalog file")

// fileVersion is the version of the catalog.json format written by this
// package.
const fileVersion = 1

// The on-disk format. Times are Unix nanoseconds; kinds and types are
// spelled out so the file stays readable and stable if enums are renumbered.
type fileCatalog struct {
	Version     int         `json:"version"`
	NextTableID uint64      `json:"next_table_id"`
	Databases   []fileDB    `json:"databases"`
	Tables      []fileTable `json:"tables"`
}

type fileDB struct {
	Name     string    `json:"name"`
	KmsKeyID string    `json:"kms_key_id,omitempty"`
	Created  int64     `json:"created"`
	Updated  int64     `json:"updated"`
	Tags     []fileTag `json:"tags,omitempty"`
}

type fileTag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type fileTable struct {
	ID             uint64          `json:"id"`
	Database       string          `json:"database"`
	Name           string          `json:"name"`
	Status         string          `json:"status"`
	MemoryHours    int64           `json:"memory_hours"`
	MagneticDays   int64           `json:"magnetic_days"`
	MagneticWrites fileMagnetic    `json:"magnetic_writes"`
	PartitionKeys  []filePartition `json:"partition_keys"`
	Created        int64           `json:"created"`
	Updated        int64           `json:"updated"`
	Tags           []fileTag       `json:"tags,omitempty"`
	Columns        []fileColumn    `json:"columns,omitempty"`
}

type fileMagnetic struct {
	Enabled            bool   `json:"enabled"`
	S3Bucket           string `json:"s3_bucket,omitempty"`
	S3Prefix           string `json:"s3_prefix,omitempty"`
	S3EncryptionOption string `json:"s3_encryption_option,omitempty"`
	S3KmsKeyID         string `json:"s3_kms_key_id,omitempty"`
}

type filePartition struct {
	Type        string `json:"type"`
	Name        string `json:"name,omitempty"`
	Enforcement string `json:"enforcement,omitempty"`
}

type fileColumn struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
	Type string `json:"type"`
}

var fileKinds = map[ColumnKind]string{
	KindDimension:   "dimension",
	KindMeasureName: "measure_name",
	KindAttribute:   "attribute",
}

func parseFileKind(s string) (ColumnKind, bool) {
	for k, v := range fileKinds {
		if v == s {
			return k, true
		}
	}
	return 0, false
}

func fromNanos(ns int64) time.Time { return time.Unix(0, ns).UTC() }

func toFileTags(tags []Tag) []fileTag {
	if len(tags) == 0 {
		return nil
	}
	out := make([]fileTag, len(tags))
	for i, t := range tags {
		out[i] = fileTag(t)
	}
	return out
}

func fromFileTags(tags []fileTag) []Tag {
	if len(tags) == 0 {
		return nil
	}
	out := make([]Tag, len(tags))
	for i, t := range tags {
		out[i] = Tag(t)
	}
	return out
}

// encode renders st deterministically: databases by name, tables by ID.
func encode(st *state) ([]byte, error) {
	f := fileCatalog{Version: fileVersion, NextTableID: st.nextID, Databases: []fileDB{}, Tables: []fileTable{}}
	for _, name := range st.dbNames() {
		d := st.dbs[name].db
		f.Databases = append(f.Databases, fileDB{
			Name: d.Name, KmsKeyID: d.KmsKeyID,
			Created: d.Created.UnixNano(), Updated: d.Updated.UnixNano(),
			Tags: toFileTags(d.Tags),
		})
	}
	ids := make([]uint64, 0, len(st.tables))
	for id := range st.tables {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		t := &st.tables[id].t
		ft := fileTable{
			ID: t.ID, Database: t.Database, Name: t.Name, Status: t.Status,
			MemoryHours: t.Retention.MemoryHours, MagneticDays: t.Retention.MagneticDays,
			MagneticWrites: fileMagnetic(t.MagneticWrites),
			Created:        t.Created.UnixNano(), Updated: t.Updated.UnixNano(),
			Tags: toFileTags(t.Tags),
		}
		for _, pk := range t.PartitionKeys {
			ft.PartitionKeys = append(ft.PartitionKeys, filePartition(pk))
		}
		for _, c := range t.Columns {
			ft.Columns = append(ft.Columns, fileColumn{Name: c.Name, Kind: fileKinds[c.Kind], Type: c.Type.String()})
		}
		f.Tables = append(f.Tables, ft)
	}
	data, err := json.MarshalIndent(&f, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode catalog: %w", err)
	}
	return append(data, '\n'), nil
}

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}

// decode parses and checks a catalog file. It never panics; any problem is
// an error wrapping ErrCorrupt.
func decode(data []byte) (*state, error) {
	var f fileCatalog
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, corrupt("%v", err)
	}
	if dec.More() {
		return nil, corrupt("trailing data after the catalog object")
	}
	if f.Version != fileVersion {
		return nil, corrupt("unsupported version %d (want %d)", f.Version, fileVersion)
	}
	if f.NextTableID == 0 {
		return nil, corrupt("next_table_id must be at least 1")
	}
	st := newState()
	st.nextID = f.NextTableID
	for _, fd := range f.Databases {
		if err := validateName("database", fd.Name); err != nil {
			return nil, corrupt("%v", err)
		}
		if _, dup := st.dbs[fd.Name]; dup {
			return nil, corrupt("duplicate database %q", fd.Name)
		}
		if len(fd.KmsKeyID) > MaxKmsKeyIDLen {
			return nil, corrupt("database %q: KMS key ID too long", fd.Name)
		}
		tags := fromFileTags(fd.Tags)
		if err := checkTags(tags); err != nil {
			return nil, corrupt("database %q: %v", fd.Name, err)
		}
		st.dbs[fd.Name] = &dbEntry{
			db:     Database{Name: fd.Name, KmsKeyID: fd.KmsKeyID, Created: fromNanos(fd.Created), Updated: fromNanos(fd.Updated), Tags: tags},
			tables: map[string]uint64{},
		}
	}
	for _, ft := range f.Tables {
		if ft.ID == 0 || ft.ID >= f.NextTableID {
			return nil, corrupt("table %q: id %d outside [1, %d)", ft.Name, ft.ID, f.NextTableID)
		}
		if _, dup := st.tables[ft.ID]; dup {
			return nil, corrupt("duplicate table id %d", ft.ID)
		}
		d, ok := st.dbs[ft.Database]
		if !ok {
			return nil, corrupt("table %q: unknown database %q", ft.Name, ft.Database)
		}
		if err := validateName("table", ft.Name); err != nil {
			return nil, corrupt("%v", err)
		}
		if _, dup := d.tables[ft.Name]; dup {
			return nil, corrupt("duplicate table %s.%s", ft.Database, ft.Name)
		}
		if ft.Status != StatusActive {
			return nil, corrupt("table %s.%s: invalid status %q", ft.Database, ft.Name, ft.Status)
		}
		t := Table{
			ID: ft.ID, Database: ft.Database, Name: ft.Name, Status: ft.Status,
			Retention:      Retention{MemoryHours: ft.MemoryHours, MagneticDays: ft.MagneticDays},
			MagneticWrites: MagneticWrites(ft.MagneticWrites),
			Created:        fromNanos(ft.Created), Updated: fromNanos(ft.Updated),
			Tags: fromFileTags(ft.Tags),
		}
		for _, pk := range ft.PartitionKeys {
			t.PartitionKeys = append(t.PartitionKeys, PartitionKey(pk))
		}
		if err := firstErr(validateRetention(t.Retention), validateMagneticWrites(t.MagneticWrites),
			validatePartitionKeys(t.PartitionKeys), checkTags(t.Tags)); err != nil {
			return nil, corrupt("table %s.%s: %v", ft.Database, ft.Name, err)
		}
		te := &tableEntry{t: t, cols: make(map[string]int, len(ft.Columns))}
		for _, fc := range ft.Columns {
			kind, ok := parseFileKind(fc.Kind)
			if !ok {
				return nil, corrupt("table %s.%s: column %q has unknown kind %q", ft.Database, ft.Name, fc.Name, fc.Kind)
			}
			typ, err := ingest.ParseValueType(fc.Type)
			if err != nil || fc.Type == "" {
				return nil, corrupt("table %s.%s: column %q has unknown type %q", ft.Database, ft.Name, fc.Name, fc.Type)
			}
			col := Column{Name: fc.Name, Kind: kind, Type: typ}
			if err := validateColumn(col); err != nil {
				return nil, corrupt("table %s.%s: %v", ft.Database, ft.Name, err)
			}
			if _, dup := te.cols[col.Name]; dup {
				return nil, corrupt("table %s.%s: duplicate column %q", ft.Database, ft.Name, col.Name)
			}
			te.cols[col.Name] = len(te.t.Columns)
			te.t.Columns = append(te.t.Columns, col)
		}
		st.tables[t.ID] = te
		d.tables[t.Name] = t.ID
	}
	return st, nil
}

// checkTags validates tags and rejects duplicate keys.
func checkTags(tags []Tag) error {
	if err := validateTags(tags); err != nil {
		return err
	}
	seen := make(map[string]bool, len(tags))
	for _, t := range tags {
		if seen[t.Key] {
			return errorf(ErrValidation, "Duplicate tag key %q.", t.Key)
		}
		seen[t.Key] = true
	}
	return nil
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// persist writes st to catalog.json crash-safely: temporary file, fsync,
// rename, directory fsync. With no directory it does nothing.
func (c *Catalog) persist(st *state) error {
	if c.dir == "" {
		return nil
	}
	data, err := encode(st)
	if err != nil {
		return err
	}
	if err := fileutil.WriteFileAtomic(c.fs, filepath.Join(c.dir, FileName), data, 0o644); err != nil {
		return fmt.Errorf("replace catalog file: %w", err)
	}
	return nil
}
