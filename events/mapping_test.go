package events_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/coworks-go/cws/events"
)

// sqsMessage is an SQS message of testdata: its body and attributes.
type sqsMessage struct {
	Body       string            `json:"body"`
	Attributes map[string]string `json:"attributes"`
}

func loadSQS(t *testing.T, name string) sqsMessage {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var m sqsMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestDecodeSQSStructured(t *testing.T) {
	m := loadSQS(t, "sqs-structured.json")
	e, err := events.DecodeSQS(m.Body, m.Attributes)
	if err != nil {
		t.Fatal(err)
	}
	inv, err := events.ParseInvocation(e)
	if err != nil {
		t.Fatal(err)
	}
	if e.ID() != "evt-1" || inv.Method != "POST" || inv.Path != "/" || inv.RawQuery != "verbose=yes" ||
		string(inv.Body) != `{"name":"pen","price":1.5}` || inv.ReplyTo != "memory://results" {
		t.Errorf("invocation %+v of %s", inv, e)
	}
	if tp := events.EnsureTraceParent(&e); tp != "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" {
		t.Errorf("traceparent %s", tp)
	}
}

func TestDecodeSQSBinary(t *testing.T) {
	m := loadSQS(t, "sqs-binary.json")
	e, err := events.DecodeSQS(m.Body, m.Attributes)
	if err != nil {
		t.Fatal(err)
	}
	if e.ID() != "evt-2" || e.Type() != events.TypeInvoke || e.Subject() != "POST /" || string(e.Data()) != m.Body ||
		e.DataContentType() != "application/json" || !e.Time().Equal(time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)) ||
		e.Extensions()["traceparent"] != "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" {
		t.Errorf("binary event %s", e)
	}
}

func TestDecodeSQSEventBridge(t *testing.T) {
	b, _ := os.ReadFile("testdata/eventbridge-scheduled.json")
	e, err := events.DecodeSQS(string(b), nil)
	if err != nil {
		t.Fatal(err)
	}
	if e.ID() != "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa" || e.Source() != "aws.events" || e.Type() != "Scheduled Event" ||
		e.Subject() != "arn:aws:events:eu-west-1:123456789012:rule/reminder" || string(e.Data()) != "{}" ||
		e.Extensions()[events.ExtAWSAccount] != "123456789012" || e.Extensions()[events.ExtAWSRegion] != "eu-west-1" ||
		!e.Time().Equal(time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)) {
		t.Errorf("scheduled event as CloudEvent: %s", e)
	}
	b, _ = os.ReadFile("testdata/eventbridge-cloudevent.json")
	e, err = events.DecodeSQS(string(b), nil)
	if err != nil {
		t.Fatal(err)
	}
	if e.ID() != "evt-3" || e.Source() != "cws/billing" || e.Type() != events.TypeInvoke || compact(e.Data()) != `{"name":"invoice"}` {
		t.Errorf("CloudEvent in the detail: %s", e)
	}
}

func TestDecodeSQSMalformed(t *testing.T) {
	for _, tc := range []struct {
		body  string
		attrs map[string]string
		want  string
	}{
		{"not json", nil, "its body is not JSON"},
		{`{"hello":1}`, nil, "not a CloudEvent"},
		{`{"specversion":"1.0","id":"x"}`, nil, "not a CloudEvent"},
		{`{}`, map[string]string{"ce-specversion": "1.0", "ce-id": "x"}, "not a valid CloudEvent"},
		{`{`, map[string]string{"ce-specversion": "1.0", "ce-id": "x", "ce-source": "s", "ce-type": "t", "content-type": "application/json"}, "not JSON"},
		{`{}`, map[string]string{"ce-specversion": "1.0", "ce-id": "x", "ce-source": "s", "ce-type": "t", "ce-time": "yesterday"}, "not an RFC 3339 time"},
		{`{"version":"0","id":"x","detail-type":"d","source":"s","detail":{"specversion":"1.0"}}`, nil, "malformed CloudEvent"},
	} {
		_, err := events.DecodeSQS(tc.body, tc.attrs)
		if err == nil || !events.IsPermanent(err) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("DecodeSQS(%q, %v) = %v, want a Permanent error with %q", tc.body, tc.attrs, err, tc.want)
		}
	}
}

func TestEncodeSQSRoundTrip(t *testing.T) {
	e, err := events.NewInvocation("cws/test", "PUT", "/items/7?force=yes", map[string]any{"name": "lamp"})
	if err != nil {
		t.Fatal(err)
	}
	e.SetExtension(events.ExtReplyTo, "memory://r")
	body, err := events.EncodeSQS(e)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(body, `"data":{"name":"lamp"}`) {
		t.Errorf("JSON data is not written as JSON: %s", body)
	}
	back, err := events.DecodeSQS(body, nil)
	if err != nil || back.ID() != e.ID() || back.Subject() != "PUT /items/7?force=yes" || string(back.Data()) != `{"name":"lamp"}` ||
		back.Extensions()[events.ExtReplyTo] != "memory://r" {
		t.Errorf("round trip: %s %v", back, err)
	}
	big, _ := events.NewInvocation("cws/test", "POST", "/", map[string]string{"x": strings.Repeat("a", events.MaxSQSMessageSize)})
	if _, err := events.EncodeSQS(big); !errors.Is(err, events.ErrTooLarge) {
		t.Errorf("oversize: %v", err)
	}
}

func TestEnvelopeRoundTrip(t *testing.T) {
	e, _ := events.NewInvocation("cws/test", "POST", "/", map[string]int{"n": 1})
	env, err := events.EnvelopeFor(e, "000000000000", "us-east-1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if env.Source != "cws/test" || env.DetailType != events.TypeInvoke || env.ID == e.ID() || len(env.Resources) != 0 {
		t.Errorf("envelope %+v", env)
	}
	b, _ := json.Marshal(env)
	if !events.IsEnvelope(b) {
		t.Errorf("IsEnvelope(%s) = false", b)
	}
	back, err := events.ParseEnvelope(b)
	if err != nil || back.ID() != e.ID() || string(back.Data()) != `{"n":1}` {
		t.Errorf("back: %s %v", back, err)
	}
}

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
		{mk(events.TypeInvoke, "GET", "", nil), "is not \"METHOD /path?query\""},
		{mk(events.TypeInvoke, "FETCH /", "", nil), "unknown method"},
		{mk(events.TypeInvoke, "get /", "", nil), "unknown method"},
		{mk(events.TypeInvoke, "GET items", "", nil), "must be a path"},
		{mk(events.TypeInvoke, "POST /", "text/plain", []byte("hi")), "data is JSON"},
		{mk(events.TypeInvoke, "POST /", "application/json", []byte("{")), "not JSON"},
	} {
		if _, err := events.ParseInvocation(tc.e); err == nil || !events.IsPermanent(err) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseInvocation(%s %q) = %v, want %q", tc.e.Type(), tc.e.Subject(), err, tc.want)
		}
	}
	if _, err := events.NewInvocation("s", "POST", "/", []byte("{")); err == nil {
		t.Error("NewInvocation with invalid JSON: no error")
	}
	if _, err := events.NewInvocation("s", "BREW", "/", nil); err == nil {
		t.Error("NewInvocation with an unknown method: no error")
	}
}

func TestTraceParent(t *testing.T) {
	tp := events.NewTraceParent()
	if !events.ValidTraceParent(tp) || len(events.TraceID(tp)) != 32 || tp == events.NewTraceParent() {
		t.Errorf("NewTraceParent %s", tp)
	}
	for _, bad := range []string{"", "00-0000", "00-00000000000000000000000000000000-00f067aa0ba902b7-01", "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"} {
		if events.ValidTraceParent(bad) {
			t.Errorf("ValidTraceParent(%q)", bad)
		}
	}
	e := event.New()
	e.SetExtension(events.ExtTraceParent, "garbage")
	if tp := events.EnsureTraceParent(&e); !events.ValidTraceParent(tp) || e.Extensions()[events.ExtTraceParent] != tp {
		t.Errorf("a malformed traceparent is not replaced: %s", tp)
	}
}

func TestIsPermanent(t *testing.T) {
	for err, want := range map[error]bool{
		errors.New("x"):                false,
		events.Permanentf("bad %d", 1): true,
		events.ErrInProgress:           false,
		statusErr(400):                 true,
		statusErr(404):                 true,
		statusErr(422):                 true,
		statusErr(409):                 false,
		statusErr(429):                 false,
		statusErr(500):                 false,
		statusErr(503):                 false,
		errors.Join(errors.New("w"), statusErr(403)): true,
	} {
		if got := events.IsPermanent(err); got != want {
			t.Errorf("IsPermanent(%v) = %v", err, got)
		}
	}
	if events.Permanent(nil) != nil {
		t.Error("Permanent(nil) != nil")
	}
}

type statusErr int

func (s statusErr) Error() string   { return "status" }
func (s statusErr) StatusCode() int { return int(s) }

// compact returns JSON without insignificant space.
func compact(b []byte) string {
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		return "invalid JSON: " + string(b)
	}
	return out.String()
}

func TestEnvelopeEncode(t *testing.T) {
	e, err := events.NewInvocation("cws/test", "POST", "/", map[string]string{"x": "<é> \"quoted\"\n"})
	if err != nil {
		t.Fatal(err)
	}
	env, _ := events.EnvelopeFor(e, "123456789012", "eu-west-1", []string{"arn:a", "arn:\"b\""})
	b := env.Encode()
	var back events.Envelope
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	if back.Source != env.Source || back.DetailType != env.DetailType || !back.Time.Equal(env.Time) || back.Account != env.Account ||
		len(back.Resources) != 2 || back.Resources[1] != `arn:"b"` || compact(back.Detail) != compact(env.Detail) {
		t.Errorf("round trip %+v", back)
	}
	decoded, err := events.DecodeSQS(string(b), nil)
	if err != nil || decoded.ID() != e.ID() || decoded.Source() != e.Source() {
		t.Errorf("DecodeSQS of an encoded envelope: %s %v", decoded, err)
	}
}
