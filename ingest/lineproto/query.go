package lineproto

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/tidaldb/tidal/catalog"
)

// The InfluxDB 1.x /query endpoint, as far as write clients use it:
// Telegraf's influxdb output and TSBS's loader send "CREATE DATABASE x"
// before their first write, and TSBS asks "SHOW DATABASES" first. TidalDB
// creates databases on first write anyway, so answering these two
// statements is what lets such clients run unchanged; every other InfluxQL
// statement is refused (queries are Timestream SQL and PromQL here).

// Databases is what /query needs of the catalog.
type Databases interface {
	// CreateDatabase creates name; an existing database is no error.
	CreateDatabase(name string) error
	// DatabaseNames lists the databases, sorted.
	DatabaseNames() []string
}

// CatalogDatabases adapts a catalog to Databases.
type CatalogDatabases struct{ Catalog *catalog.Catalog }

// CreateDatabase creates name unless it exists.
func (c CatalogDatabases) CreateDatabase(name string) error {
	if _, err := c.Catalog.CreateDatabase(name, "", nil); err != nil && !catalog.IsConflict(err) {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

// DatabaseNames lists the catalog's databases.
func (c CatalogDatabases) DatabaseNames() []string {
	dbs := c.Catalog.ListDatabases()
	out := make([]string, len(dbs))
	for i, d := range dbs {
		out[i] = d.Name
	}
	return out
}

// statement is one parsed InfluxQL statement /query answers.
type statement struct {
	kind string // "create" or "show"
	db   string // the database of CREATE DATABASE
}

// parseStatements splits q on semicolons and parses each statement: CREATE
// DATABASE <name> (the name bare or double-quoted) and SHOW DATABASES,
// keywords in any case. Anything else is an error naming the statement.
func parseStatements(q string) ([]statement, error) {
	var out []statement
	for _, s := range strings.Split(q, ";") {
		f := strings.Fields(s)
		if len(f) == 0 {
			continue
		}
		switch {
		case len(f) == 2 && strings.EqualFold(f[0], "SHOW") && strings.EqualFold(f[1], "DATABASES"):
			out = append(out, statement{kind: "show"})
		case len(f) >= 2 && strings.EqualFold(f[0], "CREATE") && strings.EqualFold(f[1], "DATABASE"):
			if len(f) != 3 {
				if len(f) > 3 && strings.EqualFold(f[3], "WITH") {
					return nil, fmt.Errorf("CREATE DATABASE %s: WITH (retention policies) is not supported; set retention on the tables", f[2])
				}
				return nil, fmt.Errorf("CREATE DATABASE: want one database name in %q", strings.TrimSpace(s))
			}
			name := f[2]
			if len(name) >= 2 && name[0] == '"' && name[len(name)-1] == '"' {
				name = name[1 : len(name)-1]
			}
			if !catalog.ValidName(name) {
				return nil, fmt.Errorf("database %q is not a valid database name (3 to 256 letters, digits, '_', '.', '-')", name)
			}
			out = append(out, statement{kind: "create", db: name})
		default:
			return nil, fmt.Errorf("statement %q is not supported: /query answers CREATE DATABASE and SHOW DATABASES (query with Timestream SQL or PromQL)", strings.TrimSpace(s))
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("missing query (the q parameter)")
	}
	return out, nil
}

// queryResult is one statement's answer in InfluxDB 1.x's shape.
type queryResult struct {
	StatementID int           `json:"statement_id"`
	Series      []querySeries `json:"series,omitempty"`
	Error       string        `json:"error,omitempty"`
}

type querySeries struct {
	Name    string     `json:"name"`
	Columns []string   `json:"columns"`
	Values  [][]string `json:"values,omitempty"`
}

// Query serves InfluxDB 1.x's /query for CREATE DATABASE and SHOW
// DATABASES; q comes from the URL or a form body. A GET may only SHOW, as
// in InfluxDB, and CREATE needs HTTPOptions.MayCreate's consent. A statement that fails gets its error in its result (200),
// as InfluxDB answers; a query that does not parse gets 400.
func (h *Handler) Query(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Influxdb-Version", h.opts.Version)
	if h.opts.Databases == nil {
		writeError(w, false, http.StatusNotImplemented, "/query is not served")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	stmts, err := parseStatements(r.FormValue("q"))
	if err != nil {
		writeError(w, false, http.StatusBadRequest, "error parsing query: "+err.Error())
		return
	}
	results := make([]queryResult, len(stmts))
	for i, st := range stmts {
		res := &results[i]
		res.StatementID = i
		switch st.kind {
		case "show":
			s := querySeries{Name: "databases", Columns: []string{"name"}}
			for _, n := range h.opts.Databases.DatabaseNames() {
				s.Values = append(s.Values, []string{n})
			}
			res.Series = []querySeries{s}
		case "create":
			if r.Method == http.MethodGet {
				writeError(w, false, http.StatusMethodNotAllowed, "CREATE DATABASE must be sent with POST")
				return
			}
			if h.opts.MayCreate != nil && !h.opts.MayCreate(r) {
				writeError(w, false, http.StatusForbidden, "CREATE DATABASE needs the write role")
				return
			}
			if err := h.opts.Databases.CreateDatabase(st.db); err != nil {
				res.Error = err.Error()
			}
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"results": results})
}
