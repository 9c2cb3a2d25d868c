package schedule

import (
	"strconv"
	"strings"
	"time"
)

// The years a cron expression can name.
const (
	minYear = 1970
	maxYear = 2199
)

// Cron is a cron expression: its fields as sets of values.
type Cron struct {
	expr    string
	minutes uint64    // bit m for minute m
	hours   uint64    // bit h for hour h
	months  uint64    // bit m for month m (1-12)
	years   [4]uint64 // bit y-1970
	dom     *domSpec  // nil when the day of month is ?
	dow     *dowSpec  // nil when the day of week is ?
}

// domSpec is a day-of-month field.
type domSpec struct {
	days        uint64 // bit d for day d (1-31)
	last        bool   // L
	lastWeekday bool   // LW
	nearest     []int  // nW: the weekday nearest to day n
}

// dowSpec is a day-of-week field (1 is Sunday).
type dowSpec struct {
	days uint64   // bit w for weekday w (1-7)
	last []int    // wL: the last weekday w of the month
	nth  [][2]int // w#n: the n-th weekday w of the month
}

var monthNames = map[string]int{"JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6, "JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12}
var dayNames = map[string]int{"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}

func parseCron(expr string) (Schedule, error) {
	f := strings.Fields(expr[len("cron(") : len(expr)-1])
	if len(f) != 6 {
		return nil, invalid(expr, "a cron has 6 fields (minutes hours day-of-month month day-of-week year), not %d", len(f))
	}
	c := &Cron{expr: expr}
	var err error
	if c.minutes, err = parseField(expr, "minutes", f[0], 0, 59, nil); err != nil {
		return nil, err
	}
	if c.hours, err = parseField(expr, "hours", f[1], 0, 23, nil); err != nil {
		return nil, err
	}
	if c.months, err = parseField(expr, "month", f[3], 1, 12, monthNames); err != nil {
		return nil, err
	}
	if f[2] != "?" {
		if c.dom, err = parseDOM(expr, f[2]); err != nil {
			return nil, err
		}
	}
	if f[4] != "?" {
		if c.dow, err = parseDOW(expr, f[4]); err != nil {
			return nil, err
		}
	}
	switch {
	case c.dom != nil && c.dow != nil:
		return nil, invalid(expr, "the day-of-month and day-of-week fields cannot both be specified: one of them must be ?")
	case c.dom == nil && c.dow == nil:
		return nil, invalid(expr, "the day-of-month and day-of-week fields cannot both be ?")
	}
	// Years do not fit one word: parse them as offsets from 1970.
	if f[5] == "*" {
		for y := minYear; y <= maxYear; y++ {
			c.years[(y-minYear)/64] |= 1 << ((y - minYear) % 64)
		}
	} else {
		for _, item := range strings.Split(f[5], ",") {
			if item == "?" {
				return nil, invalid(expr, "? is only for the day-of-month and day-of-week fields, not year")
			}
			lo, hi, step, err := parseItem(expr, "year", item, minYear, maxYear, nil)
			if err != nil {
				return nil, err
			}
			for _, y := range expand(lo, hi, step, minYear, maxYear) {
				c.years[(y-minYear)/64] |= 1 << ((y - minYear) % 64)
			}
		}
	}
	return c, nil
}

// parseField reads a field of plain values: lists, ranges, steps, *.
func parseField(expr, name, field string, min, max int, names map[string]int) (uint64, error) {
	var set uint64
	for _, item := range strings.Split(field, ",") {
		if item == "?" {
			return 0, invalid(expr, "? is only for the day-of-month and day-of-week fields, not %s", name)
		}
		lo, hi, step, err := parseItem(expr, name, item, min, max, names)
		if err != nil {
			return 0, err
		}
		for _, v := range expand(lo, hi, step, min, max) {
			set |= 1 << v
		}
	}
	return set, nil
}

// parseItem reads *, a, a-b, with an optional /step; a range may wrap
// around (FRI-MON, 22-2).
func parseItem(expr, name, item string, min, max int, names map[string]int) (lo, hi, step int, err error) {
	base, stepText, hasStep := strings.Cut(item, "/")
	step = 1
	if hasStep {
		step, err = strconv.Atoi(stepText)
		if err != nil || step <= 0 || stepText[0] == '+' {
			return 0, 0, 0, invalid(expr, "the step %q in the %s field is not a positive integer", stepText, name)
		}
		if step > max-min+1 {
			return 0, 0, 0, invalid(expr, "the step %d in the %s field is larger than its range %d-%d", step, name, min, max)
		}
	}
	if base == "*" {
		return min, max, step, nil
	}
	a, b, isRange := strings.Cut(base, "-")
	if lo, err = value(expr, name, a, min, max, names); err != nil {
		return 0, 0, 0, err
	}
	hi = lo
	if hasStep {
		hi = max // a/step: from a to the end
	}
	if isRange {
		if hi, err = value(expr, name, b, min, max, names); err != nil {
			return 0, 0, 0, err
		}
	}
	return lo, hi, step, nil
}

// value reads one number or name of a field.
func value(expr, name, s string, min, max int, names map[string]int) (int, error) {
	if v, ok := names[strings.ToUpper(s)]; ok {
		return v, nil
	}
	v, err := strconv.Atoi(s)
	if err != nil || s == "" || s[0] == '+' || s[0] == '-' {
		return 0, invalid(expr, "%q is not a value of the %s field", s, name)
	}
	if v < min || v > max {
		return 0, invalid(expr, "%d is out of the %s field's range %d-%d", v, name, min, max)
	}
	return v, nil
}

// expand lists the values from lo to hi by step, wrapping past max.
func expand(lo, hi, step, min, max int) []int {
	var out []int
	n := hi - lo
	if n < 0 {
		n += max - min + 1
	}
	for i := 0; i <= n; i += step {
		v := lo + i
		if v > max {
			v -= max - min + 1
		}
		out = append(out, v)
	}
	return out
}

func parseDOM(expr, field string) (*domSpec, error) {
	d := &domSpec{}
	for _, item := range strings.Split(field, ",") {
		switch {
		case item == "?":
			return nil, invalid(expr, "? stands alone in the day-of-month field")
		case item == "L":
			d.last = true
		case item == "LW":
			d.lastWeekday = true
		case strings.HasSuffix(item, "W") && !strings.ContainsAny(item, "-/*,"):
			n, err := value(expr, "day-of-month", strings.TrimSuffix(item, "W"), 1, 31, nil)
			if err != nil {
				return nil, err
			}
			d.nearest = append(d.nearest, n)
		default:
			lo, hi, step, err := parseItem(expr, "day-of-month", item, 1, 31, nil)
			if err != nil {
				return nil, err
			}
			for _, v := range expand(lo, hi, step, 1, 31) {
				d.days |= 1 << v
			}
		}
	}
	return d, nil
}

func parseDOW(expr, field string) (*dowSpec, error) {
	d := &dowSpec{}
	for _, item := range strings.Split(field, ",") {
		switch {
		case item == "?":
			return nil, invalid(expr, "? stands alone in the day-of-week field")
		case item == "L":
			d.days |= 1 << 7 // the last day of the week: Saturday
		case strings.HasSuffix(item, "L"):
			w, err := value(expr, "day-of-week", strings.TrimSuffix(item, "L"), 1, 7, dayNames)
			if err != nil {
				return nil, err
			}
			d.last = append(d.last, w)
		case strings.Contains(item, "#"):
			a, b, _ := strings.Cut(item, "#")
			w, err := value(expr, "day-of-week", a, 1, 7, dayNames)
			if err != nil {
				return nil, err
			}
			n, err := strconv.Atoi(b)
			if err != nil || n < 1 || n > 5 || b[0] == '+' {
				return nil, invalid(expr, "in %q, the week of the month must be 1 to 5", item)
			}
			d.nth = append(d.nth, [2]int{w, n})
		default:
			lo, hi, step, err := parseItem(expr, "day-of-week", item, 1, 7, dayNames)
			if err != nil {
				return nil, err
			}
			for _, v := range expand(lo, hi, step, 1, 7) {
				d.days |= 1 << v
			}
		}
	}
	return d, nil
}

// String implements Schedule.
func (c *Cron) String() string { return c.expr }

// daysIn returns how many days month m of year y has.
func daysIn(y, m int) int {
	return time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// weekday returns the weekday of a date, 1 for Sunday.
func weekday(y, m, d int) int {
	return int(time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC).Weekday()) + 1
}

// days returns the set of days of month m of year y the expression fires
// on.
func (c *Cron) days(y, m int) uint64 {
	n := daysIn(y, m)
	var set uint64
	if dom := c.dom; dom != nil {
		set = dom.days & (1<<(n+1) - 2)
		if dom.last {
			set |= 1 << n
		}
		if dom.lastWeekday {
			d := n
			for w := weekday(y, m, d); w == 1 || w == 7; w = weekday(y, m, d) {
				d--
			}
			set |= 1 << d
		}
		for _, d := range dom.nearest {
			if d > n {
				continue
			}
			switch weekday(y, m, d) {
			case 7: // Saturday: the Friday before, or the Monday after the 1st
				if d > 1 {
					d--
				} else {
					d += 2
				}
			case 1: // Sunday: the Monday after, or the Friday before the last day
				if d < n {
					d++
				} else {
					d -= 2
				}
			}
			set |= 1 << d
		}
		return set
	}
	dow := c.dow
	first := weekday(y, m, 1)
	for d := 1; d <= n; d++ {
		w := (first+d-2)%7 + 1
		if dow.days&(1<<w) != 0 {
			set |= 1 << d
		}
	}
	for _, w := range dow.last {
		d := 1 + (w-first+7)%7 // the first such weekday
		for d+7 <= n {
			d += 7
		}
		set |= 1 << d
	}
	for _, wn := range dow.nth {
		d := 1 + (wn[0]-first+7)%7 + 7*(wn[1]-1)
		if d <= n {
			set |= 1 << d
		}
	}
	return set
}

// Next implements Schedule: the first minute after t that every field
// allows, in UTC.
func (c *Cron) Next(t time.Time) time.Time {
	start := t.UTC().Truncate(time.Minute).Add(time.Minute)
	if start.Year() < minYear {
		start = time.Date(minYear, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	sy, sm, sd, sh, smin := start.Year(), int(start.Month()), start.Day(), start.Hour(), start.Minute()
	for y := sy; y <= maxYear; y++ {
		if c.years[(y-minYear)/64]&(1<<((y-minYear)%64)) == 0 {
			continue
		}
		for m := 1; m <= 12; m++ {
			if c.months&(1<<m) == 0 || (y == sy && m < sm) {
				continue
			}
			days := c.days(y, m)
			for d := 1; d <= 31; d++ {
				if days&(1<<d) == 0 {
					continue
				}
				sameDay := y == sy && m == sm && d == sd
				if y == sy && m == sm && d < sd {
					continue
				}
				for h := 0; h < 24; h++ {
					if c.hours&(1<<h) == 0 || (sameDay && h < sh) {
						continue
					}
					for mi := 0; mi < 60; mi++ {
						if c.minutes&(1<<mi) == 0 || (sameDay && h == sh && mi < smin) {
							continue
						}
						return time.Date(y, time.Month(m), d, h, mi, 0, 0, time.UTC)
					}
				}
			}
		}
	}
	return time.Time{}
}
