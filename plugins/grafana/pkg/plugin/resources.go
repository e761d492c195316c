package plugin

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/timestreamquery"
	"github.com/grafana/grafana-plugin-sdk-go/backend"
)

// resourceRequest is the body (POST) or query string (GET) of a picker
// call; empty names fall back to the data source's defaults.
type resourceRequest struct {
	Database  string `json:"database"`
	Table     string `json:"table"`
	Measure   string `json:"measure"`
	Dimension string `json:"dimension"`
	QueryID   string `json:"queryId"`
}

// CallResource serves the query editor:
//
//	databases                          names of databases
//	tables          {database}         names of tables
//	measures        {database,table}   measure names
//	dimensions      {database,table}   dimension names
//	dimension-values {database,table,dimension[,measure]}  distinct values
//	cancel          {queryId}          cancels a running query
//
// Every list answers a JSON array of strings.
func (d *Datasource) CallResource(ctx context.Context, req *backend.CallResourceRequest, sender backend.CallResourceResponseSender) error {
	var rr resourceRequest
	if len(req.Body) > 0 {
		if err := json.Unmarshal(req.Body, &rr); err != nil {
			return sendJSON(sender, http.StatusBadRequest, map[string]string{"error": "decode body: " + err.Error()})
		}
	}
	if u, err := url.Parse(req.URL); err == nil {
		q := u.Query()
		for k, p := range map[string]*string{"database": &rr.Database, "table": &rr.Table, "measure": &rr.Measure, "dimension": &rr.Dimension, "queryId": &rr.QueryID} {
			if v := q.Get(k); v != "" && *p == "" {
				*p = v
			}
		}
	}
	rr.Database = pick(rr.Database, d.settings.DefaultDatabase)
	rr.Table = pick(rr.Table, d.settings.DefaultTable)
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var (
		list []string
		err  error
	)
	switch strings.Trim(req.Path, "/") {
	case "databases":
		list, err = d.strings(ctx, "SHOW DATABASES")
	case "tables":
		if rr.Database == "" {
			return sendJSON(sender, http.StatusBadRequest, map[string]string{"error": "tables: no database given"})
		}
		list, err = d.strings(ctx, "SHOW TABLES FROM "+quoteIdent(rr.Database))
	case "measures", "dimensions":
		if rr.Database == "" || rr.Table == "" {
			return sendJSON(sender, http.StatusBadRequest, map[string]string{"error": req.Path + ": no database and table given"})
		}
		list, err = d.measuresOrDimensions(ctx, rr, req.Path == "dimensions")
	case "dimension-values":
		if rr.Database == "" || rr.Table == "" || rr.Dimension == "" {
			return sendJSON(sender, http.StatusBadRequest, map[string]string{"error": "dimension-values: database, table and dimension are needed"})
		}
		sql := fmt.Sprintf("SELECT DISTINCT %s FROM %s.%s WHERE %s IS NOT NULL", quoteIdent(rr.Dimension), quoteIdent(rr.Database), quoteIdent(rr.Table), quoteIdent(rr.Dimension))
		if rr.Measure != "" {
			sql += " AND measure_name = '" + strings.ReplaceAll(rr.Measure, "'", "''") + "'"
		}
		list, err = d.strings(ctx, sql+" ORDER BY 1 LIMIT 1000")
	case "cancel":
		if rr.QueryID == "" {
			return sendJSON(sender, http.StatusBadRequest, map[string]string{"error": "cancel: no queryId given"})
		}
		out, cerr := d.client.CancelQuery(ctx, &timestreamquery.CancelQueryInput{QueryId: aws.String(rr.QueryID)})
		if cerr != nil {
			return sendJSON(sender, statusOf(cerr), map[string]string{"error": apiMessage(cerr)})
		}
		return sendJSON(sender, http.StatusOK, map[string]string{"message": aws.ToString(out.CancellationMessage)})
	default:
		return sendJSON(sender, http.StatusNotFound, map[string]string{"error": "no resource " + req.Path})
	}
	if err != nil {
		return sendJSON(sender, statusOf(err), map[string]string{"error": apiMessage(err)})
	}
	return sendJSON(sender, http.StatusOK, list)
}

// statusOf is the HTTP status to relay for a failed call.
func statusOf(err error) int {
	if st := httpStatus(err); st >= 400 {
		return st
	}
	return http.StatusBadGateway
}

// strings runs sql to the end and returns its first column.
func (d *Datasource) strings(ctx context.Context, sql string) ([]string, error) {
	res, err := d.run(ctx, sql, "", true)
	if err != nil {
		return nil, err
	}
	return firstColumnStrings(res), nil
}

// measuresOrDimensions reads SHOW MEASURES: its first column is the
// measure name, its third the array of (dimension_name, data_type) rows.
func (d *Datasource) measuresOrDimensions(ctx context.Context, rr resourceRequest, dims bool) ([]string, error) {
	res, err := d.run(ctx, fmt.Sprintf("SHOW MEASURES FROM %s.%s", quoteIdent(rr.Database), quoteIdent(rr.Table)), "", true)
	if err != nil {
		return nil, err
	}
	if !dims {
		return firstColumnStrings(res), nil
	}
	seen := map[string]bool{}
	for _, r := range res.Rows {
		if len(r.Data) < 3 {
			continue
		}
		for _, e := range r.Data[2].ArrayValue {
			if e.RowValue != nil && len(e.RowValue.Data) > 0 && e.RowValue.Data[0].ScalarValue != nil {
				seen[*e.RowValue.Data[0].ScalarValue] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out, nil
}

func sendJSON(sender backend.CallResourceResponseSender, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode resource response: %w", err)
	}
	return sender.Send(&backend.CallResourceResponse{Status: status, Headers: map[string][]string{"Content-Type": {"application/json"}}, Body: b})
}

// serverVersion is the first line of the server's GET / page ("tidal
// <version> ..."), "" when it cannot be read.
func serverVersion(ctx context.Context, s *Settings) string {
	hc, err := s.HTTPClient()
	if err != nil {
		return ""
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/", nil)
	if err != nil {
		return ""
	}
	resp, err := hc.Do(req)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if err != nil || resp.StatusCode != http.StatusOK {
		return ""
	}
	line, _, _ := strings.Cut(string(body), "\n")
	if !strings.HasPrefix(line, "tidal ") {
		return ""
	}
	return strings.TrimSpace(line)
}
