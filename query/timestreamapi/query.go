package timestreamapi

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/tidaldb/tidal/internal/auth"
	"github.com/tidaldb/tidal/internal/awsjson"
	"github.com/tidaldb/tidal/query/deletes"
	"github.com/tidaldb/tidal/query/exec"
	"github.com/tidaldb/tidal/query/unload"
)

// QueryInput is the request of the Query operation.
type QueryInput struct {
	QueryString   *string
	ClientToken   *string
	NextToken     *string
	MaxRows       *int64
	QueryInsights *struct{ Mode string }
}

// DecodeQueryInput decodes and validates a Query request body with
// Timestream's limits (maxQueryBytes for QueryString). Errors are
// *awsjson.Error ValidationExceptions.
func DecodeQueryInput(body []byte, maxQueryBytes int) (*QueryInput, error) {
	var in QueryInput
	if e := awsjson.Decode(body, &in); e != nil {
		return nil, e
	}
	switch {
	case in.QueryString == nil:
		return nil, awsjson.Validation("1 validation error detected: Value null at 'queryString' failed to satisfy constraint: Member must not be null")
	case len(*in.QueryString) == 0:
		return nil, awsjson.Validation("1 validation error detected: Value at 'queryString' failed to satisfy constraint: Member must have length greater than or equal to 1")
	case len(*in.QueryString) > maxQueryBytes:
		return nil, awsjson.Validation("1 validation error detected: Value at 'queryString' failed to satisfy constraint: Member must have length less than or equal to %d", maxQueryBytes)
	case !utf8.ValidString(*in.QueryString):
		return nil, awsjson.Validation("QueryString is not valid UTF-8.")
	}
	if in.ClientToken != nil && (len(*in.ClientToken) < 32 || len(*in.ClientToken) > 128) {
		return nil, awsjson.Validation("1 validation error detected: Value at 'clientToken' failed to satisfy constraint: Member must have length between 32 and 128")
	}
	if in.NextToken != nil && (len(*in.NextToken) < 1 || len(*in.NextToken) > 2048) {
		return nil, awsjson.Validation("1 validation error detected: Value at 'nextToken' failed to satisfy constraint: Member must have length between 1 and 2048")
	}
	if in.MaxRows != nil && (*in.MaxRows < 1 || *in.MaxRows > 1000) {
		return nil, awsjson.Validation("1 validation error detected: Value '%d' at 'maxRows' failed to satisfy constraint: Member must have value between 1 and 1000", *in.MaxRows)
	}
	if in.QueryInsights != nil && in.QueryInsights.Mode != "ENABLED_WITH_RATE_CONTROL" && in.QueryInsights.Mode != "DISABLED" {
		return nil, awsjson.Validation("1 validation error detected: Value '%s' at 'queryInsights.mode' failed to satisfy constraint: Member must satisfy enum value set: [ENABLED_WITH_RATE_CONTROL, DISABLED]", in.QueryInsights.Mode)
	}
	return &in, nil
}

func invalidToken() error { return awsjson.Validation("%s", msgInvalidToken) }

func (a *API) query(r *request) (any, error) {
	in, err := DecodeQueryInput(r.body, a.opts.MaxQueryBytes)
	if err != nil {
		return nil, err
	}
	var maxRows int
	if in.MaxRows != nil {
		maxRows = int(*in.MaxRows)
	}
	if in.NextToken != nil {
		return a.poll(r, *in.QueryString, *in.NextToken, maxRows)
	}
	// UNLOAD writes files on the server's targets (its disk, its bucket):
	// an authenticated caller needs the admin role for it.
	if unload.IsUnload(*in.QueryString) {
		if p, ok := auth.PrincipalFrom(r.ctx); ok && p.Role != auth.Admin {
			return nil, awsjson.NewError(awsjson.TypeAccessDenied, "UNLOAD needs a credential with the admin role.")
		}
	}
	// DELETE (an extension) removes data: admin role too.
	if deletes.IsDelete(*in.QueryString) {
		if p, ok := auth.PrincipalFrom(r.ctx); ok && p.Role != auth.Admin {
			return nil, awsjson.NewError(awsjson.TypeAccessDenied, "DELETE needs a credential with the admin role.")
		}
	}
	se, streaming := a.eng.(StreamEngine)
	var ctx context.Context
	var cancel context.CancelFunc
	if streaming {
		// The stream keeps its own deadline, stopped while it waits for
		// the client.
		ctx, cancel = context.WithCancel(context.Background())
	} else {
		ctx, cancel = context.WithTimeout(context.Background(), a.opts.QueryTimeout)
	}
	c, err := a.cursors.start(*in.QueryString, cancel, a.opts.MaxConcurrentQueries)
	if err != nil {
		cancel()
		if errors.Is(err, errBusy) {
			return nil, awsjson.NewError(awsjson.TypeThrottling, "%s", msgTooManyQueries)
		}
		return nil, &awsjson.Error{Type: "ServiceUnavailableException", Message: msgServerClosed}
	}
	a.running.Inc()
	if streaming {
		c.st = newStream(ctx, cancel, a.streamWindowBytes(), a.opts.QueryTimeout)
		go a.runStream(ctx, c, se)
		return a.respondStream(r.ctx, c, "", "", 0, maxRows)
	}
	go a.run(ctx, c)
	return a.respond(r.ctx, c, "", "", 0, maxRows)
}

// streamWindowBytes is the most a streamed query buffers before it
// pauses: the page a live token can still ask for and about three more.
func (a *API) streamWindowBytes() int64 { return 4 * int64(a.opts.MaxPageBytes) }

// runStream runs c's query into its stream.
func (a *API) runStream(ctx context.Context, c *cursor, se StreamEngine) {
	start := time.Now()
	// An UNLOAD names its files after the QueryId, as Timestream does.
	stats, err := se.Stream(unload.WithQueryID(ctx, c.id), c.sql, nil, c.st)
	label := "ok"
	if err != nil {
		label = a.apiError("Query", err).Type
	}
	a.running.Dec()
	a.duration.WithLabelValues(label).Observe(time.Since(start).Seconds())
	// The slot is free before the client can see the end: a client that
	// starts its next query on the last page must not be throttled.
	a.cursors.finish(c, nil, nil, nil)
	c.st.finish(stats, err)
}

// respondStream is respond for a streamed query: it waits up to WaitTime
// for the page at offset and encodes it from the stream's window.
func (a *API) respondStream(ctx context.Context, c *cursor, tok, nonce string, offset, maxRows int) (any, error) {
	a.cursors.attach(c)
	defer a.cursors.detach(c)
	first := tok == ""
	st := c.st
	ready, err := st.wait(ctx, offset, maxRows, a.opts.MaxPageBytes, a.opts.WaitTime)
	if err != nil {
		if first {
			a.cursors.remove(c) // nobody can learn the QueryId: stop it
		}
		return nil, err
	}
	if !ready {
		if first {
			tok = a.cursors.issue(c, 0)
		}
		return runningResponse(c.id, tok), nil
	}
	if a.cursors.isCancelled(c) {
		return nil, awsjson.NewError(awsjson.TypeConflict, "%s", msgCancelled)
	}
	st.mu.Lock()
	if st.err != nil {
		err := st.err
		st.mu.Unlock()
		a.cursors.remove(c)
		return nil, a.closedError(err)
	}
	if offset < st.base || offset > st.base+len(st.rows) {
		st.mu.Unlock()
		return nil, invalidToken()
	}
	body, n, err := a.encodedPage(c.id, st.colInfo, st.rows[offset-st.base:], maxRows)
	end := offset + n
	more := !st.done || end < st.base+len(st.rows)
	scanned := st.stats.BytesScanned
	st.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if more {
		if first {
			// No token names the first page: its rows can go now.
			st.release(end)
		}
		next := a.cursors.nextToken(c, nonce, int32(maxRows), end)
		body = append(body, `,"NextToken":`...)
		body = appendJSONString(body, next)
	} else if first {
		a.cursors.remove(c) // the whole result is in this page
	}
	progress := 100
	if more {
		progress = 0
	}
	body = appendQueryStatus(body, progress, scanned)
	return rawJSON(append(body, '}')), nil
}

// closedError is err, or a ServiceUnavailableException when err is the
// cancellation of a query that Close stopped: the server is shutting
// down, and the client may retry elsewhere or later.
func (a *API) closedError(err error) error {
	var xe *exec.Error
	if (errors.As(err, &xe) && xe.Kind == exec.ErrCanceled || errors.Is(err, context.Canceled)) && a.cursors.isClosed() {
		return &awsjson.Error{Type: "ServiceUnavailableException", Message: msgServerClosed}
	}
	return err
}

// run executes c's query and records the outcome.
func (a *API) run(ctx context.Context, c *cursor) {
	start := time.Now()
	res, err := a.eng.Query(ctx, c.sql, nil)
	if err == nil && res == nil {
		res = &exec.Result{}
	}
	label := "ok"
	if err != nil {
		label = a.apiError("Query", err).Type
	}
	a.running.Dec()
	a.duration.WithLabelValues(label).Observe(time.Since(start).Seconds())
	tooLarge := awsjson.NewError(awsjson.TypeQueryExecution, "Query result exceeds the %d bytes this server keeps for paging; add a LIMIT or narrow the query.", a.opts.MaxCursorBytes)
	a.cursors.finish(c, res, err, tooLarge)
}

// poll answers a Query call that carries a NextToken.
func (a *API) poll(r *request, sql, tok string, maxRows int) (any, error) {
	id, nonce, ok := parseToken(tok)
	if !ok {
		return nil, invalidToken()
	}
	c, ok := a.cursors.get(id)
	if !ok {
		return nil, invalidToken()
	}
	if a.cursors.isCancelled(c) {
		return nil, awsjson.NewError(awsjson.TypeConflict, "%s", msgCancelled)
	}
	if c.sql != sql {
		return nil, invalidToken()
	}
	t, ok := a.cursors.use(c, nonce, a.opts.MaxTokenUses)
	if !ok {
		return nil, invalidToken()
	}
	if c.st != nil {
		// Every older token is now invalid: their rows can go.
		c.st.release(t.offset)
		return a.respondStream(r.ctx, c, tok, nonce, t.offset, maxRows)
	}
	return a.respond(r.ctx, c, tok, nonce, t.offset, maxRows)
}

// respond waits up to WaitTime for c and answers with the page of at most
// maxRows rows (0: no limit) that starts at offset. tok and nonce name the
// token presented, empty on the first call.
func (a *API) respond(ctx context.Context, c *cursor, tok, nonce string, offset, maxRows int) (any, error) {
	a.cursors.attach(c)
	defer a.cursors.detach(c)
	first := tok == ""
	timer := time.NewTimer(a.opts.WaitTime)
	defer timer.Stop()
	select {
	case <-c.done:
	case <-timer.C:
		// Still running: the caller polls with a token for the first page.
		if first {
			tok = a.cursors.issue(c, 0)
		}
		return runningResponse(c.id, tok), nil
	case <-ctx.Done():
		if first {
			a.cursors.remove(c) // nobody can learn the QueryId: stop it
		}
		return nil, ctx.Err()
	}
	if a.cursors.isCancelled(c) {
		return nil, awsjson.NewError(awsjson.TypeConflict, "%s", msgCancelled)
	}
	if c.err != nil {
		a.cursors.remove(c)
		return nil, a.closedError(c.err)
	}
	body, end, err := a.encodePage(c, offset, maxRows)
	if err != nil {
		return nil, err
	}
	if end < len(c.res.Rows) {
		next := a.cursors.nextToken(c, nonce, int32(maxRows), end)
		body = append(body, `,"NextToken":`...)
		body = appendJSONString(body, next)
	} else if first {
		a.cursors.remove(c) // the whole result is in this page
	}
	body = appendQueryStatus(body, 100, c.res.Stats.BytesScanned)
	return rawJSON(append(body, '}')), nil
}

// encodePage encodes the response up to and including Rows for the page of
// c starting at offset; end is the offset after its last row.
func (a *API) encodePage(c *cursor, offset, maxRows int) (body []byte, end int, err error) {
	rows := c.res.Rows
	if offset > len(rows) {
		return nil, 0, invalidToken()
	}
	body, n, err := a.encodeRows(c.id, c.columns, c.types, rows[offset:], maxRows)
	return body, offset + n, err
}

// encodeRows encodes the response of query id up to and including Rows:
// the leading rows that fit maxRows (0: no limit) and MaxPageBytes; n is
// how many.
func (a *API) encodeRows(id string, colInfo []byte, types []exec.Type, rows [][]exec.Value, maxRows int) (body []byte, n int, err error) {
	// Size the buffer for the page up front: about 40 bytes per value.
	want := len(rows)
	if maxRows > 0 {
		want = min(want, maxRows)
	}
	est := 256 + len(colInfo) + want*(len(types)*40+12)
	body = pageBuf(min(est, a.opts.MaxPageBytes+64<<10), a.opts.MaxPageBytes+64<<10)
	body = append(body, `{"QueryId":"`...)
	body = append(body, id...)
	body = append(body, `","ColumnInfo":`...)
	body = append(body, colInfo...)
	body = append(body, `,"Rows":[`...)
	rowsStart := len(body)
	for n < len(rows) && (maxRows == 0 || n < maxRows) {
		mark := len(body)
		if n > 0 {
			body = append(body, ',')
		}
		body = AppendRow(body, types, rows[n])
		if len(body)-rowsStart > a.opts.MaxPageBytes {
			if n == 0 {
				return nil, 0, awsjson.NewError(awsjson.TypeQueryExecution, "%s", msgRowTooLarge)
			}
			body = body[:mark]
			break
		}
		n++
	}
	return append(body, ']'), n, nil
}

// encodedPage is encodeRows for rows already encoded (AppendRow).
func (a *API) encodedPage(id string, colInfo []byte, rows [][]byte, maxRows int) (body []byte, n int, err error) {
	want := len(rows)
	if maxRows > 0 {
		want = min(want, maxRows)
	}
	size := 0
	for n < want {
		size += len(rows[n]) + 1
		if size-1 > a.opts.MaxPageBytes {
			if n == 0 {
				return nil, 0, awsjson.NewError(awsjson.TypeQueryExecution, "%s", msgRowTooLarge)
			}
			size -= len(rows[n]) + 1
			break
		}
		n++
	}
	// Room for the head, and for the NextToken and QueryStatus the
	// caller appends: a page outgrowing its buffer is copied whole.
	body = pageBuf(1024+len(id)+len(colInfo)+size, a.opts.MaxPageBytes+1024+len(id)+len(colInfo))
	body = append(body, `{"QueryId":"`...)
	body = append(body, id...)
	body = append(body, `","ColumnInfo":`...)
	body = append(body, colInfo...)
	body = append(body, `,"Rows":[`...)
	for i, r := range rows[:n] {
		if i > 0 {
			body = append(body, ',')
		}
		body = append(body, r...)
	}
	return append(body, ']'), n, nil
}

// runningResponse answers a poll of a query that has not finished.
func runningResponse(id, tok string) rawJSON {
	b := make([]byte, 0, 256)
	b = append(b, `{"QueryId":"`...)
	b = append(b, id...)
	b = append(b, `","ColumnInfo":[],"Rows":[],"NextToken":`...)
	b = appendJSONString(b, tok)
	b = appendQueryStatus(b, 0, 0)
	return append(b, '}')
}

func appendQueryStatus(dst []byte, progress int, scanned int64) []byte {
	metered := scanned
	if metered < MinBytesMetered {
		metered = MinBytesMetered
	}
	dst = append(dst, `,"QueryStatus":{"ProgressPercentage":`...)
	dst = strconv.AppendInt(dst, int64(progress), 10)
	dst = append(dst, `.0,"CumulativeBytesScanned":`...)
	dst = strconv.AppendInt(dst, scanned, 10)
	dst = append(dst, `,"CumulativeBytesMetered":`...)
	dst = strconv.AppendInt(dst, metered, 10)
	return append(dst, '}')
}

// appendColumnInfo appends the ColumnInfo array of cols.
func appendColumnInfo(dst []byte, cols []exec.Column) []byte {
	data, err := json.Marshal(WireColumns(cols))
	if err != nil {
		// Only strings, pointers and slices: Marshal cannot fail.
		panic("BUG: encode ColumnInfo: " + err.Error())
	}
	return append(dst, data...)
}

// CancelQueryInput is the request of the CancelQuery operation.
type CancelQueryInput struct {
	QueryId *string //nolint:revive // Timestream's member name.
}

func (a *API) cancelQuery(r *request) (any, error) {
	var in CancelQueryInput
	if e := awsjson.Decode(r.body, &in); e != nil {
		return nil, e
	}
	if in.QueryId == nil {
		return nil, awsjson.Validation("1 validation error detected: Value null at 'queryId' failed to satisfy constraint: Member must not be null")
	}
	if !validQueryID(*in.QueryId) {
		return nil, awsjson.Validation("1 validation error detected: Value '%s' at 'queryId' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9]+", *in.QueryId)
	}
	type output struct {
		CancellationMessage string `json:",omitempty"`
	}
	c, ok := a.cursors.get(*in.QueryId)
	if !ok {
		return output{CancellationMessage: "Query " + *in.QueryId + " has already finished; its results are no longer kept."}, nil
	}
	if a.cursors.cancelQuery(c) {
		return output{CancellationMessage: cancelledByRequest}, nil
	}
	return output{CancellationMessage: "Query " + c.id + " had already finished; its results were released."}, nil
}

// PrepareQueryInput is the request of the PrepareQuery operation.
type PrepareQueryInput struct {
	QueryString  *string
	ValidateOnly *bool
}

// SelectColumn is one output column described by PrepareQuery.
type SelectColumn struct {
	Name         string
	Type         Type
	DatabaseName string `json:",omitempty"`
	TableName    string `json:",omitempty"`
	Aliased      bool
}

// ParameterMapping is one @parameter described by PrepareQuery.
type ParameterMapping struct {
	Name string
	Type Type
}

func (a *API) prepareQuery(r *request) (any, error) {
	var in PrepareQueryInput
	if e := awsjson.Decode(r.body, &in); e != nil {
		return nil, e
	}
	switch {
	case in.QueryString == nil:
		return nil, awsjson.Validation("1 validation error detected: Value null at 'queryString' failed to satisfy constraint: Member must not be null")
	case len(*in.QueryString) == 0 || len(*in.QueryString) > a.opts.MaxQueryBytes:
		return nil, awsjson.Validation("1 validation error detected: Value at 'queryString' failed to satisfy constraint: Member must have length between 1 and %d", a.opts.MaxQueryBytes)
	case in.ValidateOnly != nil && !*in.ValidateOnly:
		return nil, awsjson.Validation("PrepareQuery supports only ValidateOnly set to true.")
	}
	cols, params, err := a.eng.Prepare(*in.QueryString)
	if err != nil {
		return nil, err
	}
	out := struct {
		QueryString string
		Columns     []SelectColumn
		Parameters  []ParameterMapping
	}{QueryString: *in.QueryString, Columns: make([]SelectColumn, len(cols)), Parameters: []ParameterMapping{}}
	for i := range cols {
		out.Columns[i] = SelectColumn{Name: cols[i].Name, Type: WireType(&cols[i].Type)}
	}
	// One entry per parameter name: a parameter used twice is one
	// parameter, typed by its first use with a known type.
	seen := map[string]int{}
	for i := range params {
		p := &params[i]
		if j, ok := seen[p.Name]; ok {
			if out.Parameters[j].Type.ScalarType == "UNKNOWN" && p.Type.Kind != exec.KindUnknown {
				out.Parameters[j].Type = WireType(&p.Type)
			}
			continue
		}
		seen[p.Name] = len(out.Parameters)
		out.Parameters = append(out.Parameters, ParameterMapping{Name: p.Name, Type: WireType(&p.Type)})
	}
	return out, nil
}

func (a *API) describeEndpoints(r *request) (any, error) {
	addr := a.opts.EndpointAddress
	if addr == "" {
		addr = r.host
	}
	type endpoint struct {
		Address              string
		CachePeriodInMinutes int64
	}
	return struct{ Endpoints []endpoint }{Endpoints: []endpoint{{Address: addr, CachePeriodInMinutes: CachePeriodInMinutes}}}, nil
}
