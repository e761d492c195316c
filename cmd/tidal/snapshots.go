package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/internal/config"
	"github.com/tidaldb/tidal/internal/objstore"
	"github.com/tidaldb/tidal/magnetic"
	"github.com/tidaldb/tidal/memstore"
	"github.com/tidaldb/tidal/snapshot"
)

// snapshots serves POST and GET /api/v1/admin/snapshots.
type snapshots struct {
	cfg config.Config
	mem *memstore.DB
	mag *magnetic.Store
	mu  sync.Mutex // one snapshot at a time
}

// defaultSnapshotTarget is <data dir>/snapshots, where hard links work.
func defaultSnapshotTarget(dataDir string) (string, error) {
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		return "", fmt.Errorf("snapshot target: %w", err)
	}
	return "file://" + filepath.Join(abs, "snapshots"), nil
}

// s3Bucket connects s3:// snapshot targets with the endpoint and
// credentials of storage.object, else of unload.s3; nil if neither is set.
func s3Bucket(cfg config.Config) func(name, prefix string) (*objstore.Bucket, error) {
	var c objstore.Config
	switch o, u := cfg.Storage.Object, cfg.Unload.S3; {
	case o.Bucket != "":
		c = objectConfig(o)
	case u.Endpoint != "":
		c = objstore.Config{Endpoint: u.Endpoint, Region: u.Region, AccessKeyID: u.AccessKeyID, SecretAccessKey: u.SecretAccessKey, PathStyle: u.PathStyle}
	default:
		return nil
	}
	return func(name, prefix string) (*objstore.Bucket, error) {
		c.Bucket, c.Prefix = name, prefix
		return objstore.New(c)
	}
}

func (s *snapshots) target(u string) (snapshot.Target, error) {
	if u == "" {
		var err error
		if u, err = defaultSnapshotTarget(s.cfg.Server.DataDir); err != nil {
			return nil, err
		}
	}
	return snapshot.Open(u, s3Bucket(s.cfg))
}

func (s *snapshots) create(w http.ResponseWriter, r *http.Request) {
	t, err := s.target(r.URL.Query().Get("to"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	res, err := snapshot.Create(r.Context(), t, snapshot.Source{
		CatalogFile:   filepath.Join(s.cfg.Server.DataDir, catalog.FileName),
		TombstoneFile: filepath.Join(s.cfg.Server.DataDir, snapshot.TombstoneDir, snapshot.TombstoneName),
		Flush: func(ctx context.Context) error {
			_, err := s.mem.Flush(ctx, true)
			return err
		},
		Parts: s.mag.SnapshotParts,
	})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	res.Parts = nil // the summary; the manifest in the target lists them
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(res)
}

// snapshotJSON is one snapshot in GET /api/v1/admin/snapshots.
type snapshotJSON struct {
	ID      string    `json:"id"`
	Created time.Time `json:"created"`
	Parts   int       `json:"parts"`
	Bytes   int64     `json:"bytes"`
}

func (s *snapshots) list(w http.ResponseWriter, r *http.Request) {
	t, err := s.target(r.URL.Query().Get("from"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	ms, err := snapshot.List(r.Context(), t)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	out := make([]snapshotJSON, 0, len(ms))
	for _, m := range ms {
		out = append(out, snapshotJSON{ID: m.ID, Created: m.Created, Parts: len(m.Parts), Bytes: m.Bytes})
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

const snapshotUsage = `usage:
  tidal admin snapshot create [--to file:///dir | s3://bucket/prefix] [--endpoint URL]
  tidal admin snapshot list [--from file:///dir | s3://bucket/prefix] [--endpoint URL]
  tidal admin snapshot restore --from URL [--id ID] --data-dir DIR [--config FILE]

create flushes the server's memory into parts and copies the catalog and
every part not yet in the target (hard links for file:// targets on the
data directory's file system). The default target is <data dir>/snapshots.
s3:// targets use the endpoint and credentials of storage.object, else of
unload.s3. restore runs without a server, into an empty or missing data
directory; s3:// needs --config for the connection. Without --id it
restores the latest snapshot.
`

// snapshotCmd is `tidal admin snapshot create|list|restore`.
func snapshotCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stdout, snapshotUsage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	fs := flag.NewFlagSet("admin snapshot "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	endpoint := fs.String("endpoint", envOr("TIDAL_ENDPOINT", "http://127.0.0.1:7490"), "TidalDB server URL (env TIDAL_ENDPOINT)")
	to := fs.String("to", "", "create: target URL (default <data dir>/snapshots)")
	from := fs.String("from", "", "list, restore: target URL")
	id := fs.String("id", "", "restore: snapshot ID (default the latest)")
	dataDir := fs.String("data-dir", "", "restore: the empty data directory to restore into")
	cfgPath := fs.String("config", "", "restore: config file with the S3 connection (storage.object or unload.s3)")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	base := strings.TrimRight(*endpoint, "/")
	client := &http.Client{Timeout: 6 * time.Hour}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "tidal admin snapshot %s: %v\n", args[0], err)
		return 1
	}
	switch args[0] {
	case "create":
		resp, err := adminRequest(client, "POST", base+"/api/v1/admin/snapshots?to="+url.QueryEscape(*to))
		if err != nil {
			return fail(err)
		}
		defer resp.Body.Close()
		var res snapshot.Result
		if err := decodeAdmin(resp, &res); err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "snapshot %s in %s: %d parts, %d bytes; copied %d parts, %d bytes, in %.0f ms\n",
			res.ID, res.Target, res.PartCount, res.Bytes, res.PartsCopied, res.BytesCopied, res.DurationMS)
		return 0
	case "list":
		resp, err := adminRequest(client, "GET", base+"/api/v1/admin/snapshots?from="+url.QueryEscape(*from))
		if err != nil {
			return fail(err)
		}
		defer resp.Body.Close()
		var list []snapshotJSON
		if err := decodeAdmin(resp, &list); err != nil {
			return fail(err)
		}
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tCREATED\tPARTS\tBYTES")
		for _, s := range list {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\n", s.ID, s.Created.Format(time.RFC3339), s.Parts, s.Bytes)
		}
		_ = tw.Flush()
		return 0
	case "restore":
		if *from == "" || *dataDir == "" {
			fmt.Fprint(stderr, "tidal admin snapshot restore: --from and --data-dir are required\n")
			return 2
		}
		cfg := config.Default()
		if *cfgPath != "" {
			var err error
			if cfg, err = config.Load(*cfgPath); err != nil {
				return fail(err)
			}
		}
		t, err := snapshot.Open(*from, s3Bucket(cfg))
		if err != nil {
			return fail(err)
		}
		start := time.Now()
		m, err := snapshot.Restore(context.Background(), t, *id, *dataDir)
		if err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "restored snapshot %s (%d parts, %d bytes) into %s in %.0f ms\n",
			m.ID, len(m.Parts), m.Bytes, *dataDir, float64(time.Since(start).Microseconds())/1000)
		return 0
	}
	fmt.Fprintf(stderr, "tidal admin snapshot: unknown command %q\n\n%s", args[0], snapshotUsage)
	return 2
}
