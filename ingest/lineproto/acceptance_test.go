package lineproto

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/ingest/ingesttest"
)

// lpTarget delivers records as one POST /write body.
type lpTarget struct{ h *Handler }

func (tg lpTarget) Send(t *testing.T, recs []ingest.Record, malformed bool) ingesttest.Outcome {
	var b strings.Builder
	for i, r := range recs {
		b.WriteString(r.MeasureName)
		for _, d := range r.Dimensions {
			b.WriteString("," + d.Name + "=" + d.Value)
		}
		b.WriteString(" " + r.Measures[0].Name + "=" + strconv.FormatFloat(r.Measures[0].Value.Float(), 'g', -1, 64))
		b.WriteString(" " + strconv.FormatInt(r.Time, 10) + "\n")
		if malformed && i == len(recs)/2 {
			b.WriteString("cpu,host=broken value=\n")
		}
	}
	req := httptest.NewRequest(http.MethodPost, "/write?db=acc&precision=ns", strings.NewReader(b.String()))
	w := httptest.NewRecorder()
	tg.h.WriteV1(w, req)
	out := ingesttest.Outcome{Retryable: w.Code >= 500 || w.Code == http.StatusTooManyRequests}
	if w.Code != http.StatusNoContent {
		out.Message = w.Body.String()
	}
	if w.Code == http.StatusBadRequest {
		out.Refused = 1
	}
	return out
}

func TestAcceptance(t *testing.T) {
	ingesttest.Run(t, ingesttest.Harness{
		Database: "acc", Table: "cpu",
		Records: func(n int) []ingest.Record {
			recs := ingesttest.DoubleRecords(n)
			for i := range recs {
				recs[i].Measures = []ingest.Measure{{Name: "value", Value: recs[i].Value}}
				recs[i].Value = ingest.Value{}
				recs[i].MeasureName = "cpu"
			}
			return recs
		},
		New: func(t *testing.T, app ingest.Appender) ingesttest.Target {
			return lpTarget{NewHandler(app, HTTPOptions{})}
		},
	})
}
