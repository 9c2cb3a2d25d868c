package lambda

import (
	"net/http"
	"net/url"
	"reflect"
	"testing"

	jsonv2 "github.com/go-json-experiment/json"
)

var fieldSeeds = []string{
	`{}`, `null`, `{"a":"1","B":"2"}`, `{"x-amzn-trace-id":"Root=1","ACCEPT":"*/*"}`, `{"a":null}`, `{"a":"1","a":"2"}`,
	`{"a":"\u00e9\n\"q\""}`, `{"a":1}`, `{"a":["1"]}`, `[]`, `"s"`, `{"a":"1"`, `{"a b":"c"}`, `{"":""}`,
	`{"a":["1","2"],"b":[],"c":null,"d":[null]}`, `{"a":[1]}`, `{"a":[["1"]]}`, `{"a":"x","b":["y"]}`,
	"{\"caf\xe9\":\"\xff\"}",
}

// reference decodes an object of strings (lists when lists) as the door
// did before it read them itself: into a map by reflection, the names then
// made canonical for a header. It reports false when two names of the
// object are made the same (which one wins then depended on map order).
func reference(t *testing.T, data []byte, lists, header bool) (map[string][]string, error, bool) {
	t.Helper()
	canonical := func(s string) string { return s }
	if header {
		canonical = http.CanonicalHeaderKey
	}
	seen := map[string]string{}
	ok := true
	check := func(k string) string {
		c := canonical(k)
		if prev, dup := seen[c]; dup && prev != k {
			ok = false
		}
		seen[c] = k
		return c
	}
	if lists {
		var m map[string][]string
		if err := jsonv2.Unmarshal(data, &m, decodeOptions); err != nil {
			return nil, err, true
		}
		if m == nil {
			return nil, nil, true
		}
		out := map[string][]string{}
		for k, vs := range m {
			out[check(k)] = vs
		}
		return out, nil, ok
	}
	// The door decoded headers and queryStringParameters into
	// map[string]string: a null value was "".
	var m map[string]string
	if err := jsonv2.Unmarshal(data, &m, decodeOptions); err != nil {
		return nil, err, true
	}
	if m == nil {
		return nil, nil, true
	}
	out := map[string][]string{}
	for k, v := range m {
		out[check(k)] = []string{v}
	}
	return out, nil, ok
}

// TestNullStringValue: a null value in headers or queryStringParameters is
// the empty string, as decoding them into map[string]string made it (a
// query parameter present, empty), not a name without values; a null in
// the multi-value forms is a name without values, as before.
func TestNullStringValue(t *testing.T) {
	payload := []byte(`{"headers":{"X-A":null,"b":"1"},"queryStringParameters":{"q":null}}`)
	var e event
	if err := jsonv2.Unmarshal(payload, &e, decodeOptions); err != nil {
		t.Fatal(err)
	}
	if h, want := e.Headers.header(payload), (http.Header{"X-A": {""}, "B": {"1"}}); !reflect.DeepEqual(h, want) {
		t.Errorf("headers: %q, want %q", h, want)
	}
	if q, want := e.QueryStringParameters.query(payload), (url.Values{"q": {""}}); !reflect.DeepEqual(q, want) {
		t.Errorf("query: %q, want %q", q, want)
	}
	var lists listsQuery
	if err := jsonv2.Unmarshal([]byte(`{"q":null,"r":[null]}`), &lists, decodeOptions); err != nil {
		t.Fatal(err)
	}
	if want := (listsQuery{"q": nil, "r": {""}}); !reflect.DeepEqual(lists, want) {
		t.Errorf("multi-value query: %q, want %q", lists, want)
	}
}

// FuzzFieldObjects: the headers and query parameters read straight from
// the event's JSON are what decoding them into maps gave, and an object
// the decoder refused is refused.
func FuzzFieldObjects(f *testing.F) {
	for _, s := range fieldSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, c := range []struct {
			name          string
			lists, header bool
			decode        func() (map[string][]string, error)
		}{
			{"headers", false, true, func() (map[string][]string, error) {
				var h stringsHeader
				err := jsonv2.Unmarshal(data, &h, decodeOptions)
				return h, err
			}},
			{"query", false, false, func() (map[string][]string, error) {
				var q stringsQuery
				err := jsonv2.Unmarshal(data, &q, decodeOptions)
				return q, err
			}},
			{"multiValueHeaders", true, true, func() (map[string][]string, error) {
				var h listsHeader
				err := jsonv2.Unmarshal(data, &h, decodeOptions)
				return h, err
			}},
			{"multiValueQueryStringParameters", true, false, func() (map[string][]string, error) {
				var q listsQuery
				err := jsonv2.Unmarshal(data, &q, decodeOptions)
				return q, err
			}},
		} {
			want, wantErr, comparable := reference(t, data, c.lists, c.header)
			got, err := c.decode()
			if (err != nil) != (wantErr != nil) {
				t.Fatalf("%s %q: error %v, decoding into a map: %v", c.name, data, err, wantErr)
			}
			if err != nil || !comparable {
				continue
			}
			if len(got) == 0 && len(want) == 0 {
				continue
			}
			if !reflect.DeepEqual(map[string][]string(got), want) {
				t.Fatalf("%s %q:\n got %q\nwant %q", c.name, data, got, want)
			}
			// The lazy form checks what it defers: it refuses what
			// reading it would refuse.
			if !c.lists {
				var l lazyStrings
				if err := jsonv2.Unmarshal(data, &l, decodeOptions); err != nil {
					t.Fatalf("%s %q: read, but its check refuses it: %v", c.name, data, err)
				}
			}
		}
	})
}

// TestLazyStringsChecks: a lazy object refuses what reading it would
// refuse, and read later gives what reading it at once gives.
func TestLazyStringsChecks(t *testing.T) {
	for _, s := range fieldSeeds {
		var l lazyStrings
		lazyErr := jsonv2.Unmarshal([]byte(s), &l, decodeOptions)
		var h stringsHeader
		readErr := jsonv2.Unmarshal([]byte(s), &h, decodeOptions)
		if (lazyErr != nil) != (readErr != nil) {
			t.Errorf("%q: check %v, read %v", s, lazyErr, readErr)
		}
		if lazyErr == nil && l.present() != (h != nil) {
			t.Errorf("%q: present %v, read %v", s, l.present(), h)
		}
		if lazyErr == nil && l.present() && !reflect.DeepEqual(l.header([]byte(s)), http.Header(h)) {
			t.Errorf("%q: read later %v, at once %v", s, l.header([]byte(s)), h)
		}
	}
}
