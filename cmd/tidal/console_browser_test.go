package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/tidaldb/tidal/cmd/tidal/console"
)

// updateScreenshots writes the browser test's screenshots into
// docs/console/ (go test ./cmd/tidal -run TestConsoleBrowser -update-screenshots).
var updateScreenshots = flag.Bool("update-screenshots", false, "write the console screenshots into docs/console")

// findChromium returns Debian's chromium (scripts/deps.sh installs it). It
// fails the test in CI (CI=true) when there is none, and skips it elsewhere.
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium not found: scripts/deps.sh installs it (Debian package chromium)")
	}
	t.Skip("chromium not found (Debian package chromium; scripts/deps.sh installs it)")
	return ""
}

const (
	consoleKey    = "AKIDCONSOLE"
	consoleSecret = "console-secret"
)

// startConsoleServer starts tidal with an admin key and seeds devops.cpu
// (three hosts, one hour at 6 s) through the line protocol.
func startConsoleServer(t *testing.T) *server {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "tidal.yaml")
	yaml := fmt.Sprintf("auth:\n  access_keys:\n    - {access_key_id: %s, secret_access_key: %s, role: admin}\n", consoleKey, consoleSecret)
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, filepath.Join(dir, "data"), "--config", cfg)
	now := time.Now().Truncate(time.Second)
	var b strings.Builder
	for i := range 600 {
		for h, host := range []string{"web-1", "web-2", "web-3"} {
			ts := now.Add(time.Duration(i-600) * 6 * time.Second).UnixNano()
			fmt.Fprintf(&b, "cpu,hostname=%s,region=eu-west-1 usage_user=%d.5,usage_system=%d.25 %d\n", host, 10+h*15+i%20, i%7, ts)
		}
	}
	req, _ := http.NewRequest("POST", s.url()+"/write?db=devops", strings.NewReader(b.String()))
	req.SetBasicAuth(consoleKey, consoleSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("seed write: %s", resp.Status)
	}
	// The rollup of docs/scheduled.md, run once for the last full hour.
	awsCall(t, s, "CreateTable", `{"DatabaseName":"devops","TableName":"cpu_1h"}`)
	created := awsCall(t, s, "CreateScheduledQuery", docsRollup(t))
	arn := between(created, `"Arn":"`, `"`)
	awsCall(t, s, "ExecuteScheduledQuery", fmt.Sprintf(`{"ScheduledQueryArn":%q,"InvocationTime":%d}`, arn, now.Truncate(time.Hour).Unix()))
	return s
}

// awsCall sends one Timestream operation with the console's admin key.
func awsCall(t *testing.T, s *server, op, body string) string {
	t.Helper()
	req, _ := http.NewRequest("POST", s.url()+"/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", timestreamTarget+"."+op)
	req.SetBasicAuth(consoleKey, consoleSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %s %s", op, resp.Status, out)
	}
	return string(out)
}

// TestConsoleBrowser drives the console in headless Chromium against the
// real binary: sign in, open a table, run a query, see rows and the chart,
// an error at its position, cancel a long query, download CSV, PromQL,
// ingestion and scheduled pages, phone width and dark theme; no console
// errors. Screenshots go to the test's artifact directory (go test
// -artifacts) or, with -update-screenshots, to docs/console.
func TestConsoleBrowser(t *testing.T) {
	chromium := findChromium(t)
	s := startConsoleServer(t)
	shots := t.ArtifactDir()
	if *updateScreenshots {
		shots = filepath.Join("..", "..", "docs", "console")
		if err := os.MkdirAll(shots, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 800),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancelCtx := chromedp.NewContext(actx)
	defer cancelCtx()
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	defer cancelTimeout()

	// Console messages of level error, and exceptions, from the start.
	var mu sync.Mutex
	var problems []string
	ignore := func() { mu.Lock(); problems = problems[:0]; mu.Unlock() }
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException {
				mu.Lock()
				problems = append(problems, string(m.Type)+": "+m.Text)
				mu.Unlock()
			}
		}
	}()
	downloads := t.TempDir()
	downloaded := chromedp.BrowserEvents(ctx, browser.DownloadProgress)

	shot := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644)
		})
	}
	waitText := func(sel, want string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Run(ctx, chromedp.Poll[bool](fmt.Sprintf(`(document.querySelector(%q)?.textContent || '').includes(%q)`, sel, want),
				chromedp.WithPollingTimeout(30*time.Second)))
			if err != nil {
				got, _ := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`document.querySelector(%q)?.textContent || ''`, sel)))
				return fmt.Errorf("wait for %q in %s (has %.300q): %w", want, sel, got, err)
			}
			return nil
		})
	}
	step := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			logs := s.logs.String()
			if len(logs) > 3000 {
				logs = logs[len(logs)-3000:]
			}
			mu.Lock()
			defer mu.Unlock()
			t.Fatalf("%s: %v\nbrowser problems: %v\nserver log tail:\n%s", name, err, problems, logs)
		}
	}
	value := func(name string, a chromedp.Action[string]) string {
		t.Helper()
		v, err := chromedp.Run(ctx, a)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return v
	}
	setSQL := func(sql string) chromedp.Action[chromedp.Void] {
		return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => { const ta = document.getElementById('sql'); ta.value = %q;
			ta.dispatchEvent(new Event('input')); ta.focus(); ta.setSelectionRange(ta.value.length, ta.value.length); })()`, sql))
	}
	ctrl := chromedp.KeyModifiers(chromedp.ModifierCtrl)

	// Opening / without a session lands on the sign-in page.
	step("load", chromedp.EmulateViewport(1280, 800), chromedp.Navigate(s.url()+"/"), chromedp.WaitVisible("#signin"),
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
				Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: downloads, EventsEnabled: new(true)})
			return err
		}))
	if loc := value("location", chromedp.Location()); !strings.Contains(loc, "/console/signin?next=%2F") {
		t.Errorf("GET / without a session went to %s, want the sign-in page", loc)
	}
	step("sign-in page", shot("signin"))

	// A wrong secret is refused on the form.
	step("wrong sign in", chromedp.SendKeys("#key", consoleKey), chromedp.SendKeys("#secret", "wrong"), chromedp.Click("#signin button[type=submit]"),
		waitText("#signin-error", "unknown access key or wrong secret"))
	ignore() // the browser logs the refused sign-in's 401, as it should
	step("sign in", chromedp.SetValue("#secret", consoleSecret), chromedp.Click("#signin button[type=submit]"),
		chromedp.WaitVisible("#app"), waitText("#who", consoleKey+" (admin)"), waitText("#schema-tree", "devops"))
	if u, _ := url.Parse(value("location", chromedp.Location())); u.Path != "/" {
		t.Errorf("after sign-in at %s, want /", u)
	}

	// Open the table: its sizes and schema, then its preview query.
	step("open table", chromedp.Click(`[data-key="devops"]`), chromedp.WaitVisible(`[data-key="devops.cpu"]`),
		chromedp.Click(`[data-key="devops.cpu"]`), waitText("#schema-tree", "usage_user"), waitText("#schema-tree", "hostname"))
	if tinfo := value("table info", chromedp.Text(".tinfo")); !strings.Contains(tinfo, "1,800 rows") || !strings.Contains(tinfo, "magnetic writes") {
		t.Errorf("table info %q: want the memory tier's 1,800 rows and the settings", tinfo)
	}
	step("query table", chromedp.Click(`button.preview`), waitText("#status", "100 rows in"), shot("query-table"))
	cells := value("rows", chromedp.Text("#grid"))
	for _, want := range []string{"hostname", "usage_user", "web-1", "eu-west-1"} {
		if !strings.Contains(cells, want) {
			t.Errorf("result grid lacks %q: %.300s", want, cells)
		}
	}

	// A time series query, drawn as a chart with a line per host.
	chartSQL := "SELECT hostname, bin(time, 1m) AS t, avg(usage_user) AS usage\nFROM devops.cpu\nGROUP BY hostname, bin(time, 1m)\nORDER BY t"
	step("chart query", setSQL(chartSQL), chromedp.KeyEvent("\r", ctrl),
		waitText("#status", "rows in"), chromedp.Click("#show-chart"), chromedp.WaitVisible("#chart .uplot canvas"),
		waitText("#chart .u-legend", "hostname=web-3"), shot("query-chart"))
	series, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#chart .u-legend .u-series').length`))
	if err != nil || series != 4 { // time and three hosts
		t.Errorf("chart legend has %d entries (%v), want time and three hosts", series, err)
	}

	// Hovering shows the values under the cursor in the legend; a drag
	// zooms the x axis in, a double click zooms back out.
	type box struct{ X, Y, W, H float64 }
	over, err := chromedp.Run(ctx, chromedp.Evaluate[box](`(() => { const r = document.querySelector('#chart .u-over').getBoundingClientRect();
		return {X: r.x, Y: r.y, W: r.width, H: r.height}; })()`))
	if err != nil {
		t.Fatal(err)
	}
	xRange := `(() => { const x = document.getElementById('chart').plot.scales.x; return x.max - x.min; })()`
	full, err := chromedp.Run(ctx, chromedp.Evaluate[float64](xRange))
	if err != nil {
		t.Fatal(err)
	}
	midY := over.Y + over.H/2
	step("hover and zoom", chromedp.MouseEvent(chromedp.MouseMoved, over.X+over.W/2, midY),
		chromedp.Poll[chromedp.Void](`(() => { const v = [...document.querySelectorAll('#chart .u-legend .u-series .u-value')].slice(1);
			return v.length === 3 && v.every((e) => /^[0-9.]+$/.test(e.textContent)); })()`,
			chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.MouseEvent(chromedp.MousePressed, over.X+over.W*0.25, midY, chromedp.ButtonLeft),
		chromedp.MouseEvent(chromedp.MouseMoved, over.X+over.W*0.5, midY, chromedp.ButtonLeft),
		chromedp.MouseEvent(chromedp.MouseReleased, over.X+over.W*0.5, midY, chromedp.ButtonLeft))
	zoomed, err := chromedp.Run(ctx, chromedp.Evaluate[float64](xRange))
	if err != nil || zoomed <= 0 || zoomed > full*0.4 {
		t.Errorf("x range %v after dragging over a quarter of %v (%v), want about a quarter", zoomed, full, err)
	}
	step("unzoom", chromedp.DoubleClick("#chart .u-over"))
	if back, err := chromedp.Run(ctx, chromedp.Evaluate[float64](xRange)); err != nil || back != full {
		t.Errorf("x range %v after a double click (%v), want %v", back, err, full)
	}

	// Completion offers the table's names.
	step("complete", chromedp.Click("#show-table"), setSQL("SELECT usa"), chromedp.KeyEvent(" ", ctrl), chromedp.WaitVisible("#complete"))
	items := value("completions", chromedp.Text("#complete"))
	if !strings.Contains(items, "usage_user") || !strings.Contains(items, "usage_system") {
		t.Errorf("completions for usa: %q", items)
	}
	// (A CDP key event types its character even when the page cancels the
	// keydown, so the test accepts with the mouse.)
	step("accept completion", chromedp.KeyEvent(kb.ArrowDown), chromedp.Click(`#complete li[aria-selected=true]`))
	if got := value("accepted", chromedp.Evaluate[string](`document.getElementById('sql').value`)); got != "SELECT usage_user" {
		t.Errorf("editor after accepting a completion: %q", got)
	}
	step("complete table", setSQL("SELECT * FROM devops.c"), chromedp.KeyEvent(" ", ctrl), chromedp.WaitVisible("#complete"))
	if items := value("table completions", chromedp.Text("#complete")); !strings.Contains(items, "cpu_1h") || strings.Contains(items, "usage") {
		t.Errorf("completions after devops.c: %q, want the database's tables only", items)
	}
	step("close completion", chromedp.KeyEvent(kb.Escape))

	// An error is shown with its position, and underlined there.
	step("error", setSQL("SELECT hostname\nFROM devops.nope"), chromedp.Click("#run"),
		waitText("#error", "line 2:"), chromedp.WaitVisible("#highlight .hl-err"), shot("query-error"))
	ignore() // the browser logs the bad query's 400

	// 100 000 rows, paged through the Query API, in a table that keeps only
	// the rows in view in the DOM.
	start := time.Now()
	step("100k rows", setSQL("SELECT a.hostname, b.usage_user FROM devops.cpu a CROSS JOIN devops.cpu b"), chromedp.Click("#run"),
		waitText("#status", "100,000 rows in"), waitText("#status", "more available"), chromedp.Focus("#grid"), chromedp.KeyEvent(kb.End),
		chromedp.Poll[chromedp.Void](`[...document.querySelectorAll('#grid .grow .rn')].some((c) => c.textContent === '100000')`, chromedp.WithPollingTimeout(10*time.Second)))
	t.Logf("100 000 rows fetched and scrolled to the end in %v", time.Since(start))
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#grid .grow').length`)); err != nil || n > 200 {
		t.Errorf("%d rows in the DOM (%v), want only those in view", n, err)
	}

	step("load more", chromedp.Click("#more"), waitText("#status", "200,000 rows in"))

	// A long query is cancelled (and the paused one above released), and stops on the server.
	long := "SELECT count(*) FROM devops.cpu a CROSS JOIN devops.cpu b CROSS JOIN devops.cpu c"
	step("long query", setSQL(long), chromedp.Click("#run"), waitText("#status", "Running"),
		chromedp.WaitEnabled("#cancel"), chromedp.Click("#cancel"), waitText("#status", "Cancelled"))
	waitQueriesStopped(t, s)
	// Cancelled while its pages stream in, the query has a QueryId: the
	// console calls CancelQuery.
	stream := "SELECT a.hostname, b.hostname AS h2, a.time FROM devops.cpu a CROSS JOIN devops.cpu b"
	step("cancel while paging", setSQL(stream), chromedp.Click("#run"),
		chromedp.Poll[chromedp.Void](`/Running… [1-9]/.test(document.getElementById('status').textContent)`, chromedp.WithPollingTimeout(20*time.Second)),
		chromedp.Click("#cancel"), waitText("#status", "Cancelled after"))
	waitQueriesStopped(t, s)
	// One CancelQuery released the 200 000-row result, one stopped this one.
	if m := metricsText(t, s); !strings.Contains(m, `tidal_query_requests_total{op="CancelQuery",result="ok"} 2`) {
		t.Errorf("no CancelQuery call recorded:\n%s", grepLines(m, "tidal_query_requests_total"))
	}

	// CSV download of the chart query, streamed by the server.
	step("download", setSQL(chartSQL), chromedp.Click("#dl-csv"))
	var path string
	for ev, err := range downloaded {
		if err != nil {
			t.Fatalf("no CSV download completed: %v", err)
		}
		if ev.State == browser.DownloadProgressStateCompleted && strings.HasSuffix(ev.FilePath, ".csv") {
			path = ev.FilePath
			break
		}
	}
	checkDownloadedCSV(t, path)
	// Breaking out of the loop above ended that subscription.
	downloaded = chromedp.BrowserEvents(ctx, browser.DownloadProgress)
	step("download json", chromedp.Click("#dl-json"))
	path = ""
	for ev, err := range downloaded {
		if err != nil {
			t.Fatalf("no JSON download completed: %v", err)
		}
		if ev.State == browser.DownloadProgressStateCompleted && strings.HasSuffix(ev.FilePath, ".json") {
			path = ev.FilePath
			break
		}
	}
	if path == "" {
		t.Fatal("no JSON download completed")
	}
	checkDownloadedJSON(t, path)

	// PromQL tab, ingestion status and scheduled queries.
	step("promql", chromedp.Click(`#nav a[data-view=promql]`), chromedp.WaitVisible("#promql"), chromedp.SendKeys("#promql", "vector(1)"),
		chromedp.Click("#promql-form button[type=submit]"), waitText("#promql-status", "1 series"), chromedp.WaitVisible("#promql-chart .uplot canvas"), shot("promql"))
	step("ingestion", chromedp.Click(`#nav a[data-view=ingest]`), waitText("#ingest", "Ingest rates"), waitText("#ingest", "lines_total"),
		waitText("#ingest", "Memory tier"), waitText("#ingest", "Pipelines"),
		chromedp.Poll[chromedp.Void](`!document.getElementById('ingest').textContent.includes('…')`, chromedp.WithPollingTimeout(10*time.Second)),
		shot("ingest"))
	waitScheduledRun(t, s)
	step("scheduled", chromedp.Click(`#nav a[data-view=scheduled]`), waitText("#scheduled", "cpu-hourly"), waitText("#scheduled", "devops.cpu_1h"),
		waitText("#scheduled", "SUCCESS"), shot("scheduled"))

	// Dark theme and a phone's width.
	step("dark", chromedp.Click(`#nav a[data-view=query]`), setSQL(chartSQL), chromedp.Click("#run"), waitText("#status", "rows in"),
		chromedp.Click("#show-chart"), chromedp.Click("#theme"), chromedp.WaitVisible("#chart .uplot canvas"), shot("query-dark"))
	step("phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile), chromedp.Click("#show-table"),
		chromedp.WaitVisible("#menu"), shot("phone"), chromedp.Click("#menu"), chromedp.WaitVisible("#schema-tree"), shot("phone-schema"))

	// The session cookie: HttpOnly, SameSite=Strict; without its CSRF token
	// a state-changing call is refused.
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{})
	if err != nil {
		t.Fatal(err)
	}
	var sess *network.Cookie
	for _, c := range res.Cookies {
		if c.Name == "tidal_session" {
			sess = c
		}
	}
	if sess == nil || !sess.HTTPOnly || sess.SameSite != network.CookieSameSiteStrict {
		t.Fatalf("session cookie %+v: want HttpOnly and SameSite=Strict", sess)
	}
	checkCSRF(t, s, sess.Value)

	// Without credentials configured (the loopback default) the console
	// opens at once.
	open := startServer(t, t.TempDir())
	step("open server", chromedp.Navigate(open.url()+"/"), chromedp.WaitVisible("#app"), waitText("#who", "no sign-in configured"),
		waitText("#schema-tree", "No databases yet"))
	if signOut, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById('signout').hidden`)); err != nil || !signOut {
		t.Errorf("open server: sign-out button shown (%v)", err)
	}

	mu.Lock()
	defer mu.Unlock()
	if len(problems) > 0 {
		t.Errorf("browser console errors:\n%s", strings.Join(problems, "\n"))
	}
}

// waitScheduledRun polls the admin listing until the rollup's manual run
// is recorded.
func waitScheduledRun(t *testing.T, s *server) {
	t.Helper()
	pollUntil(t, s, "the scheduled query's run to be recorded", func() bool {
		return strings.Contains(adminGet(t, s, "/api/v1/admin/scheduled"), `"runs":1`)
	})
}

// adminGet GETs path with the console's admin key.
func adminGet(t *testing.T, s *server, path string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", s.url()+path, nil)
	req.SetBasicAuth(consoleKey, consoleSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return string(body)
}

// metricsText returns the server's /metrics.
func metricsText(t *testing.T, s *server) string {
	t.Helper()
	return adminGet(t, s, "/metrics")
}

func grepLines(text, prefix string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// waitQueriesStopped polls /metrics until no query runs.
func waitQueriesStopped(t *testing.T, s *server) {
	t.Helper()
	pollUntil(t, s, "no query running on the server", func() bool {
		return strings.Contains(metricsText(t, s), "\ntidal_query_running 0\n")
	})
}

func checkDownloadedJSON(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rows []struct {
		Hostname string   `json:"hostname"`
		T        string   `json:"t"`
		Usage    *float64 `json:"usage"`
	}
	if err := json.Unmarshal(data, &rows); err != nil {
		t.Fatalf("downloaded JSON %s: %v: %.200q", path, err, data)
	}
	if len(rows) < 150 || rows[0].Hostname == "" || rows[0].T == "" || rows[0].Usage == nil || *rows[0].Usage < 10 {
		t.Fatalf("downloaded JSON: %d rows, first %+v", len(rows), rows[0])
	}
}

func checkDownloadedCSV(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) < 150 || strings.Join(recs[0], ",") != "hostname,t,usage" {
		t.Fatalf("downloaded CSV: %d records, header %v", len(recs), recs[0])
	}
	hosts := map[string]bool{}
	for _, r := range recs[1:] {
		hosts[r[0]] = true
	}
	if len(hosts) != 3 || !hosts["web-1"] || !hosts["web-3"] {
		t.Errorf("downloaded CSV hosts %v", hosts)
	}
}

// checkCSRF checks the security of the console's routes from outside the
// browser: the CSP header, no route without a session, and the session's
// CSRF token required on state-changing calls.
func checkCSRF(t *testing.T, s *server, cookie string) {
	t.Helper()
	do := func(method, path, csrf string, withCookie bool, hdr ...string) (int, http.Header, string) {
		req, _ := http.NewRequest(method, s.url()+path, strings.NewReader(`{"QueryString":"SELECT 1"}`))
		if withCookie {
			req.AddCookie(&http.Cookie{Name: "tidal_session", Value: cookie})
		}
		if csrf != "" {
			req.Header.Set("X-CSRF-Token", csrf)
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(b)
	}
	code, h, _ := do("GET", "/console/signin", "", false)
	if code != 200 || h.Get("Content-Security-Policy") != console.ContentSecurityPolicy {
		t.Errorf("sign-in page: %d, CSP %q", code, h.Get("Content-Security-Policy"))
	}
	for _, path := range []string{"/", "/api", "/console/api/schema", "/console/api/meta", "/console/api/download?sql=SELECT+1", "/metrics"} {
		if code, _, _ := do("GET", path, "", false); code != http.StatusUnauthorized {
			t.Errorf("GET %s without a session: %d, want 401", path, code)
		}
		if code, _, body := do("GET", path, "", true); code != http.StatusOK {
			t.Errorf("GET %s with the session: %d %.200s", path, code, body)
		}
	}
	code, _, body := do("GET", "/console/api/session", "", true)
	csrf := between(body, `"csrf_token":"`, `"`)
	if code != 200 || csrf == "" {
		t.Fatalf("session: %d %s", code, body)
	}
	query := []string{"Content-Type", "application/x-amz-json-1.0", "X-Amz-Target", "Timestream_20181101.Query"}
	if code, _, body := do("POST", "/", "", true, query...); code != http.StatusForbidden || !strings.Contains(body, "X-CSRF-Token") {
		t.Errorf("Query with the session, no CSRF token: %d %s", code, body)
	}
	if code, _, body := do("POST", "/", "not-the-token", true, query...); code != http.StatusForbidden {
		t.Errorf("Query with the session, a wrong CSRF token: %d %s", code, body)
	}
	if code, _, body := do("POST", "/", csrf, true, query...); code != http.StatusOK || !strings.Contains(body, `"ScalarValue":"1"`) {
		t.Errorf("Query with the session and its CSRF token: %d %s", code, body)
	}
	if code, _, _ := do("POST", "/console/api/signout", "", true); code != http.StatusForbidden {
		t.Errorf("sign-out without the CSRF token: %d, want 403", code)
	}
	if code, _, _ := do("POST", "/console/api/signout", csrf, true); code != http.StatusOK {
		t.Errorf("sign-out with the CSRF token: %d", code)
	}
	if code, _, _ := do("GET", "/console/api/schema", "", true); code != http.StatusUnauthorized {
		t.Errorf("schema after sign-out: %d, want 401", code)
	}
}

func between(s, start, end string) string {
	_, after, ok := strings.Cut(s, start)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(after, end)
	return v
}
