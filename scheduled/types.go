package scheduled

import (
	"github.com/tidaldb/tidal/internal/awsjson"
)

// The wire shapes of Timestream's scheduled-query operations. The same
// structs are persisted in the state file, so member names are the API's.

// ScheduleConfiguration says when a scheduled query runs.
type ScheduleConfiguration struct {
	ScheduleExpression string `json:"ScheduleExpression"`
}

// SnsConfiguration names the topic notifications go to. TidalDB has no
// SNS: a TopicArn that is an http(s) URL receives the notification as a
// webhook POST; any other value is kept and reported but not delivered.
type SnsConfiguration struct {
	TopicArn string `json:"TopicArn"`
}

// NotificationConfiguration says where run notifications go.
type NotificationConfiguration struct {
	SnsConfiguration *SnsConfiguration `json:"SnsConfiguration,omitempty"`
}

// S3Configuration is where error reports are written. TidalDB writes them
// to files under the data directory at BucketName/ObjectKeyPrefix/...
type S3Configuration struct {
	BucketName       string `json:"BucketName"`
	ObjectKeyPrefix  string `json:"ObjectKeyPrefix,omitempty"`
	EncryptionOption string `json:"EncryptionOption,omitempty"`
}

// ErrorReportConfiguration says where error reports go.
type ErrorReportConfiguration struct {
	S3Configuration *S3Configuration `json:"S3Configuration,omitempty"`
}

// DimensionMapping maps a result column to a dimension.
type DimensionMapping struct {
	Name               string `json:"Name"`
	DimensionValueType string `json:"DimensionValueType"`
}

// MultiMeasureAttributeMapping maps a result column to an attribute of a
// multi-measure record.
type MultiMeasureAttributeMapping struct {
	SourceColumn                    string `json:"SourceColumn"`
	TargetMultiMeasureAttributeName string `json:"TargetMultiMeasureAttributeName,omitempty"`
	MeasureValueType                string `json:"MeasureValueType"`
}

// MultiMeasureMappings writes each result row as one multi-measure record.
type MultiMeasureMappings struct {
	TargetMultiMeasureName        string                         `json:"TargetMultiMeasureName,omitempty"`
	MultiMeasureAttributeMappings []MultiMeasureAttributeMapping `json:"MultiMeasureAttributeMappings"`
}

// MixedMeasureMapping writes one single- or multi-measure record per
// matching result row.
type MixedMeasureMapping struct {
	MeasureName                   string                         `json:"MeasureName,omitempty"`
	SourceColumn                  string                         `json:"SourceColumn,omitempty"`
	TargetMeasureName             string                         `json:"TargetMeasureName,omitempty"`
	MeasureValueType              string                         `json:"MeasureValueType"`
	MultiMeasureAttributeMappings []MultiMeasureAttributeMapping `json:"MultiMeasureAttributeMappings,omitempty"`
}

// TimestreamConfiguration says how result rows become records of a table.
type TimestreamConfiguration struct {
	DatabaseName         string                `json:"DatabaseName"`
	TableName            string                `json:"TableName"`
	TimeColumn           string                `json:"TimeColumn"`
	DimensionMappings    []DimensionMapping    `json:"DimensionMappings"`
	MultiMeasureMappings *MultiMeasureMappings `json:"MultiMeasureMappings,omitempty"`
	MixedMeasureMappings []MixedMeasureMapping `json:"MixedMeasureMappings,omitempty"`
	MeasureNameColumn    string                `json:"MeasureNameColumn,omitempty"`
}

// TargetConfiguration is where results are written.
type TargetConfiguration struct {
	TimestreamConfiguration *TimestreamConfiguration `json:"TimestreamConfiguration,omitempty"`
}

// Tag is a resource tag.
type Tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

// ExecutionStats describes the work of one run.
type ExecutionStats struct {
	ExecutionTimeInMillis  int64 `json:"ExecutionTimeInMillis"`
	DataWrites             int64 `json:"DataWrites"`
	BytesMetered           int64 `json:"BytesMetered"`
	CumulativeBytesScanned int64 `json:"CumulativeBytesScanned"`
	RecordsIngested        int64 `json:"RecordsIngested"`
	QueryResultRows        int64 `json:"QueryResultRows"`
}

// S3ReportLocation names an error report.
type S3ReportLocation struct {
	BucketName string `json:"BucketName"`
	ObjectKey  string `json:"ObjectKey"`
}

// ErrorReportLocation is where a failed run's report was written.
type ErrorReportLocation struct {
	S3ReportLocation *S3ReportLocation `json:"S3ReportLocation,omitempty"`
}

// Run statuses.
const (
	AutoTriggerSuccess   = "AUTO_TRIGGER_SUCCESS"
	AutoTriggerFailure   = "AUTO_TRIGGER_FAILURE"
	ManualTriggerSuccess = "MANUAL_TRIGGER_SUCCESS"
	ManualTriggerFailure = "MANUAL_TRIGGER_FAILURE"
)

// RunSummary describes one run.
type RunSummary struct {
	InvocationTime      *awsjson.Timestamp   `json:"InvocationTime,omitempty"`
	TriggerTime         *awsjson.Timestamp   `json:"TriggerTime,omitempty"`
	RunStatus           string               `json:"RunStatus"`
	ExecutionStats      *ExecutionStats      `json:"ExecutionStats,omitempty"`
	ErrorReportLocation *ErrorReportLocation `json:"ErrorReportLocation,omitempty"`
	FailureReason       string               `json:"FailureReason,omitempty"`
}

// Failed reports whether the run failed.
func (r *RunSummary) Failed() bool {
	return r.RunStatus == AutoTriggerFailure || r.RunStatus == ManualTriggerFailure
}

// States of a scheduled query.
const (
	StateEnabled  = "ENABLED"
	StateDisabled = "DISABLED"
)

// Query is one scheduled query as DescribeScheduledQuery returns it and the
// state file keeps it.
type Query struct {
	Arn                            string                    `json:"Arn"`
	Name                           string                    `json:"Name"`
	QueryString                    string                    `json:"QueryString"`
	CreationTime                   awsjson.Timestamp         `json:"CreationTime"`
	State                          string                    `json:"State"`
	PreviousInvocationTime         *awsjson.Timestamp        `json:"PreviousInvocationTime,omitempty"`
	NextInvocationTime             *awsjson.Timestamp        `json:"NextInvocationTime,omitempty"`
	ScheduleConfiguration          ScheduleConfiguration     `json:"ScheduleConfiguration"`
	NotificationConfiguration      NotificationConfiguration `json:"NotificationConfiguration"`
	TargetConfiguration            *TargetConfiguration      `json:"TargetConfiguration,omitempty"`
	ScheduledQueryExecutionRoleArn string                    `json:"ScheduledQueryExecutionRoleArn,omitempty"`
	KmsKeyID                       string                    `json:"KmsKeyId,omitempty"`
	ErrorReportConfiguration       ErrorReportConfiguration  `json:"ErrorReportConfiguration"`
	LastRunSummary                 *RunSummary               `json:"LastRunSummary,omitempty"`
	RecentlyFailedRuns             []RunSummary              `json:"RecentlyFailedRuns,omitempty"`
}

// summary is one entry of ListScheduledQueries.
type summary struct {
	Arn                      string                   `json:"Arn"`
	Name                     string                   `json:"Name"`
	CreationTime             awsjson.Timestamp        `json:"CreationTime"`
	State                    string                   `json:"State"`
	PreviousInvocationTime   *awsjson.Timestamp       `json:"PreviousInvocationTime,omitempty"`
	NextInvocationTime       *awsjson.Timestamp       `json:"NextInvocationTime,omitempty"`
	ErrorReportConfiguration ErrorReportConfiguration `json:"ErrorReportConfiguration"`
	TargetDestination        *targetDestination       `json:"TargetDestination,omitempty"`
	LastRunStatus            string                   `json:"LastRunStatus,omitempty"`
}

type targetDestination struct {
	TimestreamDestination struct {
		DatabaseName string `json:"DatabaseName"`
		TableName    string `json:"TableName"`
	} `json:"TimestreamDestination"`
}

func (q *Query) summary() summary {
	s := summary{Arn: q.Arn, Name: q.Name, CreationTime: q.CreationTime, State: q.State,
		PreviousInvocationTime: q.PreviousInvocationTime, NextInvocationTime: q.NextInvocationTime,
		ErrorReportConfiguration: q.ErrorReportConfiguration}
	if q.TargetConfiguration != nil && q.TargetConfiguration.TimestreamConfiguration != nil {
		tc := q.TargetConfiguration.TimestreamConfiguration
		s.TargetDestination = &targetDestination{}
		s.TargetDestination.TimestreamDestination.DatabaseName = tc.DatabaseName
		s.TargetDestination.TimestreamDestination.TableName = tc.TableName
	}
	if q.LastRunSummary != nil {
		s.LastRunStatus = q.LastRunSummary.RunStatus
	}
	return s
}
