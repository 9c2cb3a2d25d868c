package templates

import (
	"fmt"
	"math"
	"math/big"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/nikolalohinski/gonja/v2/exec"
)

// The filters where gonja departs from Jinja2 3.1, replaced through its
// FilterSet (the extension point it gives): each behaves as Jinja2's does.
var jinjaFilters = map[string]exec.FilterFunction{
	"round":     filterRound,
	"format":    filterFormat,
	"tojson":    filterToJSON,
	"urlencode": filterURLEncode,
}

// filterRound is Jinja2's round: Python's round (half to even) for
// "common", floor or ceil; always a float.
func filterRound(_ *exec.Evaluator, in *exec.Value, params *exec.VarArgs) *exec.Value {
	if in.IsError() {
		return in
	}
	precision, method := 0, "common"
	if len(params.Args) > 0 {
		precision = params.Args[0].Integer()
	}
	if v, ok := params.KwArgs["precision"]; ok {
		precision = v.Integer()
	}
	if len(params.Args) > 1 {
		method = params.Args[1].String()
	}
	if v, ok := params.KwArgs["method"]; ok {
		method = v.String()
	}
	var op func(float64) float64
	switch method {
	case "common":
		op = math.RoundToEven
	case "floor":
		op = math.Floor
	case "ceil":
		op = math.Ceil
	default:
		return exec.AsValue(fmt.Errorf("round: method must be common, floor or ceil, not %q", method))
	}
	if method == "common" {
		return exec.AsValue(pyRound(in.Float(), precision))
	}
	factor := math.Pow(10, float64(precision))
	return exec.AsValue(op(in.Float()*factor) / factor)
}

// pyRound is Python's round(x, n): the exact binary value of x rounded half
// to even at n decimals (round(2.675, 2) is 2.67: 2.675 is a little less in
// binary).
func pyRound(x float64, n int) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return x
	}
	exact := new(big.Float).SetPrec(256).SetFloat64(x)
	scale := new(big.Float).SetPrec(256).SetFloat64(math.Pow(10, float64(abs(n))))
	if n >= 0 {
		exact.Mul(exact, scale)
	} else {
		exact.Quo(exact, scale)
	}
	// Half to even at the units: the integer part, and how far the rest is.
	whole, _ := exact.Int(nil)
	rest := new(big.Float).SetPrec(256).Sub(exact, new(big.Float).SetPrec(256).SetInt(whole))
	half := big.NewFloat(0.5)
	if exact.Sign() < 0 {
		rest.Neg(rest)
	}
	switch c := rest.Cmp(half); {
	case c > 0, c == 0 && whole.Bit(0) == 1:
		if exact.Sign() < 0 {
			whole.Sub(whole, big.NewInt(1))
		} else {
			whole.Add(whole, big.NewInt(1))
		}
	}
	r, _ := new(big.Float).SetInt(whole).Float64()
	if n >= 0 {
		return r / math.Pow(10, float64(n))
	}
	return r * math.Pow(10, float64(-n))
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// filterToJSON is Jinja2's tojson: json.dumps with sorted keys and
// Python's separators, ASCII only, and <, >, & and ' escaped for HTML.
func filterToJSON(_ *exec.Evaluator, in *exec.Value, params *exec.VarArgs) *exec.Value {
	if in.IsError() {
		return in
	}
	indent := -1
	if len(params.Args) > 0 {
		indent = params.Args[0].Integer()
	}
	if v, ok := params.KwArgs["indent"]; ok && !v.IsNil() {
		indent = v.Integer()
	}
	var b strings.Builder
	if err := pyJSON(&b, reflect.ValueOf(in.Interface()), indent, 0); err != nil {
		return exec.AsValue(fmt.Errorf("tojson: %w", err))
	}
	return exec.AsSafeValue(b.String())
}

// pyJSON writes v as Python's json.dumps(v, sort_keys=True) does, made
// safe for HTML as Jinja2's htmlsafe_json_dumps makes it.
func pyJSON(b *strings.Builder, v reflect.Value, indent, depth int) error {
	for v.IsValid() && (v.Kind() == reflect.Interface || v.Kind() == reflect.Pointer) {
		if v.IsNil() {
			b.WriteString("null")
			return nil
		}
		if gv, ok := v.Interface().(*exec.Value); ok {
			// A value of the template itself (a literal's element).
			v = reflect.ValueOf(gv.Interface())
			continue
		}
		v = v.Elem()
	}
	if v.IsValid() && v.CanInterface() {
		if d, ok := v.Interface().(exec.Dict); ok {
			// A dict literal of the template: its pairs, as a map.
			m := map[string]any{}
			for _, p := range d.Pairs {
				m[p.Key.String()] = p.Value.Interface()
			}
			v = reflect.ValueOf(m)
		}
	}
	newline := func(d int) {
		if indent >= 0 {
			b.WriteByte('\n')
			b.WriteString(strings.Repeat(" ", indent*d))
		}
	}
	sep := ", "
	if indent >= 0 {
		sep = ","
	}
	switch {
	case !v.IsValid():
		b.WriteString("null")
	case v.Kind() == reflect.Bool:
		b.WriteString(strconv.FormatBool(v.Bool()))
	case v.CanInt():
		b.WriteString(strconv.FormatInt(v.Int(), 10))
	case v.CanUint():
		b.WriteString(strconv.FormatUint(v.Uint(), 10))
	case v.CanFloat():
		b.WriteString(pyFloat(v.Float()))
	case v.Kind() == reflect.String:
		pyString(b, v.String())
	case v.Kind() == reflect.Slice || v.Kind() == reflect.Array:
		if v.Len() == 0 {
			b.WriteString("[]")
			return nil
		}
		b.WriteByte('[')
		for i := 0; i < v.Len(); i++ {
			if i > 0 {
				b.WriteString(sep)
			}
			newline(depth + 1)
			if err := pyJSON(b, v.Index(i), indent, depth+1); err != nil {
				return err
			}
		}
		newline(depth)
		b.WriteByte(']')
	case v.Kind() == reflect.Map:
		if v.Len() == 0 {
			b.WriteString("{}")
			return nil
		}
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i].Interface()) < fmt.Sprint(keys[j].Interface()) })
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteString(sep)
			}
			newline(depth + 1)
			pyString(b, fmt.Sprint(k.Interface()))
			b.WriteString(": ")
			if err := pyJSON(b, v.MapIndex(k), indent, depth+1); err != nil {
				return err
			}
		}
		newline(depth)
		b.WriteByte('}')
	default:
		return fmt.Errorf("a %s is not JSON", v.Type())
	}
	return nil
}

// pyFloat writes a float as Python's repr does: the shortest digits, in
// exponent form below 1e-4 and from 1e16 (1e+16, 1.5e-05), with a ".0"
// when whole.
func pyFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64)
	_, expPart, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expPart)
	if f != 0 && (exp < -4 || exp >= 16) {
		return e
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// pyString writes a JSON string with ASCII only, and the characters HTML
// gives meaning to escaped.
func pyString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '<', '>', '&', '\'':
			fmt.Fprintf(b, `\u%04x`, r)
		default:
			switch {
			case r < 0x20 || r == utf8.RuneError:
				fmt.Fprintf(b, `\u%04x`, r)
			case r > 0x7e && r <= 0xffff:
				fmt.Fprintf(b, `\u%04x`, r)
			case r > 0xffff:
				r -= 0x10000
				fmt.Fprintf(b, `\u%04x\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
			default:
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
}

// filterURLEncode is Jinja2's urlencode: a string quoted with "/" safe; a
// dict or a list of pairs as a query string, each key and value quoted
// with nothing safe and spaces as +. (A dict's pairs come in the order of
// its keys, sorted: Go's maps keep no insertion order.)
func filterURLEncode(_ *exec.Evaluator, in *exec.Value, _ *exec.VarArgs) *exec.Value {
	if in.IsError() {
		return in
	}
	str := func(v *exec.Value) string {
		if v.IsString() {
			return v.String()
		}
		return v.String()
	}
	switch {
	case in.IsDict():
		var pairs []string
		in.IterateOrder(func(_, _ int, key, value *exec.Value) bool {
			pairs = append(pairs, quote(str(key), "", true)+"="+quote(str(value), "", true))
			return true
		}, func() {}, false, true, true)
		return exec.AsValue(strings.Join(pairs, "&"))
	case in.IsList():
		var pairs []string
		in.Iterate(func(_, _ int, item, _ *exec.Value) bool {
			if item.IsList() && item.Len() == 2 {
				pairs = append(pairs, quote(str(item.Index(0)), "", true)+"="+quote(str(item.Index(1)), "", true))
			}
			return true
		}, func() {})
		return exec.AsValue(strings.Join(pairs, "&"))
	}
	return exec.AsValue(quote(str(in), "/", false))
}

// quote is Python's urllib.parse.quote: every byte but letters, digits,
// _.-~ and those of safe percent-encoded; for a query string, spaces as +.
func quote(s, safe string, query bool) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '.', c == '-', c == '~',
			strings.IndexByte(safe, c) >= 0:
			b.WriteByte(c)
		case c == ' ' && query:
			b.WriteByte('+')
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// filterFormat is Jinja2's format: Python's printf-style formatting, each
// value converted as its conversion asks (an int for %d, a float for %f,
// str() for %s).
func filterFormat(_ *exec.Evaluator, in *exec.Value, params *exec.VarArgs) *exec.Value {
	if in.IsError() {
		return in
	}
	out, err := pyPercent(in.String(), params.Args)
	if err != nil {
		return exec.AsValue(fmt.Errorf("format: %w", err))
	}
	return exec.AsValue(out)
}

// pyPercent formats as Python's % operator does.
func pyPercent(format string, args []*exec.Value) (string, error) {
	var b strings.Builder
	next := 0
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		j := i + 1
		for j < len(format) && strings.IndexByte("-+ #0123456789.", format[j]) >= 0 {
			j++
		}
		if j == len(format) {
			return "", fmt.Errorf("incomplete format")
		}
		spec, verb := format[i+1:j], format[j]
		i = j
		if verb == '%' {
			b.WriteByte('%')
			continue
		}
		if next >= len(args) {
			return "", fmt.Errorf("not enough arguments for format string")
		}
		arg := args[next]
		next++
		switch verb {
		case 'd', 'i', 'u':
			fmt.Fprintf(&b, "%"+spec+"d", int64(arg.Float()))
		case 'x', 'X', 'o':
			fmt.Fprintf(&b, "%"+spec+string(verb), int64(arg.Float()))
		case 'f', 'F', 'e', 'E', 'g', 'G':
			if !arg.IsFloat() && !arg.IsInteger() {
				return "", fmt.Errorf("a real number is required, not %s", arg.String())
			}
			v := strings.ToLower(string(verb))
			if verb == 'E' || verb == 'G' {
				v = string(verb)
			}
			fmt.Fprintf(&b, "%"+spec+v, arg.Float())
		case 'c':
			if arg.IsString() {
				fmt.Fprintf(&b, "%"+spec+"s", arg.String())
			} else {
				fmt.Fprintf(&b, "%"+spec+"c", rune(arg.Integer()))
			}
		case 's', 'r', 'a':
			fmt.Fprintf(&b, "%"+spec+"s", arg.String())
		default:
			return "", fmt.Errorf("unsupported format character %q", verb)
		}
	}
	if next < len(args) {
		return "", fmt.Errorf("not all arguments converted during string formatting")
	}
	return b.String(), nil
}
