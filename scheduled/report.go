package scheduled

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tidaldb/tidal/internal/awsjson"
)

// reportDir is the directory under Options.Dir that stands in for S3:
// a report for bucket B and key K is the file reports/B/K.
const reportDir = "reports"

// errorReport is the JSON document written for a failed run.
type errorReport struct {
	ReportID          string     `json:"reportId"`
	ScheduledQueryArn string     `json:"scheduledQueryArn"`
	InvocationTime    int64      `json:"invocationEpochSecond"`
	TriggerTimeMillis int64      `json:"triggerTimeMillis"`
	FailureReason     string     `json:"failureReason"`
	Errors            []runError `json:"errors"`
}

// writeReport writes a failed run's errors where q's
// ErrorReportConfiguration says and returns the location.
func (s *Scheduler) writeReport(q *Query, sum *RunSummary, trigger time.Time, errs []runError) (*ErrorReportLocation, error) {
	s3 := q.ErrorReportConfiguration.S3Configuration
	if s3 == nil {
		return nil, nil
	}
	var id [8]byte
	_, _ = rand.Read(id[:]) // crypto/rand.Read never fails on supported platforms.
	rep := errorReport{ReportID: hex.EncodeToString(id[:]), ScheduledQueryArn: q.Arn,
		InvocationTime: time.Time(*sum.InvocationTime).Unix(), TriggerTimeMillis: trigger.UnixMilli(),
		FailureReason: sum.FailureReason, Errors: errs}
	data, err := json.MarshalIndent(rep, "", " ")
	if err != nil {
		return nil, fmt.Errorf("encode error report: %w", err)
	}
	// Timestream's layout: prefix/<scheduled query id>/<invocation>/<report id>.
	key := path.Join(strings.Trim(s3.ObjectKeyPrefix, "/"), arnID(q.Arn), strconv.FormatInt(rep.InvocationTime, 10), rep.ReportID+".json")
	rel := filepath.Join(s3.BucketName, filepath.FromSlash(key))
	if !filepath.IsLocal(rel) {
		return nil, fmt.Errorf("write error report: location %s/%s leaves the report directory", s3.BucketName, key)
	}
	file := filepath.Join(s.opts.Dir, reportDir, rel)
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return nil, fmt.Errorf("create error report dir: %w", err)
	}
	if err := writeFileAtomic(file, data); err != nil {
		return nil, fmt.Errorf("write error report: %w", err)
	}
	return &ErrorReportLocation{S3ReportLocation: &S3ReportLocation{BucketName: s3.BucketName, ObjectKey: key}}, nil
}

// ReportPath returns the file that holds the report at loc.
func (s *Scheduler) ReportPath(loc *S3ReportLocation) string {
	return filepath.Join(s.opts.Dir, reportDir, loc.BucketName, filepath.FromSlash(loc.ObjectKey))
}

// arnID returns the last path element of a scheduled query ARN
// ("name-0123456789abcdef").
func arnID(arn string) string {
	if i := strings.LastIndexByte(arn, '/'); i >= 0 {
		return arn[i+1:]
	}
	return arn
}

// Notification types, as Timestream sends them to SNS.
const (
	NotifyCreating = "SCHEDULED_QUERY_CREATING"
	NotifyUpdate   = "SCHEDULED_QUERY_UPDATE"
	NotifyDeleted  = "SCHEDULED_QUERY_DELETED"
)

// Notification is the JSON body of a webhook notification, in the
// camelCase shape of Timestream's SNS messages.
type Notification struct {
	Type                      string               `json:"type"`
	Arn                       string               `json:"arn"`
	NextInvocationEpochSecond int64                `json:"nextInvocationEpochSecond,omitempty"`
	ScheduledQueryRunSummary  *NotificationSummary `json:"scheduledQueryRunSummary,omitempty"`
	State                     string               `json:"state,omitempty"`
}

// NotificationSummary is the run summary of a run notification.
type NotificationSummary struct {
	InvocationEpochSecond int64                 `json:"invocationEpochSecond"`
	TriggerTimeMillis     int64                 `json:"triggerTimeMillis"`
	RunStatus             string                `json:"runStatus"`
	ExecutionStats        *NotificationStats    `json:"executionStats,omitempty"`
	ErrorReportLocation   *notificationLocation `json:"errorReportLocation,omitempty"`
	FailureReason         string                `json:"failureReason,omitempty"`
}

// NotificationStats is ExecutionStats in camelCase.
type NotificationStats struct {
	ExecutionTimeInMillis  int64 `json:"executionTimeInMillis"`
	DataWrites             int64 `json:"dataWrites"`
	BytesMetered           int64 `json:"bytesMetered"`
	CumulativeBytesScanned int64 `json:"cumulativeBytesScanned"`
	RecordsIngested        int64 `json:"recordsIngested"`
	QueryResultRows        int64 `json:"queryResultRows"`
}

type notificationLocation struct {
	S3ReportLocation struct {
		BucketName string `json:"bucketName"`
		ObjectKey  string `json:"objectKey"`
	} `json:"s3ReportLocation"`
}

func runNotification(arn string, sum *RunSummary, next *awsjson.Timestamp) *Notification {
	n := &Notification{Type: sum.RunStatus, Arn: arn}
	if next != nil {
		n.NextInvocationEpochSecond = time.Time(*next).Unix()
	}
	ns := &NotificationSummary{RunStatus: sum.RunStatus, FailureReason: sum.FailureReason}
	if sum.InvocationTime != nil {
		ns.InvocationEpochSecond = time.Time(*sum.InvocationTime).Unix()
	}
	if sum.TriggerTime != nil {
		ns.TriggerTimeMillis = time.Time(*sum.TriggerTime).UnixMilli()
	}
	if st := sum.ExecutionStats; st != nil {
		ns.ExecutionStats = &NotificationStats{ExecutionTimeInMillis: st.ExecutionTimeInMillis, DataWrites: st.DataWrites,
			BytesMetered: st.BytesMetered, CumulativeBytesScanned: st.CumulativeBytesScanned,
			RecordsIngested: st.RecordsIngested, QueryResultRows: st.QueryResultRows}
	}
	if l := sum.ErrorReportLocation; l != nil && l.S3ReportLocation != nil {
		ns.ErrorReportLocation = &notificationLocation{}
		ns.ErrorReportLocation.S3ReportLocation.BucketName = l.S3ReportLocation.BucketName
		ns.ErrorReportLocation.S3ReportLocation.ObjectKey = l.S3ReportLocation.ObjectKey
	}
	n.ScheduledQueryRunSummary = ns
	return n
}

// notify POSTs n to topic when it is an http(s) URL and to
// Options.NotificationURL. Delivery is best effort: failures are logged
// and counted, never retried.
func (s *Scheduler) notify(ctx context.Context, topic string, n *Notification) {
	var urls []string
	if strings.HasPrefix(topic, "http://") || strings.HasPrefix(topic, "https://") {
		urls = append(urls, topic)
	}
	if s.opts.NotificationURL != "" && s.opts.NotificationURL != topic {
		urls = append(urls, s.opts.NotificationURL)
	}
	if len(urls) == 0 {
		return
	}
	body, err := json.Marshal(n)
	if err != nil {
		s.log.Error("encode scheduled query notification", "err", err)
		return
	}
	for _, u := range urls {
		if err := s.post(ctx, u, body); err != nil {
			s.m.notifyFailures.Inc()
			s.log.Warn("deliver scheduled query notification", "arn", n.Arn, "type", n.Type, "url", u, "err", err)
		}
	}
}

func (s *Scheduler) post(ctx context.Context, url string, body []byte) error {
	req, err := http.NewRequestWithContext(context.WithoutCancel(ctx), http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.opts.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("post notification: %w", err)
	}
	_ = resp.Body.Close() // The body carries nothing we need.
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("post notification: HTTP %s", resp.Status)
	}
	return nil
}

// metrics are the scheduler's Prometheus collectors, labelled by the
// scheduled query's name.
type metrics struct {
	runs           *prometheus.CounterVec   // {scheduled_query, trigger, result}
	duration       *prometheus.HistogramVec // {scheduled_query}
	records        *prometheus.CounterVec   // {scheduled_query}
	skipped        *prometheus.CounterVec   // {scheduled_query}
	notifyFailures prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, log *slog.Logger) *metrics {
	m := &metrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tidal_scheduled_runs_total",
			Help: "Scheduled query runs by query, trigger (auto or manual) and result (success or failure).",
		}, []string{"scheduled_query", "trigger", "result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tidal_scheduled_run_duration_seconds",
			Help:    "Duration of scheduled query runs (query and write-back).",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 10),
		}, []string{"scheduled_query"}),
		records: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tidal_scheduled_records_written_total",
			Help: "Records written back to target tables by scheduled queries.",
		}, []string{"scheduled_query"}),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tidal_scheduled_skipped_runs_total",
			Help: "Missed scheduled query invocations skipped after downtime (beyond the catch-up bound).",
		}, []string{"scheduled_query"}),
		notifyFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tidal_scheduled_notification_failures_total",
			Help: "Scheduled query notifications that could not be delivered.",
		}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.runs, m.duration, m.records, m.skipped, m.notifyFailures} {
			if err := reg.Register(c); err != nil {
				log.Warn("register scheduled query metric", "err", err)
			}
		}
	}
	return m
}

func (m *metrics) observe(name string, manual bool, sum *RunSummary) {
	trigger, result := "auto", "success"
	if manual {
		trigger = "manual"
	}
	if sum.Failed() {
		result = "failure"
	}
	m.runs.WithLabelValues(name, trigger, result).Inc()
	if st := sum.ExecutionStats; st != nil {
		m.duration.WithLabelValues(name).Observe(float64(st.ExecutionTimeInMillis) / 1000)
		m.records.WithLabelValues(name).Add(float64(st.RecordsIngested))
	}
}

func (m *metrics) forget(name string) {
	for _, v := range []interface{ DeletePartialMatch(prometheus.Labels) int }{m.runs, m.duration, m.records, m.skipped} {
		v.DeletePartialMatch(prometheus.Labels{"scheduled_query": name})
	}
}
