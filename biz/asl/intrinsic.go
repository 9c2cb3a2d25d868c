package asl

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"math"
	mrand "math/rand/v2"
	"strconv"
	"strings"
	"sync"
)

// An intrinsic function call: States.Name(args…), each argument a string
// ('…' with \' \{ \} \\ escapes), a number, true, false, null, a path, or
// another call.
type call struct {
	name string
	args []arg
}

type arg struct {
	value any    // a literal
	path  string // a path, or ""
	call  *call  // a nested call, or nil
}

var calls sync.Map // string → *call

func parseIntrinsic(s string) (*call, error) {
	if c, ok := calls.Load(s); ok {
		return c.(*call), nil
	}
	r := &intrinsicReader{s: s}
	c, err := r.call()
	if err != nil {
		return nil, err
	}
	r.space()
	if r.i != len(r.s) {
		return nil, fmt.Errorf("unexpected %q after the call", r.s[r.i:])
	}
	calls.Store(s, c)
	return c, nil
}

type intrinsicReader struct {
	s string
	i int
}

func (r *intrinsicReader) space() {
	for r.i < len(r.s) && (r.s[r.i] == ' ' || r.s[r.i] == '\t' || r.s[r.i] == '\n') {
		r.i++
	}
}

func (r *intrinsicReader) call() (*call, error) {
	r.space()
	start := r.i
	for r.i < len(r.s) && r.s[r.i] != '(' {
		r.i++
	}
	name := strings.TrimSpace(r.s[start:r.i])
	if r.i == len(r.s) {
		return nil, fmt.Errorf("%q is not a call: no '('", r.s[start:])
	}
	if _, ok := intrinsics[name]; !ok {
		return nil, fmt.Errorf("unknown intrinsic function %q", name)
	}
	r.i++ // (
	c := &call{name: name}
	r.space()
	if r.i < len(r.s) && r.s[r.i] == ')' {
		r.i++
		return c, nil
	}
	for {
		a, err := r.arg()
		if err != nil {
			return nil, err
		}
		c.args = append(c.args, a)
		r.space()
		if r.i == len(r.s) {
			return nil, fmt.Errorf("%s: no closing ')'", name)
		}
		switch r.s[r.i] {
		case ',':
			r.i++
		case ')':
			r.i++
			return c, nil
		default:
			return nil, fmt.Errorf("%s: unexpected %q", name, r.s[r.i:])
		}
	}
}

func (r *intrinsicReader) arg() (arg, error) {
	r.space()
	if r.i == len(r.s) {
		return arg{}, fmt.Errorf("missing argument")
	}
	switch c := r.s[r.i]; {
	case c == '\'':
		r.i++
		var b strings.Builder
		for r.i < len(r.s) {
			ch := r.s[r.i]
			switch {
			case ch == '\\' && r.i+1 < len(r.s):
				// \' and \\ are the quote and the backslash; \{ and \}
				// stay, for States.Format's literal braces.
				if next := r.s[r.i+1]; next == '\'' || next == '\\' {
					b.WriteByte(next)
				} else {
					b.WriteByte('\\')
					b.WriteByte(next)
				}
				r.i += 2
			case ch == '\'':
				r.i++
				return arg{value: b.String()}, nil
			default:
				b.WriteByte(ch)
				r.i++
			}
		}
		return arg{}, fmt.Errorf("unterminated string")
	case c == '$':
		start, depth := r.i, 0
		var quote byte
		for r.i < len(r.s) {
			ch := r.s[r.i]
			switch {
			case quote != 0:
				if ch == quote {
					quote = 0
				}
			case ch == '\'' || ch == '"':
				quote = ch
			case ch == '[' || ch == '(':
				depth++
			case ch == ']' || ch == ')':
				if depth == 0 {
					goto done
				}
				depth--
			case ch == ',' && depth == 0:
				goto done
			}
			r.i++
		}
	done:
		p := strings.TrimSpace(r.s[start:r.i])
		if _, err := compilePath(p); err != nil {
			return arg{}, fmt.Errorf("path %s: %v", p, err)
		}
		return arg{path: p}, nil
	case strings.HasPrefix(r.s[r.i:], "States."):
		c, err := r.call()
		return arg{call: c}, err
	default:
		start := r.i
		for r.i < len(r.s) && r.s[r.i] != ',' && r.s[r.i] != ')' {
			r.i++
		}
		lit := strings.TrimSpace(r.s[start:r.i])
		switch lit {
		case "true":
			return arg{value: true}, nil
		case "false":
			return arg{value: false}, nil
		case "null":
			return arg{value: nil}, nil
		}
		if i, err := strconv.ParseInt(lit, 10, 64); err == nil {
			return arg{value: i}, nil
		}
		if f, err := strconv.ParseFloat(lit, 64); err == nil {
			return arg{value: f}, nil
		}
		return arg{}, fmt.Errorf("%q is no argument (a 'string', a number, true, false, null, a path or a call)", lit)
	}
}

// evalIntrinsic evaluates an intrinsic function call on the input.
func evalIntrinsic(s string, input, ctxObj any) (any, error) {
	c, err := parseIntrinsic(s)
	if err != nil {
		return nil, Errorf(ErrRuntime, "%s: %v", s, err)
	}
	return c.eval(input, ctxObj)
}

func (c *call) eval(input, ctxObj any) (any, error) {
	args := make([]any, len(c.args))
	for i, a := range c.args {
		switch {
		case a.call != nil:
			v, err := a.call.eval(input, ctxObj)
			if err != nil {
				return nil, err
			}
			args[i] = v
		case a.path != "":
			v, err := mustLookup(a.path, input, ctxObj, "intrinsic function argument")
			if err != nil {
				return nil, err
			}
			args[i] = v
		default:
			args[i] = a.value
		}
	}
	v, err := intrinsics[c.name](args)
	if err != nil {
		return nil, Errorf(ErrRuntime, "%s: %v", c.name, err)
	}
	return v, nil
}

var intrinsics map[string]func(args []any) (any, error)

func init() {
	intrinsics = map[string]func([]any) (any, error){
		"States.Format":         fnFormat,
		"States.StringToJson":   fnStringToJSON,
		"States.JsonToString":   fnJSONToString,
		"States.Array":          func(args []any) (any, error) { return append([]any{}, args...), nil },
		"States.ArrayPartition": fnArrayPartition,
		"States.ArrayContains":  fnArrayContains,
		"States.ArrayRange":     fnArrayRange,
		"States.ArrayGetItem":   fnArrayGetItem,
		"States.ArrayLength":    fnArrayLength,
		"States.ArrayUnique":    fnArrayUnique,
		"States.Base64Encode":   fnBase64Encode,
		"States.Base64Decode":   fnBase64Decode,
		"States.Hash":           fnHash,
		"States.JsonMerge":      fnJSONMerge,
		"States.MathRandom":     fnMathRandom,
		"States.MathAdd":        fnMathAdd,
		"States.StringSplit":    fnStringSplit,
		"States.UUID":           fnUUID,
	}
}

func nargs(args []any, n int) error {
	if len(args) != n {
		return fmt.Errorf("takes %d arguments, got %d", n, len(args))
	}
	return nil
}

func strArg(args []any, i int) (string, error) {
	s, ok := args[i].(string)
	if !ok {
		return "", fmt.Errorf("argument %d must be a string, not %s", i+1, compact(args[i]))
	}
	return s, nil
}

func listArg(args []any, i int) ([]any, error) {
	l, ok := args[i].([]any)
	if !ok {
		return nil, fmt.Errorf("argument %d must be an array, not %s", i+1, compact(args[i]))
	}
	return l, nil
}

func intArg(args []any, i int) (int64, error) {
	f, ok := toFloat(args[i])
	if !ok || f != math.Trunc(f) {
		return 0, fmt.Errorf("argument %d must be an integer, not %s", i+1, compact(args[i]))
	}
	return int64(f), nil
}

func fnFormat(args []any) (any, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("takes a template")
	}
	tmpl, err := strArg(args, 0)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	n := 1
	for i := 0; i < len(tmpl); i++ {
		switch {
		case tmpl[i] == '\\' && i+1 < len(tmpl) && (tmpl[i+1] == '{' || tmpl[i+1] == '}'):
			i++
			b.WriteByte(tmpl[i])
		case tmpl[i] == '{' && i+1 < len(tmpl) && tmpl[i+1] == '}':
			if n >= len(args) {
				return nil, fmt.Errorf("the template has more {} than arguments")
			}
			switch v := args[n].(type) {
			case string:
				b.WriteString(v)
			default:
				b.WriteString(compact(v))
			}
			n++
			i++
		default:
			b.WriteByte(tmpl[i])
		}
	}
	if n != len(args) {
		return nil, fmt.Errorf("the template has fewer {} than arguments")
	}
	return b.String(), nil
}

func fnStringToJSON(args []any) (any, error) {
	if err := nargs(args, 1); err != nil {
		return nil, err
	}
	s, err := strArg(args, 0)
	if err != nil {
		return nil, err
	}
	return DecodeJSON([]byte(s))
}

func fnJSONToString(args []any) (any, error) {
	if err := nargs(args, 1); err != nil {
		return nil, err
	}
	return compact(args[0]), nil
}

func fnArrayPartition(args []any) (any, error) {
	if err := nargs(args, 2); err != nil {
		return nil, err
	}
	l, err := listArg(args, 0)
	if err != nil {
		return nil, err
	}
	size, err := intArg(args, 1)
	if err != nil || size <= 0 {
		return nil, fmt.Errorf("the chunk size must be a positive integer")
	}
	out := []any{}
	for i := 0; i < len(l); i += int(size) {
		out = append(out, append([]any{}, l[i:min(i+int(size), len(l))]...))
	}
	return out, nil
}

func fnArrayContains(args []any) (any, error) {
	if err := nargs(args, 2); err != nil {
		return nil, err
	}
	l, err := listArg(args, 0)
	if err != nil {
		return nil, err
	}
	for _, e := range l {
		if jsonEqual(e, args[1]) {
			return true, nil
		}
	}
	return false, nil
}

func fnArrayRange(args []any) (any, error) {
	if err := nargs(args, 3); err != nil {
		return nil, err
	}
	first, err1 := intArg(args, 0)
	last, err2 := intArg(args, 1)
	step, err3 := intArg(args, 2)
	if err1 != nil || err2 != nil || err3 != nil || step == 0 {
		return nil, fmt.Errorf("takes three integers, the step not 0")
	}
	out := []any{}
	for v := first; (step > 0 && v <= last) || (step < 0 && v >= last); v += step {
		if len(out) == 1000 {
			return nil, fmt.Errorf("a range has at most 1000 items")
		}
		out = append(out, v)
	}
	return out, nil
}

func fnArrayGetItem(args []any) (any, error) {
	if err := nargs(args, 2); err != nil {
		return nil, err
	}
	l, err := listArg(args, 0)
	if err != nil {
		return nil, err
	}
	i, err := intArg(args, 1)
	if err != nil || i < 0 || i >= int64(len(l)) {
		return nil, fmt.Errorf("index %s is out of the array's bounds", compact(args[1]))
	}
	return l[i], nil
}

func fnArrayLength(args []any) (any, error) {
	if err := nargs(args, 1); err != nil {
		return nil, err
	}
	l, err := listArg(args, 0)
	if err != nil {
		return nil, err
	}
	return int64(len(l)), nil
}

func fnArrayUnique(args []any) (any, error) {
	if err := nargs(args, 1); err != nil {
		return nil, err
	}
	l, err := listArg(args, 0)
	if err != nil {
		return nil, err
	}
	out := []any{}
	for _, e := range l {
		dup := false
		for _, o := range out {
			if jsonEqual(e, o) {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, e)
		}
	}
	return out, nil
}

func fnBase64Encode(args []any) (any, error) {
	if err := nargs(args, 1); err != nil {
		return nil, err
	}
	s, err := strArg(args, 0)
	if err != nil {
		return nil, err
	}
	return base64.StdEncoding.EncodeToString([]byte(s)), nil
}

func fnBase64Decode(args []any) (any, error) {
	if err := nargs(args, 1); err != nil {
		return nil, err
	}
	s, err := strArg(args, 0)
	if err != nil {
		return nil, err
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("not base64: %v", err)
	}
	return string(b), nil
}

func fnHash(args []any) (any, error) {
	if err := nargs(args, 2); err != nil {
		return nil, err
	}
	algo, err := strArg(args, 1)
	if err != nil {
		return nil, err
	}
	var h hash.Hash
	switch algo {
	case "MD5":
		h = md5.New()
	case "SHA-1":
		h = sha1.New()
	case "SHA-256":
		h = sha256.New()
	case "SHA-384":
		h = sha512.New384()
	case "SHA-512":
		h = sha512.New()
	default:
		return nil, fmt.Errorf("unknown algorithm %q (MD5, SHA-1, SHA-256, SHA-384, SHA-512)", algo)
	}
	data, ok := args[0].(string)
	if !ok {
		data = compact(args[0])
	}
	h.Write([]byte(data))
	return hex.EncodeToString(h.Sum(nil)), nil
}

func fnJSONMerge(args []any) (any, error) {
	if err := nargs(args, 3); err != nil {
		return nil, err
	}
	a, ok1 := args[0].(map[string]any)
	b, ok2 := args[1].(map[string]any)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("merges two objects")
	}
	if deep, _ := args[2].(bool); deep {
		return nil, fmt.Errorf("deep merging is not supported: the third argument must be false")
	}
	out := make(map[string]any, len(a)+len(b))
	for k, v := range a {
		out[k] = deepCopy(v)
	}
	for k, v := range b {
		out[k] = deepCopy(v)
	}
	return out, nil
}

func fnMathRandom(args []any) (any, error) {
	if len(args) != 2 && len(args) != 3 {
		return nil, fmt.Errorf("takes a start, an end and an optional seed")
	}
	start, err1 := intArg(args, 0)
	end, err2 := intArg(args, 1)
	if err1 != nil || err2 != nil || end <= start {
		return nil, fmt.Errorf("takes two integers, the end above the start")
	}
	if len(args) == 3 {
		seed, err := intArg(args, 2)
		if err != nil {
			return nil, err
		}
		r := mrand.New(mrand.NewPCG(uint64(seed), 0))
		return start + r.Int64N(end-start), nil
	}
	return start + mrand.Int64N(end-start), nil
}

func fnMathAdd(args []any) (any, error) {
	if err := nargs(args, 2); err != nil {
		return nil, err
	}
	a, err := intArg(args, 0)
	if err != nil {
		return nil, err
	}
	b, err := intArg(args, 1)
	if err != nil {
		return nil, err
	}
	return a + b, nil
}

func fnStringSplit(args []any) (any, error) {
	if err := nargs(args, 2); err != nil {
		return nil, err
	}
	s, err := strArg(args, 0)
	if err != nil {
		return nil, err
	}
	seps, err := strArg(args, 1)
	if err != nil {
		return nil, err
	}
	out := []any{}
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(seps, r) }) {
		out = append(out, f)
	}
	return out, nil
}

func fnUUID(args []any) (any, error) {
	if err := nargs(args, 0); err != nil {
		return nil, err
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}

// jsonEqual compares JSON values, numbers by value.
func jsonEqual(a, b any) bool {
	if fa, ok := toFloat(a); ok {
		fb, ok := toFloat(b)
		return ok && fa == fb
	}
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !jsonEqual(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !jsonEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	return a == b
}

// compact is a value's JSON.
func compact(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
