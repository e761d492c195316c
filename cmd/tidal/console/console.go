// Package console is TidalDB's web console, served at GET / on the server's
// one HTTP port: a single-page application of plain ES modules and CSS,
// embedded with go:embed (no build step, no CDN; uPlot is vendored under
// static/vendor), and the few JSON endpoints it needs beyond the public APIs:
// the schema tree (Schema), the editor's word lists (Meta) and streamed
// CSV/JSON downloads of a query (Download). Everything else the console
// shows comes from the APIs every client uses: the Timestream Query API
// (Query, paging with NextToken, CancelQuery), the Prometheus query API,
// /metrics and the admin endpoints.
//
// The package owns no routes: cmd/tidal registers each handler on the
// auth.Router with its role, and sign-in is the auth layer's (browser
// sessions, CSRF tokens). Every response of the package carries a strict
// Content-Security-Policy (no inline script or style, same-origin
// connections only).
//
// Handler is safe for concurrent use.
package console

import (
	"bufio"
	"context"
	"embed"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/magnetic"
	"github.com/tidaldb/tidal/memstore"
	"github.com/tidaldb/tidal/query/exec"
)

//go:embed static
var staticFS embed.FS

// ContentSecurityPolicy is the policy every console response carries:
// scripts, styles and connections from the server itself only; images may
// be data: or blob: URLs (uPlot's legend markers, screenshots).
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
	"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

// Catalog is what the console reads of the catalog.
type Catalog interface {
	ListDatabases() []catalog.Database
	ListTables(db string) ([]catalog.Table, error)
}

// MemoryTier gives a table's in-memory size (*memstore.DB).
type MemoryTier interface {
	TableStats(db, table string) memstore.Stats
}

// MagneticTier lists the magnetic tier's parts (*magnetic.Store).
type MagneticTier interface {
	Parts() []magnetic.PartInfo
}

// Streamer runs SQL and streams its result (*exec.Engine).
type Streamer interface {
	Stream(ctx context.Context, sql string, params map[string]exec.Value, sink exec.Sink) (exec.Stats, error)
}

// Options configures a Handler. Catalog and Engine are required; a nil
// tier reports zero sizes.
type Options struct {
	Catalog  Catalog
	Memory   MemoryTier
	Magnetic MagneticTier
	Engine   Streamer
	// Version is shown in the console's header.
	Version string
	Logger  *slog.Logger
}

// Handler serves the console's page, its assets and its JSON endpoints.
type Handler struct {
	opts   Options
	static http.Handler
}

// New returns a Handler for opts.
func New(opts Options) *Handler {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic("BUG: console: embedded static directory missing: " + err.Error())
	}
	return &Handler{opts: opts, static: http.StripPrefix(StaticPrefix, http.FileServerFS(sub))}
}

// StaticPrefix is the path under which the assets are served.
const StaticPrefix = "/console/static/"

// secure sets the headers every console response carries.
func secure(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
}

// Page serves the console's one HTML page (the application and its
// sign-in form). It holds no data, so it may be served without a session.
func (h *Handler) Page(w http.ResponseWriter, _ *http.Request) {
	secure(w)
	b, err := staticFS.ReadFile("static/index.html")
	if err != nil {
		panic("BUG: console: embedded index.html missing: " + err.Error())
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(b)
}

// Static serves the embedded scripts, styles and vendored libraries under
// StaticPrefix.
func (h *Handler) Static(w http.ResponseWriter, r *http.Request) {
	secure(w)
	if strings.HasSuffix(r.URL.Path, "/") { // no directory listings
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Cache-Control", "no-cache")
	h.static.ServeHTTP(w, r)
}

// WantsHTML reports whether r is a browser asking for a page (its Accept
// header names text/html), which GET / answers with the console.
func WantsHTML(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}

func writeJSON(w http.ResponseWriter, v any) {
	secure(w)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(v)
}

// MetaResponse is the answer of Meta: what the editor completes and
// highlights.
type MetaResponse struct {
	Version   string   `json:"version"`
	Functions []string `json:"functions"`
	Keywords  []string `json:"keywords"`
}

// keywords are the SQL words the editor highlights and completes.
var keywords = []string{
	"SELECT", "FROM", "WHERE", "GROUP", "BY", "ORDER", "HAVING", "LIMIT", "OFFSET", "AS", "AND", "OR", "NOT", "IN",
	"IS", "NULL", "BETWEEN", "LIKE", "ESCAPE", "CASE", "WHEN", "THEN", "ELSE", "END", "JOIN", "INNER", "LEFT", "RIGHT",
	"FULL", "OUTER", "CROSS", "ON", "USING", "UNION", "ALL", "DISTINCT", "INTERSECT", "EXCEPT", "WITH", "ASC", "DESC",
	"NULLS", "FIRST", "LAST", "OVER", "PARTITION", "ROWS", "RANGE", "UNBOUNDED", "PRECEDING", "FOLLOWING", "CURRENT",
	"ROW", "INTERVAL", "TIMESTAMP", "DATE", "TIME", "CAST", "TRY_CAST", "TRUE", "FALSE", "EXISTS", "UNNEST", "VALUES",
	"SHOW", "DATABASES", "TABLES", "MEASURES", "DESCRIBE", "UNLOAD", "TO", "DOUBLE", "BIGINT", "VARCHAR", "BOOLEAN",
	"INTEGER", "ARRAY", "TIMESERIES",
}

// Meta answers GET /console/api/meta: the server's version, its SQL
// functions and the keywords, for the editor.
func (h *Handler) Meta(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, MetaResponse{Version: h.opts.Version, Functions: exec.FunctionNames(), Keywords: keywords})
}

// SchemaResponse is the answer of Schema.
type SchemaResponse struct {
	Databases []DatabaseJSON `json:"databases"`
}

// DatabaseJSON is one database of the schema tree.
type DatabaseJSON struct {
	Name   string      `json:"name"`
	Tables []TableJSON `json:"tables"`
}

// TableJSON is one table: its settings, its size in each tier and its
// schema-on-write columns.
type TableJSON struct {
	Name           string `json:"name"`
	MemoryHours    int64  `json:"memory_hours"`
	MagneticDays   int64  `json:"magnetic_days"`
	MagneticWrites bool   `json:"magnetic_writes"`
	// Memory is the memory tier; Series counts series held there.
	Memory TierJSON `json:"memory"`
	// Magnetic is the magnetic tier; Series sums the parts' series, so a
	// series in several partitions counts once for each.
	Magnetic   TierJSON     `json:"magnetic"`
	Dimensions []string     `json:"dimensions"`
	Measures   []ColumnJSON `json:"measures"`
	// Attributes are the multi-measure attributes (the columns of the
	// multi-measure records' measures).
	Attributes []ColumnJSON `json:"attributes"`
}

// TierJSON is a table's size in one tier.
type TierJSON struct {
	Series int   `json:"series"`
	Rows   int64 `json:"rows"`
	Bytes  int64 `json:"bytes"`
	Parts  int   `json:"parts,omitempty"`
	// MinTime and MaxTime bound the tier's rows (ns); zero when empty or
	// unknown (the memory tier).
	MinTime int64 `json:"min_time,omitempty"`
	MaxTime int64 `json:"max_time,omitempty"`
	// LastWrite is when the newest part was written (a flush or a
	// merge); magnetic tier only.
	LastWrite time.Time `json:"last_write,omitzero"`
}

// ColumnJSON is a measure or attribute and its type.
type ColumnJSON struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// Schema answers GET /console/api/schema: every database, its tables
// with retention, magnetic writes and per-tier sizes, and their dimensions,
// measures and attributes, all sorted by name.
func (h *Handler) Schema(w http.ResponseWriter, _ *http.Request) {
	mag := map[uint64]*TierJSON{}
	if h.opts.Magnetic != nil {
		for _, p := range h.opts.Magnetic.Parts() {
			t := mag[p.TableID]
			if t == nil {
				t = &TierJSON{MinTime: p.MinTime, MaxTime: p.MaxTime}
				mag[p.TableID] = t
			}
			t.Series += p.Series
			t.Rows += p.Rows
			t.Bytes += p.Bytes
			t.Parts++
			t.MinTime, t.MaxTime = min(t.MinTime, p.MinTime), max(t.MaxTime, p.MaxTime)
			if p.Created.After(t.LastWrite) {
				t.LastWrite = p.Created.UTC()
			}
		}
	}
	out := SchemaResponse{Databases: []DatabaseJSON{}}
	dbs := h.opts.Catalog.ListDatabases()
	slices.SortFunc(dbs, func(a, b catalog.Database) int { return strings.Compare(a.Name, b.Name) })
	for _, d := range dbs {
		tables, err := h.opts.Catalog.ListTables(d.Name)
		if err != nil { // deleted since ListDatabases
			continue
		}
		slices.SortFunc(tables, func(a, b catalog.Table) int { return strings.Compare(a.Name, b.Name) })
		dj := DatabaseJSON{Name: d.Name, Tables: []TableJSON{}}
		for _, t := range tables {
			tj := TableJSON{Name: t.Name, MemoryHours: t.Retention.MemoryHours, MagneticDays: t.Retention.MagneticDays,
				MagneticWrites: t.MagneticWrites.Enabled, Dimensions: []string{}, Measures: []ColumnJSON{}, Attributes: []ColumnJSON{}}
			if h.opts.Memory != nil {
				st := h.opts.Memory.TableStats(d.Name, t.Name)
				tj.Memory = TierJSON{Series: st.Series, Rows: st.Rows, Bytes: st.ChunkBytes + st.IndexBytes}
			}
			if m := mag[t.ID]; m != nil {
				tj.Magnetic = *m
			}
			for _, c := range t.Columns {
				switch c.Kind {
				case catalog.KindDimension:
					tj.Dimensions = append(tj.Dimensions, c.Name)
				case catalog.KindMeasureName:
					tj.Measures = append(tj.Measures, ColumnJSON{Name: c.Name, Type: c.Type.String()})
				case catalog.KindAttribute:
					tj.Attributes = append(tj.Attributes, ColumnJSON{Name: c.Name, Type: c.Type.String()})
				}
			}
			slices.Sort(tj.Dimensions)
			byName := func(a, b ColumnJSON) int { return strings.Compare(a.Name, b.Name) }
			slices.SortFunc(tj.Measures, byName)
			slices.SortFunc(tj.Attributes, byName)
			dj.Tables = append(dj.Tables, tj)
		}
		out.Databases = append(out.Databases, dj)
	}
	writeJSON(w, out)
}

// Download answers GET /console/api/download?sql=...&format=csv|json: the
// query's whole result, streamed as it is produced (exec.Engine.Stream), as
// an attachment. CSV has a header row and empty fields for NULL; JSON is an
// array of objects keyed by column name, with numbers and booleans as JSON
// values and everything else as text. An error before the first byte is a
// 400 with the engine's message (with its line and column); an error later
// aborts the response, so that the browser marks the download failed
// rather than keeping a truncated file. It is a GET so that the browser
// streams it to disk by itself; it changes nothing (the engine it runs on
// has no UNLOAD), and the session cookie is SameSite=Strict.
func (h *Handler) Download(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	sql := q.Get("sql")
	format := q.Get("format")
	if format == "" {
		format = "csv"
	}
	secure(w)
	if strings.TrimSpace(sql) == "" || format != "csv" && format != "json" {
		http.Error(w, "download: want sql and format csv or json", http.StatusBadRequest)
		return
	}
	sink := &downloadSink{w: w, format: format, name: "tidal-" + time.Now().UTC().Format("20060102-150405") + "." + format}
	_, err := h.opts.Engine.Stream(r.Context(), sql, nil, sink)
	if err == nil {
		err = sink.finish()
	}
	if err != nil {
		if !sink.started {
			msg := err.Error()
			var xe *exec.Error
			if errors.As(err, &xe) {
				msg = xe.Error()
			}
			http.Error(w, "download: "+msg, http.StatusBadRequest)
			return
		}
		h.opts.Logger.Info("console download stopped", "err", err)
		panic(http.ErrAbortHandler) // the client sees a broken download, not a short file
	}
}

// downloadSink writes the rows of a download as they come.
type downloadSink struct {
	w       http.ResponseWriter
	format  string
	name    string
	cols    []exec.Column
	started bool // headers sent
	bw      *bufio.Writer
	cw      *csv.Writer
	rows    int
	rec     []string
	buf     []byte
}

func (s *downloadSink) start() {
	h := s.w.Header()
	if s.format == "csv" {
		h.Set("Content-Type", "text/csv; charset=utf-8")
	} else {
		h.Set("Content-Type", "application/json")
	}
	h.Set("Content-Disposition", `attachment; filename="`+s.name+`"`)
	h.Set("Cache-Control", "no-store")
	s.started = true
	s.bw = bufio.NewWriterSize(s.w, 64<<10)
	s.cw = csv.NewWriter(s.bw)
}

// Columns starts the file with the CSV header or the JSON array.
func (s *downloadSink) Columns(cols []exec.Column) error {
	s.cols = slices.Clone(cols)
	s.start()
	if s.format == "csv" {
		s.rec = make([]string, len(cols))
		for i, c := range cols {
			s.rec[i] = c.Name
		}
		return s.cw.Write(s.rec)
	}
	_, err := s.bw.WriteString("[")
	return err
}

// Row writes one row.
func (s *downloadSink) Row(row []exec.Value) error {
	s.rows++
	if s.format == "csv" {
		for i := range row {
			if row[i].Null {
				s.rec[i] = ""
			} else {
				s.rec[i] = row[i].String()
			}
		}
		if err := s.cw.Write(s.rec); err != nil {
			return err
		}
		if s.rows%1024 == 0 {
			s.cw.Flush()
			return s.cw.Error()
		}
		return nil
	}
	b := s.buf[:0]
	if s.rows > 1 {
		b = append(b, ',')
	}
	b = append(b, "\n{"...)
	for i := range row {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendQuote(b, s.cols[i].Name)
		b = append(b, ':')
		b = appendJSONValue(b, &row[i])
	}
	b = append(b, '}')
	s.buf = b
	_, err := s.bw.Write(b)
	return err
}

// appendJSONValue appends v as a JSON value.
func appendJSONValue(b []byte, v *exec.Value) []byte {
	if v.Null {
		return append(b, "null"...)
	}
	switch v.Kind {
	case exec.KindBigint, exec.KindInteger:
		return strconv.AppendInt(b, v.I, 10)
	case exec.KindDouble:
		if math.IsNaN(v.F) || math.IsInf(v.F, 0) { // not JSON numbers
			return appendJSONString(b, v.String())
		}
		return strconv.AppendFloat(b, v.F, 'g', -1, 64)
	case exec.KindBoolean:
		return strconv.AppendBool(b, v.B)
	}
	return appendJSONString(b, v.String())
}

func appendJSONString(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // cannot fail for a string
	return append(b, q...)
}

func (s *downloadSink) finish() error {
	if !s.started {
		return nil
	}
	if s.format == "json" {
		if _, err := s.bw.WriteString("\n]\n"); err != nil {
			return err
		}
	} else {
		s.cw.Flush()
		if err := s.cw.Error(); err != nil {
			return err
		}
	}
	return s.bw.Flush()
}
