// Package schedule reads EventBridge schedule expressions — rate(5 minutes),
// cron(0 12 ? * MON-FRI *) — and says when they fire, in UTC, as EventBridge
// does: the local runtime's scheduler fires them, `cws schedule next` lists
// their next times, and deployed rules carry the same expressions.
//
// The cron syntax is EventBridge's six fields (minutes, hours, day of
// month, month, day of week, year) with the wildcards , - * / in every
// field, ? in the day fields (exactly one of them), L and W in the day of
// month (L, LW, 3W), L and # in the day of week (L, 5L, 3#2), month names
// JAN-DEC and day names SUN-SAT (1 is Sunday). An invalid expression is an
// *InvalidError whose message starts as AWS's does.
package schedule

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Schedule is a parsed schedule expression.
type Schedule interface {
	// Next returns the first fire time after t, or the zero time when
	// there is none (a cron whose years are over).
	Next(t time.Time) time.Time
	// String returns the expression.
	String() string
}

// InvalidError is the error of an expression EventBridge refuses: its
// message is AWS's, followed by the reason.
type InvalidError struct {
	Expression string
	Reason     string
}

// Error implements error.
func (e *InvalidError) Error() string {
	return "Parameter ScheduleExpression is not valid. Reason: " + e.Reason
}

func invalid(expr, format string, args ...any) error {
	return &InvalidError{Expression: expr, Reason: fmt.Sprintf(format, args...)}
}

// Parse reads a rate or cron expression.
func Parse(expr string) (Schedule, error) {
	switch {
	case strings.HasPrefix(expr, "rate(") && strings.HasSuffix(expr, ")"):
		return parseRate(expr)
	case strings.HasPrefix(expr, "cron(") && strings.HasSuffix(expr, ")"):
		return parseCron(expr)
	}
	return nil, invalid(expr, "%q is neither rate(value unit) nor cron(fields)", expr)
}

// MustParse is Parse for expressions known to be valid; it panics
// otherwise.
func MustParse(expr string) Schedule {
	s, err := Parse(expr)
	if err != nil {
		panic(err)
	}
	return s
}

// Rate is a rate expression: every Every from the rule's start.
type Rate struct {
	Every time.Duration
	expr  string
}

func parseRate(expr string) (Schedule, error) {
	f := strings.Fields(expr[len("rate(") : len(expr)-1])
	if len(f) != 2 {
		return nil, invalid(expr, "a rate is rate(value unit), e.g. rate(5 minutes)")
	}
	n, err := strconv.Atoi(f[0])
	if err != nil || n <= 0 || f[0][0] == '+' {
		return nil, invalid(expr, "the value %q of a rate is not a positive integer", f[0])
	}
	units := map[string]time.Duration{"minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour}
	unit := f[1]
	base := strings.TrimSuffix(unit, "s")
	d, ok := units[base]
	if !ok {
		return nil, invalid(expr, "the unit %q of a rate is not minute(s), hour(s) or day(s)", unit)
	}
	if n == 1 && unit != base {
		return nil, invalid(expr, "a rate of 1 takes a singular unit: rate(1 %s)", base)
	}
	if n > 1 && unit == base {
		return nil, invalid(expr, "a rate over 1 takes a plural unit: rate(%d %ss)", n, base)
	}
	if time.Duration(n) > (1<<62)/d {
		return nil, invalid(expr, "the rate %d %s is too large", n, unit)
	}
	return &Rate{Every: time.Duration(n) * d, expr: expr}, nil
}

// Next implements Schedule: t plus the rate (a rate counts from when its
// rule starts; t stands for that start, or the previous fire time).
func (r *Rate) Next(t time.Time) time.Time { return t.UTC().Add(r.Every) }

// String implements Schedule.
func (r *Rate) String() string { return r.expr }
