package pattern_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/coworks-go/cws/events/pattern"
)

func TestSemantics(t *testing.T) {
	for _, tc := range []struct {
		pattern, event string
		want           bool
	}{
		// Fields inside the same array match the same element.
		{`{"a":{"b":["x"],"c":["y"]}}`, `{"a":[{"b":"x","c":"z"},{"b":"w","c":"y"}]}`, false},
		{`{"a":{"b":["x"],"c":["y"]}}`, `{"a":[{"b":"x","c":"z"},{"b":"x","c":"y"}]}`, true},
		{`{"a":{"b":["x"]},"d":["e"]}`, `{"a":[{"b":"q"},{"b":"x"}],"d":"e"}`, true},
		// Nested arrays.
		{`{"a":{"b":[3]}}`, `{"a":[[{"b":1}],[{"b":2},{"b":3}]]}`, true},
		// $or at several levels, and with other fields.
		{`{"source":["s"],"$or":[{"a":[1]},{"b":[2]}]}`, `{"source":"s","b":2}`, true},
		{`{"source":["s"],"$or":[{"a":[1]},{"b":[2]}]}`, `{"source":"t","b":2}`, false},
		{`{"d":{"$or":[{"x":[1]},{"$or":[{"y":[2]},{"z":[3]}]}]}}`, `{"d":{"z":3}}`, true},
		// Numbers.
		{`{"n":[{"numeric":[">=",0,"<",1]}]}`, `{"n":0}`, true},
		{`{"n":[{"numeric":[">=",0,"<",1]}]}`, `{"n":1}`, false},
		{`{"n":[{"numeric":["=",-2.5]}]}`, `{"n":-2.50}`, true},
		{`{"n":[1e3]}`, `{"n":1000}`, true},
		{`{"n":[{"numeric":["<=",5]}]}`, `{"n":[9,4]}`, true},
		{`{"n":[{"numeric":[">",5]}]}`, `{"n":1e999}`, false},
		// Strings and types.
		{`{"s":["1"]}`, `{"s":1}`, false},
		{`{"s":[true]}`, `{"s":"true"}`, false},
		{`{"s":[{"wildcard":"a\\*b*"}]}`, `{"s":"a*bcd"}`, true},
		{`{"s":[{"wildcard":"a\\*b*"}]}`, `{"s":"axbcd"}`, false},
		{`{"s":[{"wildcard":"*ab*ab*"}]}`, `{"s":"xabab"}`, true},
		{`{"s":[{"wildcard":"*ab*ab"}]}`, `{"s":"abab"}`, true},
		{`{"s":[{"wildcard":"*aba*aba"}]}`, `{"s":"ababa"}`, false},
		{`{"s":[{"prefix":{"equals-ignore-case":"straße"}}]}`, `{"s":"STRASSE"}`, false},
		{`{"s":[{"anything-but":[1,"a"]}]}`, `{"s":true}`, true},
		{`{"ip":[{"cidr":"10.0.0.0/8"}]}`, `{"ip":"10.200.3.4"}`, true},
		{`{"ip":[{"cidr":"::1/128"}]}`, `{"ip":"::1"}`, true},
		// Keys are case-sensitive and exists is about leaves.
		{`{"A":[{"exists":false}]}`, `{"a":1}`, true},
		{`{"a":[{"exists":true}]}`, `{"a":null}`, true},
		{`{"a":[{"exists":true}]}`, `{"a":{}}`, false},
		{`{"a":[{"exists":false}]}`, `{"a":[]}`, true},
	} {
		p, err := pattern.Compile([]byte(tc.pattern))
		if err != nil {
			t.Errorf("Compile(%s): %v", tc.pattern, err)
			continue
		}
		if got, err := p.Match([]byte(tc.event)); got != tc.want || err != nil {
			t.Errorf("%s on %s = %v %v, want %v", tc.pattern, tc.event, got, err, tc.want)
		}
	}
}

func TestInvalid(t *testing.T) {
	for pat, reason := range map[string]string{
		`[]`:                                   "Filter is not an object",
		`{`:                                    "Filter is not valid JSON",
		`{"a":[1]} x`:                          "data after the pattern",
		`{"a":[[1]]}`:                          "Match value must be String, number, true, false, or null",
		`{"a":[{"prefix":"x","suffix":"y"}]}`:  "Only one key allowed in match expression",
		`{"a":[{"exists":"yes"}]}`:             "exists match pattern must be either true or false.",
		`{"a":[{"numeric":["~",1]}]}`:          "Unrecognized numeric range operator: ~",
		`{"a":[{"numeric":["=",1,"<",2]}]}`:    "Bad numeric range operator: =",
		`{"a":[{"numeric":[">",5,"<",1]}]}`:    "Bad numeric range",
		`{"a":[{"numeric":[">",6e9]}]}`:        "Value of > must be numeric",
		`{"a":[{"cidr":"10.0.0.0/33"}]}`:       "mask bits must be between 0 and 32",
		`{"$or":[{"a":[1]}]}`:                  "Or relationship must be an array of at least two objects",
		`{"a":[{"anything-but":[]}]}`:          "Empty arrays are not allowed",
		`{"a":[{"anything-but":true}]}`:        "Value of anything-but must be an array or single string/number value.",
		`{"a":[{"wildcard":"a*b*c*d*e*f*g"}]}`: "Rule is too complex",
	} {
		_, err := pattern.Compile([]byte(pat))
		var ie *pattern.InvalidError
		if !errors.As(err, &ie) || !strings.Contains(err.Error(), reason) {
			t.Errorf("Compile(%s) = %v, want %q", pat, err, reason)
		}
	}
}

func TestEventNotAnObject(t *testing.T) {
	p := pattern.MustCompile(`{"a":[1]}`)
	for _, ev := range []string{`[]`, `1`, `{`} {
		if _, err := p.Match([]byte(ev)); err == nil {
			t.Errorf("Match(%s): no error", ev)
		}
	}
}

// FuzzCompile checks that any pattern compiles or fails with an
// InvalidError, and that a compiled one matches any event without
// panicking.
func FuzzCompile(f *testing.F) {
	for _, s := range []string{`{"a":[1]}`, `{"a":{"b":[{"prefix":"x"}]}}`, `{"$or":[{"a":[1]},{"b":[{"numeric":[">",1,"<=",3]}]}]}`,
		`{"a":[{"anything-but":{"wildcard":["*x*","y"]}}]}`, `{"a":[{"cidr":"10.0.0.0/8"}]}`, `{"a":[{"wildcard":"a\\**"}]}`,
		`{"a":[{"exists":false},null,true,"s",2.5]}`} {
		f.Add(s, `{"a":[1,"x",{"b":"10.1.2.3"}],"b":2}`)
	}
	f.Fuzz(func(t *testing.T, pat, ev string) {
		p, err := pattern.Compile([]byte(pat))
		if err != nil {
			var ie *pattern.InvalidError
			if !errors.As(err, &ie) {
				t.Fatalf("Compile(%q) = %T %v", pat, err, err)
			}
			return
		}
		_, _ = p.Match([]byte(ev))
		_ = fmt.Sprint(p)
	})
}
