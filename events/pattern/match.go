package pattern

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// kind is the JSON type of an event value.
type kind uint8

const (
	kindString kind = iota
	kindNumber
	kindBool
	kindNull
)

// value is one leaf value of an event, with the array elements it lies in.
type value struct {
	kind kind
	s    string  // a string
	f    float64 // a number
	b    bool
	arr  []elem // the (array, element) pairs enclosing it, outermost first
}

// elem is an element of an array of the event.
type elem struct{ array, index int }

// Event is an event flattened into the leaf values at each dotted path.
type Event struct {
	values map[string][]value
}

// Values returns how many leaf values the event has at path.
func (e *Event) Values(path string) int { return len(e.values[path]) }

// Flatten parses an event (a JSON object) for matching.
func Flatten(data []byte) (*Event, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var root any
	if err := dec.Decode(&root); err != nil {
		return nil, fmt.Errorf("the event is not JSON: %w", err)
	}
	obj, ok := root.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("the event is not a JSON object")
	}
	e := &Event{values: map[string][]value{}}
	arrays := 0
	var walk func(path string, v any, arr []elem)
	walk = func(path string, v any, arr []elem) {
		switch v := v.(type) {
		case map[string]any:
			for k, sub := range v {
				p := k
				if path != "" {
					p = path + "." + k
				}
				walk(p, sub, arr)
			}
		case []any:
			arrays++
			id := arrays
			for i, sub := range v {
				walk(path, sub, append(arr[:len(arr):len(arr)], elem{id, i}))
			}
		case string:
			e.values[path] = append(e.values[path], value{kind: kindString, s: v, arr: arr})
		case json.Number:
			f, err := strconv.ParseFloat(string(v), 64)
			if err != nil {
				// A number too large for a float64 matches no number.
				f = nanNumber
			}
			e.values[path] = append(e.values[path], value{kind: kindNumber, f: f, arr: arr})
		case bool:
			e.values[path] = append(e.values[path], value{kind: kindBool, b: v, arr: arr})
		case nil:
			e.values[path] = append(e.values[path], value{kind: kindNull, arr: arr})
		}
	}
	walk("", obj, nil)
	return e, nil
}

// Match reports whether the pattern matches the event (a JSON object).
func (p *Pattern) Match(event []byte) (bool, error) {
	e, err := Flatten(event)
	if err != nil {
		return false, err
	}
	return p.MatchEvent(e), nil
}

// MatchEvent reports whether the pattern matches a flattened event.
func (p *Pattern) MatchEvent(e *Event) bool {
	for _, alt := range p.alts {
		if matchAll(alt, e) {
			return true
		}
	}
	return false
}

// matchAll reports whether every field of a conjunction matches, with the
// values of fields inside the same event array taken from the same element.
func matchAll(fields []*field, e *Event) bool {
	var chosen []elem
	var try func(i int) bool
	try = func(i int) bool {
		if i == len(fields) {
			return true
		}
		f := fields[i]
		vals := e.values[f.path]
		if len(vals) == 0 {
			return f.existsFalse && try(i+1)
		}
		for vi := range vals {
			v := &vals[vi]
			if !consistent(chosen, v.arr) || !f.matches(v) {
				continue
			}
			n := len(chosen)
			chosen = append(chosen, v.arr...)
			if try(i + 1) {
				return true
			}
			chosen = chosen[:n]
		}
		return false
	}
	return try(0)
}

// consistent reports whether a value's array elements agree with those
// chosen so far: the same array, the same element.
func consistent(chosen, arr []elem) bool {
	for _, a := range arr {
		for _, c := range chosen {
			if a.array == c.array && a.index != c.index {
				return false
			}
		}
	}
	return true
}

func (f *field) matches(v *value) bool {
	for _, c := range f.conds {
		if c.match(v) {
			return true
		}
	}
	return false
}

// cond is a condition on one value.
type cond interface {
	match(v *value) bool
}

type equalString string

func (c equalString) match(v *value) bool { return v.kind == kindString && v.s == string(c) }

type equalNumber float64

func (c equalNumber) match(v *value) bool { return v.kind == kindNumber && v.f == float64(c) }

type equalBool bool

func (c equalBool) match(v *value) bool { return v.kind == kindBool && v.b == bool(c) }

type equalNull struct{}

func (equalNull) match(v *value) bool { return v.kind == kindNull }

type equalFold string

func (c equalFold) match(v *value) bool {
	return v.kind == kindString && strings.EqualFold(v.s, string(c))
}

type prefix struct {
	s    string
	fold bool
}

func (c prefix) match(v *value) bool {
	if v.kind != kindString || len(v.s) < len(c.s) {
		return false
	}
	if c.fold {
		return strings.EqualFold(v.s[:len(c.s)], c.s)
	}
	return strings.HasPrefix(v.s, c.s)
}

type suffix struct {
	s    string
	fold bool
}

func (c suffix) match(v *value) bool {
	if v.kind != kindString || len(v.s) < len(c.s) {
		return false
	}
	if c.fold {
		return strings.EqualFold(v.s[len(v.s)-len(c.s):], c.s)
	}
	return strings.HasSuffix(v.s, c.s)
}

// exists matches any value: {"exists": true}.
type exists struct{}

func (exists) match(*value) bool { return true }

// anythingBut matches any value the inner condition does not match, null
// included.
type anythingBut struct{ inner cond }

func (c anythingBut) match(v *value) bool { return !c.inner.match(v) }

// anyOf matches what one of its conditions matches.
type anyOf []cond

func (c anyOf) match(v *value) bool {
	for _, x := range c {
		if x.match(v) {
			return true
		}
	}
	return false
}

// nanNumber marks an event number that cannot be compared.
var nanNumber = func() float64 { var z float64; return z / z }()

type numeric struct {
	lo, hi         float64
	loOpen, hiOpen bool
}

func (c numeric) match(v *value) bool {
	if v.kind != kindNumber || v.f != v.f {
		return false
	}
	if v.f < c.lo || (c.loOpen && v.f == c.lo) {
		return false
	}
	return v.f < c.hi || (!c.hiOpen && v.f == c.hi)
}

// wildcard matches strings made of its segments, in order, with anything
// between them.
type wildcard struct{ segs []string }

func (c wildcard) match(v *value) bool {
	if v.kind != kindString {
		return false
	}
	s := v.s
	first, last := c.segs[0], c.segs[len(c.segs)-1]
	if len(c.segs) == 1 {
		return s == first
	}
	if !strings.HasPrefix(s, first) {
		return false
	}
	s = s[len(first):]
	for _, seg := range c.segs[1 : len(c.segs)-1] {
		i := strings.Index(s, seg)
		if i < 0 {
			return false
		}
		s = s[i+len(seg):]
	}
	return strings.HasSuffix(s, last)
}

type cidr struct{ prefix netip.Prefix }

func (c cidr) match(v *value) bool {
	if v.kind != kindString {
		return false
	}
	addr, err := netip.ParseAddr(v.s)
	return err == nil && c.prefix.Contains(addr)
}
