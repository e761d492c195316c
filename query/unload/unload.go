package unload

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/parquet-go/parquet-go"

	"github.com/tidaldb/tidal/query/exec"
)

// Inner is the engine UNLOAD runs its SELECT on; *exec.Engine is one.
type Inner interface {
	Stream(ctx context.Context, sql string, params map[string]exec.Value, sink exec.Sink) (exec.Stats, error)
	Query(ctx context.Context, sql string, params map[string]exec.Value) (*exec.Result, error)
	Prepare(sql string) ([]exec.Column, []exec.Param, error)
}

// Options configures an Engine.
type Options struct {
	// FileRoot enables file:// targets: file:///a/b is FileRoot/a/b.
	FileRoot string
	// S3 enables s3:// targets on an S3-compatible endpoint.
	S3 *S3Config
	// Targets, when set, are used instead of the ones FileRoot and S3 make
	// (by scheme: "file", "s3").
	Targets map[string]Target
	// MaxOpenFiles bounds the partitions written at once; when a row
	// needs one more, the least recently written file is finished (a
	// later row of its partition starts a new file). Default 100.
	MaxOpenFiles int
	// MaxBufferedBytes bounds the Parquet row groups held in memory over
	// all open files; past it the largest is written out. Default 256 MiB.
	MaxBufferedBytes int64
}

// Engine runs UNLOAD statements and passes every other statement to the
// engine it wraps.
type Engine struct {
	inner   Inner
	opts    Options
	targets map[string]Target
}

// New wraps inner.
func New(inner Inner, opts Options) *Engine {
	if opts.MaxOpenFiles <= 0 {
		opts.MaxOpenFiles = 100
	}
	if opts.MaxBufferedBytes <= 0 {
		opts.MaxBufferedBytes = 256 << 20
	}
	e := &Engine{inner: inner, opts: opts, targets: opts.Targets}
	if e.targets == nil {
		e.targets = map[string]Target{}
		if opts.FileRoot != "" {
			e.targets["file"] = &FileTarget{Root: opts.FileRoot}
		}
		if opts.S3 != nil {
			e.targets["s3"] = NewS3Target(*opts.S3)
		}
	}
	return e
}

// ResultColumns are the columns of an UNLOAD's answer, as Timestream
// returns them.
var ResultColumns = []exec.Column{
	{Name: "rows", Type: exec.Type{Kind: exec.KindBigint}},
	{Name: "metadataFile", Type: exec.Type{Kind: exec.KindVarchar}},
	{Name: "manifestFile", Type: exec.Type{Kind: exec.KindVarchar}},
}

// Result is what an UNLOAD wrote.
type Result struct {
	Rows         int64
	MetadataFile string
	ManifestFile string
	Manifest     Manifest
}

func (r *Result) row() []exec.Value {
	return []exec.Value{exec.Bigint(r.Rows), exec.Varchar(r.MetadataFile), exec.Varchar(r.ManifestFile)}
}

// Stream runs sql; an UNLOAD answers with one row of ResultColumns once
// every file is written.
func (e *Engine) Stream(ctx context.Context, sql string, params map[string]exec.Value, sink exec.Sink) (exec.Stats, error) {
	if !IsUnload(sql) {
		return e.inner.Stream(ctx, sql, params, sink)
	}
	res, stats, err := e.Unload(ctx, sql, params)
	if err != nil {
		return stats, err
	}
	if err := sink.Columns(ResultColumns); err != nil {
		return stats, err
	}
	return stats, sink.Row(res.row())
}

// Query runs sql, collecting its result.
func (e *Engine) Query(ctx context.Context, sql string, params map[string]exec.Value) (*exec.Result, error) {
	if !IsUnload(sql) {
		return e.inner.Query(ctx, sql, params)
	}
	res, stats, err := e.Unload(ctx, sql, params)
	if err != nil {
		return nil, err
	}
	return &exec.Result{Columns: ResultColumns, Rows: [][]exec.Value{res.row()}, Stats: stats}, nil
}

// Prepare reports the columns and parameters of sql.
func (e *Engine) Prepare(sql string) ([]exec.Column, []exec.Param, error) {
	if !IsUnload(sql) {
		return e.inner.Prepare(sql)
	}
	spec, err := Parse(sql)
	if err != nil {
		return nil, nil, err
	}
	_, params, err := e.inner.Prepare(spec.Query)
	if err != nil {
		return nil, nil, err
	}
	return ResultColumns, params, nil
}

type queryIDKey struct{}

// WithQueryID names the files of an UNLOAD run under ctx after id (the
// Query API's QueryId), as Timestream does; without it a fresh id is used.
func WithQueryID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, queryIDKey{}, id)
}

func newID() string {
	var b [20]byte
	_, _ = rand.Read(b[:])
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:])
}

// Unload runs an UNLOAD statement.
func (e *Engine) Unload(ctx context.Context, sql string, params map[string]exec.Value) (*Result, exec.Stats, error) {
	spec, err := Parse(sql)
	if err != nil {
		return nil, exec.Stats{}, err
	}
	t := e.targets[spec.To.Scheme]
	if t == nil {
		return nil, exec.Stats{}, &exec.Error{Kind: exec.ErrValidation,
			Msg: fmt.Sprintf("UNLOAD to %s:// is not configured on this server", spec.To.Scheme)}
	}
	return e.run(ctx, spec, t, params)
}

// run streams spec's query into files on t.
func (e *Engine) run(ctx context.Context, spec *Spec, t Target, params map[string]exec.Value) (*Result, exec.Stats, error) {
	qid, _ := ctx.Value(queryIDKey{}).(string)
	if qid == "" {
		qid = newID()
	}
	s := &sink{ctx: ctx, e: e, spec: spec, t: t, qid: qid, open: map[string]*openFile{}}
	stats, err := e.inner.Stream(ctx, spec.Query, params, s)
	if err == nil {
		err = s.finish()
	}
	if err != nil {
		s.abort()
		return nil, stats, err
	}
	return s.res, stats, nil
}

// RunSpec runs an already validated spec (tests set fields such as
// MaxFileSize below Timestream's minimum).
func (e *Engine) RunSpec(ctx context.Context, spec *Spec, params map[string]exec.Value) (*Result, exec.Stats, error) {
	t := e.targets[spec.To.Scheme]
	if t == nil {
		return nil, exec.Stats{}, fmt.Errorf("unload to %s://: %w", spec.To.Scheme, errNoTarget)
	}
	return e.run(ctx, spec, t, params)
}

// Manifest is Timestream's manifest file.
type Manifest struct {
	ResultFiles   []ResultFile  `json:"result_files"`
	QueryMetadata QueryMetadata `json:"query_metadata"`
	Author        struct {
		Name                string `json:"name"`
		ManifestFileVersion string `json:"manifest_file_version"`
	} `json:"author"`
}

// ResultFile is one data file of a manifest.
type ResultFile struct {
	URL          string `json:"url"`
	FileMetadata struct {
		ContentLengthInBytes int64 `json:"content_length_in_bytes"`
		RowCount             int64 `json:"row_count"`
	} `json:"file_metadata"`
}

// QueryMetadata sums a manifest's files.
type QueryMetadata struct {
	TotalContentLengthInBytes int64 `json:"total_content_length_in_bytes"`
	ResultFilesCount          int   `json:"result_files_count"`
	RowCount                  int64 `json:"row_count"`
}

// Metadata is Timestream's metadata file: the columns of the data files,
// in the Query API's ColumnInfo shape.
type Metadata struct {
	ColumnInfo []ColumnInfo `json:"ColumnInfo"`
	Author     struct {
		Name                string `json:"Name"`
		MetadataFileVersion string `json:"MetadataFileVersion"`
	} `json:"Author"`
}

// ColumnInfo is a column's name and scalar type.
type ColumnInfo struct {
	Name string `json:"Name"`
	Type struct {
		ScalarType string `json:"ScalarType"`
	} `json:"Type"`
}

type openFile struct {
	obj     Object
	w       rowWriter
	url     string
	rows    int64
	lastUse int64
}

// sink receives the inner query's rows and writes them to files.
type sink struct {
	ctx  context.Context
	e    *Engine
	spec *Spec
	t    Target
	qid  string

	cols     []exec.Column // file columns
	names    []string
	dataIdx  []int
	partIdx  []int
	partName []string
	schema   *parquet.Schema

	open    map[string]*openFile
	seq     int
	tick    int64
	data    []exec.Value
	rows    int64
	done    []ResultFile
	res     *Result
	buffers int64
}

func (s *sink) Columns(cols []exec.Column) error {
	used := map[int]bool{}
	for _, p := range s.spec.PartitionedBy {
		idx := -1
		for i, c := range cols {
			if strings.EqualFold(c.Name, p) {
				idx = i
				break
			}
		}
		if idx < 0 {
			return &exec.Error{Kind: exec.ErrValidation, Msg: fmt.Sprintf("partitioned_by column %s is not a column of the query", p)}
		}
		if used[idx] {
			return &exec.Error{Kind: exec.ErrValidation, Msg: fmt.Sprintf("partitioned_by names column %s twice", p)}
		}
		used[idx] = true
		s.partIdx = append(s.partIdx, idx)
		s.partName = append(s.partName, cols[idx].Name)
	}
	seen := map[string]bool{}
	for i, c := range cols {
		if seen[strings.ToLower(c.Name)] {
			return &exec.Error{Kind: exec.ErrValidation, Msg: fmt.Sprintf("UNLOAD needs unique column names: %s appears twice", c.Name)}
		}
		seen[strings.ToLower(c.Name)] = true
		if !used[i] {
			s.dataIdx = append(s.dataIdx, i)
			s.cols = append(s.cols, c)
			s.names = append(s.names, c.Name)
		}
	}
	if len(s.cols) == 0 {
		return &exec.Error{Kind: exec.ErrValidation, Msg: "UNLOAD needs at least one column that is not in partitioned_by"}
	}
	if s.spec.Format == FormatParquet {
		s.schema = parquetSchema(s.cols)
	}
	s.data = make([]exec.Value, len(s.cols))
	return nil
}

// partitionPath is "col=value/..." for row; NULL is Hive's default
// partition name.
func (s *sink) partitionPath(row []exec.Value) string {
	if len(s.partIdx) == 0 {
		return ""
	}
	var b strings.Builder
	for i, idx := range s.partIdx {
		b.WriteString(url.PathEscape(s.partName[i]))
		b.WriteByte('=')
		if row[idx].Null {
			b.WriteString("__HIVE_DEFAULT_PARTITION__")
		} else {
			b.WriteString(url.PathEscape(row[idx].String()))
		}
		b.WriteByte('/')
	}
	return b.String()
}

func (s *sink) ext() string {
	if s.spec.Format == FormatParquet {
		return ".parquet"
	}
	if s.spec.Gzip {
		return ".csv.gz"
	}
	return ".csv"
}

func (s *sink) location(rel string) (bucket, key, u string) {
	key = s.spec.To.Path + rel
	if s.spec.To.Scheme == "s3" {
		return s.spec.To.Host, key, "s3://" + s.spec.To.Host + "/" + key
	}
	return "", key, "file:///" + key
}

func (s *sink) create(part string) (*openFile, error) {
	if len(s.open) >= s.e.opts.MaxOpenFiles {
		var oldest string
		var at int64 = -1
		for k, f := range s.open {
			if at < 0 || f.lastUse < at {
				oldest, at = k, f.lastUse
			}
		}
		if err := s.closeFile(oldest); err != nil {
			return nil, err
		}
	}
	s.seq++
	bucket, key, u := s.location("results/" + part + fmt.Sprintf("%s_%d%s", s.qid, s.seq, s.ext()))
	obj, err := s.t.Create(s.ctx, bucket, key)
	if err != nil {
		return nil, err
	}
	f := &openFile{obj: obj, url: u}
	if s.spec.Format == FormatParquet {
		f.w = newParquetWriter(s.spec, obj, s.cols, s.schema)
	} else {
		w, err := newCSVWriter(s.spec, obj, s.names)
		if err != nil {
			obj.Abort()
			return nil, err
		}
		f.w = w
	}
	s.open[part] = f
	return f, nil
}

func (s *sink) Row(row []exec.Value) error {
	part := s.partitionPath(row)
	f := s.open[part]
	if f == nil {
		var err error
		if f, err = s.create(part); err != nil {
			return err
		}
	}
	for i, idx := range s.dataIdx {
		s.data[i] = row[idx]
	}
	before := f.w.buffered()
	if err := f.w.write(s.data); err != nil {
		return err
	}
	s.buffers += f.w.buffered() - before
	s.tick++
	f.lastUse = s.tick
	f.rows++
	s.rows++
	if f.w.size() >= s.spec.MaxFileSize {
		return s.closeFile(part)
	}
	if s.buffers > s.e.opts.MaxBufferedBytes {
		return s.flushLargest()
	}
	return nil
}

func (s *sink) flushLargest() error {
	var big *openFile
	for _, f := range s.open {
		if big == nil || f.w.buffered() > big.w.buffered() {
			big = f
		}
	}
	if big == nil {
		return nil
	}
	s.buffers -= big.w.buffered()
	return big.w.flush()
}

// closeFile finishes the open file of part and records it.
func (s *sink) closeFile(part string) error {
	f := s.open[part]
	delete(s.open, part)
	s.buffers -= f.w.buffered()
	if err := f.w.close(); err != nil {
		f.obj.Abort()
		return err
	}
	var n int64
	switch w := f.w.(type) {
	case *csvWriter:
		n = w.cnt.n
	case *parquetWriter:
		n = w.cnt.n
	}
	if err := f.obj.Close(); err != nil {
		return err
	}
	rf := ResultFile{URL: f.url}
	rf.FileMetadata.ContentLengthInBytes = n
	rf.FileMetadata.RowCount = f.rows
	s.done = append(s.done, rf)
	return nil
}

// finish closes every file, then writes the metadata and the manifest.
func (s *sink) finish() error {
	for part := range s.open {
		if err := s.closeFile(part); err != nil {
			return err
		}
	}
	var m Manifest
	m.ResultFiles = s.done
	if m.ResultFiles == nil {
		m.ResultFiles = []ResultFile{}
	}
	for _, f := range s.done {
		m.QueryMetadata.TotalContentLengthInBytes += f.FileMetadata.ContentLengthInBytes
		m.QueryMetadata.RowCount += f.FileMetadata.RowCount
	}
	m.QueryMetadata.ResultFilesCount = len(s.done)
	m.Author.Name = "Timestream"
	m.Author.ManifestFileVersion = "1.0"

	var md Metadata
	for _, c := range s.cols {
		ci := ColumnInfo{Name: c.Name}
		ci.Type.ScalarType = scalarType(c.Type)
		md.ColumnInfo = append(md.ColumnInfo, ci)
	}
	md.Author.Name = "Timestream"
	md.Author.MetadataFileVersion = "1.0"

	metaURL, err := s.putJSON(s.qid+"_metadata.json", md)
	if err != nil {
		return err
	}
	manURL, err := s.putJSON(s.qid+"_manifest.json", m)
	if err != nil {
		return err
	}
	s.res = &Result{Rows: s.rows, MetadataFile: metaURL, ManifestFile: manURL, Manifest: m}
	return nil
}

// scalarType is the Timestream type name a column's files hold.
func scalarType(t exec.Type) string {
	switch t.Kind {
	case exec.KindBigint, exec.KindDouble, exec.KindBoolean, exec.KindTimestamp, exec.KindDate, exec.KindInteger, exec.KindVarchar:
		return strings.ToUpper(t.Kind.String())
	}
	return "VARCHAR"
}

func (s *sink) putJSON(name string, v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encode %s: %w", name, err)
	}
	bucket, key, u := s.location(name)
	obj, err := s.t.Create(s.ctx, bucket, key)
	if err != nil {
		return "", err
	}
	if _, err := obj.Write(b); err != nil {
		obj.Abort()
		return "", fmt.Errorf("write %s: %w", u, err)
	}
	if err := obj.Close(); err != nil {
		return "", err
	}
	return u, nil
}

// abort drops the files still open; finished data files stay, as in
// Timestream, but no manifest names them.
func (s *sink) abort() {
	for part, f := range s.open {
		f.obj.Abort()
		delete(s.open, part)
	}
}
