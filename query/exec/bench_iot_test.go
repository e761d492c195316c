package exec

import (
	"math/rand/v2"
	"sort"
	"strconv"
	"sync"
	"testing"

	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/query/scan"
)

var (
	iotOnce sync.Once
	iotDB   *testDB
)

// iotTable is a TSBS-IoT-like pair of tables over 100 trucks x 6 h.
func iotTable(b testing.TB) *testDB {
	iotOnce.Do(func() {
		iotDB = newTestDB(b)
		iotDB.loadIoT(b, 100, 6*3600e9)
	})
	return iotDB
}

var (
	iotFleets  = []string{"East", "West", "North", "South"}
	iotModels  = []string{"F-150", "G-2000", "H-2"}
	iotLoadCap = []string{"1500", "2000", "5000"}
)

// loadIoT fills iot.readings (latitude, longitude, elevation, velocity,
// heading, grade, fuel_consumption) and iot.diagnostics (load, fuel_state,
// status) for trucks x dur nanoseconds every 10 s, random walks from a
// fixed seed. Trucks stop for stretches, so that driving windows vary.
func (d *testDB) loadIoT(t testing.TB, trucks int, dur int64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(3, 4))
	n := int(dur / 10e9)
	times := make([]int64, n)
	for i := range times {
		times[i] = tsbsStart + int64(i)*10e9
	}
	readings := []string{"latitude", "longitude", "elevation", "velocity", "heading", "grade", "fuel_consumption"}
	diagnostics := []string{"load", "fuel_state", "status"}
	tables := map[string]*memTable{"readings": {}, "diagnostics": {}}
	var seed []ingest.Record
	for k := range trucks {
		dims := []ingest.Dimension{
			{Name: "device_version", Value: "v1." + strconv.Itoa(k%3)},
			{Name: "driver", Value: "driver_" + strconv.Itoa(k%37)},
			{Name: "fleet", Value: iotFleets[k%len(iotFleets)]},
			{Name: "fuel_capacity", Value: strconv.Itoa(100 + 50*(k%3))},
			{Name: "load_capacity", Value: iotLoadCap[k%len(iotLoadCap)]},
			{Name: "model", Value: iotModels[k%len(iotModels)]},
			{Name: "name", Value: "truck_" + strconv.Itoa(k)},
			{Name: "nominal_fuel_consumption", Value: strconv.Itoa(10 + k%15)},
		}
		capacity, _ := strconv.ParseFloat(dims[4].Value, 64)
		moving := make([]bool, n)
		on := rng.IntN(2) == 0
		for i := range moving {
			if rng.IntN(90) == 0 {
				on = !on
			}
			moving[i] = on
		}
		add := func(table, m string, vals []float64) {
			key := string(scan.AppendSeriesKey(nil, m, dims))
			tables[table].series = append(tables[table].series, &memSeries{s: scan.Series{Key: key, Dimensions: dims, MeasureName: m}, time: times,
				cols: []scan.Column{{Name: scan.ColMeasureValue, Type: ingest.TypeDouble, F: vals}}})
			if k == 0 {
				seed = append(seed, ingest.Record{MeasureName: m, Dimensions: dims, Time: tsbsStart, Value: ingest.Float(0)})
			}
		}
		walk := func(lo, hi, step float64, keep func(i int, v float64) float64) []float64 {
			vals := make([]float64, n)
			v := lo + rng.Float64()*(hi-lo)
			for i := range vals {
				v = min(hi, max(lo, v+rng.NormFloat64()*step))
				if keep != nil {
					v = keep(i, v)
				}
				vals[i] = v
			}
			return vals
		}
		for _, m := range readings {
			var vals []float64
			switch m {
			case "velocity":
				vals = walk(0, 100, 3, func(i int, v float64) float64 {
					if !moving[i] {
						return 0
					}
					return v
				})
			case "latitude":
				vals = walk(-90, 90, 0.01, nil)
			case "longitude":
				vals = walk(-180, 180, 0.01, nil)
			default:
				vals = walk(0, 100, 1, nil)
			}
			add("readings", m, vals)
		}
		for _, m := range diagnostics {
			var vals []float64
			switch m {
			case "load":
				vals = walk(0, capacity, capacity/50, nil)
			case "fuel_state":
				vals = walk(0, 1, 0.01, nil)
			default:
				vals = walk(0, 5, 0.3, func(_ int, v float64) float64 { return float64(int(v)) })
			}
			add("diagnostics", m, vals)
		}
	}
	for name, mt := range tables {
		var recs []ingest.Record
		for _, r := range seed {
			if (name == "readings") == (r.MeasureName != "load" && r.MeasureName != "fuel_state" && r.MeasureName != "status") {
				recs = append(recs, r)
			}
		}
		sort.Slice(mt.series, func(i, j int) bool { return mt.series[i].s.Key < mt.series[j].s.Key })
		d.load(t, "iot", name, recs)
		d.tables["iot."+name] = mt
	}
}

// iotQueries are the shapes of the TSBS IoT queries in Timestream SQL
// over 2024-01-01 00:00..06:00: CTEs joined back to the table, GROUP BY
// with HAVING, nested subqueries over bin() windows, LAG and running sums
// over PARTITION BY ... ORDER BY, CAST of a dimension to double, and
// aggregates over CASE.
var iotQueries = map[string]string{
	"last-loc": `WITH latest AS (
			SELECT name, max(time) AS latest_time FROM iot.readings
			WHERE measure_name = 'latitude' AND fleet = 'South' AND time >= '2024-01-01 00:00:00' AND time < '2024-01-01 06:00:00'
			GROUP BY name)
		SELECT r.name, r.driver, r.time,
			max(CASE WHEN r.measure_name = 'latitude' THEN r.measure_value::double END) AS latitude,
			max(CASE WHEN r.measure_name = 'longitude' THEN r.measure_value::double END) AS longitude
		FROM iot.readings r JOIN latest l ON r.name = l.name AND r.time = l.latest_time
		WHERE r.measure_name IN ('latitude', 'longitude') AND r.fleet = 'South' AND r.time >= '2024-01-01 00:00:00' AND r.time < '2024-01-01 06:00:00'
		GROUP BY r.name, r.driver, r.time ORDER BY r.name`,
	"high-load": `WITH latest AS (
			SELECT name, max(time) AS latest_time FROM iot.diagnostics
			WHERE measure_name = 'load' AND fleet = 'South' AND time >= '2024-01-01 00:00:00' AND time < '2024-01-01 06:00:00'
			GROUP BY name)
		SELECT d.name, d.driver, d.load_capacity, d.time, d.measure_value::double AS current_load
		FROM iot.diagnostics d JOIN latest l ON d.name = l.name AND d.time = l.latest_time
		WHERE d.measure_name = 'load' AND d.fleet = 'South' AND d.time >= '2024-01-01 00:00:00' AND d.time < '2024-01-01 06:00:00'
			AND d.measure_value::double >= 0.5 * CAST(d.load_capacity AS double)
		ORDER BY d.name`,
	"stationary-trucks": `SELECT name, driver, avg(measure_value::double) AS mean_velocity FROM iot.readings
		WHERE measure_name = 'velocity' AND fleet = 'West' AND time >= '2024-01-01 05:50:00' AND time < '2024-01-01 06:00:00'
		GROUP BY name, driver HAVING avg(measure_value::double) < 1 ORDER BY name`,
	"long-driving-sessions": `SELECT name, driver, count(*) AS driving_windows FROM (
			SELECT name, driver, bin(time, 600s) AS window_start, avg(measure_value::double) AS mean_velocity FROM iot.readings
			WHERE measure_name = 'velocity' AND fleet = 'West' AND time >= '2024-01-01 00:00:00' AND time < '2024-01-01 04:00:00'
			GROUP BY name, driver, bin(time, 600s)) w
		WHERE mean_velocity > 1 GROUP BY name, driver HAVING count(*) > 10 ORDER BY name`,
	"avg-vs-projected-fuel-consumption": `SELECT f.fleet, avg(f.measure_value::double) AS mean_fuel_consumption,
			avg(CAST(f.nominal_fuel_consumption AS double)) AS nominal_fuel_consumption
		FROM iot.readings f JOIN iot.readings v ON f.name = v.name AND f.time = v.time
		WHERE f.measure_name = 'fuel_consumption' AND v.measure_name = 'velocity' AND v.measure_value::double > 1
			AND f.time >= '2024-01-01 00:00:00' AND f.time < '2024-01-01 06:00:00' AND v.time >= '2024-01-01 00:00:00' AND v.time < '2024-01-01 06:00:00'
		GROUP BY f.fleet ORDER BY f.fleet`,
	"avg-daily-driving-duration": `SELECT fleet, name, driver, bin(window_start, 1d) AS time, count(*) / 6.0 AS hours_driven FROM (
			SELECT fleet, name, driver, bin(time, 600s) AS window_start, avg(measure_value::double) AS mean_velocity FROM iot.readings
			WHERE measure_name = 'velocity' AND time >= '2024-01-01 00:00:00' AND time < '2024-01-01 06:00:00'
			GROUP BY fleet, name, driver, bin(time, 600s)) w
		WHERE mean_velocity > 1 GROUP BY fleet, name, driver, bin(window_start, 1d) ORDER BY name, time`,
	"avg-daily-driving-session": `WITH windows AS (
			SELECT name, driver, bin(time, 600s) AS window_start, avg(measure_value::double) > 1 AS driving FROM iot.readings
			WHERE measure_name = 'velocity' AND time >= '2024-01-01 00:00:00' AND time < '2024-01-01 06:00:00'
			GROUP BY name, driver, bin(time, 600s)),
		marked AS (
			SELECT name, driver, window_start, driving,
				CASE WHEN driving AND NOT coalesce(lag(driving) OVER (PARTITION BY name ORDER BY window_start), false) THEN 1 ELSE 0 END AS session_start
			FROM windows),
		numbered AS (
			SELECT name, driver, window_start, driving,
				sum(session_start) OVER (PARTITION BY name ORDER BY window_start ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS session
			FROM marked),
		sessions AS (
			SELECT name, driver, session, min(window_start) AS session_start, count(*) * 10 AS minutes FROM numbered
			WHERE driving GROUP BY name, driver, session)
		SELECT name, driver, bin(session_start, 1d) AS time, avg(minutes) AS mean_session_minutes FROM sessions
		GROUP BY name, driver, bin(session_start, 1d) ORDER BY name, time`,
	"avg-load": `SELECT fleet, model, load_capacity, avg(measure_value::double) AS mean_load,
			avg(measure_value::double / CAST(load_capacity AS double)) AS mean_load_share FROM iot.diagnostics
		WHERE measure_name = 'load' AND time >= '2024-01-01 00:00:00' AND time < '2024-01-01 06:00:00'
		GROUP BY fleet, model, load_capacity ORDER BY fleet, model`,
	"daily-activity": `SELECT fleet, model, bin(window_start, 1d) AS time, count(*) / 6.0 AS active_hours FROM (
			SELECT fleet, model, name, bin(time, 600s) AS window_start, avg(measure_value::double) AS mean_status FROM iot.diagnostics
			WHERE measure_name = 'status' AND time >= '2024-01-01 00:00:00' AND time < '2024-01-01 06:00:00'
			GROUP BY fleet, model, name, bin(time, 600s)) w
		WHERE mean_status < 1 GROUP BY fleet, model, bin(window_start, 1d) ORDER BY fleet, model, time`,
	"breakdown-frequency": `WITH windows AS (
			SELECT model, name, bin(time, 600s) AS window_start, avg(measure_value::double) >= 3 AS broken FROM iot.diagnostics
			WHERE measure_name = 'status' AND time >= '2024-01-01 00:00:00' AND time < '2024-01-01 06:00:00'
			GROUP BY model, name, bin(time, 600s)),
		changes AS (
			SELECT model, name, broken, lag(broken) OVER (PARTITION BY name ORDER BY window_start) AS was_broken FROM windows)
		SELECT model, sum(CASE WHEN broken AND NOT was_broken THEN 1 ELSE 0 END) AS breakdowns FROM changes
		GROUP BY model ORDER BY model`,
	"velocity-deltas": `SELECT name, date_trunc('hour', time) AS hour, max(abs(next_v - v)) AS max_jump, count(*) AS n FROM (
			SELECT name, time, measure_value::double AS v,
				lead(measure_value::double) OVER (PARTITION BY name ORDER BY time) AS next_v
			FROM iot.readings WHERE measure_name = 'velocity' AND fleet = 'North') x
		WHERE next_v IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2`,
	"running-distance": `SELECT name, max(dist) AS km, max(time) AS last FROM (
			SELECT name, time, sum(measure_value::double / 360) OVER (PARTITION BY name ORDER BY time ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS dist
			FROM iot.readings WHERE measure_name = 'velocity' AND fleet = 'North') x
		GROUP BY name ORDER BY name`,
	"fuel-per-fleet-case": `SELECT fleet,
			avg(CASE WHEN measure_name = 'fuel_consumption' THEN measure_value::double END) AS fuel,
			sum(CASE WHEN measure_name = 'velocity' AND measure_value::double > 1 THEN 1 ELSE 0 END) AS moving,
			count(CASE WHEN measure_name = 'grade' AND measure_value::double > 50 THEN 1 END) AS steep
		FROM iot.readings WHERE time >= '2024-01-01 00:00:00' AND time < '2024-01-01 06:00:00'
		GROUP BY fleet ORDER BY fleet`,
}

// BenchmarkIoT runs the TSBS IoT query shapes over the 100-truck x 6 h
// tables (1.51M readings, 648k diagnostics).
func BenchmarkIoT(b *testing.B) {
	db := iotTable(b)
	benchQueries(b, New(db.cat, db, Options{}), iotQueries)
}
