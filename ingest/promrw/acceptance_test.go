package promrw

import (
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/prompb"

	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/ingest/ingesttest"
)

// rwTarget delivers records as one remote-write 1.0 request.
type rwTarget struct{ h *Handler }

func (tg rwTarget) Send(t *testing.T, recs []ingest.Record, malformed bool) ingesttest.Outcome {
	var req prompb.WriteRequest
	for i, r := range recs {
		ls := []prompb.Label{{Name: "__name__", Value: r.MeasureName}}
		for _, d := range r.Dimensions {
			ls = append(ls, prompb.Label{Name: d.Name, Value: d.Value})
		}
		req.Timeseries = append(req.Timeseries, prompb.TimeSeries{Labels: ls,
			Samples: []prompb.Sample{{Timestamp: r.Time / 1e6, Value: r.Value.Float()}}})
		if malformed && i == len(recs)/2 {
			// A label value that is not UTF-8: refused, the rest stored.
			req.Timeseries = append(req.Timeseries, prompb.TimeSeries{
				Labels:  []prompb.Label{{Name: "__name__", Value: "bad"}, {Name: "host", Value: "\xff\xfe"}},
				Samples: []prompb.Sample{{Timestamp: r.Time / 1e6, Value: 1}}})
		}
	}
	w := post(tg.h, v1Body(t, &req), "application/x-protobuf")
	out := ingesttest.Outcome{Retryable: w.Code >= 500 || w.Code == http.StatusTooManyRequests}
	if w.Code != http.StatusNoContent {
		out.Message = strings.TrimSpace(w.Body.String())
	}
	if w.Code == http.StatusBadRequest {
		out.Refused = 1
	}
	return out
}

func TestAcceptance(t *testing.T) {
	ingesttest.Run(t, ingesttest.Harness{
		Database: "prometheus", Table: "metrics",
		New: func(t *testing.T, app ingest.Appender) ingesttest.Target {
			return rwTarget{New(app, Options{})}
		},
	})
}
