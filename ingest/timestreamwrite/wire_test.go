package timestreamwrite

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tidaldb/tidal/ingest"
)

// TestWireShapes pins the exact JSON of representative responses, as the
// AWS SDKs and CLI parse them.
func TestWireShapes(t *testing.T) {
	e := newEnv(t)
	e.app.reject = func(r ingest.Record) (ingest.Rejection, bool) {
		if r.MeasureName == "dup" {
			return ingest.Rejection{Reason: "The record version 2 is lower than the existing version 200. A higher version is required to update the measure value.", ExistingVersion: 200}, true
		}
		return ingest.Rejection{}, false
	}
	steps := []struct {
		op, body string
		status   int
		want     string
	}{
		{"CreateDatabase", `{"DatabaseName":"db1","Tags":[{"Key":"k","Value":"v"}]}`, 200,
			`{"Database":{"Arn":"arn:aws:timestream:us-east-1:000000000000:database/db1","DatabaseName":"db1","TableCount":0,"CreationTime":1772600768,"LastUpdatedTime":1772600768}}`},
		{"CreateTable", `{"DatabaseName":"db1","TableName":"tb1","RetentionProperties":{"MemoryStoreRetentionPeriodInHours":12,"MagneticStoreRetentionPeriodInDays":30}}`, 200,
			`{"Table":{"Arn":"arn:aws:timestream:us-east-1:000000000000:database/db1/table/tb1","TableName":"tb1","DatabaseName":"db1","TableStatus":"ACTIVE",` +
				`"RetentionProperties":{"MemoryStoreRetentionPeriodInHours":12,"MagneticStoreRetentionPeriodInDays":30},"CreationTime":1772600769,"LastUpdatedTime":1772600769,` +
				`"MagneticStoreWriteProperties":{"EnableMagneticStoreWrites":false},"Schema":{"CompositePartitionKey":[{"Type":"MEASURE"}]}}}`},
		{"ListDatabases", `{"MaxResults":1}`, 200,
			`{"Databases":[{"Arn":"arn:aws:timestream:us-east-1:000000000000:database/db1","DatabaseName":"db1","TableCount":1,"CreationTime":1772600768,"LastUpdatedTime":1772600768}]}`},
		{"ListTagsForResource", `{"ResourceARN":"arn:aws:timestream:us-east-1:000000000000:database/db1"}`, 200, `{"Tags":[{"Key":"k","Value":"v"}]}`},
		{"TagResource", `{"ResourceARN":"arn:aws:timestream:us-east-1:000000000000:database/db1","Tags":[]}`, 200, `{}`},
		{"WriteRecords", `{"DatabaseName":"db1","TableName":"tb1","CommonAttributes":{"Dimensions":[{"Name":"host","Value":"h1","DimensionValueType":"VARCHAR"}],"TimeUnit":"MILLISECONDS"},` +
			`"Records":[{"MeasureName":"cpu","MeasureValue":"35.2","MeasureValueType":"DOUBLE","Time":"1700000000000"},` +
			`{"MeasureName":"metrics","MeasureValueType":"MULTI","Time":"1700000000000","Version":2,"MeasureValues":[{"Name":"mem","Value":"61","Type":"BIGINT"},{"Name":"ok","Value":"true","Type":"BOOLEAN"}]}]}`, 200,
			`{"RecordsIngested":{"Total":2,"MemoryStore":2,"MagneticStore":0}}`},
		{"WriteRecords", `{"DatabaseName":"db1","TableName":"tb1","Records":[{"Dimensions":[{"Name":"host","Value":"h1"}],"MeasureName":"dup","MeasureValue":"1","Time":"1","Version":2},` +
			`{"Dimensions":[{"Name":"host","Value":"h1"}],"MeasureName":"ok","MeasureValue":"1","Time":"x"}]}`, 419,
			`{"Message":"One or more records have been rejected. See RejectedRecords for details.","RejectedRecords":[` +
				`{"RecordIndex":0,"Reason":"The record version 2 is lower than the existing version 200. A higher version is required to update the measure value.","ExistingVersion":200},` +
				`{"RecordIndex":1,"Reason":"Invalid time for record: \"x\" is not a non-negative integer number of milliseconds since the epoch within the supported range."}],` +
				`"__type":"RejectedRecordsException"}`},
		{"DescribeTable", `{"DatabaseName":"db1","TableName":"nope"}`, 400,
			`{"Message":"The table nope does not exist in database db1.","__type":"ResourceNotFoundException"}`},
		{"DeleteTable", `{"DatabaseName":"db1","TableName":"tb1"}`, 200, `{}`},
	}
	for i, s := range steps {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("POST", "/", strings.NewReader(s.body))
		req.Header.Set("X-Amz-Target", "Timestream_20181101."+s.op)
		e.api.ServeHTTP(rec, req)
		if rec.Code != s.status || rec.Body.String() != s.want {
			t.Fatalf("step %d %s: got %d\n%s\nwant %d\n%s", i, s.op, rec.Code, rec.Body.String(), s.status, s.want)
		}
	}
}
