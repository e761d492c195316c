package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/ingest/pipeline"
	"github.com/tidaldb/tidal/magnetic"
	"github.com/tidaldb/tidal/memstore"
	"github.com/tidaldb/tidal/scheduled"
)

// admin serves the admin HTTP endpoints.
type admin struct {
	mem *memstore.DB
	mag *magnetic.Store
	// cat names the tables of the parts; nil leaves them unnamed.
	cat *catalog.Catalog
}

// flushResponse is the JSON answer of POST /api/v1/admin/flush.
type flushResponse struct {
	Tables     int     `json:"tables"`
	Series     int     `json:"series"`
	Rows       int64   `json:"rows"`
	Merged     int     `json:"merged_parts"`
	Uploaded   int     `json:"uploaded_parts"`
	DurationMS float64 `json:"duration_ms"`
}

// flush moves every row of the memstore into parts now (for backups and
// benchmarks), then runs one merge round and uploads the parts due for
// object storage (storage.object).
func (a *admin) flush(w http.ResponseWriter, r *http.Request) {
	st, err := a.mem.Flush(r.Context(), true)
	if err != nil {
		http.Error(w, "flush: "+err.Error(), http.StatusInternalServerError)
		return
	}
	merged := 0
	if r.URL.Query().Get("merge") != "false" {
		if merged, err = a.mag.Merge(r.Context()); err != nil {
			http.Error(w, "merge: "+err.Error(), http.StatusInternalServerError)
			return
		}
	}
	uploaded, err := a.mag.Upload(r.Context(), time.Now())
	if err != nil {
		http.Error(w, "upload: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(flushResponse{Tables: st.Tables, Series: st.Series, Rows: st.Rows, Merged: merged,
		Uploaded: uploaded, DurationMS: float64(st.Duration.Microseconds()) / 1000})
}

// partJSON is one part in GET /api/v1/admin/parts.
type partJSON struct {
	TableID uint64 `json:"table_id"`
	// Database and Table name the table; both are empty when it has been
	// deleted and its parts are not dropped yet.
	Database       string    `json:"database,omitempty"`
	Table          string    `json:"table,omitempty"`
	Partition      time.Time `json:"partition"`
	PartitionWidth string    `json:"partition_width"`
	Name           string    `json:"name"`
	Level          int       `json:"level"`
	Series         int       `json:"series"`
	Rows           int64     `json:"rows"`
	MinTime        int64     `json:"min_time"`
	MaxTime        int64     `json:"max_time"`
	Bytes          int64     `json:"bytes"`
	// Object is the part's key in object storage, "" for a local part.
	Object         string  `json:"object,omitempty"`
	RawBytes       int64   `json:"raw_bytes"`
	BytesPerSample float64 `json:"bytes_per_sample"`
}

func (a *admin) parts(w http.ResponseWriter, _ *http.Request) {
	var out []partJSON
	for _, p := range a.mag.Parts() {
		var db, table string
		if a.cat != nil {
			if t, ok := a.cat.TableByID(p.TableID); ok {
				db, table = t.Database, t.Name
			}
		}
		out = append(out, partJSON{TableID: p.TableID, Database: db, Table: table, Partition: p.Partition, PartitionWidth: p.PartitionWidth.String(), Name: p.Name, Level: p.Level, Series: p.Series,
			Rows: p.Rows, MinTime: p.MinTime, MaxTime: p.MaxTime, Bytes: p.Bytes, RawBytes: p.RawBytes, BytesPerSample: p.BytesPerSample(), Object: p.Object})
	}
	sort.Slice(out, func(i, j int) bool {
		if ni, nj := out[i].name(), out[j].name(); ni != nj {
			return ni < nj
		}
		if out[i].TableID != out[j].TableID {
			return out[i].TableID < out[j].TableID
		}
		if !out[i].Partition.Equal(out[j].Partition) {
			return out[i].Partition.Before(out[j].Partition)
		}
		return out[i].Name < out[j].Name
	})
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

// adminRequest sends an admin API request, signed with SigV4 when
// AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are set (an admin key of a
// server with credentials; the secret itself is never sent).
func adminRequest(client *http.Client, method, url string) (*http.Response, error) {
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	if id, secret := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY"); id != "" && secret != "" {
		const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
		creds := aws.Credentials{AccessKeyID: id, SecretAccessKey: secret}
		if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, emptySHA256, "timestream", envOr("AWS_REGION", "us-east-1"), time.Now()); err != nil {
			return nil, fmt.Errorf("sign request: %w", err)
		}
	}
	return client.Do(req)
}

// name is the table as a person writes it, "db.table", or "#ID" when the
// table is gone from the catalog.
func (p partJSON) name() string {
	if p.Database == "" && p.Table == "" {
		return "#" + strconv.FormatUint(p.TableID, 10)
	}
	return p.Database + "." + p.Table
}

const adminUsage = `usage: tidal admin COMMAND [--endpoint URL]

Commands:
  flush   move every row in memory into the magnetic tier now, then merge parts
  parts   list the magnetic tier's partitions and parts by table
  scheduled  list the scheduled queries and their last runs
  pipelines  list the stream pipelines: state, lag, rates, last error
  snapshot create|list|restore  point-in-time copies (tidal admin snapshot help)

--endpoint defaults to $TIDAL_ENDPOINT, else http://127.0.0.1:7490.
`

// adminCmd is `tidal admin flush|parts|scheduled|pipelines`.
func adminCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, adminUsage)
		return 2
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, adminUsage)
		return 0
	case "snapshot":
		return snapshotCmd(args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("admin "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	endpoint := fs.String("endpoint", envOr("TIDAL_ENDPOINT", "http://127.0.0.1:7490"), "TidalDB server URL (env TIDAL_ENDPOINT)")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	base := strings.TrimRight(*endpoint, "/")
	client := &http.Client{Timeout: 30 * time.Minute}
	switch args[0] {
	case "flush":
		resp, err := adminRequest(client, "POST", base+"/api/v1/admin/flush")
		if err != nil {
			fmt.Fprintf(stderr, "tidal admin flush: %v\n", err)
			return 1
		}
		defer resp.Body.Close()
		var fr flushResponse
		if err := decodeAdmin(resp, &fr); err != nil {
			fmt.Fprintf(stderr, "tidal admin flush: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "flushed %d rows of %d series in %d tables to the magnetic tier in %.0f ms; merged %d parts\n",
			fr.Rows, fr.Series, fr.Tables, fr.DurationMS, fr.Merged)
		if fr.Uploaded > 0 {
			fmt.Fprintf(stdout, "uploaded %d parts to object storage\n", fr.Uploaded)
		}
		return 0
	case "parts":
		resp, err := adminRequest(client, "GET", base+"/api/v1/admin/parts")
		if err != nil {
			fmt.Fprintf(stderr, "tidal admin parts: %v\n", err)
			return 1
		}
		defer resp.Body.Close()
		var parts []partJSON
		if err := decodeAdmin(resp, &parts); err != nil {
			fmt.Fprintf(stderr, "tidal admin parts: %v\n", err)
			return 1
		}
		printParts(stdout, parts)
		return 0
	case "scheduled":
		resp, err := client.Get(base + "/api/v1/admin/scheduled")
		if err != nil {
			fmt.Fprintf(stderr, "tidal admin scheduled: %v\n", err)
			return 1
		}
		defer resp.Body.Close()
		var qs []scheduled.AdminQuery
		if err := decodeAdmin(resp, &qs); err != nil {
			fmt.Fprintf(stderr, "tidal admin scheduled: %v\n", err)
			return 1
		}
		printScheduled(stdout, qs)
		return 0
	case "pipelines":
		resp, err := adminRequest(client, "GET", base+"/api/v1/admin/pipelines")
		if err != nil {
			fmt.Fprintf(stderr, "tidal admin pipelines: %v\n", err)
			return 1
		}
		defer resp.Body.Close()
		var ps []pipeline.Status
		if err := decodeAdmin(resp, &ps); err != nil {
			fmt.Fprintf(stderr, "tidal admin pipelines: %v\n", err)
			return 1
		}
		printPipelines(stdout, ps)
		return 0
	}
	fmt.Fprintf(stderr, "tidal admin: unknown command %q\n\n%s", args[0], adminUsage)
	return 2
}

func decodeAdmin(resp *http.Response, v any) error {
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("server answered %s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("decode answer: %w", err)
	}
	return nil
}

func printParts(w io.Writer, parts []partJSON) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "TABLE\tPARTITION\tWIDTH\tPART\tLEVEL\tSERIES\tROWS\tBYTES\tB/SAMPLE\tRATIO\t")
	var rows, bytes, raw int64
	for _, p := range parts {
		ratio := 0.0
		if p.Bytes > 0 {
			ratio = float64(p.RawBytes) / float64(p.Bytes)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%.3f\t%.1fx\t\n", p.name(), p.Partition.UTC().Format("2006-01-02T15Z"), p.PartitionWidth, p.Name,
			p.Level, p.Series, p.Rows, p.Bytes, p.BytesPerSample, ratio)
		rows, bytes, raw = rows+p.Rows, bytes+p.Bytes, raw+p.RawBytes
	}
	if rows > 0 {
		fmt.Fprintf(tw, "total\t\t\t%d parts\t\t\t%d\t%d\t%.3f\t%.1fx\t\n", len(parts), rows, bytes, float64(bytes)/float64(rows), float64(raw)/float64(bytes))
	}
	_ = tw.Flush()
}

// printScheduled prints the scheduled queries with their run totals.
func printScheduled(w io.Writer, qs []scheduled.AdminQuery) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSTATE\tSCHEDULE\tTARGET\tPREVIOUS\tNEXT\tLAST\tLAST MS\tRUNS\tFAILURES\tRECORDS")
	ts := func(t *time.Time) string {
		if t == nil {
			return "-"
		}
		return t.UTC().Format("2006-01-02T15:04Z")
	}
	for _, q := range qs {
		last := q.LastStatus
		if last == "" {
			last = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\n", q.Name, q.State, q.Schedule, q.Target,
			ts(q.Previous), ts(q.Next), last, q.LastMillis, q.Runs, q.Failures, q.RecordsWritten)
	}
	_ = tw.Flush()
}
