package timestreamapi

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/ingest"
	qexec "github.com/tidaldb/tidal/query/exec"
	"github.com/tidaldb/tidal/query/scan/scantest"
)

// highCPUAll is TSBS's high-cpu-all as the bench runs it over a
// multi-measure table; every usage_user is above 90, so it returns every
// row: 99,000 rows of 15 columns (a.* is 13, b adds time and hostname).
const highCPUAll = `WITH usage_over_ninety AS (
	SELECT time, hostname FROM devops.cpu WHERE measure_name = 'cpu' AND usage_user > 90
)
SELECT * FROM devops.cpu a JOIN usage_over_ninety b ON a.hostname = b.hostname AND a.time = b.time`

// highCPUEngine returns an engine over 99 hosts x 1000 steps of 9 cpu
// metrics (hostname and region dimensions).
func highCPUEngine(t testing.TB) *qexec.Engine {
	t.Helper()
	metrics := []string{"usage_user", "usage_system", "usage_idle", "usage_nice", "usage_iowait",
		"usage_irq", "usage_softirq", "usage_steal", "usage_guest"}
	cat, err := catalog.Open(catalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cat.CreateDatabase("devops", "", nil); err != nil {
		t.Fatal(err)
	}
	cols := []catalog.Column{
		{Name: "hostname", Kind: catalog.KindDimension, Type: ingest.TypeVarchar},
		{Name: "region", Kind: catalog.KindDimension, Type: ingest.TypeVarchar},
		{Name: "cpu", Kind: catalog.KindMeasureName, Type: ingest.TypeMulti},
	}
	for _, m := range metrics {
		cols = append(cols, catalog.Column{Name: m, Kind: catalog.KindAttribute, Type: ingest.TypeDouble})
	}
	if _, err := cat.CreateTable(catalog.Table{Database: "devops", Name: "cpu", Columns: cols}); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	recs := make([]ingest.Record, 0, 99*1000)
	for h := range 99 {
		dims := []ingest.Dimension{{Name: "hostname", Value: "host_" + strconv.Itoa(h)}, {Name: "region", Value: "eu-west-1"}}
		for s := range 1000 {
			ms := make([]ingest.Measure, len(metrics))
			for i, m := range metrics {
				v := rng.Float64() * 100
				if i == 0 {
					v = 90 + v/10
				}
				ms[i] = ingest.Measure{Name: m, Value: ingest.Float(v)}
			}
			recs = append(recs, ingest.Record{Time: engineStart.Add(time.Duration(s) * 10 * time.Second).UnixNano(),
				Dimensions: dims, MeasureName: "cpu", Measures: ms})
		}
	}
	return qexec.New(cat, scantest.NewModel(recs), qexec.Options{Now: func() time.Time { return engineStart.Add(time.Hour) }})
}

// materialising hides the engine's Stream: the API then keeps the whole
// result for paging, as it did before streaming.
type materialising struct{ e *qexec.Engine }

func (m materialising) Query(ctx context.Context, sql string, p map[string]qexec.Value) (*qexec.Result, error) {
	return m.e.Query(ctx, sql, p)
}

func (m materialising) Prepare(sql string) ([]qexec.Column, []qexec.Param, error) {
	return m.e.Prepare(sql)
}

// pageAll pages through sql with MaxRows 1000 through the API handler
// and calls each after every page; it returns the rows and columns seen.
func pageAll(t testing.TB, a *API, sql string, each func()) (rows, cols int) {
	t.Helper()
	tok := ""
	for {
		in := map[string]any{"QueryString": sql, "MaxRows": 1000}
		if tok != "" {
			in["NextToken"] = tok
		}
		body, _ := json.Marshal(in)
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(string(body)))
		req.Header.Set("X-Amz-Target", "Timestream_20181101.Query")
		w := httptest.NewRecorder()
		a.ServeHTTP(w, req)
		var out struct {
			NextToken  string
			ColumnInfo []json.RawMessage
			Rows       []json.RawMessage
		}
		if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil || w.Code != http.StatusOK {
			t.Fatalf("status %d: %v: %.300s", w.Code, err, w.Body.String())
		}
		rows += len(out.Rows)
		cols = max(cols, len(out.ColumnInfo))
		each()
		if tok = out.NextToken; tok == "" {
			return rows, cols
		}
	}
}

// liveHeap is the heap in use after a full collection.
func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// procStatus reads a kB figure (VmRSS, VmHWM) of /proc/self/status.
func procStatus(name string) int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	m := regexp.MustCompile(`(?m)^` + name + `:\s+(\d+) kB`).FindSubmatch(data)
	if m == nil {
		return -1
	}
	n, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return n * 1024
}

// highCPUAllRun pages high-cpu-all through a fresh API, streamed or
// materialised, and returns the most live heap above the data's own
// between pages, the bytes allocated, and the rows and columns.
func highCPUAllRun(t testing.TB, eng *qexec.Engine, streamed bool) (peak, alloc uint64, rows, cols int) {
	var e Engine = materialising{eng}
	if streamed {
		e = eng
	}
	a := New(e, Options{})
	defer a.Close()
	base := liveHeap()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	pages := 0
	rows, cols = pageAll(t, a, highCPUAll, func() {
		// A full collection per page is slow over this heap: sample
		// every fifth page (what is held is steady from page to page).
		if pages++; pages%5 != 1 {
			return
		}
		if h := liveHeap(); h > base {
			peak = max(peak, h-base)
		}
	})
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	return peak, after.TotalAlloc - before.TotalAlloc, rows, cols
}

// BenchmarkHighCPUAllMemory pages TSBS high-cpu-all (99,000 rows x 15
// columns) through the Query API handler with MaxRows 1000, once with the
// result streamed and once materialised (the engine's Stream hidden, as
// before streaming), in the same process, and reports the most live heap
// the query held between pages (a GC before each reading) and the bytes
// allocated. It then runs each variant in a child process of its own and
// reports the child's peak RSS (VmHWM) above its RSS with the data loaded:
//
//	go test -run '^$' -bench HighCPUAllMemory -benchtime 1x ./query/timestreamapi
func BenchmarkHighCPUAllMemory(b *testing.B) {
	eng := highCPUEngine(b)
	var sPeak, mPeak, sAlloc, mAlloc uint64
	for range b.N {
		var rows, cols int
		mPeak, mAlloc, rows, cols = highCPUAllRun(b, eng, false)
		if rows != 99000 || cols != 15 {
			b.Fatalf("materialised: %d rows x %d columns, want 99000 x 15", rows, cols)
		}
		sPeak, sAlloc, rows, cols = highCPUAllRun(b, eng, true)
		if rows != 99000 || cols != 15 {
			b.Fatalf("streamed: %d rows x %d columns, want 99000 x 15", rows, cols)
		}
	}
	rss := map[string]int64{}
	for _, v := range []string{"materialised", "streamed"} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHighCPUAllRSSChild$", "-test.v")
		cmd.Env = append(os.Environ(), "TIDAL_HIGHCPU_CHILD="+v)
		out, err := cmd.CombinedOutput()
		if err != nil {
			b.Fatalf("child %s: %v\n%s", v, err, out)
		}
		m := regexp.MustCompile(`rss-over-data=(\d+)`).FindSubmatch(out)
		if m == nil {
			b.Fatalf("child %s printed no figure:\n%s", v, out)
		}
		rss[v], _ = strconv.ParseInt(string(m[1]), 10, 64)
	}
	const mib = 1 << 20
	b.Logf("high-cpu-all, 99000 rows x 15 columns, MaxRows 1000: live heap held %.1f MiB materialised, %.1f MiB streamed (%.1fx less); "+
		"allocated %.0f MiB vs %.0f MiB; child peak RSS over data %.1f MiB vs %.1f MiB (%.1fx less)",
		float64(mPeak)/mib, float64(sPeak)/mib, float64(mPeak)/float64(max(sPeak, 1)),
		float64(mAlloc)/mib, float64(sAlloc)/mib,
		float64(rss["materialised"])/mib, float64(rss["streamed"])/mib, float64(rss["materialised"])/float64(max(rss["streamed"], 1)))
	b.ReportMetric(float64(mPeak)/mib, "materialised-heap-MiB")
	b.ReportMetric(float64(sPeak)/mib, "streamed-heap-MiB")
	b.ReportMetric(float64(rss["materialised"])/mib, "materialised-rss-MiB")
	b.ReportMetric(float64(rss["streamed"])/mib, "streamed-rss-MiB")
}

// TestHighCPUAllRSSChild is BenchmarkHighCPUAllMemory's child process; it
// runs only when the benchmark sets TIDAL_HIGHCPU_CHILD.
func TestHighCPUAllRSSChild(t *testing.T) {
	v := os.Getenv("TIDAL_HIGHCPU_CHILD")
	if v == "" {
		t.Skip("run by BenchmarkHighCPUAllMemory")
	}
	eng := highCPUEngine(t)
	liveHeap()
	base := procStatus("VmRSS")
	var e Engine = materialising{eng}
	if v == "streamed" {
		e = eng
	}
	a := New(e, Options{})
	defer a.Close()
	rows, _ := pageAll(t, a, highCPUAll, func() {})
	if rows != 99000 {
		t.Fatalf("%d rows", rows)
	}
	fmt.Printf("rss-over-data=%d\n", procStatus("VmHWM")-base)
}
