package main

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/timestreamquery"
	"github.com/aws/aws-sdk-go-v2/service/timestreamwrite"
	"github.com/aws/aws-sdk-go-v2/service/timestreamwrite/types"
)

func (s *server) queryClient() *timestreamquery.Client {
	return timestreamquery.New(timestreamquery.Options{
		Region:            "us-east-1",
		Credentials:       credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		BaseEndpoint:      aws.String(s.url()),
		EndpointDiscovery: timestreamquery.EndpointDiscoveryOptions{EnableEndpointDiscovery: aws.EndpointDiscoveryDisabled},
	})
}

// TestSQLOverBothTiers writes through the Write API, queries through the
// Query API with the AWS SDK, moves the data to the magnetic tier, adds
// fresh rows in memory, and checks the SQL answers span both tiers.
func TestSQLOverBothTiers(t *testing.T) {
	srv := startServer(t, t.TempDir())
	ctx := ctxT(t)
	w := srv.writeClient()
	if _, err := w.CreateDatabase(ctx, &timestreamwrite.CreateDatabaseInput{DatabaseName: aws.String("sqltest")}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.CreateTable(ctx, &timestreamwrite.CreateTableInput{DatabaseName: aws.String("sqltest"), TableName: aws.String("cpu")}); err != nil {
		t.Fatal(err)
	}
	base := time.Now().Add(-2 * time.Hour).Truncate(time.Minute)
	write := func(from, n int) {
		var recs []types.Record
		for i := from; i < from+n; i++ {
			for h := range 3 {
				recs = append(recs, types.Record{
					Dimensions:   []types.Dimension{{Name: aws.String("host"), Value: aws.String(fmt.Sprintf("h%d", h))}},
					MeasureName:  aws.String("usage"),
					MeasureValue: aws.String(strconv.Itoa(i * (h + 1))),
					Time:         aws.String(strconv.FormatInt(base.Add(time.Duration(i)*time.Minute).UnixMilli(), 10)),
				})
			}
		}
		for len(recs) > 0 {
			n := min(100, len(recs))
			if _, err := w.WriteRecords(ctx, &timestreamwrite.WriteRecordsInput{DatabaseName: aws.String("sqltest"), TableName: aws.String("cpu"), Records: recs[:n]}); err != nil {
				t.Fatal(err)
			}
			recs = recs[n:]
		}
	}
	q := srv.queryClient()
	sql := `SELECT host, count(*) AS n, sum(measure_value::double) AS total, max(time) AS last
		FROM "sqltest"."cpu" WHERE measure_name = 'usage' AND time > ago(1d) GROUP BY host ORDER BY host`
	check := func(rows int) {
		t.Helper()
		out, err := q.Query(ctx, &timestreamquery.QueryInput{QueryString: aws.String(sql)})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Rows) != 3 || len(out.ColumnInfo) != 4 || aws.ToString(out.ColumnInfo[1].Name) != "n" {
			t.Fatalf("result %+v", out)
		}
		sumI := rows * (rows - 1) / 2
		for h, r := range out.Rows {
			d := r.Data
			wantLast := base.Add(time.Duration(rows-1) * time.Minute).UTC().Format("2006-01-02 15:04:05.000000000")
			if aws.ToString(d[0].ScalarValue) != fmt.Sprintf("h%d", h) || aws.ToString(d[1].ScalarValue) != strconv.Itoa(rows) ||
				aws.ToString(d[2].ScalarValue) != strconv.FormatFloat(float64(sumI*(h+1)), 'f', 1, 64) || aws.ToString(d[3].ScalarValue) != wantLast {
				t.Fatalf("row %d = %v %v %v %v; want h%d %d %d %s", h, aws.ToString(d[0].ScalarValue), aws.ToString(d[1].ScalarValue),
					aws.ToString(d[2].ScalarValue), aws.ToString(d[3].ScalarValue), h, rows, sumI*(h+1), wantLast)
			}
		}
	}
	write(0, 60)
	check(60)
	if out, err := runTidal(t, "admin", "flush", "--endpoint", srv.url()); err != nil {
		t.Fatalf("flush: %v %s", err, out)
	}
	check(60) // all from the magnetic tier now
	write(60, 30)
	check(90) // both tiers
}

// TestQueryPagingRealServer pages 10,000 rows with MaxRows 100 through the
// AWS SDK's paginator from the real server, and checks NULLs and a time
// series result.
func TestQueryPagingRealServer(t *testing.T) {
	srv := startServer(t, t.TempDir())
	ctx := ctxT(t)
	w := srv.writeClient()
	if _, err := w.CreateDatabase(ctx, &timestreamwrite.CreateDatabaseInput{DatabaseName: aws.String("pages")}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.CreateTable(ctx, &timestreamwrite.CreateTableInput{DatabaseName: aws.String("pages"), TableName: aws.String("tbl")}); err != nil {
		t.Fatal(err)
	}
	base := time.Now().Add(-3 * time.Hour).Truncate(time.Second)
	const n = 10000
	for b := 0; b < n; b += 100 {
		recs := make([]types.Record, 0, 100)
		for i := b; i < b+100; i++ {
			r := types.Record{
				Dimensions:       []types.Dimension{{Name: aws.String("host"), Value: aws.String("h")}},
				MeasureName:      aws.String("m"),
				MeasureValueType: types.MeasureValueTypeMulti,
				Time:             aws.String(strconv.FormatInt(base.Add(time.Duration(i)*time.Second).UnixMilli(), 10)),
				MeasureValues:    []types.MeasureValue{{Name: aws.String("v"), Value: aws.String(strconv.Itoa(i)), Type: types.MeasureValueTypeBigint}},
			}
			if i%2 == 0 { // the attribute "even" is NULL on odd rows
				r.MeasureValues = append(r.MeasureValues, types.MeasureValue{Name: aws.String("even"), Value: aws.String("true"), Type: types.MeasureValueTypeBoolean})
			}
			recs = append(recs, r)
		}
		if _, err := w.WriteRecords(ctx, &timestreamwrite.WriteRecordsInput{DatabaseName: aws.String("pages"), TableName: aws.String("tbl"), Records: recs}); err != nil {
			t.Fatal(err)
		}
	}
	q := srv.queryClient()
	p := timestreamquery.NewQueryPaginator(q, &timestreamquery.QueryInput{
		QueryString: aws.String(`SELECT v, even FROM "pages"."tbl" ORDER BY time`), MaxRows: aws.Int32(100)})
	next, pages := 0, 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if len(out.Rows) > 100 {
			t.Fatalf("page of %d rows with MaxRows 100", len(out.Rows))
		}
		for _, r := range out.Rows {
			if got := aws.ToString(r.Data[0].ScalarValue); got != strconv.Itoa(next) {
				t.Fatalf("row %d has v=%s", next, got)
			}
			even := r.Data[1]
			if next%2 == 0 && aws.ToString(even.ScalarValue) != "true" || next%2 == 1 && !aws.ToBool(even.NullValue) {
				t.Fatalf("row %d even = %+v", next, even)
			}
			next++
		}
	}
	if next != n || pages < n/100 {
		t.Fatalf("%d rows in %d pages, want %d rows in at least %d pages", next, pages, n, n/100)
	}
	// A time series result.
	out, err := q.Query(ctx, &timestreamquery.QueryInput{QueryString: aws.String(
		`SELECT host, CREATE_TIME_SERIES(time, v) AS series FROM "pages"."tbl" WHERE v < 3 GROUP BY host`)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Rows) != 1 || out.ColumnInfo[1].Type.TimeSeriesMeasureValueColumnInfo == nil {
		t.Fatalf("time series result %+v", out)
	}
	ts := out.Rows[0].Data[1].TimeSeriesValue
	if len(ts) != 3 || aws.ToString(ts[2].Value.ScalarValue) != "2" {
		t.Fatalf("time series %+v", ts)
	}
}
