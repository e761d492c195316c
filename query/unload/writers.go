package unload

import (
	"compress/gzip"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/parquet-go/parquet-go"
	pqgzip "github.com/parquet-go/parquet-go/compress/gzip"
	"github.com/parquet-go/parquet-go/compress/uncompressed"

	"github.com/tidaldb/tidal/query/exec"
)

// rowWriter encodes rows into one output file.
type rowWriter interface {
	write(row []exec.Value) error
	// size estimates the file's bytes so far, buffered ones included.
	size() int64
	// buffered estimates the bytes held in memory.
	buffered() int64
	// flush writes what is buffered (a Parquet row group).
	flush() error
	close() error
}

// counter counts the bytes that reach an Object.
type counter struct {
	w io.Writer
	n int64
}

func (c *counter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// ---- CSV ----

type csvWriter struct {
	spec *Spec
	cnt  *counter
	gz   *gzip.Writer
	out  io.Writer
	buf  []byte
	raw  int64 // uncompressed bytes
}

func newCSVWriter(spec *Spec, obj io.Writer, names []string) (*csvWriter, error) {
	w := &csvWriter{spec: spec, cnt: &counter{w: obj}}
	w.out = w.cnt
	if spec.Gzip {
		w.gz = gzip.NewWriter(w.cnt)
		w.out = w.gz
	}
	if spec.IncludeHeader {
		vals := make([]exec.Value, len(names))
		for i, n := range names {
			vals[i] = exec.Varchar(n)
		}
		if err := w.write(vals); err != nil {
			return nil, err
		}
	}
	return w, nil
}

// appendField writes one field: NULL as nothing; a value holding the
// delimiter, a quote, a line break or the escape character is quoted, with
// quotes and escape characters inside preceded by the escape character.
func appendField(dst []byte, s string, delim, esc rune) []byte {
	if !strings.ContainsAny(s, "\"\r\n"+string(delim)+string(esc)) {
		return append(dst, s...)
	}
	dst = append(dst, '"')
	for _, r := range s {
		if r == '"' || r == esc {
			dst = utf8.AppendRune(dst, esc)
		}
		dst = utf8.AppendRune(dst, r)
	}
	return append(dst, '"')
}

func (w *csvWriter) write(row []exec.Value) error {
	b := w.buf[:0]
	for i, v := range row {
		if i > 0 {
			b = utf8.AppendRune(b, w.spec.Delimiter)
		}
		if v.Null {
			continue
		}
		switch v.Kind {
		case exec.KindBigint, exec.KindInteger:
			b = strconv.AppendInt(b, v.I, 10)
		default:
			b = appendField(b, v.String(), w.spec.Delimiter, w.spec.Escape)
		}
	}
	b = append(b, '\n')
	w.buf = b
	w.raw += int64(len(b))
	if _, err := w.out.Write(b); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}

// size is the compressed bytes written plus what gzip may still hold.
func (w *csvWriter) size() int64 {
	if w.gz == nil {
		return w.cnt.n
	}
	return w.cnt.n + 64<<10
}

func (w *csvWriter) buffered() int64 { return 0 }
func (w *csvWriter) flush() error    { return nil }

func (w *csvWriter) close() error {
	if w.gz != nil {
		if err := w.gz.Close(); err != nil {
			return fmt.Errorf("close gzip: %w", err)
		}
	}
	return nil
}

// ---- Parquet ----

// Row groups are cut at RowGroupRows rows or RowGroupBytes estimated
// bytes, whichever comes first: large enough for column scans to read
// long runs, small enough that readers (DuckDB, Spark, Trino) can split
// a file across threads.
const (
	RowGroupRows  = 1 << 20
	RowGroupBytes = 64 << 20
)

// orderedGroup is a Parquet group that keeps its columns in result
// order (parquet.Group sorts them by name).
type orderedGroup struct {
	parquet.Group
	fields []parquet.Field
}

func (g orderedGroup) Fields() []parquet.Field { return g.fields }

type namedField struct {
	parquet.Node
	name string
}

func (f namedField) Name() string { return f.name }

// leafKind is how a result column is stored: its Parquet node and how a
// value becomes a parquet.Value.
func leafFor(t exec.Type) parquet.Node {
	switch t.Kind {
	case exec.KindBigint:
		return parquet.Int(64)
	case exec.KindInteger:
		return parquet.Int(32)
	case exec.KindDouble:
		return parquet.Leaf(parquet.DoubleType)
	case exec.KindBoolean:
		return parquet.Leaf(parquet.BooleanType)
	case exec.KindTimestamp:
		return parquet.TimestampAdjusted(parquet.Nanosecond, false)
	case exec.KindDate:
		return parquet.Date()
	}
	// VARCHAR, and the types Parquet readers do not share (time,
	// intervals, arrays, rows, timeseries) in their Query API text form.
	return parquet.String()
}

// parquetBatch is how many rows go to parquet-go per WriteRows call.
const parquetBatch = 256

type parquetWriter struct {
	cnt     *counter
	w       *parquet.GenericWriter[any]
	kinds   []exec.Kind
	batch   []parquet.Row // parquetBatch rows, reused
	pending int           // rows of batch not yet handed on
	rows    int64
	bufRows int64
	bufSize int64
}

// parquetSchema builds the file schema of cols.
func parquetSchema(cols []exec.Column) *parquet.Schema {
	g := orderedGroup{Group: parquet.Group{}}
	for _, c := range cols {
		g.fields = append(g.fields, namedField{Node: parquet.Optional(leafFor(c.Type)), name: c.Name})
	}
	return parquet.NewSchema("timestream_unload", g)
}

func newParquetWriter(spec *Spec, obj io.Writer, cols []exec.Column, schema *parquet.Schema) *parquetWriter {
	codec := parquet.Compression(&uncompressed.Codec{})
	if spec.Gzip {
		codec = parquet.Compression(&pqgzip.Codec{Level: pqgzip.DefaultCompression})
	}
	cnt := &counter{w: obj}
	w := &parquetWriter{cnt: cnt, kinds: make([]exec.Kind, len(cols))}
	for i, c := range cols {
		w.kinds[i] = c.Type.Kind
	}
	w.w = parquet.NewGenericWriter[any](cnt, schema, codec, parquet.MaxRowsPerRowGroup(RowGroupRows),
		parquet.CreatedBy("tidaldb", "unload", ""))
	w.batch = make([]parquet.Row, parquetBatch)
	for i := range w.batch {
		w.batch[i] = make(parquet.Row, len(cols))
	}
	return w
}

func (w *parquetWriter) write(row []exec.Value) error {
	var sz int64
	out := w.batch[w.pending]
	for i, v := range row {
		var pv parquet.Value
		switch {
		case v.Null:
			out[i] = parquet.NullValue().Level(0, 0, i)
			continue
		case w.kinds[i] == exec.KindBigint || w.kinds[i] == exec.KindTimestamp:
			pv, sz = parquet.Int64Value(v.I), sz+8
		case w.kinds[i] == exec.KindInteger || w.kinds[i] == exec.KindDate:
			pv, sz = parquet.Int32Value(int32(v.I)), sz+4
		case w.kinds[i] == exec.KindDouble:
			pv, sz = parquet.DoubleValue(v.F), sz+8
		case w.kinds[i] == exec.KindBoolean:
			pv, sz = parquet.BooleanValue(v.B), sz+1
		default:
			s := v.S
			if v.Kind != exec.KindVarchar {
				s = v.String()
			}
			pv, sz = parquet.ByteArrayValue([]byte(s)), sz+int64(len(s))+4
		}
		out[i] = pv.Level(0, 1, i)
	}
	w.pending++
	if w.pending == parquetBatch {
		if err := w.writeBatch(); err != nil {
			return err
		}
	}
	w.rows++
	w.bufRows++
	w.bufSize += sz
	if w.bufRows >= RowGroupRows || w.bufSize >= RowGroupBytes {
		return w.flush()
	}
	return nil
}

func (w *parquetWriter) size() int64     { return w.cnt.n + w.bufSize/2 }
func (w *parquetWriter) buffered() int64 { return w.bufSize }

// writeBatch hands the pending rows to parquet-go.
func (w *parquetWriter) writeBatch() error {
	if w.pending == 0 {
		return nil
	}
	if _, err := w.w.WriteRows(w.batch[:w.pending]); err != nil {
		return fmt.Errorf("write parquet rows: %w", err)
	}
	w.pending = 0
	return nil
}

func (w *parquetWriter) flush() error {
	if w.bufRows == 0 {
		return nil
	}
	if err := w.writeBatch(); err != nil {
		return err
	}
	if err := w.w.Flush(); err != nil {
		return fmt.Errorf("flush parquet row group: %w", err)
	}
	w.bufRows, w.bufSize = 0, 0
	return nil
}

func (w *parquetWriter) close() error {
	if err := w.writeBatch(); err != nil {
		return err
	}
	if err := w.w.Close(); err != nil {
		return fmt.Errorf("close parquet: %w", err)
	}
	return nil
}

// Value is used by parquet-go's reflection writers only; rows here are
// written as parquet.Row.
func (f namedField) Value(reflect.Value) reflect.Value { return reflect.Value{} }
