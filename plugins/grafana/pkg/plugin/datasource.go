package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/timestreamquery"
	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/instancemgmt"
	"github.com/grafana/grafana-plugin-sdk-go/backend/log"
)

// maxParallelQueries bounds the queries of one QueryData call that run at
// once.
const maxParallelQueries = 4

// QueryModel is a query as the frontend saves it; the JSON names are those
// of Grafana's Timestream data source so its dashboards move over.
type QueryModel struct {
	RawQuery      string `json:"rawQuery"`
	Format        int    `json:"format"`
	Database      string `json:"database,omitempty"`
	Table         string `json:"table,omitempty"`
	Measure       string `json:"measure,omitempty"`
	WaitForResult bool   `json:"waitForResult"`
	NextToken     string `json:"nextToken,omitempty"`
}

// Datasource is one configured TidalDB data source.
type Datasource struct {
	settings *Settings
	client   queryClient
	now      func() time.Time
}

var (
	_ backend.QueryDataHandler      = (*Datasource)(nil)
	_ backend.CheckHealthHandler    = (*Datasource)(nil)
	_ backend.CallResourceHandler   = (*Datasource)(nil)
	_ instancemgmt.InstanceDisposer = (*Datasource)(nil)
)

// NewDatasource is the instance factory datasource.Manage calls.
func NewDatasource(_ context.Context, is backend.DataSourceInstanceSettings) (instancemgmt.Instance, error) {
	s, err := LoadSettings(is)
	if err != nil {
		return nil, err
	}
	c, err := newQueryClient(s)
	if err != nil {
		return nil, err
	}
	return &Datasource{settings: s, client: c, now: time.Now}, nil
}

// Dispose is called when the settings change; the client holds nothing
// that needs closing.
func (d *Datasource) Dispose() {}

// QueryData runs each query on its own and answers each with its frames or
// its own error, so one bad query does not fail the panel's others.
func (d *Datasource) QueryData(ctx context.Context, req *backend.QueryDataRequest) (*backend.QueryDataResponse, error) {
	fromAlert := req.Headers[backend.FromAlertHeaderName] == "true"
	resp := backend.NewQueryDataResponse()
	var (
		mu  sync.Mutex
		wg  sync.WaitGroup
		sem = make(chan struct{}, maxParallelQueries)
	)
	for _, q := range req.Queries {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			r := d.query(ctx, q, fromAlert)
			mu.Lock()
			resp.Responses[q.RefID] = r
			mu.Unlock()
		}()
	}
	wg.Wait()
	return resp, nil
}

// query answers one query.
func (d *Datasource) query(ctx context.Context, q backend.DataQuery, fromAlert bool) backend.DataResponse {
	var m QueryModel
	if err := json.Unmarshal(q.JSON, &m); err != nil {
		return backend.ErrDataResponseWithSource(backend.StatusBadRequest, backend.ErrorSourcePlugin, fmt.Sprintf("decode query: %v", err))
	}
	if strings.TrimSpace(m.RawQuery) == "" {
		return backend.DataResponse{}
	}
	if fromAlert {
		// Alert rules and recorded queries need the whole result, as
		// series they can evaluate.
		m.WaitForResult = true
		m.Format = FormatTimeSeries
	}
	mc := &macroContext{
		From: q.TimeRange.From, To: q.TimeRange.To, Interval: q.Interval, Now: d.now(),
		MaxDataPoints: q.MaxDataPoints,
		Database:      m.Database, Table: m.Table, Measure: m.Measure,
		DefaultDB: d.settings.DefaultDatabase, DefaultTable: d.settings.DefaultTable, DefaultMeasure: d.settings.DefaultMeasure,
	}
	sql, err := expandMacros(m.RawQuery, mc)
	if err != nil {
		return backend.ErrDataResponseWithSource(backend.StatusBadRequest, backend.ErrorSourceDownstream, err.Error())
	}
	ctx, cancel := context.WithTimeout(ctx, d.settings.Timeout())
	defer cancel()
	res, err := d.run(ctx, sql, m.NextToken, m.WaitForResult)
	if err != nil {
		return errResponse(err)
	}
	frames, err := toFrames(res, m.Format, q.RefID, sql)
	if err != nil {
		return backend.ErrDataResponseWithSource(backend.StatusInternal, backend.ErrorSourcePlugin, err.Error())
	}
	return backend.DataResponse{Frames: frames}
}

// errResponse is the data response for a failed query: bad SQL is the
// user's (400), the rest the server's or the network's.
func errResponse(err error) backend.DataResponse {
	status := backend.StatusInternal
	switch {
	case errors.Is(err, context.Canceled):
		status = backend.StatusTimeout
	case errors.Is(err, context.DeadlineExceeded):
		status = backend.StatusTimeout
	case isUserError(err):
		status = backend.StatusBadRequest
	case httpStatus(err) == 401 || httpStatus(err) == 403:
		status = backend.StatusUnauthorized
	}
	return backend.ErrDataResponseWithSource(status, backend.ErrorSourceDownstream, "query TidalDB: "+apiMessage(err))
}

// run runs sql from the start (or from nextToken) and returns its rows:
// every page when all is set, else the first page holding rows. If ctx
// ends while the query runs on the server, the query is cancelled there.
func (d *Datasource) run(ctx context.Context, sql, nextToken string, all bool) (*queryResult, error) {
	res := &queryResult{}
	var token *string
	if nextToken != "" {
		token = aws.String(nextToken)
	}
	for {
		in := &timestreamquery.QueryInput{QueryString: aws.String(sql), NextToken: token}
		if d.settings.MaxRows > 0 {
			in.MaxRows = aws.Int32(d.settings.MaxRows)
		}
		out, err := d.client.Query(ctx, in)
		if err != nil {
			if res.QueryID != "" && ctx.Err() != nil {
				d.cancelOnServer(res.QueryID)
			}
			return nil, err
		}
		res.Pages++
		res.QueryID = aws.ToString(out.QueryId)
		if len(out.ColumnInfo) > 0 {
			res.Columns = out.ColumnInfo
		}
		res.Rows = append(res.Rows, out.Rows...)
		res.Status = out.QueryStatus
		token = out.NextToken
		if token == nil {
			return res, nil
		}
		// A page without columns means the query still runs: poll on
		// even when not all pages are wanted.
		if !all && len(out.ColumnInfo) > 0 {
			res.NextToken = *token
			return res, nil
		}
		if ctx.Err() != nil {
			d.cancelOnServer(res.QueryID)
			return nil, ctx.Err()
		}
	}
}

// cancelOnServer asks the server to stop a query the caller gave up on.
func (d *Datasource) cancelOnServer(id string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := d.client.CancelQuery(ctx, &timestreamquery.CancelQueryInput{QueryId: aws.String(id)}); err != nil {
		log.DefaultLogger.Warn("cancel query on the server", "queryId", id, "err", err.Error())
	}
}

// CheckHealth runs SELECT 1 and reports the server's version from the
// reply's check, so a wrong URL, a refused credential and a server that
// answers wrongly are told apart.
func (d *Datasource) CheckHealth(ctx context.Context, _ *backend.CheckHealthRequest) (*backend.CheckHealthResult, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	res, err := d.run(ctx, "SELECT 1", "", true)
	if err != nil {
		msg := "Cannot query TidalDB at " + d.settings.URL + ": " + apiMessage(err)
		if st := httpStatus(err); st == 401 || st == 403 {
			msg = "TidalDB refused the credentials (HTTP " + fmt.Sprint(st) + "): " + apiMessage(err)
		}
		return &backend.CheckHealthResult{Status: backend.HealthStatusError, Message: msg}, nil
	}
	if len(res.Rows) != 1 || len(res.Rows[0].Data) != 1 || aws.ToString(res.Rows[0].Data[0].ScalarValue) != "1" {
		return &backend.CheckHealthResult{Status: backend.HealthStatusError,
			Message: "TidalDB answered SELECT 1 with something other than one row holding 1"}, nil
	}
	msg := "Connected to TidalDB"
	if v := serverVersion(ctx, d.settings); v != "" {
		msg += " (" + v + ")"
	}
	return &backend.CheckHealthResult{Status: backend.HealthStatusOk, Message: msg}, nil
}
