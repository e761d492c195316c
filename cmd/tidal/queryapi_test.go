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
