package awsjson

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(p []byte) (int, error) { return len(p), nil }
func (d *discard) WriteHeader(int)             {}

type benchTable struct {
	Arn, TableName, DatabaseName, TableStatus string
	CreationTime, LastUpdatedTime             Timestamp
}

// BenchmarkWriteJSON measures a ListTables-sized response of 20 tables.
func BenchmarkWriteJSON(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	var resp struct{ Tables []benchTable }
	for i := range 20 {
		created := time.UnixMilli(1700000000000 + rng.Int64N(1e9))
		resp.Tables = append(resp.Tables, benchTable{
			Arn:       fmt.Sprintf("arn:aws:timestream:us-east-1:000000000000:database/devops/table/t%02d", i),
			TableName: fmt.Sprintf("t%02d", i), DatabaseName: "devops", TableStatus: "ACTIVE",
			CreationTime: Timestamp(created), LastUpdatedTime: Timestamp(created.Add(time.Hour)),
		})
	}
	w := &discard{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		if err := WriteJSON(w, "rid", &resp); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWriteError measures a RejectedRecordsException with ten
// rejections.
func BenchmarkWriteError(b *testing.B) {
	type rejected struct {
		RecordIndex int
		Reason      string
	}
	var recs []rejected
	for i := range 10 {
		recs = append(recs, rejected{RecordIndex: i * 10, Reason: "The record timestamp is outside the time range of the memory store."})
	}
	e := &Error{Type: TypeRejectedRecords, Message: "One or more records have been rejected.", Extra: map[string]any{"RejectedRecords": recs}}
	w := &discard{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		WriteError(w, "rid", e)
	}
}

// BenchmarkDecode measures decoding a small control-plane request.
func BenchmarkDecode(b *testing.B) {
	body := []byte(`{"DatabaseName":"devops","TableName":"cpu","RetentionProperties":{"MemoryStoreRetentionPeriodInHours":12,"MagneticStoreRetentionPeriodInDays":365}}`)
	type req struct {
		DatabaseName, TableName *string
		RetentionProperties     *struct{ MemoryStoreRetentionPeriodInHours, MagneticStoreRetentionPeriodInDays *int64 }
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		var r req
		if e := Decode(body, &r); e != nil {
			b.Fatal(e)
		}
	}
}

// BenchmarkReadBody reads a 64 KiB body (a WriteRecords request of 100
// records) with its Content-Length, as the SDKs send it, and without it,
// the io.ReadAll path every body took before: compare the two lines.
func BenchmarkReadBody(b *testing.B) {
	body := bytes.Repeat([]byte("x"), 64<<10)
	for _, length := range []string{"unknown", "known"} {
		b.Run("length="+length, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			rd := bytes.NewReader(body)
			r := httptest.NewRequest(http.MethodPost, "/", nil)
			for b.Loop() {
				rd.Reset(body)
				r.Body = io.NopCloser(rd)
				r.ContentLength = int64(len(body))
				if length == "unknown" {
					r.ContentLength = -1
				}
				data, e := ReadBody(r, DefaultMaxBodyBytes)
				if e != nil || len(data) != len(body) {
					b.Fatalf("ReadBody: %d bytes, %v", len(data), e)
				}
			}
		})
	}
}
