// Command tidal is TidalDB's one binary: the server, the query shell and the
// admin tools.
//
//	tidal server [--data-dir DIR] [--listen HOST:PORT] [--config FILE]
//	tidal version
//
// cmd/tidal is the only place that wires concrete types together: the
// catalog, the memstore, the ingest handlers and the query layer.
package main

import (
	"fmt"
	"io"
	"os"
	"runtime/debug"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "server":
		return serverCmd(args[1:], stderr)
	case "query":
		return queryCmd(args[1:], os.Stdin, stdout, stderr)
	case "admin":
		return adminCmd(args[1:], stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, versionString())
		return 0
	case "help", "--help", "-h":
		usage(stdout)
		return 0
	}
	fmt.Fprintf(stderr, "tidal: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprint(w, `tidal: TidalDB, a time-series database that speaks Amazon Timestream and Prometheus

Usage:
  tidal server [--data-dir DIR] [--listen HOST:PORT] [--config FILE] [--insecure]
                      start the database (defaults: ./tidal-data, 127.0.0.1:7490)
  tidal query [--endpoint URL] [--format table|csv|json] [SQL]
                      run SQL, or open a shell without SQL (default endpoint http://127.0.0.1:7490)
  tidal admin flush   move every row in memory into the magnetic tier now
  tidal admin parts   list the magnetic tier's partitions and parts
  tidal admin scheduled
                      list the scheduled queries with their last run and totals
  tidal admin snapshot create|list|restore
                      point-in-time copies of the data (file:// or s3://)
  tidal version       print the version
  tidal help          this text

Run 'tidal COMMAND --help' for the flags of a command.
`)
}

func versionString() string {
	v := version
	goVer := ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		goVer = bi.GoVersion
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += " (" + s.Value[:12] + ")"
			}
		}
	}
	return fmt.Sprintf("tidal %s %s", v, goVer)
}
