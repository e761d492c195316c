package bench

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Files Write creates in the output directory.
const (
	ReportFile  = "report.md"
	chartIngest = "ingest.svg"
	chartBytes  = "bytes_per_sample.svg"
	chartRSS    = "rss.svg"
	chartQuery  = "query_latency.svg"
)

// Write writes report.md and the SVG charts into dir (created if needed).
func (r *Report) Write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create report dir: %w", err)
	}
	files := map[string]string{
		ReportFile:  r.Markdown(),
		chartIngest: r.chart("Ingest rate", "samples/s", func(s *SystemResult) float64 { return s.Ingest.Rate() }).SVG(),
		chartBytes:  r.chart("Disk bytes per sample", "bytes", func(s *SystemResult) float64 { return s.BytesPerSample() }).SVG(),
		chartRSS:    r.chart("Peak RSS", "MiB", func(s *SystemResult) float64 { return float64(s.PeakRSS) / (1 << 20) }).SVG(),
		chartQuery:  r.queryChart().SVG(),
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	return nil
}

// chart makes a one-series bar chart with one bar per system; zero values
// are shown as n/a.
func (r *Report) chart(title, unit string, f func(*SystemResult) float64) *barChart {
	c := &barChart{Title: title, Unit: unit, Series: []string{title}}
	for i := range r.Systems {
		v := f(&r.Systems[i])
		if v == 0 {
			v = math.NaN()
		}
		c.Groups = append(c.Groups, barGroup{Label: r.Systems[i].Name, Values: []float64{v}})
	}
	return c
}

// queryChart is the median latency of every query, one bar per system and
// language.
func (r *Report) queryChart() *barChart {
	c := &barChart{Title: "Query latency, median", Unit: "ms"}
	type col struct{ sys, lang string }
	var cols []col
	for _, s := range r.Systems {
		seen := map[string]bool{}
		for _, q := range s.Queries {
			if !seen[q.Lang] {
				seen[q.Lang] = true
				cols = append(cols, col{s.Name, q.Lang})
				c.Series = append(c.Series, s.Name+" "+q.Lang)
			}
		}
	}
	for _, name := range r.queryNames() {
		g := barGroup{Label: name}
		for _, cl := range cols {
			v := math.NaN()
			if q := r.find(cl.sys, name, cl.lang); q != nil && len(q.Runs) > 0 {
				v = float64(latencyOf(q.Runs).Median) / float64(time.Millisecond)
			}
			g.Values = append(g.Values, v)
		}
		c.Groups = append(c.Groups, g)
	}
	return dropEmptySeries(c)
}

// dropEmptySeries removes the series that have no value in any group (a
// language whose every query failed).
func dropEmptySeries(c *barChart) *barChart {
	keep := make([]bool, len(c.Series))
	for _, g := range c.Groups {
		for i, v := range g.Values {
			if !math.IsNaN(v) {
				keep[i] = true
			}
		}
	}
	out := &barChart{Title: c.Title, Unit: c.Unit}
	for i, s := range c.Series {
		if keep[i] {
			out.Series = append(out.Series, s)
		}
	}
	for _, g := range c.Groups {
		ng := barGroup{Label: g.Label}
		for i, v := range g.Values {
			if keep[i] {
				ng.Values = append(ng.Values, v)
			}
		}
		out.Groups = append(out.Groups, ng)
	}
	return out
}

func (r *Report) queryNames() []string {
	if len(r.Systems) == 0 {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	for _, q := range r.Systems[0].Queries {
		if !seen[q.Name] {
			seen[q.Name] = true
			out = append(out, q.Name)
		}
	}
	return out
}

func (r *Report) find(sys, query, lang string) *QueryResult {
	for si := range r.Systems {
		if r.Systems[si].Name != sys {
			continue
		}
		for qi := range r.Systems[si].Queries {
			q := &r.Systems[si].Queries[qi]
			if q.Name == query && q.Lang == lang {
				return q
			}
		}
	}
	return nil
}

// unsaid lists the queries TidalDB ran in SQL that have no PromQL or
// InfluxQL form in this run (PromQL cannot use a tag as a number or number
// runs of windows; InfluxQL cannot number runs either), so that a missing
// row reads as a limit of the language, not a failure.
func (r *Report) unsaid() string {
	if len(r.Systems) == 0 || r.Systems[0].Kind != "tidal" {
		return ""
	}
	has := map[[2]string]bool{}
	for _, s := range r.Systems {
		for _, q := range s.Queries {
			has[[2]string{q.Name, q.Lang}] = true
		}
	}
	anyProm, anyInflux := false, false
	for k := range has {
		anyProm = anyProm || k[1] == LangPromQL
		anyInflux = anyInflux || k[1] == LangInfluxQL
	}
	var noProm, noInflux []string
	for _, name := range r.queryNames() {
		if !has[[2]string{name, LangSQL}] {
			continue
		}
		if anyProm && !has[[2]string{name, LangPromQL}] {
			noProm = append(noProm, name)
		}
		if anyInflux && !has[[2]string{name, LangInfluxQL}] {
			noInflux = append(noInflux, name)
		}
	}
	var parts []string
	if len(noProm) > 0 {
		parts = append(parts, "Not expressible in PromQL, so SQL only: "+strings.Join(noProm, ", ")+".")
	}
	if len(noInflux) > 0 {
		parts = append(parts, "Not expressible in InfluxQL: "+strings.Join(noInflux, ", ")+".")
	}
	return strings.Join(parts, " ")
}

// Markdown renders the report.
func (r *Report) Markdown() string {
	var b strings.Builder
	o := r.Options
	p := o.Preset
	fmt.Fprintf(&b, "# TidalDB benchmark: preset %s\n\n", p.Name)
	fmt.Fprintf(&b, "Workload: %s (%s samples), data from %s to %s. "+
		"TidalDB ingest path `%s`, %d clients, batch %d samples. Each query: %d warm-up + %d timed runs.\n\n",
		r.Workload, humanCount(float64(r.Samples)), r.Start.Format(time.RFC3339), r.End.Format(time.RFC3339),
		o.Driver, o.Clients, o.Batch, p.Warmup, p.Runs)
	b.WriteString("Durability differs: TidalDB acknowledges a write once its WAL is fsynced (wal.sync=batch) unless its row names another wal.sync; " +
		"InfluxDB 1.x also fsyncs its WAL first; Prometheus acknowledges once the sample is in its WAL file, not fsynced; " +
		"VictoriaMetrics acknowledges from memory and writes to disk seconds later.\n\n")
	m := r.Machine
	b.WriteString("## Machine\n\n| CPU | Cores | Memory | Kernel | Go |\n|---|---|---|---|---|\n")
	fmt.Fprintf(&b, "| %s | %d | %.1f GiB | %s | %s %s/%s |\n\n", orNA(m.CPU), m.Cores, float64(m.MemBytes)/(1<<30), orNA(m.Kernel), m.GoVersion, m.OS, m.Arch)
	b.WriteString("Loader and servers share the machine; systems run one after the other, never together.\n\n")

	if r.Disagreements > 0 {
		fmt.Fprintf(&b, "## DISAGREE\n\n**DISAGREE: %d peer answer(s) differ from TidalDB's on the same data.** "+
			"Latency comparisons of those queries are meaningless until this is fixed; see the query table.\n\n", r.Disagreements)
	}

	if r.Missing > 0 {
		fmt.Fprintf(&b, "## MISSING DATA\n\n**%d system(s) hold a different number of samples than were sent: their figures are not comparable.** See the Stored column.\n\n", r.Missing)
	}

	var tidal *SystemResult
	if len(r.Systems) > 0 && r.Systems[0].Kind == "tidal" {
		tidal = &r.Systems[0]
	}
	ratio := func(t, v float64) string {
		if t == 0 || v == 0 || tidal == nil {
			return "-"
		}
		return fmt.Sprintf("%.2f", t/v)
	}

	b.WriteString("## Ingest\n\nStored: the samples of the queried measurements the system reports holding afterwards (TidalDB: SQL count, VictoriaMetrics and Prometheus: PromQL count_over_time, InfluxDB: InfluxQL count). " +
		"Server CPU: user + system CPU time of the server process per sample while it ingested (the loader's is not counted); " +
		"it holds up on a busy machine where the rate does not.\n\n" +
		"| System | Path | Samples | Stored | Time | Samples/s | TidalDB/peer | Server CPU ns/sample | TidalDB/peer, samples per CPU-s |\n|---|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for i := range r.Systems {
		s := &r.Systems[i]
		rate := "error: " + oneLine(s.IngestErr)
		if s.IngestErr == "" {
			rate = humanCount(s.Ingest.Rate())
		}
		stored := strconv.FormatInt(s.Stored, 10)
		switch {
		case s.StoredErr != "":
			stored = "unknown: " + oneLine(s.StoredErr)
		case s.Stored != r.QueriedSamples:
			stored = fmt.Sprintf("**MISSING %d: %d**", r.QueriedSamples-s.Stored, s.Stored)
		}
		cpu := "-"
		if c := s.CPUPerSample(); c > 0 {
			cpu = strconv.FormatInt(int64(c), 10)
		}
		fmt.Fprintf(&b, "| %s | %s | %d | %s | %v | %s | %s | %s | %s |\n", s.Name, s.Driver, s.Ingest.Samples, stored, s.Ingest.Elapsed.Round(time.Millisecond), rate,
			peerRatio(i, ratio, tidal, s, func(x *SystemResult) float64 { return x.Ingest.Rate() }), cpu,
			peerRatio(i, ratio, tidal, s, samplesPerCPU))
	}
	fmt.Fprintf(&b, "\n![ingest](%s)\n\n", chartIngest)
	for i := range r.Systems {
		if st := r.Systems[i].Stream; st != nil {
			fmt.Fprintf(&b, "%s (%s): the rate counts from the first produce until the pipeline stored the last record. "+
				"Produce → queryable latency at a steady %d records/s on a one-partition stream: p50 %v, p99 %v (%d records).\n\n",
				r.Systems[i].Name, r.Systems[i].Driver, st.LatencyRate, st.P50.Round(time.Millisecond), st.P99.Round(time.Millisecond), st.Records)
		}
	}

	b.WriteString("## Disk\n\nBytes: blocks allocated on disk, as du counts them (sparse preallocated files count only what is written; " +
		"4 KiB blocks dominate tiny presets). Apparent: the sum of the file lengths.\n\n" +
		"| System | Bytes | Apparent bytes | Bytes/sample | TidalDB/peer | Measured |\n|---|---:|---:|---:|---:|---|\n")
	for i := range r.Systems {
		s := &r.Systems[i]
		fmt.Fprintf(&b, "| %s | %d | %d | %.3f | %s | %s |\n", s.Name, s.DiskBytes, s.DiskApparentBytes, s.BytesPerSample(),
			peerRatio(i, ratio, tidal, s, (*SystemResult).BytesPerSample), oneLine(s.DiskNote))
	}
	fmt.Fprintf(&b, "\n![bytes per sample](%s)\n\n", chartBytes)

	b.WriteString("## Memory\n\n| System | Peak RSS (VmHWM) | TidalDB/peer |\n|---|---:|---:|\n")
	for i := range r.Systems {
		s := &r.Systems[i]
		fmt.Fprintf(&b, "| %s | %.1f MiB | %s |\n", s.Name, float64(s.PeakRSS)/(1<<20), peerRatio(i, ratio, tidal, s, func(x *SystemResult) float64 { return float64(x.PeakRSS) }))
	}
	fmt.Fprintf(&b, "\n![peak rss](%s)\n\n", chartRSS)

	b.WriteString("## Queries\n\nLatency in ms over the timed runs. Rows: result rows (SQL, InfluxQL) or points (PromQL). " +
		"Agreement: a peer's PromQL answer compared with TidalDB's PromQL answer (same series, same points, values within 1e-9 relative); " +
		"an InfluxQL answer compared with TidalDB's Timestream SQL answer (same rows by time bucket and host, same aggregates) for the " +
		"single-groupby, cpu-max-all, double-groupby and groupby-orderby-limit types, and by named key and value columns for the IoT types " +
		"that InfluxQL can say.\n\n")
	if missing := r.unsaid(); missing != "" {
		b.WriteString(missing + "\n\n")
	}
	b.WriteString("| Query | System | Language | Min | Median | p95 | Max | Rows | Agreement / error |\n|---|---|---|---:|---:|---:|---:|---:|---|\n")
	for _, name := range r.queryNames() {
		for si := range r.Systems {
			for _, q := range r.Systems[si].Queries {
				if q.Name != name {
					continue
				}
				if q.Err != "" {
					fmt.Fprintf(&b, "| %s | %s | %s | - | - | - | - | - | error: %s |\n", name, r.Systems[si].Name, q.Lang, oneLine(q.Err))
					continue
				}
				l := latencyOf(q.Runs)
				agree := q.Agreement
				if strings.HasPrefix(agree, "DISAGREE") {
					agree = "**" + oneLine(agree) + "**"
				}
				fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %d | %s |\n", name, r.Systems[si].Name, q.Lang, ms(l.Min), ms(l.Median), ms(l.P95), ms(l.Max), q.Rows, agree)
			}
		}
	}
	fmt.Fprintf(&b, "\n![query latency](%s)\n\n", chartQuery)

	if tidal != nil && len(r.Systems) > 1 {
		b.WriteString("### Median latency ratio, TidalDB / peer\n\nPromQL peers against TidalDB's PromQL; InfluxDB's InfluxQL against TidalDB's Timestream SQL (PromQL while SQL fails).\n\n| Query |")
		for _, s := range r.Systems[1:] {
			fmt.Fprintf(&b, " %s |", s.Name)
		}
		b.WriteString("\n|---|" + strings.Repeat("---:|", len(r.Systems)-1) + "\n")
		for _, name := range r.queryNames() {
			fmt.Fprintf(&b, "| %s |", name)
			for _, s := range r.Systems[1:] {
				tq := r.find(tidal.Name, name, LangPromQL)
				var pq *QueryResult
				for _, lang := range []string{LangPromQL, LangInfluxQL} {
					if pq = r.find(s.Name, name, lang); pq != nil {
						break
					}
				}
				if sq := r.find(tidal.Name, name, LangSQL); pq != nil && pq.Lang == LangInfluxQL && sq != nil && len(sq.Runs) > 0 {
					tq = sq
				}
				cell := "-"
				if tq != nil && pq != nil && len(tq.Runs) > 0 && len(pq.Runs) > 0 {
					cell = fmt.Sprintf("%.2f", float64(latencyOf(tq.Runs).Median)/float64(latencyOf(pq.Runs).Median))
					if pq.Lang == LangInfluxQL {
						cell += " (" + tq.Lang + " vs influxql)"
					}
				}
				fmt.Fprintf(&b, " %s |", cell)
			}
			b.WriteString("\n")
		}
		b.WriteString("\nBelow 1 means TidalDB is faster.\n\n")
	}

	b.WriteString("## Query texts\n\n")
	for si := range r.Systems {
		for _, q := range r.Systems[si].Queries {
			if si > 0 && q.Lang != LangInfluxQL {
				continue // peers' PromQL differs from TidalDB's by the metric prefix only
			}
			fmt.Fprintf(&b, "<details><summary>%s (%s, %s)</summary>\n\n```\n%s\n```\n</details>\n\n", q.Name, r.Systems[si].Name, q.Lang, q.Text)
		}
	}
	return b.String()
}

func peerRatio(i int, ratio func(t, v float64) string, tidal, s *SystemResult, f func(*SystemResult) float64) string {
	if i == 0 || tidal == nil {
		return "-"
	}
	return ratio(f(tidal), f(s))
}

// samplesPerCPU is samples ingested per second of server CPU (0 when
// unknown), so that its TidalDB/peer ratio reads like the rate's: above 1,
// TidalDB does better.
func samplesPerCPU(x *SystemResult) float64 {
	if c := x.CPUPerSample(); c > 0 {
		return float64(time.Second) / float64(c)
	}
	return 0
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d)/float64(time.Millisecond)) }

func orNA(s string) string {
	if s == "" {
		return "n/a"
	}
	return s
}

// oneLine makes s safe for one markdown table cell.
func oneLine(s string) string {
	s = strings.NewReplacer("\n", " ", "\r", " ", "|", "\\|").Replace(s)
	if len(s) > 240 {
		s = s[:240] + "..."
	}
	return s
}
