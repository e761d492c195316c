package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/timestreamwrite"
	"github.com/aws/aws-sdk-go-v2/service/timestreamwrite/types"
)

// TestAdminFlushAndParts writes records, moves them to the magnetic tier
// with `tidal admin flush`, lists them with `tidal admin parts`, then
// upserts a flushed row and checks what a restarted server holds.
func TestAdminFlushAndParts(t *testing.T) {
	dataDir := t.TempDir()
	srv := startServer(t, dataDir)
	ctx := ctxT(t)
	c := srv.writeClient()
	if _, err := c.CreateDatabase(ctx, &timestreamwrite.CreateDatabaseInput{DatabaseName: aws.String("adm")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateTable(ctx, &timestreamwrite.CreateTableInput{DatabaseName: aws.String("adm"), TableName: aws.String("cpu")}); err != nil {
		t.Fatal(err)
	}
	base := time.Now().Add(-time.Hour).Truncate(time.Second)
	for b := range 10 {
		var recs []types.Record
		for i := range 100 {
			recs = append(recs, types.Record{
				Dimensions:   []types.Dimension{{Name: aws.String("host"), Value: aws.String(fmt.Sprintf("h%d", i%10))}},
				MeasureName:  aws.String("usage"),
				MeasureValue: aws.String(strconv.Itoa(b*100 + i)),
				Time:         aws.String(strconv.FormatInt(base.Add(time.Duration(b*10+i/10)*time.Second).UnixMilli(), 10)),
			})
		}
		if _, err := c.WriteRecords(ctx, &timestreamwrite.WriteRecordsInput{DatabaseName: aws.String("adm"), TableName: aws.String("cpu"), Records: recs}); err != nil {
			t.Fatal(err)
		}
	}
	out, err := runTidal(t, "admin", "flush", "--endpoint", srv.url())
	if err != nil || !strings.Contains(out, "flushed 1000 rows of 10 series in 1 tables") {
		t.Fatalf("admin flush: %v\n%s", err, out)
	}
	// No --endpoint: TIDAL_ENDPOINT names the server.
	cmd := exec.CommandContext(ctx, tidalBin, "admin", "parts")
	cmd.Env = append(os.Environ(), "TIDAL_ENDPOINT="+srv.url())
	b, err := cmd.CombinedOutput()
	out = string(b)
	if err != nil || !strings.Contains(out, "B/SAMPLE") || !strings.Contains(out, " 1000 ") {
		t.Fatalf("admin parts: %v\n%s", err, out)
	}
	t.Logf("tidal admin parts:\n%s", out)
	if !strings.Contains(out, "adm.cpu ") {
		t.Fatalf("admin parts does not name the table adm.cpu:\n%s", out)
	}
	checkIndex(t, srv.url())
	// Upsert a row that now lives in the magnetic tier.
	first := strconv.FormatInt(base.UnixMilli(), 10)
	if _, err := c.WriteRecords(ctx, &timestreamwrite.WriteRecordsInput{DatabaseName: aws.String("adm"), TableName: aws.String("cpu"),
		Records: []types.Record{{Dimensions: []types.Dimension{{Name: aws.String("host"), Value: aws.String("h0")}}, MeasureName: aws.String("usage"),
			MeasureValue: aws.String("4242"), Time: aws.String(first), Version: aws.Int64(2)}}}); err != nil {
		t.Fatal(err)
	}
	srv.kill()
	rows := readRows(t, dataDir, "adm", "cpu")
	if len(rows) != 1000 {
		t.Fatalf("%d rows, want 1000", len(rows))
	}
	if got := rows["h0/usage@"+first]; got != "4242 v2" {
		t.Fatalf("upserted row = %q", got)
	}
	if got := rows["h9/usage@"+strconv.FormatInt(base.Add(99*time.Second).UnixMilli(), 10)]; got != "999 v1" {
		t.Fatalf("last row = %q", got)
	}
	out, err = runTidal(t, "admin", "parts", "--endpoint", "http://"+freeAddr(t))
	if err == nil || !strings.Contains(out, "tidal admin parts:") {
		t.Fatalf("admin parts against nothing: %v %s", err, out)
	}
}

// TestAdminHelp checks that `tidal admin --help` succeeds and names the
// commands, and that a command without a server fails with its name.
func TestAdminHelp(t *testing.T) {
	for _, arg := range []string{"--help", "-h", "help"} {
		out, err := runTidal(t, "admin", arg)
		if err != nil || !strings.Contains(out, "flush") || !strings.Contains(out, "parts") || !strings.Contains(out, "TIDAL_ENDPOINT") {
			t.Fatalf("tidal admin %s: %v\n%s", arg, err, out)
		}
	}
	if out, err := runTidal(t, "admin", "nosuch"); err == nil || !strings.Contains(out, `unknown command "nosuch"`) {
		t.Fatalf("tidal admin nosuch: %v\n%s", err, out)
	}
}

// checkIndex checks that GET / lists every API the port serves.
func checkIndex(t *testing.T, base string) {
	t.Helper()
	resp, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /: %v %s", err, resp.Status)
	}
	for _, want := range []string{
		"Timestream_20181101", "/api/v1/write", "/api/v1/read", "/api/v1/query ", "/api/v1/query_range", "/api/v1/series",
		"/api/v1/labels", "/api/v1/label/<name>/values", "/api/v1/metadata", "/api/v1/status/buildinfo",
		"/api/v1/format_query", "/api/v1/admin/flush", "/api/v1/admin/parts", "/metrics", "/healthz", "/debug/pprof/",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("GET / does not list %s:\n%s", want, body)
		}
	}
}
