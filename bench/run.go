package bench

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Query languages of QueryResult.Lang.
const (
	LangSQL      = "sql"
	LangPromQL   = "promql"
	LangInfluxQL = "influxql"
)

// QueryResult is the outcome of one query in one language on one system.
type QueryResult struct {
	Name string
	Lang string
	// Text is the query (for PromQL, the expression).
	Text string
	// Runs are the timed executions (warm-up excluded); empty on error.
	Runs []time.Duration
	// Rows counts result rows (SQL, InfluxQL) or points (PromQL).
	Rows int
	// Err is the error of the first failing execution.
	Err string
	// Agreement is set on peers' results: "" when not compared, "agree"
	// or "DISAGREE: <first difference>". PromQL answers are compared with
	// TidalDB's PromQL answers, InfluxQL answers with TidalDB's SQL answers
	// (for the query types whose rows the two languages shape alike).
	Agreement string

	answer Answer
	table  Table
}

// SystemResult is everything measured on one system.
type SystemResult struct {
	Name, Kind string
	// Driver is the ingest path used.
	Driver    string
	Ingest    IngestResult
	IngestErr string
	// IngestCPU is the CPU time (user + system) the server used while it
	// ingested: unlike the rate, it does not depend on what else the
	// machine was doing. 0 when unknown (external target).
	IngestCPU time.Duration
	// Stored is the number of samples of the queried measurements the
	// system reports holding after ingest (SQL count for TidalDB, PromQL
	// count_over_time, InfluxQL count), to compare with
	// Report.QueriedSamples; StoredErr says why it is unknown.
	Stored    int64
	StoredErr string
	// DiskBytes is the space the data occupies after ingest and flush
	// (allocated blocks, as du counts them; see DiskNote for what was
	// measured); DiskApparentBytes is the sum of the file lengths. 0 when
	// unknown.
	DiskBytes, DiskApparentBytes int64
	DiskNote                     string
	// PeakRSS is the server's VmHWM after ingest and queries; 0 when
	// unknown (external target).
	PeakRSS int64
	Queries []QueryResult
	// Stream is the stream drivers' latency probe (nil for the others).
	Stream *StreamResult `json:",omitempty"`
}

// CPUPerSample is the server's ingest CPU time per sample (0 when
// unknown).
func (r *SystemResult) CPUPerSample() time.Duration {
	if r.IngestCPU <= 0 || r.Ingest.Samples == 0 {
		return 0
	}
	return r.IngestCPU / time.Duration(r.Ingest.Samples)
}

// BytesPerSample is DiskBytes / ingested samples (0 when unknown).
func (r *SystemResult) BytesPerSample() float64 {
	if r.DiskBytes <= 0 || r.Ingest.Samples == 0 {
		return 0
	}
	return float64(r.DiskBytes) / float64(r.Ingest.Samples)
}

// Report is the result of Run.
type Report struct {
	Options Options
	Machine Machine
	// Workload describes the data; Samples counts its values.
	Workload string
	Samples  int64
	// QueriedSamples counts the values of the queried measurements (cpu
	// for the devops queries, readings and diagnostics for the IoT ones).
	QueriedSamples int64
	// Start and End bound the data as sent.
	Start, End time.Time
	Systems    []SystemResult
	// Disagreements counts peer PromQL answers that differ from TidalDB's;
	// Missing counts systems that hold fewer or more samples than were sent.
	Disagreements, Missing int
}

// Run executes the benchmark described by o: TidalDB first, then every
// peer, one at a time, then compares answers and writes report.md and the
// charts to o.OutDir. It returns the report even when some steps failed
// (they are recorded in it); the error is for failures that leave no
// report (bad options, a server that does not start, an unwritable output
// directory).
func Run(ctx context.Context, o Options) (*Report, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	work := o.WorkDir
	if work == "" {
		dir, err := os.MkdirTemp("", "tidal-bench-")
		if err != nil {
			return nil, fmt.Errorf("create work dir: %w", err)
		}
		defer os.RemoveAll(dir)
		work = dir
	}
	logf := func(format string, args ...any) {
		if o.Log != nil {
			fmt.Fprintf(o.Log, format+"\n", args...)
		}
	}
	var wl *workload
	if o.File != "" {
		w, err := fileWorkload(o.File, o.FileFormat, o.Start)
		if err != nil {
			return nil, err
		}
		wl = w
	} else {
		start := o.Start
		if start.IsZero() {
			start = time.Now().Add(-o.Preset.Span).Truncate(time.Hour)
		}
		w, err := generatedWorkload(o.Preset, o.UseCase, start.UTC(), o.Seed)
		if err != nil {
			return nil, err
		}
		wl = w
	}
	rep := &Report{Options: o, Machine: describeMachine(), Workload: wl.desc, Samples: wl.samples, QueriedSamples: wl.queriedSamples, Start: wl.start, End: wl.end}
	var queries []Query
	if wl.family == familyIoT {
		queries = buildIoTQueries(wl.start, wl.end, wl.fleets, o.Seed)
	} else {
		queries = buildQueries(wl.start, wl.end, wl.hosts, wl.interval, o.Seed)
	}
	hc := &http.Client{Timeout: 5 * time.Minute}
	memHours := int(time.Since(wl.start)/time.Hour) + 2

	naming := NamingTimestream
	switch {
	case o.Driver == DriverInflux:
		naming = NamingInflux
	case o.Driver != DriverTimestream && !isStream(o.Driver):
		naming = NamingPrometheus
	}
	var streamTags, streamFields []string
	if isStream(o.Driver) {
		if o.Target != "" {
			return nil, fmt.Errorf("%w: driver %s needs the harness to start tidal (no --target)", ErrBadOptions, o.Driver)
		}
		var err error
		if streamTags, streamFields, err = streamShape(wl); err != nil {
			return nil, err
		}
	}
	// TidalDB, once per WAL sync policy asked for.
	if o.Target != "" {
		tidal := &system{name: displayNames["tidal"], kind: "tidal", url: o.Target}
		res, err := benchSystem(ctx, o, tidal, o.Driver, wl, queries, naming, hc, logf)
		if err != nil {
			return nil, err
		}
		rep.Systems = append(rep.Systems, res)
	} else {
		bin := o.TidalBin
		if bin == "" {
			logf("building tidal")
			b, err := buildTidal(ctx, work)
			if err != nil {
				return nil, err
			}
			bin = b
		}
		syncs := o.TidalSync
		if len(syncs) == 0 {
			syncs = []string{SyncBatch}
		}
		for i, sync := range syncs {
			extra := ""
			var sd *streamDriver
			if isStream(o.Driver) {
				logf("starting the %s broker", o.Driver)
				var err error
				if sd, err = newStreamDriver(ctx, o.Driver); err != nil {
					return nil, err
				}
				extra = sd.pipelinesYAML(streamTags, streamFields)
			}
			logf("starting tidal (%s, wal.sync %s)", bin, sync)
			s, err := startTidal(ctx, bin, filepath.Join(work, "tidal-"+sync), naming, wl.queried()[0], memHours, sync, extra)
			if err != nil {
				if sd != nil {
					sd.close()
				}
				return nil, err
			}
			s.stream = sd
			if i > 0 || sync != SyncBatch {
				s.name = displayNames["tidal"] + " (wal.sync=" + sync + ")"
			}
			res, err := benchSystem(ctx, o, s, o.Driver, wl, queries, naming, hc, logf)
			if err != nil {
				return nil, err
			}
			rep.Systems = append(rep.Systems, res)
		}
	}

	for _, peer := range o.Peers {
		bin := o.Bin[peer]
		if bin == "" {
			bin = defaultBins[peer]
		}
		logf("starting %s (%s)", displayNames[peer], bin)
		s, err := startPeer(ctx, peer, bin, work, wl.family == familyIoT)
		if err != nil {
			// A missing or broken peer is reported, not fatal: the
			// TidalDB figures and the other peers still stand.
			logf("%s: %v", displayNames[peer], err)
			rep.Systems = append(rep.Systems, SystemResult{Name: displayNames[peer], Kind: peer, IngestErr: err.Error()})
			continue
		}
		if peer == PeerPrometheus && wl.family == familyIoT {
			logf("%s: out-of-order window 1h for the late IoT points", displayNames[peer])
		}
		// Peers get the TidalDB driver's protocol where they speak it, so
		// that the ingest figures compare one wire format.
		driver := DriverPromRW1
		if peer == PeerInfluxDB || (peer == PeerVictoriaMetrics && o.Driver == DriverInflux) {
			driver = DriverInflux
		}
		res, err := benchSystem(ctx, o, s, driver, wl, queries, NamingPrometheus, hc, logf)
		if err != nil {
			return nil, err
		}
		rep.Systems = append(rep.Systems, res)
	}
	rep.compare()
	if err := rep.Write(o.OutDir); err != nil {
		return rep, err
	}
	return rep, nil
}

// benchSystem runs ingest, flush, disk and query measurements on s and
// stops it (when the harness started it).
func benchSystem(ctx context.Context, o Options, s *system, driver string, wl *workload, queries []Query, n Naming, hc *http.Client, logf func(string, ...any)) (res SystemResult, err error) {
	defer func() {
		if serr := s.stop(); serr != nil && err == nil {
			err = serr
		}
	}()
	res = SystemResult{Name: s.name, Kind: s.kind, Driver: driver}
	var d Driver
	if s.stream != nil {
		defer s.stream.close()
		d = s.stream
	} else if d, err = NewDriver(driver, s.url, hc); err != nil {
		return res, err
	}
	if td, ok := d.(*timestreamDriver); ok {
		td.memoryHours = int64(time.Since(wl.start)/time.Hour) + 2
	}
	if err := d.Prepare(ctx, wl.measurements); err != nil {
		res.IngestErr = err.Error()
		logf("%s: %v", s.name, err)
	} else {
		cpu0 := s.cpuTime()
		t0 := time.Now()
		res.Ingest, err = runIngest(ctx, d, wl, o.Clients, o.Batch, o.Progress, "ingest "+s.name+" ("+driver+")")
		if err == nil && s.stream != nil {
			// Produced is not stored: the rate counts until the
			// pipeline stored every record (one per sample).
			if err = s.stream.drain(ctx, hc, s.url, res.Ingest.Samples); err == nil {
				res.Ingest.Elapsed = time.Since(t0)
			}
		}
		// A server that started in under one clock tick of CPU reads 0
		// here: only an external target (no process) has no figure.
		if s.cmd != nil && s.cmd.Process != nil {
			res.IngestCPU = s.cpuTime() - cpu0
		}
		if err != nil {
			res.IngestErr = err.Error()
			logf("%s: %v", s.name, err)
		} else if s.stream != nil {
			logf("%s (%s): %.0f records/s produce → stored", s.name, driver, res.Ingest.Rate())
			sr, err := s.stream.latency(ctx, hc, s.url)
			if err != nil {
				logf("%s: latency probe: %v", s.name, err)
			} else {
				res.Stream = &sr
				logf("%s (%s): produce → queryable at %d records/s: p50 %v, p99 %v over %d records",
					s.name, driver, sr.LatencyRate, sr.P50.Round(time.Millisecond), sr.P99.Round(time.Millisecond), sr.Records)
			}
		}
	}
	var du diskUsage
	if du, res.DiskNote, err = s.flush(ctx, hc); err != nil {
		res.DiskNote = err.Error()
	}
	res.DiskBytes, res.DiskApparentBytes = du.Allocated, du.Apparent
	if s.kind == PeerVictoriaMetrics {
		// VictoriaMetrics acknowledges writes from memory, and even after
		// force_flush its newest samples can stay invisible to queries
		// for a while on a loaded machine: the first queries of a run
		// then missed the last hour of data (answers with fewer points
		// than TidalDB's, Stored complete afterwards). Query once it
		// reports holding every sample.
		waitStored(ctx, hc, s, wl, n, 30*time.Second, logf)
	}
	// PromQL on TidalDB reads its one Prometheus table: the Prometheus
	// layout, or the Timestream layout when the queries read one table.
	promQL := s.kind != "tidal" || n.Table != "" || len(wl.queried()) == 1
	langs := func(q *Query) (sql, prom, influx bool) {
		switch s.kind {
		case "tidal":
			if n.Multi {
				return false, false, false
			}
			return true, promQL && q.PromQL(n).Expr != "", false
		case PeerInfluxDB:
			return false, false, q.InfluxQL() != ""
		}
		return false, q.PromQL(n).Expr != "", false
	}
	total := 0
	for i := range queries {
		a, b, c := langs(&queries[i])
		for _, on := range []bool{a, b, c} {
			if on {
				total += o.Preset.Warmup + o.Preset.Runs
			}
		}
	}
	prog := startProgress(o.Progress, "queries "+s.name, "runs", int64(total))
	for i := range queries {
		q := &queries[i]
		doSQL, doProm, doInflux := langs(q)
		if doSQL {
			sql := q.SQL(n)
			qr := timeQuery(o.Preset, q.Name, LangSQL, sql, prog, func() (int, Answer, error) {
				rows, err := timestreamQuery(ctx, hc, s.url, sql)
				return rows, nil, err
			})
			if qr.Err == "" && q.tabular() {
				qr.table = Table{}
				if _, err := timestreamQueryTable(ctx, hc, s.url, sql, qr.table, q.spec()); err != nil {
					qr.table, qr.Agreement = nil, "answer not read: "+err.Error()
				}
			}
			res.Queries = append(res.Queries, qr)
		}
		if doProm {
			pr := q.PromQL(n)
			res.Queries = append(res.Queries, timeQuery(o.Preset, q.Name, LangPromQL, pr.Expr, prog, func() (int, Answer, error) {
				a, err := promQueryRange(ctx, hc, s.url, pr, n)
				return a.Samples(), a, err
			}))
		}
		if doInflux {
			iq := q.InfluxQL()
			qr := timeQuery(o.Preset, q.Name, LangInfluxQL, iq, prog, func() (int, Answer, error) {
				rows, err := influxQuery(ctx, hc, s.url, iq)
				return rows, nil, err
			})
			if qr.Err == "" && q.tabular() {
				if _, qr.table, err = influxQueryTable(ctx, hc, s.url, iq, q.spec()); err != nil {
					qr.table, qr.Agreement = nil, "answer not read: "+err.Error()
				}
			}
			res.Queries = append(res.Queries, qr)
		}
	}
	prog.Stop()
	res.Stored, res.StoredErr = countStored(ctx, hc, s, wl, n)
	if res.StoredErr == "" && res.Stored != wl.queriedSamples {
		logf("%s: MISSING: %d samples of %v sent, %d stored", s.name, wl.queriedSamples, wl.queried(), res.Stored)
	}
	if res.PeakRSS, err = s.peakRSS(); err != nil {
		return res, err
	}
	if du, note, ok, err := s.measureAfterStop(); ok {
		res.DiskBytes, res.DiskApparentBytes, res.DiskNote = du.Allocated, du.Apparent, note
		if err != nil {
			res.DiskNote = err.Error()
		}
	}
	return res, nil
}

// countStored asks s how many samples of the queried measurements it
// holds for the workload's time range: a benchmark of data a system
// dropped measures nothing. TidalDB answers in SQL, InfluxDB in InfluxQL,
// the Prometheus-compatible peers in PromQL.
// waitStored polls countStored until s reports every queried sample of wl
// or limit passes (then it logs what it saw and returns).
func waitStored(ctx context.Context, hc *http.Client, s *system, wl *workload, n Naming, limit time.Duration, logf func(string, ...any)) {
	deadline := time.Now().Add(limit)
	for {
		got, errMsg := countStored(ctx, hc, s, wl, n)
		if errMsg == "" && got == wl.queriedSamples {
			return
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			logf("%s: %d of %d samples visible after %v (%s); querying anyway", s.name, got, wl.queriedSamples, limit, errMsg)
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func countStored(ctx context.Context, hc *http.Client, s *system, wl *workload, n Naming) (int64, string) {
	switch s.kind {
	case PeerInfluxDB:
		stmts := make([]string, 0, len(wl.queried()))
		for _, m := range wl.queried() {
			stmts = append(stmts, `SELECT count(*) FROM "`+m+`"`)
		}
		sum, err := influxSum(ctx, hc, s.url, strings.Join(stmts, "; "))
		if err != nil {
			return 0, err.Error()
		}
		return int64(sum), ""
	case "tidal":
		var total int64
		for _, sql := range countSQL(wl, n) {
			t := Table{}
			if _, err := timestreamQueryTable(ctx, hc, s.url, sql, t, nil); err != nil {
				return 0, err.Error()
			}
			if len(t) != 1 || len(t["0"]) != 1 {
				return 0, fmt.Sprintf("odd count answer to %s: %v", sql, t)
			}
			total += int64(t["0"][0])
		}
		return total, ""
	}
	span := wl.end.Sub(wl.start)
	last := wl.start.Add((span - 1) / wl.interval * wl.interval)
	// One term per metric: count_over_time drops the metric name, so a
	// single regex selector would collide.
	var terms []string
	for _, m := range wl.queried() {
		for _, f := range wl.fields[m] {
			terms = append(terms, fmt.Sprintf("sum(count_over_time(%s[%dms]))", n.name(m, f), span/time.Millisecond))
		}
	}
	r := PromRange{Expr: strings.Join(terms, " + "), Start: last, End: last, Step: wl.interval}
	a, err := promQueryRange(ctx, hc, s.url, r, n)
	if err != nil {
		return 0, err.Error()
	}
	if len(a) != 1 || len(a[0].Points) != 1 {
		return 0, fmt.Sprintf("odd count answer: %d series", len(a))
	}
	return int64(a[0].Points[0].V), ""
}

// countSQL is the SQL that counts the samples of the queried measurements
// in TidalDB, one statement per table.
func countSQL(wl *workload, n Naming) []string {
	tr := fmt.Sprintf("time >= %s AND time < %s", sqlTime(wl.start), sqlTime(wl.end))
	if n.Multi { // one statement per measure column: count skips NULLs
		var out []string
		for _, m := range wl.queried() {
			for _, f := range wl.fields[m] {
				out = append(out, fmt.Sprintf("SELECT count(%q) AS samples FROM %s WHERE %s", f, n.from(m), tr))
			}
		}
		return out
	}
	if n.Table == "" {
		out := make([]string, 0, len(wl.queried()))
		for _, m := range wl.queried() {
			out = append(out, fmt.Sprintf("SELECT count(*) AS samples FROM %s WHERE %s", n.from(m), tr))
		}
		return out
	}
	var names []string
	for _, m := range wl.queried() {
		for _, f := range wl.fields[m] {
			names = append(names, "'"+n.name(m, f)+"'")
		}
	}
	return []string{fmt.Sprintf("SELECT count(*) AS samples FROM %s WHERE measure_name IN (%s) AND %s", n.from(""), strings.Join(names, ", "), tr)}
}

// timeQuery runs one query Warmup+Runs times and records the timed runs;
// the first error ends it.
func timeQuery(p Preset, name, lang, text string, prog *progress, run func() (int, Answer, error)) QueryResult {
	qr := QueryResult{Name: name, Lang: lang, Text: text}
	for i := range p.Warmup + p.Runs {
		t0 := time.Now()
		rows, ans, err := run()
		el := time.Since(t0)
		prog.Add(1)
		if err != nil {
			qr.Err = err.Error()
			qr.Runs = nil
			prog.Add(int64(p.Warmup + p.Runs - i - 1))
			return qr
		}
		qr.Rows, qr.answer = rows, ans
		if i >= p.Warmup {
			qr.Runs = append(qr.Runs, el)
		}
	}
	return qr
}

// compare checks every peer's PromQL answers against TidalDB's, and every
// system's stored sample count against what was sent.
func (r *Report) compare() {
	for _, s := range r.Systems {
		if s.IngestErr == "" && s.StoredErr == "" && s.Stored != r.QueriedSamples {
			r.Missing++
		}
	}
	if len(r.Systems) == 0 {
		return
	}
	// TidalDB's answer in the language each peer language is compared to.
	refLang := map[string]string{LangPromQL: LangPromQL, LangInfluxQL: LangSQL}
	ref := map[[2]string]*QueryResult{}
	for i := range r.Systems[0].Queries {
		q := &r.Systems[0].Queries[i]
		ref[[2]string{q.Name, q.Lang}] = q
	}
	for si := 1; si < len(r.Systems); si++ {
		for qi := range r.Systems[si].Queries {
			q := &r.Systems[si].Queries[qi]
			want := ref[[2]string{q.Name, refLang[q.Lang]}]
			if want == nil || q.Agreement != "" {
				continue
			}
			diff := ""
			switch {
			case want.Err != "":
				q.Agreement = "not compared: TidalDB " + want.Lang + " failed"
				continue
			case q.Err != "":
				q.Agreement = "not compared (error)"
				continue
			case q.Lang == LangPromQL:
				diff = compareAnswers(want.answer, q.answer)
			case want.table != nil && q.table != nil:
				diff = compareTables(want.table, q.table)
			default:
				continue // not a query type whose rows compare across languages
			}
			if diff != "" {
				q.Agreement = "DISAGREE: " + diff
				r.Disagreements++
			} else {
				q.Agreement = "agree"
			}
		}
	}
}

// Percentiles of a set of durations.
type latency struct{ Min, Median, P95, Max time.Duration }

func latencyOf(runs []time.Duration) latency {
	if len(runs) == 0 {
		return latency{}
	}
	s := slices.Clone(runs)
	slices.Sort(s)
	idx := func(p float64) time.Duration { return s[min(len(s)-1, int(p*float64(len(s)-1)+0.5))] }
	return latency{Min: s[0], Median: idx(0.5), P95: idx(0.95), Max: s[len(s)-1]}
}
