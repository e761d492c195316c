package plugin

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/timestreamquery"
	"github.com/aws/aws-sdk-go-v2/service/timestreamquery/types"
)

// pagingClient answers Query with endless pages of one row and records
// CancelQuery calls. The end-to-end tests use the real server; this covers
// what it cannot show quickly: a cancel between pages of a long result.
type pagingClient struct {
	pages     int
	cancelled []string
	onPage    func(n int)
}

func (c *pagingClient) Query(ctx context.Context, in *timestreamquery.QueryInput, _ ...func(*timestreamquery.Options)) (*timestreamquery.QueryOutput, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c.pages++
	if c.onPage != nil {
		c.onPage(c.pages)
	}
	return &timestreamquery.QueryOutput{
		QueryId:    aws.String("Q42"),
		ColumnInfo: []types.ColumnInfo{{Name: aws.String("n"), Type: &types.Type{ScalarType: types.ScalarTypeBigint}}},
		Rows:       []types.Row{{Data: []types.Datum{{ScalarValue: aws.String(strconv.Itoa(c.pages))}}}},
		NextToken:  aws.String(fmt.Sprintf("T%d", c.pages)),
	}, nil
}

func (c *pagingClient) CancelQuery(_ context.Context, in *timestreamquery.CancelQueryInput, _ ...func(*timestreamquery.Options)) (*timestreamquery.CancelQueryOutput, error) {
	c.cancelled = append(c.cancelled, aws.ToString(in.QueryId))
	return &timestreamquery.CancelQueryOutput{}, nil
}

func TestRunCancelsOnServerWhenPagingStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := &pagingClient{onPage: func(n int) {
		if n == 3 {
			cancel() // Grafana gives up while page 3 is read
		}
	}}
	d := &Datasource{settings: &Settings{}, client: c, now: time.Now}
	_, err := d.run(ctx, "SELECT n", "", true)
	if err == nil || c.pages != 3 || len(c.cancelled) != 1 || c.cancelled[0] != "Q42" {
		t.Fatalf("err %v after %d pages, CancelQuery %v; want an error after 3 pages and CancelQuery(Q42)", err, c.pages, c.cancelled)
	}

	// Without waitForResult the first page comes back with its token and
	// nothing is cancelled.
	c2 := &pagingClient{}
	d.client = c2
	res, err := d.run(context.Background(), "SELECT n", "", false)
	if err != nil || c2.pages != 1 || res.NextToken != "T1" || len(c2.cancelled) != 0 {
		t.Fatalf("first page: %v pages %d token %q cancels %v", err, c2.pages, res.NextToken, c2.cancelled)
	}
}

// BenchmarkToFrames converts a 10,000-row long result (100 hosts × 100
// minutes) to a wide time-series frame, the hot path of a dashboard panel.
func BenchmarkToFrames(b *testing.B) {
	res := &queryResult{Columns: []types.ColumnInfo{
		{Name: aws.String("time"), Type: &types.Type{ScalarType: types.ScalarTypeTimestamp}},
		{Name: aws.String("hostname"), Type: &types.Type{ScalarType: types.ScalarTypeVarchar}},
		{Name: aws.String("usage"), Type: &types.Type{ScalarType: types.ScalarTypeDouble}},
	}}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for m := range 100 {
		ts := base.Add(time.Duration(m) * time.Minute).Format(layoutTimestamp)
		for h := range 100 {
			res.Rows = append(res.Rows, types.Row{Data: []types.Datum{
				{ScalarValue: aws.String(ts)}, {ScalarValue: aws.String(fmt.Sprintf("host_%d", h))}, {ScalarValue: aws.String(strconv.Itoa(h + m))},
			}})
		}
	}
	for _, format := range []int{FormatTable, FormatTimeSeries} {
		b.Run(map[int]string{FormatTable: "table", FormatTimeSeries: "timeseries"}[format], func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := toFrames(res, format, "A", ""); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
