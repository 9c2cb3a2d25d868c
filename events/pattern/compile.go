// Package pattern is EventBridge's event-pattern language: Compile checks a
// pattern and reports an invalid one with the reason AWS gives, Pattern
// matches events, and Matcher finds the patterns (of many) an event
// matches without trying every one.
//
// The semantics are EventBridge's, checked against AWS-validated cases
// (events/testdata/eventbridge-patterns): fields are ANDed, the values of a
// field ORed; paths join keys with dots, so {"a":{"b":[1]}} and {"a.b":[1]}
// are the same pattern, and an event's {"a.b":1} and {"a":{"b":1}} the
// same value; a value that is an array matches when one of its elements
// does, and fields matched inside the same array take their values from
// the same element; matching is type-strict (the number 300 is 300.0, not
// "300"); exists applies to leaves only; anything-but matches null but not
// a missing field.
package pattern

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/netip"
	"sort"
	"strconv"
	"strings"
)

// InvalidError is an invalid pattern; Reason is AWS's reason.
type InvalidError struct {
	Reason string
}

// Error is the message of AWS's InvalidEventPatternException.
func (e *InvalidError) Error() string { return "Event pattern is not valid. Reason: " + e.Reason }

func invalid(format string, args ...any) error {
	return &InvalidError{Reason: fmt.Sprintf(format, args...)}
}

// Pattern is a compiled event pattern: a disjunction ($or) of
// conjunctions of fields.
type Pattern struct {
	source string
	alts   [][]*field
}

// field is the conditions on the values at one path, ORed.
type field struct {
	path        string
	conds       []cond
	existsFalse bool // {"exists": false} is one of the conditions
}

// String returns the pattern's source.
func (p *Pattern) String() string { return p.source }

// Compile checks and compiles a pattern.
func Compile(src []byte) (*Pattern, error) {
	dec := json.NewDecoder(bytes.NewReader(src))
	dec.UseNumber()
	var root any
	if err := dec.Decode(&root); err != nil {
		return nil, invalid("Filter is not valid JSON: %v", err)
	}
	if dec.More() {
		return nil, invalid("Filter is not valid JSON: data after the pattern")
	}
	obj, ok := root.(map[string]any)
	if !ok {
		return nil, invalid("Filter is not an object")
	}
	alts, err := compileObject("", obj)
	if err != nil {
		return nil, err
	}
	for _, a := range alts {
		sort.Slice(a, func(i, j int) bool { return a[i].path < a[j].path })
	}
	return &Pattern{source: string(src), alts: alts}, nil
}

// MustCompile is Compile that panics on an invalid pattern.
func MustCompile(src string) *Pattern {
	p, err := Compile([]byte(src))
	if err != nil {
		panic(err)
	}
	return p
}

// sortedKeys returns the keys of an object in order, for deterministic
// errors.
func sortedKeys(obj map[string]any) []string {
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// compileObject compiles an object at prefix into its alternatives.
func compileObject(prefix string, obj map[string]any) ([][]*field, error) {
	alts := [][]*field{nil}
	for _, k := range sortedKeys(obj) {
		v := obj[k]
		if k == "$or" {
			list, ok := v.([]any)
			if !ok || len(list) < 2 {
				return nil, invalid("Or relationship must be an array of at least two objects")
			}
			var ors [][]*field
			for _, item := range list {
				sub, ok := item.(map[string]any)
				if !ok {
					return nil, invalid("Or relationship must be an array of at least two objects")
				}
				subAlts, err := compileObject(prefix, sub)
				if err != nil {
					return nil, err
				}
				ors = append(ors, subAlts...)
			}
			alts = cross(alts, ors)
			continue
		}
		path := k
		if prefix != "" {
			path = prefix + "." + k
		}
		switch v := v.(type) {
		case map[string]any:
			sub, err := compileObject(path, v)
			if err != nil {
				return nil, err
			}
			alts = cross(alts, sub)
		case []any:
			f, err := compileLeaf(path, v)
			if err != nil {
				return nil, err
			}
			for i := range alts {
				alts[i] = append(alts[i], f)
			}
		default:
			return nil, invalid("%q must be an object or an array", k)
		}
	}
	return alts, nil
}

// cross returns every conjunction of one of a with one of b.
func cross(a, b [][]*field) [][]*field {
	if len(b) == 0 {
		return a
	}
	out := make([][]*field, 0, len(a)*len(b))
	for _, x := range a {
		for _, y := range b {
			c := make([]*field, 0, len(x)+len(y))
			out = append(out, append(append(c, x...), y...))
		}
	}
	return out
}

// compileLeaf compiles the array of conditions of a field.
func compileLeaf(path string, list []any) (*field, error) {
	if len(list) == 0 {
		return nil, invalid("Empty arrays are not allowed")
	}
	f := &field{path: path}
	for _, item := range list {
		switch v := item.(type) {
		case map[string]any:
			c, existsFalse, err := compileMatch(v)
			if err != nil {
				return nil, err
			}
			if existsFalse {
				f.existsFalse = true
				continue
			}
			f.conds = append(f.conds, c)
		case []any:
			return nil, invalid("Match value must be String, number, true, false, or null")
		default:
			f.conds = append(f.conds, literal(v))
		}
	}
	return f, nil
}

// literal is an exact value condition.
func literal(v any) cond {
	switch v := v.(type) {
	case string:
		return equalString(v)
	case json.Number:
		f, _ := v.Float64()
		return equalNumber(f)
	case bool:
		return equalBool(v)
	}
	return equalNull{}
}

// compileMatch compiles a match expression ({"prefix": ...}); the second
// result reports {"exists": false}.
func compileMatch(obj map[string]any) (cond, bool, error) {
	if len(obj) != 1 {
		return nil, false, invalid("Only one key allowed in match expression")
	}
	for op, arg := range obj {
		switch op {
		case "prefix", "suffix":
			c, err := compileAffix(op, arg)
			return c, false, err
		case "equals-ignore-case":
			s, ok := arg.(string)
			if !ok {
				return nil, false, invalid("equals-ignore-case match pattern must be a string")
			}
			return equalFold(s), false, nil
		case "anything-but":
			c, err := compileAnythingBut(arg)
			return c, false, err
		case "numeric":
			c, err := compileNumeric(arg)
			return c, false, err
		case "exists":
			b, ok := arg.(bool)
			if !ok {
				return nil, false, invalid("exists match pattern must be either true or false.")
			}
			return exists{}, !b, nil
		case "wildcard":
			s, ok := arg.(string)
			if !ok {
				return nil, false, invalid("wildcard match pattern must be a string")
			}
			c, err := compileWildcard(s)
			return c, false, err
		case "cidr":
			c, err := compileCIDR(arg)
			return c, false, err
		default:
			return nil, false, invalid("Unrecognized match type %s", op)
		}
	}
	panic("unreachable")
}

// compileAffix compiles prefix or suffix: a string, or
// {"equals-ignore-case": string}.
func compileAffix(op string, arg any) (cond, error) {
	fold := false
	if m, ok := arg.(map[string]any); ok && len(m) == 1 {
		if s, ok := m["equals-ignore-case"]; ok {
			arg, fold = s, true
		}
	}
	s, ok := arg.(string)
	if !ok {
		return nil, invalid("%s match pattern must be a string", op)
	}
	if op == "prefix" {
		return prefix{s: s, fold: fold}, nil
	}
	return suffix{s: s, fold: fold}, nil
}

// compileAnythingBut compiles anything-but's argument: a string or number,
// a list of them, or a prefix, suffix, wildcard or equals-ignore-case.
func compileAnythingBut(arg any) (cond, error) {
	switch v := arg.(type) {
	case string, json.Number:
		return anythingBut{inner: literal(v)}, nil
	case []any:
		if len(v) == 0 {
			return nil, invalid("Empty arrays are not allowed")
		}
		var inner anyOf
		for _, item := range v {
			switch item.(type) {
			case string, json.Number:
				inner = append(inner, literal(item))
			default:
				return nil, invalid("Inside anything but list, start|null|boolean is not supported.")
			}
		}
		return anythingBut{inner: inner}, nil
	case map[string]any:
		if len(v) != 1 {
			return nil, invalid("Only one key allowed in match expression")
		}
		for op, a := range v {
			switch op {
			case "prefix", "suffix":
				return compileAnythingButAffix(op, a)
			case "wildcard":
				ss, err := stringOrList(a, "wildcard match pattern must be a string", "wildcard match pattern must be a string")
				if err != nil {
					return nil, err
				}
				var inner anyOf
				for _, s := range ss {
					c, err := compileWildcard(s)
					if err != nil {
						return nil, err
					}
					inner = append(inner, c)
				}
				return anythingBut{inner: inner}, nil
			case "equals-ignore-case":
				msg := "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported."
				ss, err := stringOrList(a, msg, msg)
				if err != nil {
					return nil, err
				}
				var inner anyOf
				for _, s := range ss {
					inner = append(inner, equalFold(s))
				}
				return anythingBut{inner: inner}, nil
			default:
				return nil, invalid("Unsupported anything-but pattern: %s", op)
			}
		}
	}
	return nil, invalid("Value of anything-but must be an array or single string/number value.")
}

// compileAnythingButAffix compiles anything-but prefix or suffix: a
// non-empty string or a list of them.
func compileAnythingButAffix(op string, a any) (cond, error) {
	if _, ok := a.(map[string]any); ok {
		return nil, invalid("Value of anything-but must be an array or single string/number value.")
	}
	ss, err := stringOrList(a, "prefix/suffix match pattern must be a string", "prefix/suffix match pattern must be a string")
	if err != nil {
		return nil, err
	}
	var inner anyOf
	for _, s := range ss {
		if s == "" {
			return nil, invalid("Null prefix/suffix not allowed")
		}
		if op == "prefix" {
			inner = append(inner, prefix{s: s})
		} else {
			inner = append(inner, suffix{s: s})
		}
	}
	return anythingBut{inner: inner}, nil
}

// stringOrList reads a string or a non-empty list of strings.
func stringOrList(a any, notString, notStringInList string) ([]string, error) {
	switch v := a.(type) {
	case string:
		return []string{v}, nil
	case []any:
		if len(v) == 0 {
			return nil, invalid("Empty arrays are not allowed")
		}
		out := make([]string, len(v))
		for i, item := range v {
			s, ok := item.(string)
			if !ok {
				return nil, invalid("%s", notStringInList)
			}
			out[i] = s
		}
		return out, nil
	}
	return nil, invalid("%s", notString)
}

// numericLimit bounds the numbers of numeric matching, as EventBridge does.
const numericLimit = 5e9

// compileNumeric compiles {"numeric": [op, n, (op, n)]}.
func compileNumeric(arg any) (cond, error) {
	list, ok := arg.([]any)
	if !ok {
		return nil, invalid("Value of numeric must be an array.")
	}
	r := numeric{lo: math.Inf(-1), hi: math.Inf(1)}
	seenLo, seenHi, seenEq := false, false, false
	for i := 0; i < len(list); i += 2 {
		op, ok := list[i].(string)
		if !ok {
			return nil, invalid("Value of numeric must be an array.")
		}
		switch op {
		case "=", "<", "<=", ">", ">=":
		default:
			return nil, invalid("Unrecognized numeric range operator: %s", op)
		}
		if i+1 >= len(list) {
			return nil, invalid("Value of %s must be numeric", op)
		}
		n, ok := list[i+1].(json.Number)
		if !ok {
			return nil, invalid("Value of %s must be numeric", op)
		}
		x, err := strconv.ParseFloat(string(n), 64)
		if err != nil || x < -numericLimit || x > numericLimit {
			return nil, invalid("Value of %s must be numeric", op)
		}
		switch {
		case op == "=" && i == 0 && len(list) == 2:
			r.lo, r.hi, seenEq = x, x, true
		case (op == ">" || op == ">=") && !seenLo && !seenEq:
			r.lo, r.loOpen, seenLo = x, op == ">", true
		case (op == "<" || op == "<=") && !seenHi && !seenEq:
			r.hi, r.hiOpen, seenHi = x, op == "<", true
		default:
			return nil, invalid("Bad numeric range operator: %s", op)
		}
	}
	if len(list) == 0 {
		return nil, invalid("Empty arrays are not allowed")
	}
	if r.lo > r.hi || (r.lo == r.hi && (r.loOpen || r.hiOpen)) {
		return nil, invalid("Bad numeric range: the lower bound is above the upper bound")
	}
	return r, nil
}

// maxWildcards is how many wildcards a value may have: EventBridge refuses
// patterns whose wildcards make matching too complex; its exact rule
// (event-ruler's machine complexity) is approximated by this count, which
// agrees with every AWS-validated case.
const maxWildcards = 5

// compileWildcard compiles a wildcard pattern: * matches any sequence, \*
// a star and \\ a backslash.
func compileWildcard(s string) (cond, error) {
	var segs []string
	var cur strings.Builder
	stars := 0
	prevStar := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && (s[i+1] == '*' || s[i+1] == '\\'):
			cur.WriteByte(s[i+1])
			i++
			prevStar = false
		case c == '*':
			if prevStar {
				return nil, invalid("Consecutive wildcard characters at pos %d", i)
			}
			segs = append(segs, cur.String())
			cur.Reset()
			stars++
			prevStar = true
		default:
			cur.WriteByte(c)
			prevStar = false
		}
	}
	segs = append(segs, cur.String())
	if stars > maxWildcards {
		return nil, invalid("Rule is too complex - try using fewer wildcard characters or fewer repeating character sequences after a wildcard character")
	}
	return wildcard{segs: segs}, nil
}

// compileCIDR compiles {"cidr": "10.0.0.0/24"} (or IPv6).
func compileCIDR(arg any) (cond, error) {
	s, ok := arg.(string)
	if !ok {
		return nil, invalid("prefix match pattern must be a string")
	}
	ip, bits, ok := strings.Cut(s, "/")
	if !ok || strings.Contains(bits, "/") {
		return nil, invalid("Malformed CIDR, one '/' required")
	}
	n, err := strconv.Atoi(bits)
	if err != nil {
		return nil, invalid("Malformed CIDR, mask bits must be an integer")
	}
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return nil, invalid("Nonstandard IP address: %s", ip)
	}
	if n < 0 || n > addr.BitLen() {
		return nil, invalid("Malformed CIDR, mask bits must be between 0 and %d", addr.BitLen())
	}
	prefix, err := addr.Prefix(n)
	if err != nil {
		return nil, invalid("Malformed CIDR: %v", err)
	}
	return cidr{prefix: prefix}, nil
}
