package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/ingest/firehose"
	"github.com/tidaldb/tidal/ingest/kafka"
	"github.com/tidaldb/tidal/ingest/kinesis"
	"github.com/tidaldb/tidal/ingest/lineproto"
	"github.com/tidaldb/tidal/ingest/pipeline"
	"github.com/tidaldb/tidal/internal/config"
	"github.com/tidaldb/tidal/internal/fileutil"
)

// streams are the configured ingest pipelines: the stream consumers to run
// as components, and every pipeline for listings.
type streams struct {
	pipelines []*pipeline.Pipeline
	consumers []component
	// firehose serves the Firehose pipelines; nil when there are none.
	firehose http.Handler
}

// newStreams builds the pipelines of cfg writing through app; Kinesis
// leases go under dataDir.
func newStreams(cfg []config.Pipeline, dataDir string, app ingest.Appender, reg prometheus.Registerer, logger *slog.Logger) (*streams, error) {
	st := &streams{}
	if len(cfg) == 0 {
		return st, nil
	}
	metrics := pipeline.NewMetrics(reg)
	var fh firehose.Mux
	for _, c := range cfg {
		opts, err := pipelineOptions(c, metrics)
		if err != nil {
			return nil, err
		}
		p, err := pipeline.New(app, opts)
		if err != nil {
			return nil, err
		}
		st.pipelines = append(st.pipelines, p)
		switch c.Source.Kind() {
		case "kafka":
			k := c.Source.Kafka
			ko := kafka.Options{
				Brokers: k.Brokers, Topics: k.Topics, Group: k.Group, Start: k.Start, ClientID: k.ClientID, SessionTimeout: k.SessionTimeout,
				SASLMechanism: k.SASL.Mechanism, Username: k.SASL.Username, Password: k.SASL.Password, Logger: logger,
			}
			if k.TLS {
				ko.TLS = &tls.Config{MinVersion: tls.VersionTLS12}
			}
			src, err := kafka.New(p, ko)
			if err != nil {
				return nil, fmt.Errorf("pipeline %s: %w", c.Name, err)
			}
			st.consumers = append(st.consumers, component{name: "kafka " + c.Name, run: src.Run})
		case "firehose":
			h, err := firehose.New(p, firehose.Options{AccessKeys: c.Source.Firehose.AccessKeys, Logger: logger})
			if err != nil {
				return nil, fmt.Errorf("pipeline %s: %w", c.Name, err)
			}
			if fh == nil {
				fh = firehose.Mux{}
				st.firehose = fh
			}
			fh[c.Name] = h
		case "kinesis":
			k := c.Source.Kinesis
			var from time.Time
			if k.Start == kinesis.StartAtTimestamp {
				if from, err = time.Parse(time.RFC3339Nano, k.Timestamp); err != nil {
					return nil, fmt.Errorf("pipeline %s: kinesis timestamp: %w", c.Name, err)
				}
			}
			// Leases and checkpoints live in the data dir, one file per
			// pipeline.
			leases, err := kinesis.OpenFileLeaseStore(fileutil.OS, filepath.Join(dataDir, "kinesis", c.Name, "leases.json"))
			if err != nil {
				return nil, fmt.Errorf("pipeline %s: %w", c.Name, err)
			}
			src, err := kinesis.New(context.Background(), p, kinesis.Options{
				Stream: k.Stream, Endpoint: k.Endpoint, Region: k.Region, Start: k.Start, Timestamp: from,
				AccessKeyID: k.AccessKeyID, SecretAccessKey: k.SecretAccessKey, IdleWait: k.IdleWait, Leases: leases, Logger: logger,
			})
			if err != nil {
				return nil, fmt.Errorf("pipeline %s: %w", c.Name, err)
			}
			st.consumers = append(st.consumers, component{name: "kinesis " + c.Name, run: src.Run})
		}
	}
	return st, nil
}

// pipelineOptions maps one configured pipeline onto pipeline.Options.
func pipelineOptions(c config.Pipeline, metrics *pipeline.Metrics) (pipeline.Options, error) {
	m := pipeline.Mapping{
		Database: c.Mapping.Database, Table: c.Mapping.Table, DeadLetterTable: c.Mapping.DeadLetterTable,
		MaxTargets: c.Mapping.MaxTables, DeadLetterDatabase: c.Mapping.DeadLetterDatabase,
		Time:       pipeline.TimeField{Field: c.Mapping.Time.Field, Unit: c.Mapping.Time.Unit, Layout: c.Mapping.Time.Layout},
		Dimensions: c.Mapping.Dimensions, Single: c.Mapping.Records == "single", MeasureName: c.Mapping.MeasureName,
	}
	for _, ms := range c.Mapping.Measures {
		typ, err := ingest.ParseValueType(ms.Type)
		if err != nil {
			return pipeline.Options{}, fmt.Errorf("pipeline %s: measure %s: %w", c.Name, ms.Field, err)
		}
		m.Measures = append(m.Measures, pipeline.MeasureField{Field: ms.Field, Type: typ})
	}
	return pipeline.Options{Name: c.Name, Source: c.Source.Kind(), Format: c.Format, Mapping: m, Metrics: metrics,
		Formats: map[string]pipeline.DecoderFunc{pipeline.FormatLineProtocol: lineproto.PipelineDecoder}}, nil
}

// listPipelines answers GET /api/v1/admin/pipelines: every pipeline's
// state, counts, rate, lag and last error.
func (st *streams) listPipelines(w http.ResponseWriter, _ *http.Request) {
	out := make([]pipeline.Status, 0, len(st.pipelines))
	for _, p := range st.pipelines {
		out = append(out, p.Status())
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

// printPipelines writes `tidal admin pipelines`' table.
func printPipelines(w io.Writer, ps []pipeline.Status) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSOURCE\tFORMAT\tTARGET\tSTATE\tMESSAGES\tDEAD\tRECORDS\tREC/S\tLAG\tLAST ERROR")
	for _, p := range ps {
		last := p.LastError
		if len(last) > 80 {
			last = last[:80] + "..."
		}
		if last != "" {
			last = p.LastErrorAt.UTC().Format(time.RFC3339) + " " + last
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%.0f\t%d\t%s\n", p.Name, p.Source, p.Format, p.Target, p.State,
			p.Messages, p.DeadLetters, p.Records, p.RecordsPerSecond, p.Lag, last)
	}
	_ = tw.Flush()
}
