package invoke_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/coworks-go/cws/events"
	"github.com/coworks-go/cws/events/invoke"
)

func TestParseInvocation(t *testing.T) {
	mk := func(typ, subject, ct string, data []byte) event.Event {
		e := event.New()
		e.SetID("1")
		e.SetSource("s")
		e.SetType(typ)
		e.SetSubject(subject)
		if data != nil {
			e.SetDataContentType(ct)
			e.DataEncoded = data
		}
		return e
	}
	for _, tc := range []struct {
		e    event.Event
		want string
	}{
		{mk("other", "GET /", "", nil), "is not cws.invoke"},
		{mk(invoke.Type, "GET", "", nil), "is not \"METHOD /path?query\""},
		{mk(invoke.Type, "FETCH /", "", nil), "unknown method"},
		{mk(invoke.Type, "get /", "", nil), "unknown method"},
		{mk(invoke.Type, "GET items", "", nil), "must be a path"},
		{mk(invoke.Type, "POST /", "text/plain", []byte("hi")), "data is JSON"},
		{mk(invoke.Type, "POST /", "application/json", []byte("{")), "not JSON"},
	} {
		if _, err := invoke.Parse(tc.e); err == nil || !events.IsPermanent(err) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%s %q) = %v, want %q", tc.e.Type(), tc.e.Subject(), err, tc.want)
		}
	}
	if _, err := invoke.New("s", "POST", "/", []byte("{")); err == nil {
		t.Error("New with invalid JSON: no error")
	}
	if _, err := invoke.New("s", "BREW", "/", nil); err == nil {
		t.Error("New with an unknown method: no error")
	}
}

// FuzzParse: any cws.invoke event is an invocation of a path with JSON data,
// or a Permanent error (the event is dead-lettered), never a panic.
func FuzzParse(f *testing.F) {
	f.Add("GET /items?limit=1", "", []byte(nil))
	f.Add("POST /items", "application/json", []byte(`{"name":"a"}`))
	f.Add("PUT /items/7", "application/cloudevents+json; charset=utf-8", []byte(`[1]`))
	f.Add("DELETE /", "text/plain", []byte("x"))
	f.Fuzz(func(t *testing.T, subject, contentType string, data []byte) {
		e := event.New()
		e.SetID("1")
		e.SetSource("s")
		e.SetType(invoke.Type)
		e.SetSubject(subject)
		if len(data) > 0 {
			e.SetDataContentType(contentType)
			e.DataEncoded = data
		}
		inv, err := invoke.Parse(e)
		if err != nil {
			if !events.IsPermanent(err) {
				t.Fatalf("%q: %v is not Permanent", subject, err)
			}
			return
		}
		if !strings.HasPrefix(inv.Path, "/") || (inv.Body != nil && !json.Valid(inv.Body)) {
			t.Fatalf("%q %q: parsed %+v", subject, data, inv)
		}
	})
}
