package lineproto

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/tidaldb/tidal/catalog"
)

func TestParseStatements(t *testing.T) {
	tests := []struct {
		q       string
		want    []statement
		wantErr string
	}{
		{q: "CREATE DATABASE benchmark", want: []statement{{kind: "create", db: "benchmark"}}},
		{q: `create database "tele.metry"`, want: []statement{{kind: "create", db: "tele.metry"}}},
		{q: "show databases", want: []statement{{kind: "show"}}},
		{q: " SHOW DATABASES ; CREATE DATABASE abc ;", want: []statement{{kind: "show"}, {kind: "create", db: "abc"}}},
		{q: "", wantErr: "missing query"},
		{q: " ; ", wantErr: "missing query"},
		{q: "CREATE DATABASE", wantErr: "want one database name"},
		{q: "CREATE DATABASE a b", wantErr: "want one database name"},
		{q: "CREATE DATABASE abc WITH DURATION 1d", wantErr: "WITH (retention policies) is not supported"},
		{q: "CREATE DATABASE x", wantErr: `database "x" is not a valid database name`},
		{q: "DROP DATABASE abc", wantErr: `statement "DROP DATABASE abc" is not supported`},
		{q: "SELECT * FROM cpu", wantErr: "is not supported"},
		{q: "SHOW MEASUREMENTS", wantErr: "is not supported"},
	}
	for _, tt := range tests {
		got, err := parseStatements(tt.q)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%q: error %v, want %q", tt.q, err, tt.wantErr)
			}
			continue
		}
		if err != nil || len(got) != len(tt.want) {
			t.Errorf("%q: %v %v, want %v", tt.q, got, err, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("%q: statement %d is %v, want %v", tt.q, i, got[i], tt.want[i])
			}
		}
	}
}

func TestQueryHandler(t *testing.T) {
	cat, err := catalog.Open(catalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cat.CreateDatabase("existing", "", nil); err != nil {
		t.Fatal(err)
	}
	h := NewHandler(nil, HTTPOptions{Databases: CatalogDatabases{Catalog: cat}, Version: "test"})
	srv := httptest.NewServer(http.HandlerFunc(h.Query))
	defer srv.Close()
	form := func(q string) io.Reader { return strings.NewReader(url.Values{"q": {q}}.Encode()) }
	tests := []struct {
		name, method, query string
		body                io.Reader
		wantCode            int
		wantBody            string
	}{
		{"create by form", "POST", "", form("CREATE DATABASE benchmark"), 200, `{"results":[{"statement_id":0}]}`},
		{"create existing by URL", "POST", "?q=" + url.QueryEscape("CREATE DATABASE existing"), nil, 200, `{"results":[{"statement_id":0}]}`},
		{"show", "GET", "?q=SHOW+DATABASES", nil, 200,
			`{"results":[{"statement_id":0,"series":[{"name":"databases","columns":["name"],"values":[["benchmark"],["existing"]]}]}]}`},
		{"two statements", "POST", "", form("create database abc; show databases"), 200,
			`{"results":[{"statement_id":0},{"statement_id":1,"series":[{"name":"databases","columns":["name"],"values":[["abc"],["benchmark"],["existing"]]}]}]}`},
		{"create with GET", "GET", "?q=" + url.QueryEscape("CREATE DATABASE nope"), nil, 405, `{"error":"CREATE DATABASE must be sent with POST"}`},
		{"select", "GET", "?q=" + url.QueryEscape("SELECT 1"), nil, 400, `{"error":"error parsing query: statement \"SELECT 1\" is not supported`},
		{"no q", "POST", "", nil, 400, `{"error":"error parsing query: missing query (the q parameter)"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, srv.URL+tt.query, tt.body)
			if tt.body != nil {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.wantCode || !strings.HasPrefix(string(b), tt.wantBody) {
				t.Errorf("%d %s, want %d %s", resp.StatusCode, b, tt.wantCode, tt.wantBody)
			}
		})
	}
	if _, err := cat.Database("nope"); !catalog.IsNotFound(err) {
		t.Errorf("a GET created database nope: %v", err)
	}
}
