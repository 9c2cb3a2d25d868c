package asl

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/ohler55/ojg/jp"
)

// A path is a JSONPath on the state's input ("$…") or on the context
// object ("$$…"). Paths are compiled once (ojg's jp) and kept.
type path struct {
	expr     jp.Expr
	context  bool // $$: the context object
	definite bool // one value at most: no wildcard, filter, slice, union, descent
}

var paths sync.Map // string → *path

func compilePath(s string) (*path, error) {
	if p, ok := paths.Load(s); ok {
		return p.(*path), nil
	}
	p := &path{}
	src := s
	switch {
	case strings.HasPrefix(s, "$$"):
		p.context, src = true, s[1:]
	case strings.HasPrefix(s, "$"):
	default:
		return nil, fmt.Errorf("a path starts with $")
	}
	expr, err := jp.ParseString(src)
	if err != nil {
		return nil, err
	}
	p.expr, p.definite = expr, true
	for _, f := range expr {
		switch f.(type) {
		case jp.Root, jp.Child, jp.Nth, jp.Bracket:
		default:
			p.definite = false
		}
	}
	paths.Store(s, p)
	return p, nil
}

// referencePath compiles a reference path (ResultPath): $ followed by
// fields and indexes only.
func referencePath(s string) (*path, error) {
	p, err := compilePath(s)
	if err != nil {
		return nil, err
	}
	if p.context || !p.definite {
		return nil, fmt.Errorf("a reference path has only fields and indexes")
	}
	return p, nil
}

// lookup evaluates a path on the input (or the context object): its value,
// or the list of values of an indefinite path; found is false when a
// definite path matches nothing.
func lookup(s string, input, ctxObj any) (v any, found bool, err error) {
	p, err := compilePath(s)
	if err != nil {
		return nil, false, Errorf(ErrRuntime, "Invalid path '%s': %v", s, err)
	}
	data := input
	if p.context {
		data = ctxObj
		if c, ok := ctxObj.(*contextObject); ok {
			data = c.value()
		}
	}
	got := p.expr.Get(data)
	if !p.definite {
		if got == nil {
			got = []any{}
		}
		return got, true, nil
	}
	if len(got) == 0 {
		return nil, false, nil
	}
	return got[0], true, nil
}

// mustLookup is lookup where a match is required: none is States.Runtime.
func mustLookup(s string, input, ctxObj any, field string) (any, error) {
	v, found, err := lookup(s, input, ctxObj)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, Errorf(ErrRuntime, "Invalid path '%s' : The %s path references an invalid value.", s, field)
	}
	return v, nil
}

// applyTemplate evaluates a payload template (Parameters, ResultSelector,
// ItemSelector): fields named "key.$" become "key" with the value of their
// path or intrinsic function.
func applyTemplate(tmpl, input, ctxObj any) (any, error) {
	switch x := tmpl.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			if name, ok := strings.CutSuffix(k, ".$"); ok {
				expr, _ := e.(string)
				var v any
				var err error
				if strings.HasPrefix(expr, "States.") {
					v, err = evalIntrinsic(expr, input, ctxObj)
				} else {
					var found bool
					v, found, err = lookup(expr, input, ctxObj)
					if err == nil && !found {
						err = Errorf(ErrRuntime, "The JSONPath '%s' specified for the field '%s' could not be found in the input '%s'", expr, k, compact(input))
					}
				}
				if err != nil {
					return nil, err
				}
				out[name] = v
				continue
			}
			v, err := applyTemplate(e, input, ctxObj)
			if err != nil {
				return nil, err
			}
			out[k] = v
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			v, err := applyTemplate(e, input, ctxObj)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	}
	return tmpl, nil
}

// setResult places result into a copy of input at a reference path.
func setResult(input any, ref string, result any) (any, error) {
	p, err := referencePath(ref)
	if err != nil {
		return nil, Errorf(ErrRuntime, "Invalid ResultPath '%s': %v", ref, err)
	}
	frags := p.expr[1:]
	if len(frags) == 0 {
		return result, nil
	}
	root := deepCopy(input)
	if root == nil {
		root = map[string]any{}
	}
	if _, ok := root.(map[string]any); !ok {
		if _, isList := root.([]any); !isList {
			return nil, Errorf(ErrRuntime, "Unable to apply ResultPath '%s' to input '%s'", ref, compact(input))
		}
	}
	var place func(node any, frags jp.Expr) (any, error)
	place = func(node any, frags jp.Expr) (any, error) {
		if len(frags) == 0 {
			return result, nil
		}
		switch f := frags[0].(type) {
		case jp.Child:
			m, ok := node.(map[string]any)
			if node == nil {
				m, ok = map[string]any{}, true
			}
			if !ok {
				return nil, Errorf(ErrRuntime, "Unable to apply ResultPath '%s' to input '%s'", ref, compact(input))
			}
			v, err := place(m[string(f)], frags[1:])
			if err != nil {
				return nil, err
			}
			m[string(f)] = v
			return m, nil
		case jp.Nth:
			l, ok := node.([]any)
			i := int(f)
			if i < 0 && ok {
				i += len(l)
			}
			if !ok || i < 0 || i >= len(l) {
				return nil, Errorf(ErrRuntime, "Unable to apply ResultPath '%s' to input '%s'", ref, compact(input))
			}
			v, err := place(l[i], frags[1:])
			if err != nil {
				return nil, err
			}
			l[i] = v
			return l, nil
		}
		return nil, Errorf(ErrRuntime, "Invalid ResultPath '%s'", ref)
	}
	return place(root, frags)
}

// deepCopy copies JSON values, so that a state never changes its input.
func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = deepCopy(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = deepCopy(e)
		}
		return out
	}
	return v
}

// toFloat reads a JSON number.
func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case float64:
		return x, true
	case int:
		return float64(x), true
	}
	return 0, false
}

// parseTimestamp reads an ISO-8601 (RFC 3339) timestamp.
func parseTimestamp(s string) (time.Time, error) {
	return time.Parse(time.RFC3339Nano, s)
}
