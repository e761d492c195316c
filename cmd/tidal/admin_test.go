package main

import (
	"fmt"
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
	out, err = runTidal(t, "admin", "parts", "--endpoint", srv.url())
	if err != nil || !strings.Contains(out, "B/SAMPLE") || !strings.Contains(out, " 1000 ") {
		t.Fatalf("admin parts: %v\n%s", err, out)
	}
	t.Logf("tidal admin parts:\n%s", out)
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
