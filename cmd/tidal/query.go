package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/timestreamquery"
	"github.com/aws/aws-sdk-go-v2/service/timestreamquery/types"
	"github.com/aws/smithy-go"
	"golang.org/x/term"
)

// queryOptions are the flags of tidal query.
type queryOptions struct {
	endpoint string
	region   string
	format   string
	maxRows  int
	width    int // 0: the terminal's width, or no limit when not a terminal
	history  string
}

// queryCmd runs tidal query: one statement given as arguments, or an
// interactive shell reading statements from stdin.
func queryCmd(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("query", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o queryOptions
	fs.StringVar(&o.endpoint, "endpoint", envOr("TIDAL_ENDPOINT", "http://127.0.0.1:7490"), "server URL (env TIDAL_ENDPOINT)")
	fs.StringVar(&o.region, "region", envOr("AWS_REGION", "us-east-1"), "region used to sign requests")
	fs.StringVar(&o.format, "format", "table", "output format: table, csv or json (one object per line)")
	fs.IntVar(&o.maxRows, "max-rows", 1000, "rows per page requested from the server (1-1000)")
	fs.IntVar(&o.width, "width", 0, "table width in columns (default: the terminal's width; negative: no limit)")
	fs.StringVar(&o.history, "history", defaultHistoryPath(), "shell history file; empty disables history")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: tidal query [flags] [SQL]\n\nRuns SQL on a TidalDB server through the Timestream Query API; without SQL, opens a shell\nthat reads statements ending in ';' (\\q quits).\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	switch o.format {
	case "table", "csv", "json":
	default:
		fmt.Fprintf(stderr, "tidal query: unknown --format %q (want table, csv or json)\n", o.format)
		return 2
	}
	if o.maxRows < 1 || o.maxRows > 1000 {
		fmt.Fprintf(stderr, "tidal query: --max-rows %d out of range 1-1000\n", o.maxRows)
		return 2
	}
	if o.width == 0 {
		o.width = terminalWidth(stdout)
	}
	client := newQueryClient(o.endpoint, o.region)
	ctx := context.Background()
	if fs.NArg() > 0 {
		sql := strings.TrimSpace(strings.Join(fs.Args(), " "))
		sql = strings.TrimSpace(strings.TrimSuffix(sql, ";"))
		if err := runInterruptible(ctx, client, sql, o, stdout, stderr); err != nil {
			fmt.Fprintf(stderr, "tidal query: %s\n", describeError(err))
			return 1
		}
		return 0
	}
	return queryShell(ctx, client, o, stdin, stdout, stderr)
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func defaultHistoryPath() string {
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".tidal_history")
}

// terminalWidth returns w's width when it is a terminal, else $COLUMNS, else
// 0 (no limit).
func terminalWidth(w io.Writer) int {
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		if width, _, err := term.GetSize(int(f.Fd())); err == nil && width > 0 {
			return width
		}
	}
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n > 0 {
		return n
	}
	return 0
}

// newQueryClient returns a Timestream Query client for a TidalDB server:
// fixed endpoint, no endpoint discovery, credentials from the environment
// or placeholders (a server without access keys accepts any).
func newQueryClient(endpoint, region string) *timestreamquery.Client {
	id, secret := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
	if id == "" || secret == "" {
		id, secret = "tidal", "tidal"
	}
	cfg := aws.Config{
		Region:      region,
		Credentials: credentials.NewStaticCredentialsProvider(id, secret, os.Getenv("AWS_SESSION_TOKEN")),
	}
	return timestreamquery.NewFromConfig(cfg, func(o *timestreamquery.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.EndpointDiscovery.EnableEndpointDiscovery = aws.EndpointDiscoveryDisabled
		o.HTTPClient = &http.Client{Transport: bufferedBodyTransport{base: http.DefaultTransport}}
	})
}

// bufferedBodyTransport sends a private copy of each request body. The SDK
// closes its request body as soon as response headers arrive, and its body
// wrapper's WriteTo then returns io.EOF; against a fast local server the Go
// transport is still finishing the request write, takes that as a write
// error and closes the connection under the response being read
// (aws-sdk-go-v2#2737). Query request bodies are small, so a copy is cheap.
type bufferedBodyTransport struct{ base http.RoundTripper }

func (t bufferedBodyTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return t.base.RoundTrip(req)
	}
	data, err := io.ReadAll(req.Body)
	_ = req.Body.Close() // the SDK's in-memory body; closing cannot fail usefully
	if err != nil {
		return nil, fmt.Errorf("read request body: %w", err)
	}
	r2 := req.Clone(req.Context())
	r2.Body = io.NopCloser(bytes.NewReader(data))
	r2.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	r2.ContentLength = int64(len(data))
	return t.base.RoundTrip(r2)
}

// describeError renders an API error as "Type: message".
func describeError(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode() + ": " + ae.ErrorMessage()
	}
	return err.Error()
}

// runInterruptible runs one statement; Ctrl-C cancels it on the server
// (the server stops a query whose first call goes away; later polls are
// cancelled with CancelQuery) instead of killing the process.
func runInterruptible(ctx context.Context, client *timestreamquery.Client, sql string, o queryOptions, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	return runStatement(ctx, client, sql, o, stdout, stderr)
}

// runStatement runs one statement, following NextToken, and prints its
// result to stdout and a timing line to stderr. When ctx ends while the
// query runs, the query is cancelled on the server.
func runStatement(ctx context.Context, client *timestreamquery.Client, sql string, o queryOptions, stdout, stderr io.Writer) error {
	start := time.Now()
	var p resultPrinter
	switch o.format {
	case "csv":
		p = &csvPrinter{w: csv.NewWriter(stdout)}
	case "json":
		p = &jsonPrinter{w: bufio.NewWriter(stdout)}
	default:
		p = &tablePrinter{w: stdout, width: o.width}
	}
	in := &timestreamquery.QueryInput{QueryString: aws.String(sql), MaxRows: aws.Int32(int32(o.maxRows))}
	var rows, scanned int64
	var queryID string
	started := false
	for {
		out, err := client.Query(ctx, in)
		if err != nil {
			if ctx.Err() != nil && queryID != "" {
				cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				_, _ = client.CancelQuery(cctx, &timestreamquery.CancelQueryInput{QueryId: aws.String(queryID)}) // best effort
				cancel()
				return fmt.Errorf("query %s cancelled", queryID)
			}
			if ctx.Err() != nil {
				return errors.New("query cancelled")
			}
			return err
		}
		queryID = aws.ToString(out.QueryId)
		if len(out.ColumnInfo) > 0 && !started {
			p.start(out.ColumnInfo)
			started = true
		}
		if started {
			if err := p.rows(out.Rows); err != nil {
				return fmt.Errorf("write rows: %w", err)
			}
		}
		rows += int64(len(out.Rows))
		if out.QueryStatus != nil {
			scanned = out.QueryStatus.CumulativeBytesScanned
		}
		if out.NextToken == nil || *out.NextToken == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	if err := p.finish(); err != nil {
		return fmt.Errorf("write result: %w", err)
	}
	noun := "rows"
	if rows == 1 {
		noun = "row"
	}
	fmt.Fprintf(stderr, "(%d %s in %s, %s scanned, query %s)\n", rows, noun,
		time.Since(start).Round(time.Millisecond), formatBytes(scanned), queryID)
	return nil
}

func formatBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// resultPrinter writes a result as it arrives page by page.
type resultPrinter interface {
	start(cols []types.ColumnInfo)
	rows(rows []types.Row) error
	finish() error
}

// datumText renders a datum as text: scalars as sent, NULL as null, arrays
// as [a, b], rows as {name=value, ...} and time series as
// [{time=..., value=...}, ...], the way Trino's CLI does.
func datumText(d *types.Datum, t *types.Type, null string) string {
	var b strings.Builder
	writeDatumText(&b, d, t, null)
	return b.String()
}

func writeDatumText(b *strings.Builder, d *types.Datum, t *types.Type, null string) {
	switch {
	case d.NullValue != nil && *d.NullValue:
		b.WriteString(null)
	case d.ScalarValue != nil:
		b.WriteString(*d.ScalarValue)
	case d.ArrayValue != nil:
		var et *types.Type
		if t != nil && t.ArrayColumnInfo != nil {
			et = t.ArrayColumnInfo.Type
		}
		b.WriteByte('[')
		for i := range d.ArrayValue {
			if i > 0 {
				b.WriteString(", ")
			}
			writeDatumText(b, &d.ArrayValue[i], et, "NULL")
		}
		b.WriteByte(']')
	case d.RowValue != nil:
		b.WriteByte('{')
		for i := range d.RowValue.Data {
			if i > 0 {
				b.WriteString(", ")
			}
			name, ft := fieldInfo(t, i)
			b.WriteString(name)
			b.WriteByte('=')
			writeDatumText(b, &d.RowValue.Data[i], ft, "NULL")
		}
		b.WriteByte('}')
	case d.TimeSeriesValue != nil:
		var et *types.Type
		if t != nil && t.TimeSeriesMeasureValueColumnInfo != nil {
			et = t.TimeSeriesMeasureValueColumnInfo.Type
		}
		b.WriteByte('[')
		for i, p := range d.TimeSeriesValue {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("{time=")
			b.WriteString(aws.ToString(p.Time))
			b.WriteString(", value=")
			if p.Value != nil {
				writeDatumText(b, p.Value, et, "NULL")
			} else {
				b.WriteString("NULL")
			}
			b.WriteByte('}')
		}
		b.WriteByte(']')
	default:
		b.WriteString(null)
	}
}

// fieldInfo returns the name and type of field i of a ROW type; unnamed
// fields are called field0, field1, ...
func fieldInfo(t *types.Type, i int) (string, *types.Type) {
	if t != nil && i < len(t.RowColumnInfo) {
		f := t.RowColumnInfo[i]
		if name := aws.ToString(f.Name); name != "" {
			return name, f.Type
		}
		return "field" + strconv.Itoa(i), f.Type
	}
	return "field" + strconv.Itoa(i), nil
}

// tablePrinter collects the whole result and prints an aligned table no
// wider than width (<= 0: no limit), truncating long cells with "…".
type tablePrinter struct {
	w      io.Writer
	width  int
	cols   []types.ColumnInfo
	header []string
	cells  [][]string
}

func (p *tablePrinter) start(cols []types.ColumnInfo) {
	p.cols = cols
	p.header = make([]string, len(cols))
	for i, c := range cols {
		p.header[i] = aws.ToString(c.Name)
	}
}

func (p *tablePrinter) rows(rows []types.Row) error {
	for _, r := range rows {
		line := make([]string, len(p.cols))
		for i := range line {
			if i < len(r.Data) {
				line[i] = datumText(&r.Data[i], p.cols[i].Type, "NULL")
			}
		}
		p.cells = append(p.cells, line)
	}
	return nil
}

func (p *tablePrinter) finish() error {
	if p.cols == nil {
		return nil
	}
	widths := make([]int, len(p.cols))
	for i, h := range p.header {
		widths[i] = utf8.RuneCountInString(h)
	}
	for _, line := range p.cells {
		for i, c := range line {
			widths[i] = max(widths[i], cellWidth(c))
		}
	}
	fitWidths(widths, p.width)
	right := make([]bool, len(p.cols))
	for i, c := range p.cols {
		if c.Type != nil {
			switch c.Type.ScalarType {
			case types.ScalarTypeBigint, types.ScalarTypeInteger, types.ScalarTypeDouble:
				right[i] = true
			}
		}
	}
	bw := bufio.NewWriter(p.w)
	writeTableLine(bw, p.header, widths, nil)
	for i, w := range widths {
		if i > 0 {
			bw.WriteByte('+')
		}
		bw.WriteString(strings.Repeat("-", w+2))
	}
	bw.WriteByte('\n')
	for _, line := range p.cells {
		writeTableLine(bw, line, widths, right)
	}
	return bw.Flush()
}

// cellWidth is the display width of a cell: runes, with newlines shown as
// spaces.
func cellWidth(s string) int { return utf8.RuneCountInString(s) }

// fitWidths shrinks the widest columns until the table (cells plus " | "
// separators and the outer spaces) fits in total; no column goes below 4.
func fitWidths(widths []int, total int) {
	if total <= 0 || len(widths) == 0 {
		return
	}
	const minWidth = 4
	overhead := 3*len(widths) - 1
	for {
		sum := overhead
		widest := 0
		for i, w := range widths {
			sum += w
			if w > widths[widest] {
				widest = i
			}
		}
		if sum <= total || widths[widest] <= minWidth {
			return
		}
		// Take the excess from the widest column, but not below the
		// next widest, so wide columns shrink together.
		second := minWidth
		for i, w := range widths {
			if i != widest && w > second {
				second = w
			}
		}
		cut := min(sum-total, max(widths[widest]-second, 1))
		widths[widest] = max(widths[widest]-cut, minWidth)
	}
}

// controlSpaces shows line breaks and tabs in table cells as spaces.
var controlSpaces = strings.NewReplacer("\n", " ", "\r", " ", "\t", " ")

func writeTableLine(bw *bufio.Writer, cells []string, widths []int, right []bool) {
	for i, w := range widths {
		if i > 0 {
			bw.WriteString("|")
		}
		c := controlSpaces.Replace(cells[i])
		c = truncateCell(c, w)
		pad := strings.Repeat(" ", w-utf8.RuneCountInString(c))
		bw.WriteByte(' ')
		if right != nil && right[i] {
			bw.WriteString(pad)
			bw.WriteString(c)
		} else {
			bw.WriteString(c)
			if i < len(widths)-1 {
				bw.WriteString(pad)
			}
		}
		if i < len(widths)-1 {
			bw.WriteByte(' ')
		}
	}
	bw.WriteByte('\n')
}

// truncateCell shortens s to w runes, ending in "…" when cut.
func truncateCell(s string, w int) string {
	if utf8.RuneCountInString(s) <= w {
		return s
	}
	if w <= 1 {
		return "…"
	}
	n := 0
	for i := range s {
		if n == w-1 {
			return s[:i] + "…"
		}
		n++
	}
	return s
}

// csvPrinter writes RFC 4180 CSV with a header line; NULL is empty.
type csvPrinter struct {
	w    *csv.Writer
	cols []types.ColumnInfo
}

func (p *csvPrinter) start(cols []types.ColumnInfo) {
	p.cols = cols
	header := make([]string, len(cols))
	for i, c := range cols {
		header[i] = aws.ToString(c.Name)
	}
	_ = p.w.Write(header) // errors surface from Flush/Error
}

func (p *csvPrinter) rows(rows []types.Row) error {
	for _, r := range rows {
		line := make([]string, len(p.cols))
		for i := range line {
			if i < len(r.Data) {
				line[i] = datumText(&r.Data[i], p.cols[i].Type, "")
			}
		}
		if err := p.w.Write(line); err != nil {
			return fmt.Errorf("write csv: %w", err)
		}
	}
	return nil
}

func (p *csvPrinter) finish() error {
	p.w.Flush()
	return p.w.Error()
}

// jsonPrinter writes one JSON object per row, keys in column order, with
// BIGINT, INTEGER and finite DOUBLE values as numbers, BOOLEAN as booleans,
// NULL as null, arrays and time series as arrays and rows as objects.
type jsonPrinter struct {
	w    *bufio.Writer
	cols []types.ColumnInfo
	buf  []byte
}

func (p *jsonPrinter) start(cols []types.ColumnInfo) { p.cols = cols }

func (p *jsonPrinter) rows(rows []types.Row) error {
	for _, r := range rows {
		b := append(p.buf[:0], '{')
		for i, c := range p.cols {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONText(b, aws.ToString(c.Name))
			b = append(b, ':')
			if i < len(r.Data) {
				b = appendDatumJSON(b, &r.Data[i], c.Type)
			} else {
				b = append(b, "null"...)
			}
		}
		b = append(b, '}', '\n')
		p.buf = b
		if _, err := p.w.Write(b); err != nil {
			return fmt.Errorf("write json: %w", err)
		}
	}
	return nil
}

func (p *jsonPrinter) finish() error { return p.w.Flush() }

func appendJSONText(b []byte, s string) []byte {
	data, _ := json.Marshal(s) // a string always marshals
	return append(b, data...)
}

func appendDatumJSON(b []byte, d *types.Datum, t *types.Type) []byte {
	switch {
	case d.NullValue != nil && *d.NullValue:
		return append(b, "null"...)
	case d.ScalarValue != nil:
		s := *d.ScalarValue
		st := types.ScalarTypeVarchar
		if t != nil {
			st = t.ScalarType
		}
		switch st {
		case types.ScalarTypeBigint, types.ScalarTypeInteger:
			if _, err := strconv.ParseInt(s, 10, 64); err == nil {
				return append(b, s...)
			}
		case types.ScalarTypeDouble:
			if f, err := strconv.ParseFloat(s, 64); err == nil && !isNonFinite(s) {
				return strconv.AppendFloat(b, f, 'g', -1, 64)
			}
		case types.ScalarTypeBoolean:
			if s == "true" || s == "false" {
				return append(b, s...)
			}
		}
		return appendJSONText(b, s)
	case d.ArrayValue != nil:
		var et *types.Type
		if t != nil && t.ArrayColumnInfo != nil {
			et = t.ArrayColumnInfo.Type
		}
		b = append(b, '[')
		for i := range d.ArrayValue {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendDatumJSON(b, &d.ArrayValue[i], et)
		}
		return append(b, ']')
	case d.RowValue != nil:
		b = append(b, '{')
		for i := range d.RowValue.Data {
			if i > 0 {
				b = append(b, ',')
			}
			name, ft := fieldInfo(t, i)
			b = appendJSONText(b, name)
			b = append(b, ':')
			b = appendDatumJSON(b, &d.RowValue.Data[i], ft)
		}
		return append(b, '}')
	case d.TimeSeriesValue != nil:
		var et *types.Type
		if t != nil && t.TimeSeriesMeasureValueColumnInfo != nil {
			et = t.TimeSeriesMeasureValueColumnInfo.Type
		}
		b = append(b, '[')
		for i, pt := range d.TimeSeriesValue {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"time":`...)
			b = appendJSONText(b, aws.ToString(pt.Time))
			b = append(b, `,"value":`...)
			if pt.Value != nil {
				b = appendDatumJSON(b, pt.Value, et)
			} else {
				b = append(b, "null"...)
			}
			b = append(b, '}')
		}
		return append(b, ']')
	}
	return append(b, "null"...)
}

func isNonFinite(s string) bool {
	return strings.Contains(s, "NaN") || strings.Contains(s, "Infinity")
}

// queryShell reads statements from stdin until EOF or \q. Statements end
// with ';' outside quotes and comments and may span lines; errors are
// printed and the shell goes on. On a terminal, lines are edited with
// history (up/down, seeded from the history file); otherwise input is read
// plainly without prompts and the exit status is 1 when any statement
// failed.
func queryShell(ctx context.Context, client *timestreamquery.Client, o queryOptions, stdin io.Reader, stdout, stderr io.Writer) int {
	var lines lineSource
	interactive := false
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		if tl, err := newTermLines(f, stdout, o.history); err == nil {
			interactive = true
			lines = tl
			defer tl.close()
			// The terminal is raw now; its writer turns \n into \r\n.
			fmt.Fprintf(tl.t, "tidal %s: connected to %s. End statements with ';', \\q quits.\n", version, o.endpoint)
		}
	}
	if lines == nil {
		sc := bufio.NewScanner(stdin)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		lines = &scanLines{sc: sc}
	}
	hist := openHistory(o.history, stderr)
	if hist != nil {
		defer hist.Close()
	}
	var pending strings.Builder
	failed := false
	run := func(stmt string) {
		if hist != nil {
			fmt.Fprintln(hist, strings.Join(strings.Fields(stmt), " "))
		}
		lines.pause()
		defer lines.resume()
		if err := runInterruptible(ctx, client, stmt, o, stdout, stderr); err != nil {
			failed = true
			fmt.Fprintf(stderr, "error: %s\n", describeError(err))
		}
	}
	for {
		prompt := "tidal> "
		if pending.Len() > 0 {
			prompt = "    -> "
		}
		line, err := lines.next(prompt)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fmt.Fprintf(stderr, "tidal query: read input: %v\n", err)
			return 1
		}
		if pending.Len() == 0 {
			switch strings.TrimSpace(line) {
			case `\q`, "quit", "exit":
				return exitStatus(failed, interactive)
			case "":
				continue
			}
		}
		pending.WriteString(line)
		pending.WriteByte('\n')
		stmts, rest := splitStatements(pending.String())
		for _, s := range stmts {
			run(s)
		}
		pending.Reset()
		pending.WriteString(rest)
	}
	if s := strings.TrimSpace(pending.String()); s != "" {
		run(s)
	}
	if interactive {
		fmt.Fprint(stdout, "\r\n") // still in raw mode
	}
	return exitStatus(failed, interactive)
}

// lineSource yields input lines to the shell. pause and resume bracket the
// execution of a statement.
type lineSource interface {
	next(prompt string) (string, error)
	pause()
	resume()
}

// scanLines reads piped input without prompts.
type scanLines struct{ sc *bufio.Scanner }

func (s *scanLines) next(string) (string, error) {
	if s.sc.Scan() {
		return s.sc.Text(), nil
	}
	if err := s.sc.Err(); err != nil {
		return "", err
	}
	return "", io.EOF
}

func (*scanLines) pause()  {}
func (*scanLines) resume() {}

// termLines edits lines on a terminal in raw mode with an in-memory history
// (up/down arrows) seeded from the history file. The terminal is back in
// its normal mode while a statement runs, so output and Ctrl-C behave as
// usual. Ctrl-D or Ctrl-C at the prompt ends the shell.
type termLines struct {
	fd    int
	state *term.State
	t     *term.Terminal
}

func newTermLines(in *os.File, out io.Writer, historyPath string) (*termLines, error) {
	fd := int(in.Fd())
	state, err := term.MakeRaw(fd)
	if err != nil {
		return nil, fmt.Errorf("enter raw mode: %w", err)
	}
	t := term.NewTerminal(struct {
		io.Reader
		io.Writer
	}{in, out}, "tidal> ")
	t.History = loadHistory(historyPath, 1000)
	return &termLines{fd: fd, state: state, t: t}, nil
}

func (l *termLines) next(prompt string) (string, error) {
	l.t.SetPrompt(prompt)
	line, err := l.t.ReadLine()
	if errors.Is(err, term.ErrPasteIndicator) {
		err = nil // pasted text is ordinary input here
	}
	return line, err
}

func (l *termLines) pause() { _ = term.Restore(l.fd, l.state) }

func (l *termLines) resume() {
	if st, err := term.MakeRaw(l.fd); err == nil {
		l.state = st
	}
}

func (l *termLines) close() { _ = term.Restore(l.fd, l.state) }

// lineHistory is a bounded in-memory history for term.Terminal.
type lineHistory struct {
	max   int
	lines []string // oldest first
}

// Add records entry as the most recent line.
func (h *lineHistory) Add(entry string) {
	if n := len(h.lines); n > 0 && h.lines[n-1] == entry {
		return
	}
	h.lines = append(h.lines, entry)
	if len(h.lines) > h.max {
		h.lines = h.lines[len(h.lines)-h.max:]
	}
}

// Len returns the number of lines kept.
func (h *lineHistory) Len() int { return len(h.lines) }

// At returns the idx-th most recent line.
func (h *lineHistory) At(idx int) string { return h.lines[len(h.lines)-1-idx] }

// loadHistory returns a history holding the last max lines of the file at
// path; a missing or unreadable file gives an empty history.
func loadHistory(path string, max int) *lineHistory {
	h := &lineHistory{max: max}
	if path == "" {
		return h
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return h
	}
	for _, line := range strings.Split(string(data), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			h.Add(line)
		}
	}
	return h
}

func exitStatus(failed, interactive bool) int {
	if failed && !interactive {
		return 1
	}
	return 0
}

// openHistory opens the history file for appending; failures are reported
// once and disable history.
func openHistory(path string, stderr io.Writer) *os.File {
	if path == "" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		fmt.Fprintf(stderr, "tidal query: history disabled: %v\n", err)
		return nil
	}
	return f
}

// splitStatements returns the complete statements of text (each ended by a
// ';' outside string literals, quoted identifiers and comments, trimmed,
// without the ';', empty ones dropped) and the unfinished rest.
func splitStatements(text string) (stmts []string, rest string) {
	start := 0
	for i := 0; i < len(text); i++ {
		switch c := text[i]; c {
		case '\'', '"':
			j := i + 1
			for j < len(text) {
				if text[j] == c {
					if j+1 < len(text) && text[j+1] == c { // doubled quote
						j += 2
						continue
					}
					break
				}
				j++
			}
			if j >= len(text) {
				return stmts, text[start:]
			}
			i = j
		case '-':
			if i+1 < len(text) && text[i+1] == '-' {
				nl := strings.IndexByte(text[i:], '\n')
				if nl < 0 {
					return stmts, text[start:]
				}
				i += nl
			}
		case '/':
			if i+1 < len(text) && text[i+1] == '*' {
				end := strings.Index(text[i+2:], "*/")
				if end < 0 {
					return stmts, text[start:]
				}
				i += end + 3
			}
		case ';':
			if s := strings.TrimSpace(text[start:i]); s != "" {
				stmts = append(stmts, s)
			}
			start = i + 1
		}
	}
	rest = text[start:]
	if strings.TrimSpace(rest) == "" {
		rest = ""
	}
	return stmts, rest
}
