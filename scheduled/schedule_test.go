package scheduled

import (
	"errors"
	"testing"
	"time"
)

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestScheduleNext checks the next invocations of cron and rate
// expressions from a fixed instant (2024-01-01 is a Monday).
func TestScheduleNext(t *testing.T) {
	anchor := mustTime(t, "2024-01-01 00:00")
	tests := []struct {
		expr string
		from string
		want []string // successive Next results
	}{
		{"rate(1 minute)", "2024-01-01 00:00", []string{"2024-01-01 00:01", "2024-01-01 00:02"}},
		{"rate(15 minutes)", "2024-01-01 00:07", []string{"2024-01-01 00:15", "2024-01-01 00:30"}},
		{"rate(1 hour)", "2023-12-31 10:00", []string{"2024-01-01 01:00", "2024-01-01 02:00"}},
		{"rate(2 days)", "2024-01-02 23:59", []string{"2024-01-03 00:00", "2024-01-05 00:00"}},
		{"cron(0 * * * ? *)", "2024-01-01 00:00", []string{"2024-01-01 01:00", "2024-01-01 02:00"}},
		{"cron(*/20 * * * ? *)", "2024-01-01 00:05", []string{"2024-01-01 00:20", "2024-01-01 00:40", "2024-01-01 01:00"}},
		{"cron(5/20 9-10 * * ? *)", "2024-01-01 08:00", []string{"2024-01-01 09:05", "2024-01-01 09:25", "2024-01-01 09:45", "2024-01-01 10:05"}},
		{"cron(0 12 ? * MON-FRI *)", "2024-01-05 13:00", []string{"2024-01-08 12:00", "2024-01-09 12:00"}},
		{"cron(0 0 ? * FRI-MON *)", "2024-01-03 00:00", []string{"2024-01-05 00:00", "2024-01-06 00:00", "2024-01-07 00:00", "2024-01-08 00:00", "2024-01-12 00:00"}},
		{"cron(0 10 L * ? *)", "2024-01-31 10:00", []string{"2024-02-29 10:00", "2024-03-31 10:00"}},
		{"cron(0 10 L-2 * ? *)", "2024-02-01 00:00", []string{"2024-02-27 10:00", "2024-03-29 10:00"}},
		{"cron(0 8 15W * ? *)", "2024-06-01 00:00", []string{"2024-06-14 08:00", "2024-07-15 08:00"}}, // 2024-06-15 is a Saturday.
		{"cron(0 8 1W * ? *)", "2024-05-31 00:00", []string{"2024-06-03 08:00"}},                      // 2024-06-01 is a Saturday.
		{"cron(0 8 LW * ? *)", "2024-03-01 00:00", []string{"2024-03-29 08:00", "2024-04-30 08:00"}},  // 2024-03-31 is a Sunday.
		{"cron(30 6 ? * 6L *)", "2024-01-01 00:00", []string{"2024-01-26 06:30", "2024-02-23 06:30"}}, // Last Friday.
		{"cron(0 9 ? * 2#1 *)", "2024-01-02 00:00", []string{"2024-02-05 09:00", "2024-03-04 09:00"}}, // First Monday.
		{"cron(0 0 1 JAN,jul ? 2025-2026)", "2024-03-01 00:00", []string{"2025-01-01 00:00", "2025-07-01 00:00", "2026-01-01 00:00", "2026-07-01 00:00", ""}},
		{"cron(0 0 29 2 ? *)", "2024-03-01 00:00", []string{"2028-02-29 00:00"}},
		{"cron(0 0 31 2 ? *)", "2024-03-01 00:00", []string{""}},
		{"cron(0 0 1 1 ? 2020)", "2024-01-01 00:00", []string{""}},
		{"cron(0 0 ? * L *)", "2024-01-01 00:00", []string{"2024-01-06 00:00"}},
		{"  cron(0 22-2 * * ? *) ", "2024-01-01 21:30", []string{"2024-01-01 22:00", "2024-01-01 23:00", "2024-01-02 00:00", "2024-01-02 01:00", "2024-01-02 02:00", "2024-01-02 22:00"}},
	}
	for _, tt := range tests {
		s, err := ParseSchedule(tt.expr, anchor)
		if err != nil {
			t.Errorf("ParseSchedule(%q): %v", tt.expr, err)
			continue
		}
		at := mustTime(t, tt.from)
		for i, w := range tt.want {
			got := s.Next(at)
			if w == "" {
				if !got.IsZero() {
					t.Errorf("%s: Next #%d = %v, want none", tt.expr, i, got)
				}
				break
			}
			if want := mustTime(t, w); !got.Equal(want) {
				t.Errorf("%s: Next #%d after %v = %v, want %v", tt.expr, i, at, got, want)
				break
			}
			at = got
		}
	}
}

func TestParseScheduleErrors(t *testing.T) {
	for _, expr := range []string{
		"",
		"cron(* * * * *)",      // five fields
		"cron(0 0 * * * *)",    // neither day field is '?'
		"cron(0 0 ? * ? *)",    // both are
		"cron(60 0 * * ? *)",   // minute out of range
		"cron(0 24 * * ? *)",   // hour out of range
		"cron(0 0 32 * ? *)",   // day out of range
		"cron(0 0 * 13 ? *)",   // month out of range
		"cron(0 0 ? * 8 *)",    // weekday out of range
		"cron(0 0 * * ? 1969)", // year out of range
		"cron(0 0 * * ? 2030-2025)",
		"cron(*/0 0 * * ? *)", // zero step
		"cron(a 0 * * ? *)",
		"cron(0 0 ? * 2#6 *)",
		"cron(0 0 L-31 * ? *)",
		"rate(0 minutes)",
		"rate(-5 minutes)",
		"rate(5 weeks)",
		"rate(5)",
		"rate(+5 minutes)",
		"rate(99999999999 days)",
		"at(2024-01-01T00:00:00)",
	} {
		if _, err := ParseSchedule(expr, time.Time{}); !errors.Is(err, ErrSchedule) {
			t.Errorf("ParseSchedule(%q) = %v, want ErrSchedule", expr, err)
		}
	}
}

// FuzzParseSchedule checks that any expression either fails with
// ErrSchedule or yields a schedule whose next times strictly increase and
// sit on whole minutes.
func FuzzParseSchedule(f *testing.F) {
	for _, s := range []string{"cron(0 * * * ? *)", "cron(5/20 9-10 L * ? 2024-2030)", "cron(0 0 ? * 6#3 *)",
		"cron(0 0 ? * FRI-MON *)", "cron(0 8 LW * ? *)", "rate(5 minutes)", "rate(1 day)", "cron(0 0 31 2 ? *)"} {
		f.Add(s)
	}
	anchor := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, expr string) {
		s, err := ParseSchedule(expr, anchor)
		if err != nil {
			if !errors.Is(err, ErrSchedule) {
				t.Fatalf("error %v does not wrap ErrSchedule", err)
			}
			return
		}
		at := anchor.Add(-time.Hour)
		for range 3 {
			next := s.Next(at)
			if next.IsZero() {
				return
			}
			if !next.After(at) || next.Second() != 0 || next.Nanosecond() != 0 {
				t.Fatalf("%q: Next(%v) = %v", expr, at, next)
			}
			at = next
		}
	})
}

func BenchmarkCronNext(b *testing.B) {
	s, err := ParseSchedule("cron(0 9 ? * 2#1 2024-2199)", time.Time{})
	if err != nil {
		b.Fatal(err)
	}
	at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	for b.Loop() {
		at = s.Next(at)
		if at.IsZero() {
			at = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		}
	}
}
