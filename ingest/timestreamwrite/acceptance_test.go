package timestreamwrite

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/ingest/ingesttest"
	"github.com/tidaldb/tidal/internal/awsjson"
	"github.com/tidaldb/tidal/internal/fileutil"
)

// wrTarget delivers records as one WriteRecords request.
type wrTarget struct{ api *API }

func (tg wrTarget) Send(t *testing.T, recs []ingest.Record, malformed bool) ingesttest.Outcome {
	type dim struct{ Name, Value string }
	type record struct {
		Dimensions       []dim
		MeasureName      string
		MeasureValue     string
		MeasureValueType string
		Time             string
		TimeUnit         string
	}
	var in []record
	for i, r := range recs {
		var ds []dim
		for _, d := range r.Dimensions {
			ds = append(ds, dim{d.Name, d.Value})
		}
		in = append(in, record{Dimensions: ds, MeasureName: r.MeasureName, MeasureValueType: "DOUBLE",
			MeasureValue: strconv.FormatFloat(r.Value.Float(), 'g', -1, 64),
			Time:         strconv.FormatInt(r.Time, 10), TimeUnit: "NANOSECONDS"})
		if malformed && i == len(recs)/2 {
			in = append(in, record{Dimensions: ds, MeasureName: r.MeasureName, MeasureValueType: "DOUBLE",
				MeasureValue: "not-a-number", Time: strconv.FormatInt(r.Time+1, 10), TimeUnit: "NANOSECONDS"})
		}
	}
	body, err := json.Marshal(map[string]any{"DatabaseName": "acc_db", "TableName": "acc_tbl", "Records": in})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(string(body)))
	req.Header.Set("X-Amz-Target", awsjson.TimestreamPrefix+".WriteRecords")
	req.Header.Set("Content-Type", awsjson.ContentType)
	w := httptest.NewRecorder()
	tg.api.ServeHTTP(w, req)
	out := ingesttest.Outcome{Retryable: w.Code >= 500 || w.Code == http.StatusTooManyRequests}
	if w.Code == http.StatusOK {
		return out
	}
	out.Message = w.Body.String()
	var rej struct{ RejectedRecords []json.RawMessage }
	if json.Unmarshal(w.Body.Bytes(), &rej) == nil {
		out.Refused = len(rej.RejectedRecords)
	}
	return out
}

func TestAcceptance(t *testing.T) {
	ingesttest.Run(t, ingesttest.Harness{
		Database: "acc_db", Table: "acc_tbl",
		New: func(t *testing.T, app ingest.Appender) ingesttest.Target {
			cat, err := catalog.Open(catalog.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := cat.CreateDatabase("acc_db", "", nil); err != nil {
				t.Fatal(err)
			}
			if _, err := cat.CreateTable(catalog.Table{Database: "acc_db", Name: "acc_tbl"}); err != nil {
				t.Fatal(err)
			}
			return wrTarget{New(cat, app, Options{})}
		},
	})
}

// TestDiskFullSaysSo: DDL and writes on a full disk get a retryable
// InternalServerException that says the disk is full.
func TestDiskFullSaysSo(t *testing.T) {
	ffs := fileutil.NewFaultFS(fileutil.OS)
	cat, err := catalog.Open(catalog.Options{Dir: t.TempDir(), FS: ffs})
	if err != nil {
		t.Fatal(err)
	}
	api := New(cat, ingesttest.NewStore(), Options{})
	ffs.Inject(fileutil.Fault{Op: fileutil.OpWrite, Err: syscall.ENOSPC})
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"DatabaseName":"full_db"}`))
	req.Header.Set("X-Amz-Target", awsjson.TimestreamPrefix+".CreateDatabase")
	req.Header.Set("Content-Type", awsjson.ContentType)
	w := httptest.NewRecorder()
	api.ServeHTTP(w, req)
	if w.Code != http.StatusInternalServerError || !strings.Contains(w.Body.String(), "disk is full") ||
		!strings.Contains(w.Body.String(), awsjson.TypeInternalServer) {
		t.Fatalf("CreateDatabase on a full disk: %d %s", w.Code, w.Body.String())
	}
	ffs.Clear()
	w = httptest.NewRecorder()
	req = httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"DatabaseName":"full_db"}`))
	req.Header.Set("X-Amz-Target", awsjson.TimestreamPrefix+".CreateDatabase")
	req.Header.Set("Content-Type", awsjson.ContentType)
	api.ServeHTTP(w, req)
	if w.Code != http.StatusOK {
		t.Fatalf("CreateDatabase after space returned: %d %s", w.Code, w.Body.String())
	}
}
