package schedule_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/coworks-go/cws/events/schedule"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// The weekdays these cases rely on were checked with date(1): 2026-11-22 is
// a Sunday, 2026-08-01 and 2026-02-28 Saturdays, 2026-11-15 and 2026-05-31
// Sundays, 2026-12-01 a Tuesday.
func TestNext(t *testing.T) {
	for _, tc := range []struct {
		expr, from string
		want       []string
	}{
		{"rate(5 minutes)", "2026-11-22T20:58:30Z", []string{"2026-11-22T21:03:30Z", "2026-11-22T21:08:30Z"}},
		{"rate(1 day)", "2026-11-22T00:00:00Z", []string{"2026-11-23T00:00:00Z"}},
		{"cron(0 12 * * ? *)", "2026-11-22T20:58:00Z", []string{"2026-11-23T12:00:00Z", "2026-11-24T12:00:00Z"}},
		{"cron(0/15 * * * ? *)", "2026-11-22T10:07:00Z", []string{"2026-11-22T10:15:00Z", "2026-11-22T10:30:00Z", "2026-11-22T10:45:00Z", "2026-11-22T11:00:00Z"}},
		{"cron(*/20 9-10 * * ? *)", "2026-11-22T10:40:00Z", []string{"2026-11-23T09:00:00Z", "2026-11-23T09:20:00Z"}},
		{"cron(0 18 ? * MON-FRI *)", "2026-11-20T18:00:00Z", []string{"2026-11-23T18:00:00Z", "2026-11-24T18:00:00Z"}},
		{"cron(0 0 ? * FRI-MON *)", "2026-11-22T00:00:00Z", []string{"2026-11-23T00:00:00Z", "2026-11-27T00:00:00Z", "2026-11-28T00:00:00Z"}},
		{"cron(15 10 ? * 6L 2026-2027)", "2026-11-01T00:00:00Z", []string{"2026-11-27T10:15:00Z", "2026-12-25T10:15:00Z"}},
		{"cron(0 0 ? * 3#2 *)", "2026-11-22T00:00:00Z", []string{"2026-12-08T00:00:00Z"}},
		{"cron(0 0 L * ? *)", "2026-02-10T00:00:00Z", []string{"2026-02-28T00:00:00Z", "2026-03-31T00:00:00Z"}},
		{"cron(0 0 LW * ? *)", "2026-02-01T00:00:00Z", []string{"2026-02-27T00:00:00Z"}},
		{"cron(0 0 1W * ? *)", "2026-07-15T00:00:00Z", []string{"2026-08-03T00:00:00Z"}},
		{"cron(0 0 15W * ? *)", "2026-11-01T00:00:00Z", []string{"2026-11-16T00:00:00Z", "2026-12-15T00:00:00Z"}},
		{"cron(0 0 31W 5 ? *)", "2026-01-01T00:00:00Z", []string{"2026-05-29T00:00:00Z"}},
		{"cron(0 0 29 FEB ? *)", "2026-01-01T00:00:00Z", []string{"2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"}},
		{"cron(30 8 1,15 jan,jul ? *)", "2026-11-22T00:00:00Z", []string{"2027-01-01T08:30:00Z", "2027-01-15T08:30:00Z", "2027-07-01T08:30:00Z"}},
		{"cron(0 22-2/2 * * ? *)", "2026-11-22T21:00:00Z", []string{"2026-11-22T22:00:00Z", "2026-11-23T00:00:00Z", "2026-11-23T02:00:00Z", "2026-11-23T22:00:00Z"}},
		{"cron(0 0 1 1 ? 2020)", "2026-01-01T00:00:00Z", []string{"0001-01-01T00:00:00Z"}},
		{"cron(59 23 31 12 ? 2199)", "2199-12-31T23:58:59Z", []string{"2199-12-31T23:59:00Z", "0001-01-01T00:00:00Z"}},
	} {
		s, err := schedule.Parse(tc.expr)
		if err != nil {
			t.Errorf("%s: %v", tc.expr, err)
			continue
		}
		from := at(tc.from)
		for i, w := range tc.want {
			got := s.Next(from)
			if !got.Equal(at(w)) {
				t.Errorf("%s from %s: fire %d at %s, want %s", tc.expr, tc.from, i+1, got.Format(time.RFC3339), w)
				break
			}
			from = got
		}
	}
}

func TestInvalid(t *testing.T) {
	for expr, reason := range map[string]string{
		"every 5 minutes":            "neither rate",
		"rate(5)":                    "rate(value unit)",
		"rate(0 minutes)":            "not a positive integer",
		"rate(-5 minutes)":           "not a positive integer",
		"rate(1.5 hours)":            "not a positive integer",
		"rate(1 minutes)":            "singular",
		"rate(5 hour)":               "plural",
		"rate(5 weeks)":              "not minute(s), hour(s) or day(s)",
		"cron(0 12 * * ?)":           "6 fields",
		"cron(0 12 * * * *)":         "cannot both be specified",
		"cron(0 12 ? * ? *)":         "cannot both be ?",
		"cron(60 * * * ? *)":         "out of the minutes field's range 0-59",
		"cron(0 24 * * ? *)":         "out of the hours field's range 0-23",
		"cron(0 12 32 * ? *)":        "out of the day-of-month field's range 1-31",
		"cron(0 12 * 13 ? *)":        "out of the month field's range 1-12",
		"cron(0 12 * JANUARY ? *)":   `"JANUARY" is not a value of the month field`,
		"cron(0 12 ? * 8 *)":         "out of the day-of-week field's range 1-7",
		"cron(0 12 ? * 3#6 *)":       "week of the month must be 1 to 5",
		"cron(0 12 * * ? 1969)":      "out of the year field's range 1970-2199",
		"cron(0 */0 * * ? *)":        "not a positive integer",
		"cron(? 12 * * ? *)":         "? is only for the day-of-month and day-of-week",
		"cron(0 12 1,? * ? *)":       "? stands alone",
		"cron(0 12 L-3 * ? *)":       `"L" is not a value`,
		"cron(0 12 * * ? 2026-20x7)": `"20x7" is not a value of the year field`,
	} {
		_, err := schedule.Parse(expr)
		var ie *schedule.InvalidError
		if !errors.As(err, &ie) || !strings.HasPrefix(err.Error(), "Parameter ScheduleExpression is not valid.") || !strings.Contains(ie.Reason, reason) {
			t.Errorf("%s: %v, want a reason with %q", expr, err, reason)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"rate(5 minutes)", "cron(0 12 * * ? *)", "cron(0/15 9-17 ? * MON-FRI *)", "cron(0 0 LW * ? *)",
		"cron(0 0 ? * 6L 2026-2030/2)", "cron(0 0 ? * 3#2 *)", "cron(0 0 15W * ? *)", "cron(5,10 22-2 * JAN-MAR ? *)"} {
		f.Add(s, int64(1795000000))
	}
	f.Fuzz(func(t *testing.T, expr string, unix int64) {
		s, err := schedule.Parse(expr)
		if err != nil {
			var ie *schedule.InvalidError
			if !errors.As(err, &ie) {
				t.Fatalf("%q: an error that is not an InvalidError: %v", expr, err)
			}
			return
		}
		from := time.Unix(unix%(1<<33), 0).UTC()
		next := s.Next(from)
		if next.IsZero() {
			return
		}
		if !next.After(from) {
			t.Fatalf("%s: Next(%s) = %s, not after", expr, from, next)
		}
		if _, isCron := s.(*schedule.Cron); isCron {
			if next.Second() != 0 || next.Nanosecond() != 0 {
				t.Fatalf("%s: %s is not on a minute", expr, next)
			}
			// No fire time is skipped: the minute before next is not one.
			if prev := next.Add(-time.Minute); prev.After(from) && s.Next(prev.Add(-time.Second)).Before(next) {
				t.Fatalf("%s: a fire time before %s was skipped", expr, next)
			}
		}
	})
}

// BenchmarkNext finds the next fire time of a few kinds of expression.
func BenchmarkNext(b *testing.B) {
	from := at("2026-11-22T20:58:30Z")
	for _, expr := range []string{"rate(5 minutes)", "cron(0/15 * * * ? *)", "cron(0 9 ? * MON-FRI *)", "cron(0 0 ? * 6L *)", "cron(0 0 29 FEB ? *)"} {
		s := schedule.MustParse(expr)
		b.Run(expr, func(b *testing.B) {
			for b.Loop() {
				s.Next(from)
			}
		})
	}
}

func BenchmarkParse(b *testing.B) {
	for b.Loop() {
		_, _ = schedule.Parse("cron(0/15 9-17 ? * MON-FRI 2026-2030)")
	}
}
