package lambda

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/go-json-experiment/json/jsontext"
)

// identitySourceOf decodes an event whose identitySource is value.
func identitySourceOf(value []byte) ([]string, error) {
	e, err := decodeEvent([]byte(`{"identitySource":` + string(value) + `}`))
	if err != nil {
		return nil, err
	}
	return e.IdentitySource, nil
}

// TestIdentitySource decodes both forms of an HTTP API authorizer's
// identity sources, and refuses the others with the field's place.
func TestIdentitySource(t *testing.T) {
	for value, want := range map[string][]string{
		`"user1,123"`:          {"user1", "123"},
		`"Bearer abc"`:         {"Bearer abc"},
		`""`:                   nil,
		`null`:                 nil,
		`["user1","123"]`:      {"user1", "123"},
		`[]`:                   {},
		`["a,b"]`:              {"a,b"},
		`"caf\u00e9,x"`:        {"café", "x"},
		`"\u0061,\u002c"`:      {"a", "", ""},
		`[null,"b"]`:           {"", "b"},
		`"only-one-source"`:    {"only-one-source"},
		`"trailing,comma,"`:    {"trailing", "comma", ""},
		`"  spaced , values "`: {"  spaced ", " values "},
	} {
		got, err := identitySourceOf([]byte(value))
		if err != nil || !slices.Equal(got, want) || (got == nil) != (want == nil) {
			t.Errorf("%s: %q %v, want %q", value, got, err, want)
		}
	}
	for _, value := range []string{`5`, `{}`, `true`, `[1]`, `["a",{}]`, `"unterminated`, `[`} {
		if got, err := identitySourceOf([]byte(value)); err == nil || !strings.Contains(err.Error(), "identitySource") {
			t.Errorf("%s: %q %v, want an error within /identitySource", value, got, err)
		}
	}
}

// FuzzIdentitySource checks the decoder of identitySource against
// encoding/json: a string is its comma-separated values, a list its values,
// null none; any other JSON value is an error, and nothing panics.
func FuzzIdentitySource(f *testing.F) {
	for _, s := range []string{`"user1,123"`, `["user1", "123"]`, `null`, `""`, `"a\u002cb"`, `[null]`, `5`, `{"a":1}`, `["\ud800"]`, "\"caf\xe9\""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, value []byte) {
		got, err := identitySourceOf(value)
		if !jsontext.Value(value).IsValid(jsontext.AllowInvalidUTF8(true)) {
			if err == nil {
				t.Fatalf("%q is no JSON value, decoded as %q", value, got)
			}
			return
		}
		var v any
		if json.Unmarshal(value, &v) != nil {
			return // a number out of range, say: encoding/json is no oracle
		}
		var want []string
		wantErr := false
		switch v := v.(type) {
		case nil:
		case string:
			if v != "" {
				want = strings.Split(v, ",")
			}
		case []any:
			want = make([]string, len(v))
			for i, x := range v {
				switch x := x.(type) {
				case string:
					want[i] = x
				case nil:
				default:
					wantErr = true
				}
			}
		default:
			wantErr = true
		}
		switch {
		case wantErr && err == nil:
			t.Fatalf("%q decoded as %q, want an error", value, got)
		case !wantErr && err != nil:
			t.Fatalf("%q: %v, want %q", value, err, want)
		case !wantErr && !slices.Equal(got, want):
			t.Fatalf("%q decoded as %q, want %q", value, got, want)
		}
	})
}
