package bench

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tidaldb/tidal/bench/tsbs"
)

func TestBuildIoTQueriesDeterministicAndInRange(t *testing.T) {
	tests := []struct {
		span              time.Duration
		longWin, dailyWin int // 10-minute windows of the two session queries
		longThr, dailyThr int
	}{
		{10 * time.Minute, 1, 1, 0, 0},
		{3 * time.Hour, 18, 18, 16, 7},
		{6 * time.Hour, 24, 36, 22, 15},
		{48 * time.Hour, 24, 144, 22, 60},
	}
	fleets := []string{"East", "South"}
	for _, tc := range tests {
		end := testStart.Add(tc.span)
		a := buildIoTQueries(testStart, end, fleets, 7)
		if b := buildIoTQueries(testStart, end, fleets, 7); !reflect.DeepEqual(a, b) {
			t.Fatalf("span %v: same seed, different queries", tc.span)
		}
		if len(a) != 12 {
			t.Fatalf("span %v: %d queries, want 12", tc.span, len(a))
		}
		names := map[string]bool{}
		for _, q := range a {
			names[q.Name] = true
			if !q.iot() {
				t.Errorf("%s is not an IoT query", q.Name)
			}
			if q.Start.Before(testStart) || q.End.After(end) || !q.End.After(q.Start) || q.End.Sub(q.Start)%iotWindow != 0 || q.Start.Sub(testStart)%iotWindow != 0 {
				t.Errorf("span %v: %s window [%v, %v) not whole windows inside the data", tc.span, q.Name, q.Start, q.End)
			}
			wantFleet := q.kind <= kindLongDaily
			if (q.fleet != "") != wantFleet || (q.fleet != "" && !slices.Contains(fleets, q.fleet)) {
				t.Errorf("%s: fleet %q", q.Name, q.fleet)
			}
			switch q.kind {
			case kindLongSessions:
				if q.windows() != tc.longWin || q.sessionThreshold() != tc.longThr {
					t.Errorf("span %v: long-driving-sessions %d windows, threshold %d; want %d, %d", tc.span, q.windows(), q.sessionThreshold(), tc.longWin, tc.longThr)
				}
			case kindLongDaily:
				if q.windows() != tc.dailyWin || q.sessionThreshold() != tc.dailyThr {
					t.Errorf("span %v: long-daily-sessions %d windows, threshold %d; want %d, %d", tc.span, q.windows(), q.sessionThreshold(), tc.dailyWin, tc.dailyThr)
				}
			}
		}
		if len(names) != 12 {
			t.Errorf("duplicate query names: %v", names)
		}
	}
	// With no fleets known, the fleet comes from TSBS's four.
	for _, q := range buildIoTQueries(testStart, testStart.Add(time.Hour), nil, 1) {
		if q.fleet != "" && !slices.Contains(tsbs.Fleets(), q.fleet) {
			t.Errorf("%s: fleet %q", q.Name, q.fleet)
		}
	}
}

func TestIoTQueryTexts(t *testing.T) {
	qs := buildIoTQueries(testStart, testStart.Add(time.Hour), []string{"East"}, 1)
	byName := map[string]*Query{}
	for i := range qs {
		byName[qs[i].Name] = &qs[i]
	}
	st := byName["stationary-trucks"]
	wantSQL := "SELECT name, driver, avg(measure_value::double) AS mean_velocity\nFROM \"benchmark\".\"readings\"\n" +
		"WHERE measure_name = 'velocity' AND fleet = 'East' AND time >= '2024-01-01 00:50:00 +0000' AND time < '2024-01-01 01:00:00 +0000'\n" +
		"GROUP BY name, driver\nHAVING avg(measure_value::double) < 1\nORDER BY name"
	if got := st.SQL(NamingTimestream); got != wantSQL {
		t.Errorf("stationary-trucks SQL:\n%s\nwant\n%s", got, wantSQL)
	}
	if got := st.SQL(NamingPrometheus); !strings.Contains(got, `FROM "prometheus"."metrics"`) || !strings.Contains(got, "measure_name = 'readings_velocity'") {
		t.Errorf("stationary-trucks SQL, Prometheus layout:\n%s", got)
	}
	want := PromRange{Expr: `avg_over_time(readings_velocity{fleet="East"}[599999ms]) < 1`, Start: testStart.Add(time.Hour), End: testStart.Add(time.Hour), Step: iotWindow}
	if got := st.PromQL(NamingPrometheus); got != want {
		t.Errorf("stationary-trucks PromQL = %+v, want %+v", got, want)
	}
	if got, want := st.InfluxQL(), `SELECT "mean_velocity" FROM (SELECT mean("velocity") AS "mean_velocity" FROM "readings" WHERE "fleet" = 'East' AND time >= '2024-01-01T00:50:00Z' AND time < '2024-01-01T01:00:00Z' GROUP BY "name", "driver") WHERE "mean_velocity" < 1 GROUP BY "name", "driver"`; got != want {
		t.Errorf("stationary-trucks InfluxQL:\n%s\nwant\n%s", got, want)
	}
	hl := byName["high-load"].PromQL(NamingPrometheus).Expr
	for _, c := range []string{`load_capacity="2000"}[3599999ms]) >= 1800`, `load_capacity="5000"}[3599999ms]) >= 4500`, `load_capacity="1500"}[3599999ms]) >= 1350`} {
		if !strings.Contains(hl, c) {
			t.Errorf("high-load PromQL lacks %q: %s", c, hl)
		}
	}
	if got := byName["avg-load"].SQL(NamingTimestream); !strings.Contains(got, `FROM "benchmark"."diagnostics"`) || !strings.Contains(got, "measure_name = 'load'") {
		t.Errorf("avg-load SQL reads the wrong table:\n%s", got)
	}
	// What a language cannot say is left out, not approximated.
	for _, name := range []string{"avg-vs-projected-fuel-consumption", "avg-daily-driving-session", "breakdown-frequency"} {
		if e := byName[name].PromQL(NamingPrometheus).Expr; e != "" {
			t.Errorf("%s has PromQL %q", name, e)
		}
	}
	for _, name := range []string{"avg-daily-driving-session", "breakdown-frequency"} {
		if q := byName[name]; q.InfluxQL() != "" || q.tabular() {
			t.Errorf("%s has InfluxQL %q (tabular %v)", name, q.InfluxQL(), q.tabular())
		}
	}
	for _, q := range qs {
		if q.SQL(NamingTimestream) == "" || q.SQL(NamingPrometheus) == "" {
			t.Errorf("%s has no SQL", q.Name)
		}
		if iq := q.InfluxQL(); iq != "" && (strings.Contains(iq, " name") || strings.Contains(iq, "FROM readings")) {
			t.Errorf("%s: InfluxQL with an unquoted keyword: %s", q.Name, iq)
		}
		if sp := q.spec(); (sp != nil) != q.tabular() || (sp != nil && len(sp.Vals) == 0) {
			t.Errorf("%s: spec %+v, tabular %v", q.Name, sp, q.tabular())
		}
	}
}
