package jsonpool_test

import (
	"testing"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/coworks-go/cws/internal/jsonpool"
)

// A lent decoder reads the bytes given, with the options given, each time
// it is lent.
func TestGet(t *testing.T) {
	for _, c := range []struct {
		data  string
		opts  []jsontext.Options
		valid bool
	}{
		{`{"a":1,"a":2}`, []jsontext.Options{jsontext.AllowDuplicateNames(true)}, true},
		{`{"a":1,"a":2}`, nil, false},
		{"\"\xff\"", []jsontext.Options{jsontext.AllowInvalidUTF8(true)}, true},
		{"\"\xff\"", nil, false},
		{`[1,2,3]`, nil, true},
	} {
		l := jsonpool.Get([]byte(c.data), c.opts...)
		_, err := l.Decoder.ReadValue()
		l.Release()
		if (err == nil) != c.valid {
			t.Errorf("%q with %v: %v", c.data, c.opts, err)
		}
	}
}
