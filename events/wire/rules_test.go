package wire_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/coworks-go/cws/events"
	"github.com/coworks-go/cws/events/wire"
	"github.com/coworks-go/cws/events/wire/ruletest"
)

// one is the single event of a decoder that returns a slice.
func one(evs []event.Event, err error) (event.Event, error) {
	if err != nil || len(evs) != 1 {
		return event.Event{}, err
	}
	return evs[0], nil
}

// envelope is an EventBridge event with detail as its detail.
func envelope(detail string) string {
	env := wire.Envelope{Version: "0", ID: "env-1", DetailType: "test.rules", Source: "test/rules", Account: "123456789012",
		Time: time.Now(), Region: "eu-west-1", Resources: []string{}, Detail: []byte(detail)}
	return string(env.Encode())
}

// Every case of ruletest through every decoder of events/wire: HTTP
// structured, batched and binary, SQS structured and binary, EventBridge
// (a rule's Lambda target, and its SQS target). A refusal by a queue's
// decoder is Permanent: the message is dead-lettered with the rule.
func TestCloudEventsRules(t *testing.T) {
	permanent := func(err error) error {
		if err != nil && !events.IsPermanent(err) {
			t.Errorf("%v is not Permanent: the message would be retried", err)
		}
		return err
	}
	for _, c := range ruletest.Cases() {
		if s := c.Structured; s != "" {
			e, err := one(wire.DecodeHTTP(http.Header{"Content-Type": {wire.ContentTypeStructured}}, strings.NewReader(s)))
			c.Check(t, "HTTP structured", e, err)
			e, err = one(wire.DecodeHTTP(http.Header{"Content-Type": {wire.ContentTypeBatch + "; charset=utf-8"}}, strings.NewReader("["+s+"]")))
			c.Check(t, "HTTP batch", e, err)
			e, err = wire.DecodeSQS(s, nil)
			c.Check(t, "SQS structured", e, permanent(err))
			e, err = wire.DecodeStructured([]byte(s))
			c.Check(t, "DecodeStructured", e, err)
			if c.IsCloudEventDetail() {
				e, err = wire.ParseEnvelope([]byte(envelope(s)))
				c.Check(t, "EventBridge", e, permanent(err))
				e, err = wire.DecodeSQS(envelope(s), nil)
				c.Check(t, "EventBridge to SQS", e, permanent(err))
			}
		}
		if b := c.Binary; b != nil {
			e, err := one(wire.DecodeHTTP(b.HTTPHeader(), strings.NewReader(b.Data)))
			c.Check(t, "HTTP binary", e, err)
			e, err = wire.DecodeSQS(b.Data, b.SQSAttributes())
			c.Check(t, "SQS binary", e, permanent(err))
		}
		if b := c.HTTPOnly; b != nil {
			e, err := one(wire.DecodeHTTP(b.RawHTTPHeader(), strings.NewReader(b.Data)))
			c.Check(t, "HTTP binary, header values as written", e, err)
		}
	}
}

// FuzzHTTPHeaderValue: any attribute value, percent-encoded into its ce-
// header as the HTTP binding says a sender must, decodes to itself, or is
// refused naming a rule of the value (a control character, a blank), or
// the header values' rule for bytes that are not UTF-8.
func FuzzHTTPHeaderValue(f *testing.F) {
	for _, s := range []string{"a", "Euro € 😀", `"q" 100% %41`, "a\x01b", " ", "\xff", "%C0%A0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		for _, name := range []string{"subject", "comexample"} {
			b := &ruletest.Binary{Attrs: map[string]string{"specversion": "1.0", "id": "1", "source": "s", "type": "t", name: v}}
			evs, err := wire.DecodeHTTP(b.HTTPHeader(), strings.NewReader(""))
			if err != nil {
				var rerr *wire.RuleError
				if !errors.As(err, &rerr) || (rerr.Rule == wire.RuleHeaderValue) == utf8.ValidString(v) {
					t.Fatalf("%s %q, encoded %q: %v", name, v, b.HTTPHeader().Get("ce-"+name), err)
				}
				continue
			}
			got := evs[0].Subject()
			if name != "subject" {
				got, _ = evs[0].Extensions()[name].(string)
			}
			if got != v {
				t.Fatalf("%s %q, encoded %q: decoded %q", name, v, b.HTTPHeader().Get("ce-"+name), got)
			}
		}
	})
}

// A native EventBridge event (its detail no CloudEvent) becomes a
// CloudEvent from the envelope's fields: the rules of the strings hold for
// them as for a CloudEvent's, and a refusal is Permanent.
func TestCloudEventsRulesNativeEventBridge(t *testing.T) {
	for _, tc := range []struct {
		name, rule string
		edit       func(env *wire.Envelope)
	}{
		{"a native event", "", func(*wire.Envelope) {}},
		{"a source with a space (the SDK percent-encodes it)", "", func(env *wire.Envelope) { env.Source = "my app" }},
		{"a control character in the detail-type", wire.RuleStringChars, func(env *wire.Envelope) { env.DetailType = "order\u0001placed" }},
		{"a noncharacter in the id", wire.RuleStringChars, func(env *wire.Envelope) { env.ID = "1\uFFFF" }},
		{"a control character in the one resource (the subject)", wire.RuleStringChars, func(env *wire.Envelope) { env.Resources = []string{"arn:\u0001x"} }},
		{"a control character in the region", wire.RuleStringChars, func(env *wire.Envelope) { env.Region = "eu\u0000" }},
	} {
		env := wire.Envelope{Version: "0", ID: "env-1", DetailType: "order.placed", Source: "my.app", Account: "123456789012",
			Time: time.Now(), Region: "eu-west-1", Resources: []string{}, Detail: []byte(`{"a":1}`)}
		tc.edit(&env)
		_, err := wire.ParseEnvelope(env.Encode())
		switch {
		case tc.rule == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.rule != "" && (err == nil || !events.IsPermanent(err) || !strings.Contains(err.Error(), "CloudEvents rule "+tc.rule+":")):
			t.Errorf("%s: %v, want a Permanent refusal naming rule %s", tc.name, err, tc.rule)
		}
	}
}

// The bindings differ in one thing: HTTP header names are
// case-insensitive, so a ce- header's attribute is its name in lower case;
// SQS message attribute names are not, so a capital letter breaks the
// naming rule.
func TestCloudEventsRulesHeaderCase(t *testing.T) {
	h := http.Header{"Ce-Specversion": {"1.0"}, "Ce-Id": {"1"}, "Ce-Source": {"s"}, "Ce-Type": {"t"}, "Ce-Comexample": {"x"}}
	e, err := one(wire.DecodeHTTP(h, strings.NewReader("")))
	if err != nil || e.Extensions()["comexample"] != "x" {
		t.Errorf("HTTP: %v %v", e, err)
	}
	_, err = wire.DecodeSQS("", map[string]string{"ce-specversion": "1.0", "ce-id": "1", "ce-source": "s", "ce-type": "t", "ce-comExample": "x"})
	if err == nil || !strings.Contains(err.Error(), "CloudEvents rule "+wire.RuleAttributeName+":") {
		t.Errorf("SQS: %v", err)
	}
}
