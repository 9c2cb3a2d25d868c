package wire_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/coworks-go/cws/events"
	"github.com/coworks-go/cws/events/invoke"
	"github.com/coworks-go/cws/events/wire"
)

// sqsMessage is an SQS message of testdata: its body and attributes.
type sqsMessage struct {
	Body       string            `json:"body"`
	Attributes map[string]string `json:"attributes"`
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func loadSQS(t testing.TB, name string) sqsMessage {
	t.Helper()
	b := readTestdata(t, name)
	var m sqsMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestDecodeSQSStructured(t *testing.T) {
	m := loadSQS(t, "sqs-structured.json")
	e, err := wire.DecodeSQS(m.Body, m.Attributes)
	if err != nil {
		t.Fatal(err)
	}
	inv, err := invoke.Parse(e)
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
	e, err := wire.DecodeSQS(m.Body, m.Attributes)
	if err != nil {
		t.Fatal(err)
	}
	if e.ID() != "evt-2" || e.Type() != invoke.Type || e.Subject() != "POST /" || string(e.Data()) != m.Body ||
		e.DataContentType() != "application/json" || !e.Time().Equal(time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)) ||
		e.Extensions()["traceparent"] != "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" {
		t.Errorf("binary event %s", e)
	}
}

func TestDecodeSQSEventBridge(t *testing.T) {
	b, _ := os.ReadFile("testdata/eventbridge-scheduled.json")
	e, err := wire.DecodeSQS(string(b), nil)
	if err != nil {
		t.Fatal(err)
	}
	if e.ID() != "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa" || e.Source() != "aws.events" || e.Type() != "Scheduled Event" ||
		e.Subject() != "arn:aws:events:eu-west-1:123456789012:rule/reminder" || string(e.Data()) != "{}" ||
		e.Extensions()[wire.ExtAWSAccount] != "123456789012" || e.Extensions()[wire.ExtAWSRegion] != "eu-west-1" ||
		!e.Time().Equal(time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)) {
		t.Errorf("scheduled event as CloudEvent: %s", e)
	}
	b, _ = os.ReadFile("testdata/eventbridge-cloudevent.json")
	e, err = wire.DecodeSQS(string(b), nil)
	if err != nil {
		t.Fatal(err)
	}
	if e.ID() != "evt-3" || e.Source() != "cws/billing" || e.Type() != invoke.Type || compact(e.Data()) != `{"name":"invoice"}` {
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
		_, err := wire.DecodeSQS(tc.body, tc.attrs)
		if err == nil || !events.IsPermanent(err) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("DecodeSQS(%q, %v) = %v, want a Permanent error with %q", tc.body, tc.attrs, err, tc.want)
		}
	}
}

func TestEncodeSQSRoundTrip(t *testing.T) {
	e, err := invoke.New("cws/test", "PUT", "/items/7?force=yes", map[string]any{"name": "lamp"})
	if err != nil {
		t.Fatal(err)
	}
	e.SetExtension(invoke.ExtReplyTo, "memory://r")
	body, err := wire.EncodeSQS(e)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(body, `"data":{"name":"lamp"}`) {
		t.Errorf("JSON data is not written as JSON: %s", body)
	}
	back, err := wire.DecodeSQS(body, nil)
	if err != nil || back.ID() != e.ID() || back.Subject() != "PUT /items/7?force=yes" || string(back.Data()) != `{"name":"lamp"}` ||
		back.Extensions()[invoke.ExtReplyTo] != "memory://r" {
		t.Errorf("round trip: %s %v", back, err)
	}
	big, _ := invoke.New("cws/test", "POST", "/", map[string]string{"x": strings.Repeat("a", wire.MaxSQSMessageSize)})
	if _, err := wire.EncodeSQS(big); !errors.Is(err, events.ErrTooLarge) {
		t.Errorf("oversize: %v", err)
	}
}

func TestEnvelopeRoundTrip(t *testing.T) {
	e, _ := invoke.New("cws/test", "POST", "/", map[string]int{"n": 1})
	env, err := wire.EnvelopeFor(e, "000000000000", "us-east-1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if env.Source != "cws/test" || env.DetailType != invoke.Type || env.ID == e.ID() || len(env.Resources) != 0 {
		t.Errorf("envelope %+v", env)
	}
	b, _ := json.Marshal(env)
	if !wire.IsEnvelope(b) {
		t.Errorf("IsEnvelope(%s) = false", b)
	}
	back, err := wire.ParseEnvelope(b)
	if err != nil || back.ID() != e.ID() || string(back.Data()) != `{"n":1}` {
		t.Errorf("back: %s %v", back, err)
	}
}

// compact returns JSON without insignificant space.
func compact(b []byte) string {
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		return "invalid JSON: " + string(b)
	}
	return out.String()
}

func TestEnvelopeEncode(t *testing.T) {
	e, err := invoke.New("cws/test", "POST", "/", map[string]string{"x": "<é> \"quoted\"\n"})
	if err != nil {
		t.Fatal(err)
	}
	env, _ := wire.EnvelopeFor(e, "123456789012", "eu-west-1", []string{"arn:a", "arn:\"b\""})
	b := env.Encode()
	var back wire.Envelope
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	if back.Source != env.Source || back.DetailType != env.DetailType || !back.Time.Equal(env.Time) || back.Account != env.Account ||
		len(back.Resources) != 2 || back.Resources[1] != `arn:"b"` || compact(back.Detail) != compact(env.Detail) {
		t.Errorf("round trip %+v", back)
	}
	decoded, err := wire.DecodeSQS(string(b), nil)
	if err != nil || decoded.ID() != e.ID() || decoded.Source() != e.Source() {
		t.Errorf("DecodeSQS of an encoded envelope: %s %v", decoded, err)
	}
}
