package exec

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"
)

func TestTypeString(t *testing.T) {
	tests := []struct {
		typ  Type
		want string
	}{
		{TypeBigint, "bigint"},
		{TypeIntervalDS, "interval day to second"},
		{ArrayOf(TypeDouble), "array(double)"},
		{TimeSeriesOf(TypeDouble), "timeseries(double)"},
		{Type{Kind: KindRow, Fields: []Field{{Name: "x", Type: TypeBigint}, {Name: "y", Type: ArrayOf(TypeVarchar)}}}, "row(x bigint, y array(varchar))"},
		{Type{Kind: KindArray}, "array(unknown)"},
	}
	for _, tt := range tests {
		if got := tt.typ.String(); got != tt.want {
			t.Errorf("%#v: got %q, want %q", tt.typ, got, tt.want)
		}
	}
}

func TestValueString(t *testing.T) {
	tests := []struct {
		v    Value
		want string
	}{
		{Double(1.5), "1.5"},
		{Double(math.Inf(-1)), "-Infinity"},
		{Double(math.NaN()), "NaN"},
		{Timestamp(1700000000123456789), "2023-11-14 22:13:20.123456789"},
		{Null(KindBigint), "NULL"},
		{Value{Kind: KindDate, I: 19723}, "2024-01-01"},
		{intervalDS(90061e9 + 5), "1 01:01:01.000000005"},
		{Value{Kind: KindIntervalYearToMonth, I: 14}, "1-2"},
		{Value{Kind: KindTimeSeries, Points: []Point{{Time: 0, Value: Bigint(3)}}}, "[{time=1970-01-01 00:00:00.000000000, value=3}]"},
	}
	for _, tt := range tests {
		if got := tt.v.String(); got != tt.want {
			t.Errorf("%#v: got %q, want %q", tt.v, got, tt.want)
		}
	}
}

func TestPrepare(t *testing.T) {
	db := fuzzDB(t)
	e := New(db.cat, db, Options{})
	tests := []struct {
		sql    string
		cols   []Column
		params []Param
	}{
		{"SELECT host, bin(time, 1m) AS b, avg(measure_value::double) FROM fuzzdb.tbl WHERE time > @scheduled_runtime - 1h GROUP BY 1, 2",
			[]Column{{"host", TypeVarchar}, {"b", TypeTimestamp}, {"_col2", TypeDouble}},
			[]Param{{"scheduled_runtime", TypeTimestamp}}},
		{"SELECT load, tag FROM fuzzdb.tbl WHERE host = @h",
			[]Column{{"load", TypeDouble}, {"tag", TypeVarchar}},
			[]Param{{"h", TypeVarchar}}},
		{"SELECT ? + 1, @x FROM fuzzdb.tbl WHERE measure_value::double > @limit",
			[]Column{{"_col0", TypeBigint}, {"_col1", TypeUnknown}},
			[]Param{{"1", TypeBigint}, {"x", TypeUnknown}, {"limit", TypeDouble}}},
		{"SHOW TABLES FROM fuzzdb", []Column{{"Table", TypeVarchar}}, nil},
	}
	for _, tt := range tests {
		cols, params, err := e.Prepare(tt.sql)
		if err != nil {
			t.Fatalf("%s: %v", tt.sql, err)
		}
		if len(cols) != len(tt.cols) {
			t.Fatalf("%s: got columns %v, want %v", tt.sql, cols, tt.cols)
		}
		for i := range cols {
			if cols[i].Name != tt.cols[i].Name || !cols[i].Type.Equal(tt.cols[i].Type) {
				t.Errorf("%s: column %d is %v, want %v", tt.sql, i, cols[i], tt.cols[i])
			}
		}
		if len(params) != len(tt.params) {
			t.Fatalf("%s: got params %v, want %v", tt.sql, params, tt.params)
		}
		for i := range params {
			if params[i].Name != tt.params[i].Name || !params[i].Type.Equal(tt.params[i].Type) {
				t.Errorf("%s: param %d is %v, want %v", tt.sql, i, params[i], tt.params[i])
			}
		}
	}
}

func TestErrors(t *testing.T) {
	db := fuzzDB(t)
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Unix(0, 0))
	defer cancel2()
	tests := []struct {
		name      string
		ctx       context.Context
		opts      Options
		sql       string
		kind      ErrorKind
		line, col int
	}{
		{"syntax", context.Background(), Options{}, "SELECT\n  FROM x", ErrValidation, 2, 3},
		{"unknown column", context.Background(), Options{}, "SELECT nope FROM fuzzdb.tbl", ErrValidation, 1, 8},
		{"division", context.Background(), Options{}, "SELECT n / 0 FROM (VALUES 1) AS v(n)", ErrExecution, 0, 0},
		{"memory", context.Background(), Options{MaxMemoryBytes: 4096}, "SELECT * FROM fuzzdb.tbl ORDER BY time", ErrMemory, 0, 0},
		{"canceled", canceled, Options{}, "SELECT * FROM fuzzdb.tbl", ErrCanceled, 0, 0},
		{"timeout", expired, Options{}, "SELECT * FROM fuzzdb.tbl", ErrTimeout, 0, 0},
		{"unload", context.Background(), Options{}, "UNLOAD (SELECT 1) TO 's3://b/p' WITH (format = 'CSV')", ErrValidation, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := New(db.cat, db, tt.opts)
			_, err := e.Query(tt.ctx, tt.sql, nil)
			var qe *Error
			if !errors.As(err, &qe) {
				t.Fatalf("got %v (%T), want *Error", err, err)
			}
			if qe.Kind != tt.kind || qe.Line != tt.line || qe.Col != tt.col {
				t.Fatalf("got %s at %d:%d (%v), want %s at %d:%d", qe.Kind, qe.Line, qe.Col, err, tt.kind, tt.line, tt.col)
			}
		})
	}
}

func TestStatsAndPushdown(t *testing.T) {
	db := fuzzDB(t)
	e := New(db.cat, db, Options{})
	res, err := e.Query(context.Background(),
		"SELECT count(*) FROM fuzzdb.tbl WHERE measure_name = 'cpu' AND host IN ('a', 'b') AND time BETWEEN '2024-01-01 00:00:30' AND '2024-01-01 00:01:30'", nil)
	if err != nil {
		t.Fatalf("query: %v", err)
	}
	// cpu rows of hosts a and b at 30..90 s: i = 3..9 with i%3 != 2.
	if got := res.Rows[0][0].I; got != 5 {
		t.Fatalf("count = %d, want 5", got)
	}
	if res.Stats.RowsScanned != 5 {
		t.Fatalf("scanned %d rows, want 5 (predicates pushed into the scan)", res.Stats.RowsScanned)
	}
}
