package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/timestreamquery"
	"github.com/aws/aws-sdk-go-v2/service/timestreamwrite"
	"github.com/aws/aws-sdk-go-v2/service/timestreamwrite/types"
)

// adminDo sends an admin-authenticated request to srv and returns the
// status and body.
func adminDo(t *testing.T, srv *server, method, path string, form url.Values, user, pass string) (int, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, srv.url()+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.SetBasicAuth(user, pass)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// deleteSQLRows runs sql through the Query API and returns the rows' scalar
// values.
func deleteSQLRows(t *testing.T, q *timestreamquery.Client, sql string) [][]string {
	t.Helper()
	var rows [][]string
	p := timestreamquery.NewQueryPaginator(q, &timestreamquery.QueryInput{QueryString: aws.String(sql)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctxT(t))
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		for _, r := range out.Rows {
			var row []string
			for _, d := range r.Data {
				row = append(row, aws.ToString(d.ScalarValue))
			}
			rows = append(rows, row)
		}
	}
	return rows
}

// TestDeleteServer deletes rows of a real server through SQL and the
// Prometheus admin API over both tiers: SQL and PromQL see the same
// counts at once, after kill -9 of the acknowledged DELETE, after the
// cleaner rewrote the parts (only those that held deleted rows) and after
// the tombstones are dropped; a read-only credential is refused.
func TestDeleteServer(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "tidal.yaml")
	if err := os.WriteFile(cfg, []byte(`auth:
  access_keys:
    - {access_key_id: AKIDTEST, secret_access_key: secret}
    - {access_key_id: reader, secret_access_key: reader-secret, role: read}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	dataDir := filepath.Join(dir, "data")
	srv := startServer(t, dataDir, "--config", cfg)
	ctx := ctxT(t)
	w := srv.writeClient()
	// The Prometheus API reads prometheus.metrics: SQL and PromQL read the
	// same rows.
	if _, err := w.CreateDatabase(ctx, &timestreamwrite.CreateDatabaseInput{DatabaseName: aws.String("prometheus")}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.CreateTable(ctx, &timestreamwrite.CreateTableInput{DatabaseName: aws.String("prometheus"), TableName: aws.String("metrics")}); err != nil {
		t.Fatal(err)
	}
	base := time.Now().Add(-90 * time.Minute).Truncate(time.Minute)
	write := func(hosts []string, from, n int) {
		t.Helper()
		var recs []types.Record
		for _, h := range hosts {
			for i := from; i < from+n; i++ {
				recs = append(recs, types.Record{
					Dimensions:  []types.Dimension{{Name: aws.String("host"), Value: aws.String(h)}},
					MeasureName: aws.String("cpu"), MeasureValue: aws.String(strconv.Itoa(i)),
					Time: aws.String(strconv.FormatInt(base.Add(time.Duration(i)*time.Minute).UnixMilli(), 10)),
				})
			}
		}
		if _, err := w.WriteRecords(ctx, &timestreamwrite.WriteRecordsInput{DatabaseName: aws.String("prometheus"), TableName: aws.String("metrics"), Records: recs}); err != nil {
			t.Fatal(err)
		}
	}
	flush := func(srv *server) {
		t.Helper()
		if code, body := adminDo(t, srv, "POST", "/api/v1/admin/flush?merge=false", nil, "AKIDTEST", "secret"); code != 200 {
			t.Fatalf("flush: %d %s", code, body)
		}
	}
	parts := func(srv *server) []string {
		t.Helper()
		code, body := adminDo(t, srv, "GET", "/api/v1/admin/parts", nil, "AKIDTEST", "secret")
		if code != 200 {
			t.Fatalf("parts: %d %s", code, body)
		}
		var ps []struct {
			Name string `json:"name"`
		}
		if err := json.Unmarshal([]byte(body), &ps); err != nil {
			t.Fatalf("parts %s: %v", body, err)
		}
		var names []string
		for _, p := range ps {
			names = append(names, p.Name)
		}
		slices.Sort(names)
		return names
	}
	// Minutes 0-29 of h0, h1, h2 in parts A (one flush); minutes 30-39 of
	// h1 only in parts B; minutes 40-59 of h0, h1, h2 in memory.
	write([]string{"h0", "h1", "h2"}, 0, 30)
	flush(srv)
	partsA := parts(srv)
	write([]string{"h1"}, 30, 10)
	flush(srv)
	partsB := slices.DeleteFunc(parts(srv), func(n string) bool { return slices.Contains(partsA, n) })
	write([]string{"h0", "h1", "h2"}, 40, 20)
	if len(partsA) == 0 || len(partsB) == 0 {
		t.Fatalf("parts A %v, B %v", partsA, partsB)
	}

	q := srv.queryClient()
	// counts returns the rows per host by SQL and by PromQL.
	counts := func(srv *server) (sql, prom map[string]int) {
		t.Helper()
		q := srv.queryClient()
		sql, prom = map[string]int{}, map[string]int{}
		for _, r := range deleteSQLRows(t, q, "SELECT host, count(*) FROM prometheus.metrics GROUP BY host") {
			n, _ := strconv.Atoi(r[1])
			sql[r[0]] = n
		}
		v := url.Values{"query": {"count_over_time(cpu[3h])"}, "time": {strconv.FormatInt(time.Now().Unix(), 10)}}
		code, body := adminDo(t, srv, "POST", "/api/v1/query", v, "AKIDTEST", "secret")
		if code != 200 {
			t.Fatalf("promql: %d %s", code, body)
		}
		var res struct {
			Data struct {
				Result []struct {
					Metric map[string]string `json:"metric"`
					Value  [2]any            `json:"value"`
				} `json:"result"`
			} `json:"data"`
		}
		if err := json.Unmarshal([]byte(body), &res); err != nil {
			t.Fatalf("promql %s: %v", body, err)
		}
		for _, r := range res.Data.Result {
			n, _ := strconv.Atoi(r.Value[1].(string))
			prom[r.Metric["host"]] = n
		}
		return sql, prom
	}
	check := func(srv *server, when string, want map[string]int) {
		t.Helper()
		sql, prom := counts(srv)
		if fmt.Sprint(sql) != fmt.Sprint(want) || fmt.Sprint(prom) != fmt.Sprint(want) {
			t.Fatalf("%s: SQL %v, PromQL %v, want %v", when, sql, prom, want)
		}
	}
	check(srv, "before deleting", map[string]int{"h0": 50, "h1": 60, "h2": 50})

	// A read-only credential can neither DELETE nor delete_series.
	reader := timestreamquery.New(timestreamquery.Options{
		Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("reader", "reader-secret", ""),
		BaseEndpoint:      aws.String(srv.url()),
		EndpointDiscovery: timestreamquery.EndpointDiscoveryOptions{EnableEndpointDiscovery: aws.EndpointDiscoveryDisabled},
	})
	_, err := reader.Query(ctx, &timestreamquery.QueryInput{QueryString: aws.String("DELETE FROM prometheus.metrics")})
	if err == nil || !strings.Contains(err.Error(), "AccessDeniedException") {
		t.Fatalf("reader DELETE: %v", err)
	}
	if code, body := adminDo(t, srv, "POST", "/api/v1/admin/tsdb/delete_series", url.Values{"match[]": {"cpu"}}, "reader", "reader-secret"); code != http.StatusForbidden {
		t.Fatalf("reader delete_series: %d %s", code, body)
	}

	// SQL: h0 between minutes 20 and 49 — rows in parts A and in memory.
	from, to := base.Add(20*time.Minute).UTC(), base.Add(49*time.Minute).UTC()
	sql := fmt.Sprintf("DELETE FROM prometheus.metrics WHERE host = 'h0' AND time BETWEEN from_iso8601_timestamp('%s') AND from_iso8601_timestamp('%s')",
		from.Format(time.RFC3339), to.Format(time.RFC3339))
	rows := deleteSQLRows(t, q, sql)
	if len(rows) != 1 || rows[0][1] != "1" || rows[0][2] != "1" {
		t.Fatalf("DELETE answered %v, want one series and one range", rows)
	}
	check(srv, "after DELETE", map[string]int{"h0": 30, "h1": 60, "h2": 50})
	// Prometheus: every row of h2; acknowledged, then kill -9.
	if code, body := adminDo(t, srv, "POST", "/api/v1/admin/tsdb/delete_series", url.Values{"match[]": {`cpu{host=~"h2|h9"}`}}, "AKIDTEST", "secret"); code != http.StatusNoContent {
		t.Fatalf("delete_series: %d %s", code, body)
	}
	srv.kill()
	srv = startServerAt(t, dataDir, srv.addr, "--config", cfg)
	want := map[string]int{"h0": 30, "h1": 60}
	check(srv, "after kill -9", want)

	// clean_tombstones rewrites the parts A (they hold rows of h0 and h2)
	// and leaves the parts B (only h1) alone; the memory tier still holds
	// deleted rows, so the tombstones stay.
	if code, body := adminDo(t, srv, "POST", "/api/v1/admin/tsdb/clean_tombstones", nil, "AKIDTEST", "secret"); code != http.StatusNoContent {
		t.Fatalf("clean_tombstones: %d %s", code, body)
	}
	after := parts(srv)
	for _, p := range partsB {
		if !slices.Contains(after, p) {
			t.Errorf("part %s (no deleted rows) was rewritten: %v → %v", p, partsB, after)
		}
	}
	for _, p := range partsA {
		if slices.Contains(after, p) {
			t.Errorf("part %s (deleted rows) was not rewritten: %v → %v", p, partsA, after)
		}
	}
	check(srv, "after rewriting parts", want)
	tombstones := func() int {
		t.Helper()
		code, body := adminDo(t, srv, "GET", "/api/v1/admin/tombstones", nil, "AKIDTEST", "secret")
		var ts []struct {
			ID    uint64   `json:"id"`
			Where []string `json:"where"`
		}
		if err := json.Unmarshal([]byte(body), &ts); code != 200 || err != nil {
			t.Fatalf("tombstones: %d %s %v", code, body, err)
		}
		return len(ts)
	}
	if n := tombstones(); n != 2 {
		t.Fatalf("%d tombstones after a clean with deleted rows in memory, want 2", n)
	}
	// Once the memory tier has flushed (without the deleted rows), the
	// next clean drops both tombstones; the rows stay deleted, restart
	// included.
	flush(srv)
	if code, body := adminDo(t, srv, "PUT", "/api/v1/admin/tsdb/clean_tombstones", nil, "AKIDTEST", "secret"); code != http.StatusNoContent {
		t.Fatalf("clean_tombstones: %d %s", code, body)
	}
	if n := tombstones(); n != 0 {
		t.Fatalf("%d tombstones after the memory tier flushed, want 0", n)
	}
	check(srv, "after dropping the tombstones", want)
	srv.stop()
	srv = startServerAt(t, dataDir, srv.addr, "--config", cfg)
	check(srv, "after restart", want)
	// New rows in a once-deleted range are kept.
	write([]string{"h2"}, 0, 5)
	check(srv, "after writing h2 again", map[string]int{"h0": 30, "h1": 60, "h2": 5})
}
