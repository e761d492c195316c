package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/timestreamquery"
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
