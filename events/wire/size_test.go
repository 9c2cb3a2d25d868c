package wire_test

import (
	"strings"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/cloudevents/sdk-go/v2/types"

	"github.com/coworks-go/cws/events"
	"github.com/coworks-go/cws/events/pattern"
	"github.com/coworks-go/cws/events/wire"
)

// sampleEvents are events with every kind of attribute, extension and data.
func sampleEvents(t testing.TB) []event.Event {
	mk := func(f func(e *event.Event)) event.Event {
		e := event.New()
		e.SetID("evt-1")
		e.SetSource("cws/test")
		e.SetType("order.completed")
		f(&e)
		return e
	}
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	uri := types.ParseURI("https://example.com/a?b=c")
	return []event.Event{
		mk(func(e *event.Event) {}),
		mk(func(e *event.Event) {
			e.SetSubject("POST /orders?x=1")
			e.SetTime(time.Date(2026, 11, 22, 10, 0, 0, 123456789, time.UTC))
			e.SetDataSchema("https://example.com/schema")
			e.SetExtension("cwsreplyto", "memory://results")
			e.SetExtension("count", 7)
			e.SetExtension("flag", true)
			e.SetExtension("link", uri)
			e.SetExtension("when", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
			must(e.SetData(event.ApplicationJSON, map[string]any{
				"total": 42.5, "lines": []any{map[string]any{"sku": "a", "n": 1}, map[string]any{"sku": "b", "tags": []string{"x", "y"}}},
				"none": nil, "ok": true, "nested": map[string]any{"deep": []any{[]any{1, 2}, []any{3}}},
			}))
		}),
		mk(func(e *event.Event) { must(e.SetData("text/plain; charset=utf-8", "line one\nline \"two\" <é>\x01")) }),
		mk(func(e *event.Event) { must(e.SetData("application/octet-stream", []byte{0, 1, 2, 0xff})) }),
		mk(func(e *event.Event) { must(e.SetData("application/json; charset=utf-8", []byte(`[1,"two",null]`))) }),
		mk(func(e *event.Event) { must(e.SetData(event.ApplicationJSON, []byte(`"just a string"`))) }),
	}
}

// The in-memory bus matches its rules against an envelope flattened from
// the event: it must be what Flatten makes of the envelope's JSON.
func TestFlattenForMatchesFlatten(t *testing.T) {
	// One builder reset between events, as the bus flattens a batch.
	reused := pattern.NewBuilder(nil)
	for i, e := range sampleEvents(t) {
		env, err := wire.EnvelopeFor(e, "123456789012", "eu-west-1", []string{"arn:aws:events:rule/a", "b"})
		if err != nil {
			t.Fatal(err)
		}
		want, err := pattern.Flatten(env.Encode())
		if err != nil {
			t.Fatal(err)
		}
		got, err := env.FlattenFor(e, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Errorf("event %d:\nflattened from the event:\n%s\nfrom its JSON:\n%s", i, got, want)
		}
		reused.Reset()
		if err := env.FlattenInto(reused, e); err != nil {
			t.Fatal(err)
		}
		if got := reused.Event(); got.String() != want.String() {
			t.Errorf("event %d, a reset builder:\n%s\nfrom its JSON:\n%s", i, got, want)
		}
	}
}

func TestEncodedSizeBound(t *testing.T) {
	for i, e := range sampleEvents(t) {
		b, err := e.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		if bound := wire.EncodedSizeBound(e); bound < len(b) || bound > 8*len(b) {
			t.Errorf("event %d: bound %d for %d bytes", i, bound, len(b))
		}
	}
}

func FuzzEncodedSizeBound(f *testing.F) {
	f.Add("id", "src", "subject", "text/plain", []byte("data"), "ext")
	f.Add("\x00\x01", "\"\\", "\u2028", "application/json", []byte(`{"a":"\u0000"}`), "\xff")
	f.Fuzz(func(t *testing.T, id, source, subject, contentType string, data []byte, ext string) {
		e := event.New()
		e.SetID(id)
		e.SetSource(source)
		e.SetType("t")
		e.SetSubject(subject)
		e.SetExtension("ext", ext)
		if err := e.SetData(contentType, data); err != nil {
			return
		}
		b, err := e.MarshalJSON()
		if err != nil {
			return
		}
		if bound := wire.EncodedSizeBound(e); bound < len(b) {
			t.Fatalf("bound %d < %d bytes: %s", bound, len(b), b)
		}
	})
}

func TestCheckData(t *testing.T) {
	e := event.New()
	e.SetID("1")
	e.SetSource("s")
	e.SetType("t")
	e.DataEncoded = []byte(`{"truncated":`)
	e.SetDataContentType(event.ApplicationJSON)
	if err := wire.CheckData(e); err == nil || !strings.Contains(err.Error(), "not valid JSON") {
		t.Errorf("invalid JSON data: %v", err)
	}
	if _, err := wire.EncodeSQS(e); err == nil {
		t.Error("EncodeSQS wrote invalid JSON data")
	}
	// The sdk writes these media types as JSON, whatever their case, spaces
	// and parameters; any other as a string. It lowers the type: İ lowers
	// to i, ſ (which folds to s) stays itself.
	for _, ct := range []string{"TEXT/JSON", " Application/CloudEvents+JSON ; charset=utf-8", "application/cloudevents-batch+json", "applİcation/json"} {
		e.SetDataContentType(ct)
		if err := wire.CheckData(e); err == nil {
			t.Errorf("invalid JSON data as %q: no error", ct)
		}
	}
	for _, ct := range []string{"text/plain", "application/jsonx", "application/problem+json", "application/jſon"} {
		e.SetDataContentType(ct)
		if err := wire.CheckData(e); err != nil {
			t.Errorf("data as %q: %v", ct, err)
		}
	}
}

func TestCopy(t *testing.T) {
	for i, e := range sampleEvents(t) {
		c := events.Copy(e)
		want, _ := e.MarshalJSON()
		if got, _ := c.MarshalJSON(); string(got) != string(want) {
			t.Errorf("event %d: copy %s of %s", i, got, want)
		}
		c.SetSubject("changed")
		c.SetExtension("added", "x")
		c.SetTime(time.Now())
		if len(c.DataEncoded) > 0 {
			c.DataEncoded[0] = '!'
		}
		if got, _ := e.MarshalJSON(); string(got) != string(want) {
			t.Errorf("event %d: changing the copy changed the original: %s", i, got)
		}
	}
}

// The envelope's source is what the SDK writes, without making it again
// when the source is a plain relative path.
func TestEnvelopeSource(t *testing.T) {
	for _, src := range []string{"cws/bench", "myapp.orders", "/a/b", "a:b", "a:b/c", "./x", "https://example.com/orders?x=1#f",
		"urn:example:1", "a b", "a%20b", "café", "//host/p", "*", "mailto:x@example.com", "a/b:c", "?q"} {
		e := event.New()
		e.SetSource(src)
		if got, want := wire.EnvelopeHeader(e, "", "", nil).Source, e.Source(); got != want {
			t.Errorf("source %q: envelope %q, the SDK %q", src, got, want)
		}
	}
}
