package asl

import (
	"strings"
)

// match evaluates a choice rule on the Choice state's input. A comparison
// of values of another type is false; a Variable that matches nothing is
// States.Runtime, except for IsPresent.
func (r *ChoiceRule) match(input, ctxObj any) (bool, error) {
	switch {
	case r.And != nil:
		for _, c := range r.And {
			ok, err := c.match(input, ctxObj)
			if err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	case r.Or != nil:
		for _, c := range r.Or {
			ok, err := c.match(input, ctxObj)
			if err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	case r.Not != nil:
		ok, err := r.Not.match(input, ctxObj)
		return !ok && err == nil, err
	}
	v, found, err := lookup(r.Variable, input, ctxObj)
	if err != nil {
		return false, err
	}
	op, want := r.Op, r.Value
	if op == "IsPresent" {
		return found == want.(bool), nil
	}
	if !found {
		return false, Errorf(ErrRuntime, "Invalid path '%s': The choice state's condition path references an invalid value.", r.Variable)
	}
	if name, ok := strings.CutSuffix(op, "Path"); ok {
		other, err := mustLookup(want.(string), input, ctxObj, "choice state's comparison")
		if err != nil {
			return false, err
		}
		op, want = name, other
	}
	switch op {
	case "IsNull":
		return (v == nil) == want.(bool), nil
	case "IsNumeric":
		_, isNum := toFloat(v)
		return isNum == want.(bool), nil
	case "IsString":
		_, isStr := v.(string)
		return isStr == want.(bool), nil
	case "IsBoolean":
		_, isBool := v.(bool)
		return isBool == want.(bool), nil
	case "IsTimestamp":
		s, isStr := v.(string)
		_, err := parseTimestamp(s)
		return (isStr && err == nil) == want.(bool), nil
	case "BooleanEquals":
		b, ok1 := v.(bool)
		w, ok2 := want.(bool)
		return ok1 && ok2 && b == w, nil
	case "StringMatches":
		s, ok1 := v.(string)
		w, ok2 := want.(string)
		return ok1 && ok2 && wildcardMatch(w, s), nil
	}
	switch {
	case strings.HasPrefix(op, "String"):
		s, ok1 := v.(string)
		w, ok2 := want.(string)
		if !ok1 || !ok2 {
			return false, nil
		}
		return compare(op[len("String"):], strings.Compare(s, w)), nil
	case strings.HasPrefix(op, "Numeric"):
		a, ok1 := toFloat(v)
		b, ok2 := toFloat(want)
		if !ok1 || !ok2 {
			return false, nil
		}
		c := 0
		if a < b {
			c = -1
		} else if a > b {
			c = 1
		}
		return compare(op[len("Numeric"):], c), nil
	case strings.HasPrefix(op, "Timestamp"):
		s, ok1 := v.(string)
		w, ok2 := want.(string)
		if !ok1 || !ok2 {
			return false, nil
		}
		a, err1 := parseTimestamp(s)
		b, err2 := parseTimestamp(w)
		if err1 != nil || err2 != nil {
			return false, nil
		}
		return compare(op[len("Timestamp"):], a.Compare(b)), nil
	}
	return false, Errorf(ErrRuntime, "unknown comparison %s", r.Op)
}

// compare applies a comparison's suffix (Equals, LessThan …) to the
// result of a three-way comparison.
func compare(rel string, c int) bool {
	switch rel {
	case "Equals":
		return c == 0
	case "LessThan":
		return c < 0
	case "GreaterThan":
		return c > 0
	case "LessThanEquals":
		return c <= 0
	case "GreaterThanEquals":
		return c >= 0
	}
	return false
}

// wildcardMatch matches StringMatches' patterns: * is any run of
// characters, \* a star and \\ a backslash.
func wildcardMatch(pattern, s string) bool {
	type tok struct {
		star bool
		ch   rune
	}
	var toks []tok
	rs := []rune(pattern)
	for i := 0; i < len(rs); i++ {
		switch {
		case rs[i] == '\\' && i+1 < len(rs):
			i++
			toks = append(toks, tok{ch: rs[i]})
		case rs[i] == '*':
			toks = append(toks, tok{star: true})
		default:
			toks = append(toks, tok{ch: rs[i]})
		}
	}
	str := []rune(s)
	// Iterative matching with backtracking to the last star.
	ti, si, starTi, starSi := 0, 0, -1, 0
	for si < len(str) {
		switch {
		case ti < len(toks) && !toks[ti].star && toks[ti].ch == str[si]:
			ti++
			si++
		case ti < len(toks) && toks[ti].star:
			starTi, starSi = ti, si
			ti++
		case starTi >= 0:
			starSi++
			ti, si = starTi+1, starSi
		default:
			return false
		}
	}
	for ti < len(toks) && toks[ti].star {
		ti++
	}
	return ti == len(toks)
}
