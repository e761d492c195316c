package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/timestreamwrite"
	"github.com/aws/aws-sdk-go-v2/service/timestreamwrite/types"

	"github.com/tidaldb/tidal/scheduled"
)

// awsCLI returns a function that runs the AWS CLI against srv with a
// private configuration, or skips (fails in CI) when the CLI is missing.
func awsCLI(t *testing.T, srv func() *server) func(args ...string) string {
	t.Helper()
	bin, err := exec.LookPath("aws")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("the AWS CLI is missing; scripts/deps.sh installs it")
		}
		t.Skip("the AWS CLI is not installed (scripts/deps.sh installs it)")
	}
	home := t.TempDir()
	env := append(os.Environ(), "HOME="+home, "AWS_ACCESS_KEY_ID=AKIDTEST", "AWS_SECRET_ACCESS_KEY=secret",
		"AWS_DEFAULT_REGION=us-east-1", "AWS_CONFIG_FILE="+filepath.Join(home, "config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(home, "credentials"), "AWS_PAGER=", "AWS_EC2_METADATA_DISABLED=true")
	return func(args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, append(args, "--endpoint-url", srv().url(), "--output", "json")...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
}

// docsRollup returns the first JSON block of docs/scheduled.md, the
// definition the documentation tells users to create.
func docsRollup(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("../../docs/scheduled.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(data), "```json\n")
	block, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("docs/scheduled.md has no json block")
	}
	return block
}

// TestScheduledQueryAWSCLI runs the rollup example of docs/scheduled.md
// with the AWS CLI against the real server: create, backfill three hours
// with execute-scheduled-query, check the target rows against the same
// aggregate computed over the source, then restart and check the
// definition and its run history survived.
func TestScheduledQueryAWSCLI(t *testing.T) {
	dataDir := t.TempDir()
	srv := startServer(t, dataDir)
	cli := awsCLI(t, func() *server { return srv })
	ctx := ctxT(t)
	c := srv.writeClient()
	if _, err := c.CreateDatabase(ctx, &timestreamwrite.CreateDatabaseInput{DatabaseName: aws.String("devops")}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"cpu", "cpu_1h"} {
		if _, err := c.CreateTable(ctx, &timestreamwrite.CreateTableInput{DatabaseName: aws.String("devops"), TableName: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
	}
	// Three hours of per-minute TSBS-style cpu points for three hosts, up
	// to the last full hour.
	hour := time.Now().UTC().Truncate(time.Hour)
	start := hour.Add(-3 * time.Hour)
	var recs []types.Record
	for m := range 180 {
		for h := range 3 {
			recs = append(recs, types.Record{
				Dimensions:       []types.Dimension{{Name: aws.String("hostname"), Value: aws.String(fmt.Sprintf("host_%d", h))}},
				MeasureName:      aws.String("cpu"),
				MeasureValueType: types.MeasureValueTypeMulti,
				Time:             aws.String(strconv.FormatInt(start.Add(time.Duration(m)*time.Minute).Unix(), 10)),
				TimeUnit:         types.TimeUnitSeconds,
				MeasureValues: []types.MeasureValue{
					{Name: aws.String("usage_user"), Value: aws.String(strconv.Itoa((m*7 + h*13) % 100)), Type: types.MeasureValueTypeDouble},
					{Name: aws.String("usage_system"), Value: aws.String(strconv.Itoa((m*3 + h) % 50)), Type: types.MeasureValueTypeDouble},
				},
			})
			if len(recs) == 100 {
				if _, err := c.WriteRecords(ctx, &timestreamwrite.WriteRecordsInput{DatabaseName: aws.String("devops"), TableName: aws.String("cpu"), Records: recs}); err != nil {
					t.Fatal(err)
				}
				recs = recs[:0]
			}
		}
	}
	if _, err := c.WriteRecords(ctx, &timestreamwrite.WriteRecordsInput{DatabaseName: aws.String("devops"), TableName: aws.String("cpu"), Records: recs}); err != nil {
		t.Fatal(err)
	}

	def := filepath.Join(t.TempDir(), "rollup.json")
	if err := os.WriteFile(def, []byte(docsRollup(t)), 0o644); err != nil {
		t.Fatal(err)
	}
	var created struct{ Arn string }
	if err := json.Unmarshal([]byte(cli("timestream-query", "create-scheduled-query", "--cli-input-json", "file://"+def)), &created); err != nil {
		t.Fatal(err)
	}
	for k := 2; k >= 0; k-- {
		cli("timestream-query", "execute-scheduled-query", "--scheduled-query-arn", created.Arn,
			"--invocation-time", strconv.FormatInt(hour.Add(-time.Duration(k)*time.Hour).Unix(), 10))
	}
	// Manual runs are asynchronous: poll the admin listing (cheaper than
	// the CLI) until all three are recorded, then describe with the CLI.
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := http.Get(srv.url() + "/api/v1/admin/scheduled")
		if err != nil {
			t.Fatal(err)
		}
		var qs []scheduled.AdminQuery
		err = json.NewDecoder(resp.Body).Decode(&qs)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(qs) == 1 && qs[0].Runs == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("manual runs not done after a minute: %+v\n%s", qs, srv.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	var d struct {
		ScheduledQuery struct {
			LastRunSummary struct {
				RunStatus      string
				InvocationTime float64
				ExecutionStats struct{ RecordsIngested int64 }
			}
		}
	}
	if err := json.Unmarshal([]byte(cli("timestream-query", "describe-scheduled-query", "--scheduled-query-arn", created.Arn)), &d); err != nil {
		t.Fatal(err)
	}
	if last := d.ScheduledQuery.LastRunSummary; last.RunStatus != "MANUAL_TRIGGER_SUCCESS" || last.ExecutionStats.RecordsIngested != 3 ||
		int64(last.InvocationTime) != hour.Unix() {
		t.Fatalf("last run %+v", last)
	}

	rows := func(sql string) [][]string {
		var out struct {
			Rows []struct {
				Data []struct{ ScalarValue string }
			}
		}
		if err := json.Unmarshal([]byte(cli("timestream-query", "query", "--query-string", sql)), &out); err != nil {
			t.Fatal(err)
		}
		var got [][]string
		for _, r := range out.Rows {
			var row []string
			for _, d := range r.Data {
				row = append(row, d.ScalarValue)
			}
			got = append(got, row)
		}
		return got
	}
	// The same aggregate over the source, with tidal query.
	cmd := exec.Command(tidalBin, "query", "--endpoint", srv.url(), "--format", "csv",
		`SELECT hostname, bin(time, 1h), avg(usage_user), max(usage_user), avg(usage_system), count(*)
		FROM devops.cpu GROUP BY hostname, bin(time, 1h) ORDER BY hostname, 2`)
	csvOut, err := cmd.Output()
	if err != nil {
		t.Fatalf("tidal query: %v", err)
	}
	var want [][]string
	for _, line := range strings.Split(strings.TrimSpace(string(csvOut)), "\n")[1:] {
		want = append(want, strings.Split(line, ","))
	}
	got := rows(`SELECT hostname, time, avg_user, max_user, avg_system, samples FROM devops.cpu_1h ORDER BY hostname, time`)
	if len(want) != 9 || !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("rollup rows\n%v\nwant\n%v", got, want)
	}

	// The definition and its history survive a restart.
	srv.stop()
	srv = startServerAt(t, dataDir, srv.addr)
	var list struct {
		ScheduledQueries []struct{ Arn, State, LastRunStatus string }
	}
	if err := json.Unmarshal([]byte(cli("timestream-query", "list-scheduled-queries")), &list); err != nil {
		t.Fatal(err)
	}
	if len(list.ScheduledQueries) != 1 || list.ScheduledQueries[0].Arn != created.Arn || list.ScheduledQueries[0].State != "ENABLED" ||
		list.ScheduledQueries[0].LastRunStatus != "MANUAL_TRIGGER_SUCCESS" {
		t.Fatalf("after restart: %+v", list)
	}
	out, err := runTidal(t, "admin", "scheduled", "--endpoint", srv.url())
	if err != nil || !strings.Contains(out, "cpu-hourly") || !strings.Contains(out, "devops.cpu_1h") || !strings.Contains(out, "MANUAL_TRIGGER_SUCCESS") {
		t.Fatalf("tidal admin scheduled: %v\n%s", err, out)
	}
	fields := strings.Fields(strings.Split(strings.TrimSpace(out), "\n")[1])
	if runs, records := fields[len(fields)-3], fields[len(fields)-1]; runs != "3" || records != "9" {
		t.Fatalf("admin totals runs=%s records=%s, want 3 and 9\n%s", runs, records, out)
	}
}
