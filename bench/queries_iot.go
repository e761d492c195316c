package bench

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/tidaldb/tidal/bench/tsbs"
)

// TSBS IoT query kinds (after the devops ones).
const (
	kindLastLoc            queryKind = iota + 32 // last location of each truck of a fleet
	kindLowFuel                                  // trucks of a fleet whose last fuel_state <= 0.1
	kindHighLoad                                 // trucks of a fleet whose last load >= 90% of capacity
	kindStationary                               // trucks of a fleet that averaged < 1 km/h over 10 min
	kindLongSessions                             // trucks of a fleet driving in > 22/24 of the 10-min windows of 4 h
	kindLongDaily                                // trucks of a fleet driving > 10 h of the last 24 h
	kindAvgVsProjectedFuel                       // mean fuel consumption of moving trucks vs nominal, by fleet
	kindAvgDailyDriving                          // hours driven per truck and day
	kindAvgDailySession                          // mean driving session length per truck and day
	kindAvgLoad                                  // mean load per fleet and model
	kindDailyActivity                            // active hours per fleet, model and day
	kindBreakdownFrequency                       // breakdowns per model
)

// iotWindow is the 10-minute window in which the IoT queries measure
// driving (mean velocity > 1) and activity (mean status < 1).
const iotWindow = 10 * time.Minute

// Thresholds of the IoT queries, as TSBS describes them.
const (
	lowFuelLevel  = 0.1 // fuel_state at or under which a truck is low on fuel
	highLoadShare = 0.9 // share of load_capacity at or over which a truck is highly loaded
	movingSpeed   = 1.0 // mean velocity over a window above which a truck is driving
	brokenStatus  = 3.0 // mean status over a window at or above which a truck is broken down
	// activeStatus is the mean status under which a truck is active: "below
	// 1", written so that every engine agrees at exactly 1. Status is an
	// integer, so a window's mean is k/n, and for n <= 1000 samples per
	// window k/n < 1 exactly when k/n < 0.999; Prometheus 2.x's running
	// mean in avg_over_time can land a hair under 1 for a mean of exactly 1.
	activeStatus = 0.999
)

// buildIoTQueries instantiates the TSBS IoT query set for truck data in
// [start, end) with parameters drawn from seed: the fleet asked about is
// one of fleets, those the data has (TSBS's four when empty). Windows end
// at the last 10-minute boundary of the data and are shortened to the
// data they would overrun.
func buildIoTQueries(start, end time.Time, fleets []string, seed int64) []Query {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x696f_7471_7565_7279)) //nolint:gosec // benchmark parameters, not secrets
	if len(fleets) == 0 {
		fleets = tsbs.Fleets()
	}
	fleet := func() string { return fleets[rng.IntN(len(fleets))] }
	e := end.Truncate(iotWindow)
	first := start.Truncate(iotWindow)
	if first.Before(start) {
		first = first.Add(iotWindow)
	}
	if !e.After(first) { // less than one whole window of data
		first, e = start.Truncate(iotWindow), start.Truncate(iotWindow).Add(iotWindow)
	}
	window := func(nominal time.Duration) time.Time {
		if s := e.Add(-nominal); s.After(first) {
			return s
		}
		return first
	}
	q := func(name string, k queryKind, nominal time.Duration, withFleet bool) Query {
		out := Query{Name: name, kind: k, Start: window(nominal), End: e, Bucket: iotWindow}
		if withFleet {
			out.fleet = fleet()
		}
		return out
	}
	return []Query{
		q("last-loc", kindLastLoc, time.Hour, true),
		q("low-fuel", kindLowFuel, time.Hour, true),
		q("high-load", kindHighLoad, time.Hour, true),
		q("stationary-trucks", kindStationary, iotWindow, true),
		q("long-driving-sessions", kindLongSessions, 4*time.Hour, true),
		q("long-daily-sessions", kindLongDaily, 24*time.Hour, true),
		q("avg-vs-projected-fuel-consumption", kindAvgVsProjectedFuel, 24*time.Hour, false),
		q("avg-daily-driving-duration", kindAvgDailyDriving, 24*time.Hour, false),
		q("avg-daily-driving-session", kindAvgDailySession, 24*time.Hour, false),
		q("avg-load", kindAvgLoad, 24*time.Hour, false),
		q("daily-activity", kindDailyActivity, 24*time.Hour, false),
		q("breakdown-frequency", kindBreakdownFrequency, 24*time.Hour, false),
	}
}

// windows is the number of 10-minute windows in q's time range.
func (q *Query) windows() int { return int(q.End.Sub(q.Start) / iotWindow) }

// sessionThreshold is the number of driving windows a truck must exceed to
// count for the long-session queries: 22 of 24 windows (4 h) and 60 of 144
// (10 h of 24), scaled to the windows the data has.
func (q *Query) sessionThreshold() int {
	if q.kind == kindLongDaily {
		return q.windows() * 60 / 144
	}
	return q.windows() * 22 / 24
}

// iotSpec is how q's SQL and InfluxQL answers are compared (nil: they are
// not; the query has no InfluxQL form).
func (q *Query) iotSpec() *tableSpec {
	switch q.kind {
	case kindLastLoc:
		return &tableSpec{Time: true, Keys: []string{"name", "driver"}, Vals: []string{"latitude", "longitude"}}
	case kindLowFuel:
		return &tableSpec{Time: true, Keys: []string{"name", "driver"}, Vals: []string{"fuel_state"}}
	case kindHighLoad:
		return &tableSpec{Time: true, Keys: []string{"name", "driver", "load_capacity"}, Vals: []string{"current_load"}}
	case kindStationary:
		return &tableSpec{Keys: []string{"name", "driver"}, Vals: []string{"mean_velocity"}}
	case kindLongSessions, kindLongDaily:
		return &tableSpec{Keys: []string{"name", "driver"}, Vals: []string{"driving_windows"}}
	case kindAvgVsProjectedFuel:
		return &tableSpec{Keys: []string{"fleet"}, Vals: []string{"mean_fuel_consumption"}}
	case kindAvgDailyDriving:
		return &tableSpec{Time: true, Keys: []string{"fleet", "name", "driver"}, Vals: []string{"hours_driven"}}
	case kindAvgLoad:
		return &tableSpec{Keys: []string{"fleet", "model"}, Vals: []string{"mean_load"}}
	case kindDailyActivity:
		return &tableSpec{Time: true, Keys: []string{"fleet", "model"}, Vals: []string{"active_hours"}}
	}
	return nil
}

// iotSQL renders q in Timestream SQL for the layout n.
func (q *Query) iotSQL(n Naming) string {
	rd, dg := n.from("readings"), n.from("diagnostics")
	rm := func(f string) string { return "'" + n.name("readings", f) + "'" }
	dm := func(f string) string { return "'" + n.name("diagnostics", f) + "'" }
	tr := func(alias string) string {
		return fmt.Sprintf("%stime >= %s AND %stime < %s", alias, sqlTime(q.Start), alias, sqlTime(q.End))
	}
	win := fmt.Sprintf("%ds", int(iotWindow/time.Second))
	// latest is the CTE of each truck's last time of one measure.
	latest := func(table, measure string) string {
		return fmt.Sprintf("WITH latest AS (\n\tSELECT name, max(time) AS latest_time\n\tFROM %s\n\tWHERE measure_name = %s AND fleet = '%s' AND %s\n\tGROUP BY name\n)\n",
			table, measure, q.fleet, tr(""))
	}
	switch q.kind {
	case kindLastLoc:
		return latest(rd, rm("latitude")) + fmt.Sprintf("SELECT r.name, r.driver, r.time,\n\tmax(CASE WHEN r.measure_name = %s THEN r.measure_value::double END) AS latitude,\n\tmax(CASE WHEN r.measure_name = %s THEN r.measure_value::double END) AS longitude\nFROM %s r JOIN latest l ON r.name = l.name AND r.time = l.latest_time\nWHERE r.measure_name IN (%s, %s) AND r.fleet = '%s' AND %s\nGROUP BY r.name, r.driver, r.time\nORDER BY r.name",
			rm("latitude"), rm("longitude"), rd, rm("latitude"), rm("longitude"), q.fleet, tr("r."))
	case kindLowFuel:
		return latest(dg, dm("fuel_state")) + fmt.Sprintf("SELECT d.name, d.driver, d.time, d.measure_value::double AS fuel_state\nFROM %s d JOIN latest l ON d.name = l.name AND d.time = l.latest_time\nWHERE d.measure_name = %s AND d.fleet = '%s' AND %s AND d.measure_value::double <= %g\nORDER BY d.name",
			dg, dm("fuel_state"), q.fleet, tr("d."), lowFuelLevel)
	case kindHighLoad:
		return latest(dg, dm("load")) + fmt.Sprintf("SELECT d.name, d.driver, d.load_capacity, d.time, d.measure_value::double AS current_load\nFROM %s d JOIN latest l ON d.name = l.name AND d.time = l.latest_time\nWHERE d.measure_name = %s AND d.fleet = '%s' AND %s AND d.measure_value::double >= %g * CAST(d.load_capacity AS double)\nORDER BY d.name",
			dg, dm("load"), q.fleet, tr("d."), highLoadShare)
	case kindStationary:
		return fmt.Sprintf("SELECT name, driver, avg(measure_value::double) AS mean_velocity\nFROM %s\nWHERE measure_name = %s AND fleet = '%s' AND %s\nGROUP BY name, driver\nHAVING avg(measure_value::double) < %g\nORDER BY name",
			rd, rm("velocity"), q.fleet, tr(""), movingSpeed)
	case kindLongSessions, kindLongDaily:
		return fmt.Sprintf("SELECT name, driver, count(*) AS driving_windows\nFROM (\n\tSELECT name, driver, bin(time, %s) AS window_start, avg(measure_value::double) AS mean_velocity\n\tFROM %s\n\tWHERE measure_name = %s AND fleet = '%s' AND %s\n\tGROUP BY name, driver, bin(time, %s)\n) w\nWHERE mean_velocity > %g\nGROUP BY name, driver\nHAVING count(*) > %d\nORDER BY name",
			win, rd, rm("velocity"), q.fleet, tr(""), win, movingSpeed, q.sessionThreshold())
	case kindAvgVsProjectedFuel:
		return fmt.Sprintf("SELECT f.fleet, avg(f.measure_value::double) AS mean_fuel_consumption,\n\tavg(CAST(f.nominal_fuel_consumption AS double)) AS nominal_fuel_consumption\nFROM %s f JOIN %s v ON f.name = v.name AND f.time = v.time\nWHERE f.measure_name = %s AND v.measure_name = %s AND v.measure_value::double > %g\n\tAND %s AND %s\nGROUP BY f.fleet\nORDER BY f.fleet",
			rd, rd, rm("fuel_consumption"), rm("velocity"), movingSpeed, tr("f."), tr("v."))
	case kindAvgDailyDriving:
		return fmt.Sprintf("SELECT fleet, name, driver, bin(window_start, 1d) AS time, count(*) / 6.0 AS hours_driven\nFROM (\n\tSELECT fleet, name, driver, bin(time, %s) AS window_start, avg(measure_value::double) AS mean_velocity\n\tFROM %s\n\tWHERE measure_name = %s AND %s\n\tGROUP BY fleet, name, driver, bin(time, %s)\n) w\nWHERE mean_velocity > %g\nGROUP BY fleet, name, driver, bin(window_start, 1d)\nORDER BY name, time",
			win, rd, rm("velocity"), tr(""), win, movingSpeed)
	case kindAvgDailySession:
		return fmt.Sprintf("WITH windows AS (\n\tSELECT name, driver, bin(time, %[1]s) AS window_start, avg(measure_value::double) > %[5]g AS driving\n\tFROM %[2]s\n\tWHERE measure_name = %[3]s AND %[4]s\n\tGROUP BY name, driver, bin(time, %[1]s)\n), marked AS (\n\tSELECT name, driver, window_start, driving,\n\t\tCASE WHEN driving AND NOT coalesce(lag(driving) OVER (PARTITION BY name ORDER BY window_start), false) THEN 1 ELSE 0 END AS session_start\n\tFROM windows\n), numbered AS (\n\tSELECT name, driver, window_start, driving,\n\t\tsum(session_start) OVER (PARTITION BY name ORDER BY window_start ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS session\n\tFROM marked\n), sessions AS (\n\tSELECT name, driver, session, min(window_start) AS session_start, count(*) * 10 AS minutes\n\tFROM numbered\n\tWHERE driving\n\tGROUP BY name, driver, session\n)\nSELECT name, driver, bin(session_start, 1d) AS time, avg(minutes) AS mean_session_minutes\nFROM sessions\nGROUP BY name, driver, bin(session_start, 1d)\nORDER BY name, time",
			win, rd, rm("velocity"), tr(""), movingSpeed)
	case kindAvgLoad:
		return fmt.Sprintf("SELECT fleet, model, load_capacity, avg(measure_value::double) AS mean_load,\n\tavg(measure_value::double / CAST(load_capacity AS double)) AS mean_load_share\nFROM %s\nWHERE measure_name = %s AND %s\nGROUP BY fleet, model, load_capacity\nORDER BY fleet, model",
			dg, dm("load"), tr(""))
	case kindDailyActivity:
		return fmt.Sprintf("SELECT fleet, model, bin(window_start, 1d) AS time, count(*) / 6.0 AS active_hours\nFROM (\n\tSELECT fleet, model, name, bin(time, %s) AS window_start, avg(measure_value::double) AS mean_status\n\tFROM %s\n\tWHERE measure_name = %s AND %s\n\tGROUP BY fleet, model, name, bin(time, %s)\n) w\nWHERE mean_status < %g\nGROUP BY fleet, model, bin(window_start, 1d)\nORDER BY fleet, model, time",
			win, dg, dm("status"), tr(""), win, activeStatus)
	case kindBreakdownFrequency:
		return fmt.Sprintf("WITH windows AS (\n\tSELECT model, name, bin(time, %[1]s) AS window_start, avg(measure_value::double) >= %[5]g AS broken\n\tFROM %[2]s\n\tWHERE measure_name = %[3]s AND %[4]s\n\tGROUP BY model, name, bin(time, %[1]s)\n), changes AS (\n\tSELECT model, name, broken, lag(broken) OVER (PARTITION BY name ORDER BY window_start) AS was_broken\n\tFROM windows\n)\nSELECT model, sum(CASE WHEN broken AND NOT was_broken THEN 1 ELSE 0 END) AS breakdowns\nFROM changes\nGROUP BY model\nORDER BY model",
			win, dg, dm("status"), tr(""), brokenStatus)
	}
	return ""
}

// iotPromQL renders q as an instant PromQL query at the end of its window
// (a range query of one step), or an empty Expr when PromQL cannot say it:
// a tag used as a number (projected fuel), a join of two measurements
// point by point (moving trucks' fuel), or runs of windows (sessions,
// breakdowns). Ranges are 1 ms short of their nominal length so that
// Prometheus 2.x (left-closed) and 3.x (left-open) select the same
// samples.
func (q *Query) iotPromQL(n Naming) PromRange {
	r := PromRange{Start: q.End, End: q.End, Step: iotWindow}
	sel := func(meas, field string) string {
		if q.fleet != "" {
			return fmt.Sprintf("%s{fleet=%q}", n.name(meas, field), q.fleet)
		}
		return n.name(meas, field)
	}
	short := func(d time.Duration) string { return fmt.Sprintf("%dms", (d-time.Millisecond)/time.Millisecond) }
	span := short(q.End.Sub(q.Start))
	day := short(min(24*time.Hour, q.End.Sub(q.Start)))
	win := short(iotWindow)
	last := func(meas, field string) string { return fmt.Sprintf("last_over_time(%s[%s])", sel(meas, field), span) }
	switch q.kind {
	case kindLastLoc:
		r.Expr = fmt.Sprintf(`label_replace(%s, "field", "latitude", "", "") or label_replace(%s, "field", "longitude", "", "")`,
			last("readings", "latitude"), last("readings", "longitude"))
	case kindLowFuel:
		r.Expr = fmt.Sprintf("%s <= %g", last("diagnostics", "fuel_state"), lowFuelLevel)
	case kindHighLoad:
		parts := []string{}
		for _, c := range tsbs.LoadCapacities() {
			parts = append(parts, fmt.Sprintf("last_over_time(%s{fleet=%q,load_capacity=\"%d\"}[%s]) >= %g",
				n.name("diagnostics", "load"), q.fleet, c, span, highLoadShare*float64(c)))
		}
		r.Expr = strings.Join(parts, " or ")
	case kindStationary:
		r.Expr = fmt.Sprintf("avg_over_time(%s[%s]) < %g", sel("readings", "velocity"), win, movingSpeed)
	case kindLongSessions, kindLongDaily:
		r.Expr = fmt.Sprintf("count_over_time((avg_over_time(%s[%s]) > %g)[%s:%s]) > %d",
			sel("readings", "velocity"), win, movingSpeed, span, promDuration(iotWindow), q.sessionThreshold())
	case kindAvgDailyDriving:
		r.Expr = fmt.Sprintf("count_over_time((avg_over_time(%s[%s]) > %g)[%s:%s]) / 6",
			sel("readings", "velocity"), win, movingSpeed, day, promDuration(iotWindow))
	case kindAvgLoad:
		r.Expr = fmt.Sprintf("sum by (fleet, model) (sum_over_time(%[1]s[%[2]s])) / sum by (fleet, model) (count_over_time(%[1]s[%[2]s]))",
			sel("diagnostics", "load"), span)
	case kindDailyActivity:
		r.Expr = fmt.Sprintf("sum by (fleet, model) (count_over_time((avg_over_time(%s[%s]) < %g)[%s:%s])) / 6",
			sel("diagnostics", "status"), win, activeStatus, day, promDuration(iotWindow))
	}
	return r
}

// iotInfluxQL renders q in InfluxQL over measurements readings and
// diagnostics, or "" when q has no InfluxQL form here (sessions and
// breakdowns need runs of windows, which InfluxQL cannot number).
func (q *Query) iotInfluxQL() string {
	tr := fmt.Sprintf("time >= '%s' AND time < '%s'", q.Start.UTC().Format(time.RFC3339Nano), q.End.UTC().Format(time.RFC3339Nano))
	fleet := ""
	if q.fleet != "" {
		fleet = fmt.Sprintf(`"fleet" = '%s' AND `, q.fleet)
	}
	win := promDuration(iotWindow)
	// Identifiers are quoted: name is an InfluxQL keyword, and so are
	// others of the truck tags and measurements.
	switch q.kind {
	case kindLastLoc:
		return fmt.Sprintf(`SELECT last("latitude") AS "latitude", "longitude" FROM "readings" WHERE %s%s GROUP BY "name", "driver"`, fleet, tr)
	case kindLowFuel:
		return fmt.Sprintf(`SELECT "fuel_state" FROM (SELECT last("fuel_state") AS "fuel_state" FROM "diagnostics" WHERE %s%s GROUP BY "name", "driver") WHERE "fuel_state" <= %g GROUP BY "name", "driver"`,
			fleet, tr, lowFuelLevel)
	case kindHighLoad:
		conds := []string{}
		for _, c := range tsbs.LoadCapacities() {
			conds = append(conds, fmt.Sprintf(`("load_capacity" = '%d' AND "current_load" >= %g)`, c, highLoadShare*float64(c)))
		}
		return fmt.Sprintf(`SELECT "current_load" FROM (SELECT last("load") AS "current_load" FROM "diagnostics" WHERE %s%s GROUP BY "name", "driver", "load_capacity") WHERE %s GROUP BY "name", "driver", "load_capacity"`,
			fleet, tr, strings.Join(conds, " OR "))
	case kindStationary:
		return fmt.Sprintf(`SELECT "mean_velocity" FROM (SELECT mean("velocity") AS "mean_velocity" FROM "readings" WHERE %s%s GROUP BY "name", "driver") WHERE "mean_velocity" < %g GROUP BY "name", "driver"`,
			fleet, tr, movingSpeed)
	case kindLongSessions, kindLongDaily:
		return fmt.Sprintf(`SELECT "driving_windows" FROM (SELECT count("mean_velocity") AS "driving_windows" FROM (SELECT mean("velocity") AS "mean_velocity" FROM "readings" WHERE %s%s GROUP BY time(%s), "name", "driver") WHERE "mean_velocity" > %g GROUP BY "name", "driver") WHERE "driving_windows" > %d GROUP BY "name", "driver"`,
			fleet, tr, win, movingSpeed, q.sessionThreshold())
	case kindAvgVsProjectedFuel:
		return fmt.Sprintf(`SELECT mean("fuel_consumption") AS "mean_fuel_consumption" FROM "readings" WHERE "velocity" > %g AND %s GROUP BY "fleet"`, movingSpeed, tr)
	case kindAvgDailyDriving:
		return fmt.Sprintf(`SELECT count("mean_velocity") / 6 AS "hours_driven" FROM (SELECT mean("velocity") AS "mean_velocity" FROM "readings" WHERE %s GROUP BY time(%s), "fleet", "name", "driver") WHERE "mean_velocity" > %g AND %s GROUP BY time(1d), "fleet", "name", "driver" fill(none)`,
			tr, win, movingSpeed, tr)
	case kindAvgLoad:
		return fmt.Sprintf(`SELECT mean("load") AS "mean_load" FROM "diagnostics" WHERE %s GROUP BY "fleet", "model"`, tr)
	case kindDailyActivity:
		return fmt.Sprintf(`SELECT count("mean_status") / 6 AS "active_hours" FROM (SELECT mean("status") AS "mean_status" FROM "diagnostics" WHERE %s GROUP BY time(%s), "fleet", "model", "name") WHERE "mean_status" < %g AND %s GROUP BY time(1d), "fleet", "model" fill(none)`,
			tr, win, activeStatus, tr)
	}
	return ""
}
