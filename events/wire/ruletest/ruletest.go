// Package ruletest is the table of CloudEvents cases every door that
// decodes CloudEvents runs through its own decoder (HTTP structured, batched
// and binary, SQS structured and binary, EventBridge, the Lambda door's SQS
// records and EventBridge events, the in-memory queue): each must accept the
// same events and refuse the same, naming the same rule (wire.RuleError).
// The cases of the HTTP binding's header values (Case.HTTPOnly) run through
// the HTTP binary doors only. docs/cloudevents.md lists the rules and the
// cases that prove them.
package ruletest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/coworks-go/cws/events/wire"
)

// A Case is an event on the wire and the verdict every door gives it.
type Case struct {
	// Name says what the case is.
	Name string
	// Rule is the rule (wire.Rule...) a door names refusing the event; ""
	// when every door accepts it.
	Rule string
	// Structured is the event in the JSON format; "" when the case is of the
	// binary modes only.
	Structured string
	// Binary is the event in binary mode, when those modes carry it (they
	// carry strings only: no null, no number, no data_base64).
	Binary *Binary
	// HTTPOnly is an event in the HTTP binding's binary mode whose ce-
	// header values are as a client writes them, percent-encoded or quoted
	// or not (Binary.RawHTTPHeader): the cases of the header values' rule
	// (HTTP binding §3.1.3.2), which SQS message attributes do not have.
	HTTPOnly *Binary
	// Accepted checks an accepted event as decoded.
	Accepted func(e event.Event) error
}

// Binary is an event in binary mode.
type Binary struct {
	// Attrs are the attributes by name (ce-NAME on the wire),
	// datacontenttype among them (the content type on the wire).
	Attrs map[string]string
	// Data is the message's body.
	Data string
}

// HTTPHeader is the event's attributes as the HTTP binding's binary mode
// carries them: ce-NAME headers, their values percent-encoded
// (PercentEncode), Content-Type for datacontenttype.
func (b *Binary) HTTPHeader() http.Header { return b.header(PercentEncode) }

// RawHTTPHeader is the event's attributes as ce-NAME headers of the values
// as they are, Content-Type for datacontenttype.
func (b *Binary) RawHTTPHeader() http.Header {
	return b.header(func(v string) string { return v })
}

func (b *Binary) header(encode func(string) string) http.Header {
	h := http.Header{}
	for name, v := range b.Attrs {
		if name == "datacontenttype" {
			h.Set("Content-Type", v)
		} else {
			h.Set("ce-"+name, encode(v))
		}
	}
	return h
}

// PercentEncode encodes an attribute's value for a ce- header as the HTTP
// binding says a sender must (§3.1.3.2): space, double quote, percent and
// every byte outside the printable ASCII range U+0021-U+007E as %XX.
func PercentEncode(v string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if c := v[i]; c <= ' ' || c >= 0x7f || c == '"' || c == '%' {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0xf])
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// SQSAttributes is the event's attributes as SQS message attributes in
// binary mode: ce-NAME, content-type for datacontenttype.
func (b *Binary) SQSAttributes() map[string]string {
	attrs := map[string]string{}
	for name, v := range b.Attrs {
		if name == "datacontenttype" {
			attrs[wire.AttrContentType] = v
		} else {
			attrs[wire.AttrBinaryPrefix+name] = v
		}
	}
	return attrs
}

// IsCloudEventDetail reports whether an EventBridge envelope with the
// case's structured event as its detail carries a CloudEvent: a detail
// without a specversion member is a native AWS event, made a CloudEvent
// from the envelope (see wire.Envelope.Event).
func (c Case) IsCloudEventDetail() bool {
	var members map[string]json.RawMessage
	if json.Unmarshal([]byte(c.Structured), &members) != nil {
		return false
	}
	_, ok := members["specversion"]
	return ok
}

// Check fails t unless err (nil when the door accepted e) is the case's
// verdict: for a refusal, an error whose text names the rule as a
// wire.RuleError does ("CloudEvents rule RULE:").
func (c Case) Check(t testing.TB, door string, e event.Event, err error) {
	t.Helper()
	switch {
	case c.Rule == "" && err != nil:
		t.Errorf("%s: %s: refused, want accepted: %v", door, c.Name, err)
	case c.Rule == "" && c.Accepted != nil:
		if aerr := c.Accepted(e); aerr != nil {
			t.Errorf("%s: %s: accepted as %v: %v", door, c.Name, e, aerr)
		}
	case c.Rule != "" && err == nil:
		t.Errorf("%s: %s: accepted as %v, want refused by rule %s", door, c.Name, e, c.Rule)
	case c.Rule != "" && !strings.Contains(err.Error(), "CloudEvents rule "+c.Rule+":"):
		t.Errorf("%s: %s: refused with %q, want it to name rule %s", door, c.Name, err, c.Rule)
	}
}

// base is the start of every structured case: its required attributes.
const base = `"specversion":"1.0","id":"rule-1","source":"test/rules","type":"test.rules"`

// ev is a structured event of the required attributes and members.
func ev(members string) string {
	if members == "" {
		return "{" + base + "}"
	}
	return "{" + base + "," + members + "}"
}

// both is a case carried in the JSON format and in binary mode, its binary
// form derived from its structured one.
func both(name, rule, structured string, accepted func(event.Event) error) Case {
	return Case{Name: name, Rule: rule, Structured: structured, Binary: binaryOf(structured), Accepted: accepted}
}

// structured is a case of the JSON format only.
func structured(name, rule, s string, accepted func(event.Event) error) Case {
	return Case{Name: name, Rule: rule, Structured: s, Accepted: accepted}
}

// binaryOnly is a case of the binary modes only: the required attributes
// and attrs (a "" value removes the attribute).
func binaryOnly(name, rule string, attrs map[string]string, data string) Case {
	b := binaryOf(ev(""))
	for k, v := range attrs {
		b.Attrs[k] = v
	}
	return Case{Name: name, Rule: rule, Binary: &Binary{Attrs: b.Attrs, Data: data}}
}

// httpOnly is a case of HTTP binary mode only: the required attributes and
// attrs, as ce- header values are written.
func httpOnly(name, rule string, attrs map[string]string, accepted func(event.Event) error) Case {
	b := binaryOf(ev(""))
	for k, v := range attrs {
		b.Attrs[k] = v
	}
	return Case{Name: name, Rule: rule, HTTPOnly: b, Accepted: accepted}
}

// binaryOf is a structured event of string attributes in binary mode.
func binaryOf(structured string) *Binary {
	var members map[string]json.RawMessage
	if err := json.Unmarshal([]byte(structured), &members); err != nil {
		panic(fmt.Sprintf("ruletest: %s: %v", structured, err))
	}
	b := &Binary{Attrs: map[string]string{}}
	for name, raw := range members {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil && name != "data" {
			panic(fmt.Sprintf("ruletest: %s: binary mode carries strings, not %s", name, raw))
		}
		if name != "data" {
			b.Attrs[name] = s
		}
	}
	if data, ok := members["data"]; ok {
		b.Data = string(data)
		if ct, ok := b.Attrs["datacontenttype"]; ok && !wire.IsJSON(ct) {
			_ = json.Unmarshal(data, &b.Data)
		}
	}
	return b
}

// want checks attributes of an accepted event: name → value as the SDK
// gives it (e.Subject(), e.Extensions()[name]...); a nil value is an
// absent attribute, "data" the data.
func want(attrs map[string]any) func(event.Event) error {
	return func(e event.Event) error {
		for name, w := range attrs {
			var got any
			switch name {
			case "subject":
				got = e.Subject()
			case "dataschema":
				got = e.DataSchema()
			case "datacontenttype":
				got = e.DataContentType()
			case "time":
				got = e.Time()
			case "source":
				got = e.Source()
			case "id":
				got = e.ID()
			case "type":
				got = e.Type()
			case "data":
				got = string(e.Data())
			default:
				got = e.Extensions()[name]
			}
			if t, ok := w.(time.Time); ok {
				if !t.Equal(got.(time.Time)) {
					return fmt.Errorf("%s is %v, want %v", name, got, t)
				}
				continue
			}
			if got != w {
				return fmt.Errorf("%s is %#v, want %#v", name, got, w)
			}
		}
		return nil
	}
}

// Cases returns the cases, the accepted first.
func Cases() []Case {
	when := time.Date(2018, 4, 5, 17, 31, 0, 123000000, time.FixedZone("", 2*3600))
	return []Case{
		// Accepted.
		both("the required attributes only", "", ev(""), want(map[string]any{"subject": "", "datacontenttype": ""})),
		both("every attribute", "", ev(`"subject":"123","time":"2018-04-05T17:31:00.123+02:00","dataschema":"https://example.com/schema.json",`+
			`"datacontenttype":"application/json","comexampleextension1":"value","data":{"a":1}`),
			want(map[string]any{"subject": "123", "time": when, "dataschema": "https://example.com/schema.json",
				"datacontenttype": "application/json", "comexampleextension1": "value", "data": `{"a":1}`})),
		structured("optional attributes null are absent", "", ev(`"subject":null,"time":null,"dataschema":null,"datacontenttype":null,"comexampleextension1":null`),
			want(map[string]any{"subject": "", "time": time.Time{}, "dataschema": "", "datacontenttype": "", "comexampleextension1": nil})),
		structured("a null datacontenttype is absent: the data is JSON", "", ev(`"datacontenttype":null,"data":{"a":[1,2]}`),
			want(map[string]any{"datacontenttype": "", "data": `{"a":[1,2]}`})),
		structured("extensions of type Integer, Boolean and String", "", ev(`"count":5,"low":-2147483648,"high":2147483647,"flag":true,"name":"x","empty":""`),
			want(map[string]any{"count": int32(5), "low": int32(-2147483648), "high": int32(2147483647), "flag": true, "name": "x", "empty": ""})),
		both("an attribute name over 20 characters (SHOULD NOT, accepted)", "", ev(`"abcdefghijklmnopqrstuvwxyz0123":"long"`),
			want(map[string]any{"abcdefghijklmnopqrstuvwxyz0123": "long"})),
		structured("data null: an explicit null payload", "", ev(`"data":null`), want(map[string]any{"data": "null"})),
		structured("data_base64", "", ev(`"datacontenttype":"application/octet-stream","data_base64":"aGVsbG8="`),
			want(map[string]any{"data": "hello", "datacontenttype": "application/octet-stream"})),
		both("text data of a text content type", "", ev(`"datacontenttype":"text/plain; charset=utf-8","data":"hello"`),
			want(map[string]any{"data": "hello", "datacontenttype": "text/plain; charset=utf-8"})),
		both("a relative source with a percent-encoded octet", "", `{"specversion":"1.0","id":"rule-1","source":"/sensors/tn-1234567/a%20b?x=1#f","type":"test.rules"}`,
			want(map[string]any{"source": "/sensors/tn-1234567/a%20b?x=1#f"})),
		both("a URN source", "", `{"specversion":"1.0","id":"rule-1","source":"urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66","type":"test.rules"}`,
			want(map[string]any{"source": "urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66"})),
		both("a subject of spaces, quotes, percent signs and letters outside ASCII", "", ev(`"subject":"Euro € 😀 \"q\" 100% %41"`),
			want(map[string]any{"subject": `Euro € 😀 "q" 100% %41`})),
		both("spaces around id, type and subject are theirs (the SDK's setters trim them, its JSON decoding does not)", "",
			`{"specversion":"1.0","id":" rule-1 ","source":"test/rules","type":" test.rules","subject":"a b "}`,
			want(map[string]any{"id": " rule-1 ", "type": " test.rules", "subject": "a b "})),
		httpOnly("header values percent-encoded in lower case and unnecessarily", "", map[string]string{"subject": "%e2%82%ac%61%2F"},
			want(map[string]any{"subject": "€a/"})),
		httpOnly("a header value quoted, as older senders wrote one", "", map[string]string{"subject": `"a \"b\" c" d`},
			want(map[string]any{"subject": `a "b" c d`})),
		httpOnly("a quoted header value percent-decoded after", "", map[string]string{"subject": `"a%20b"`},
			want(map[string]any{"subject": "a b"})),
		httpOnly("a header value of UTF-8 not encoded", "", map[string]string{"subject": "€"},
			want(map[string]any{"subject": "€"})),

		// Required attributes.
		structured("no id", wire.RuleRequired, `{"specversion":"1.0","source":"test/rules","type":"test.rules"}`, nil),
		structured("no source", wire.RuleRequired, `{"specversion":"1.0","id":"rule-1","type":"test.rules"}`, nil),
		structured("no type", wire.RuleRequired, `{"specversion":"1.0","id":"rule-1","source":"test/rules"}`, nil),
		structured("no specversion", wire.RuleRequired, `{"id":"rule-1","source":"test/rules","type":"test.rules"}`, nil),
		binaryOnly("no ce-id", wire.RuleRequired, map[string]string{"id": ""}, ""),
		binaryOnly("no ce-type", wire.RuleRequired, map[string]string{"type": ""}, ""),
		both("an empty id", wire.RuleRequired, `{"specversion":"1.0","id":"","source":"test/rules","type":"test.rules"}`, nil),
		both("a blank type", wire.RuleRequired, `{"specversion":"1.0","id":"rule-1","source":"test/rules","type":"  "}`, nil),
		both("an empty source", wire.RuleRequired, `{"specversion":"1.0","id":"rule-1","source":"","type":"test.rules"}`, nil),
		structured("a null id", wire.RuleRequired, `{"specversion":"1.0","id":null,"source":"test/rules","type":"test.rules"}`, nil),
		structured("a null specversion", wire.RuleRequired, `{"specversion":null,"id":"rule-1","source":"test/rules","type":"test.rules"}`, nil),

		// specversion.
		both("specversion 0.3", wire.RuleSpecVersion, `{"specversion":"0.3","id":"rule-1","source":"test/rules","type":"test.rules"}`, nil),
		both("specversion 1", wire.RuleSpecVersion, `{"specversion":"1","id":"rule-1","source":"test/rules","type":"test.rules"}`, nil),

		// Names.
		structured("an extension name with capital letters", wire.RuleAttributeName, ev(`"comExample":"x"`), nil),
		both("an extension name with an underscore", wire.RuleAttributeName, ev(`"com_example":"x"`), nil),
		structured("an empty attribute name", wire.RuleAttributeName, ev(`"":"x"`), nil),
		binaryOnly("an attribute named data", wire.RuleAttributeName, map[string]string{"data": "x"}, ""),

		// JSON types.
		structured("a number subject", wire.RuleAttributeType, ev(`"subject":5`), nil),
		structured("a number id", wire.RuleAttributeType, `{"specversion":"1.0","id":1,"source":"test/rules","type":"test.rules"}`, nil),
		structured("specversion a number", wire.RuleAttributeType, `{"specversion":1.0,"id":"rule-1","source":"test/rules","type":"test.rules"}`, nil),
		structured("a boolean time", wire.RuleAttributeType, ev(`"time":true`), nil),
		structured("an object extension", wire.RuleAttributeType, ev(`"comexample":{"a":1}`), nil),
		structured("an array extension", wire.RuleAttributeType, ev(`"comexample":[1]`), nil),
		structured("a fractional number extension", wire.RuleInteger, ev(`"comexample":1.5`), nil),
		structured("an integer extension over 32 bits", wire.RuleInteger, ev(`"comexample":2147483648`), nil),
		structured("an exponent number extension", wire.RuleInteger, ev(`"comexample":1e3`), nil),

		// Strings.
		structured("a control character in the subject", wire.RuleStringChars, ev(`"subject":"a\u0001b"`), nil),
		structured("a C1 control character in an extension", wire.RuleStringChars, ev(`"comexample":"a\u0085b"`), nil),
		structured("a noncharacter in the type", wire.RuleStringChars, `{"specversion":"1.0","id":"rule-1","source":"test/rules","type":"a\uFFFE"}`, nil),
		structured("an unpaired surrogate (not valid JSON text)", wire.RuleJSONObject, ev(`"subject":"\uDEAD"`), nil),

		// Empty optional attributes.
		both("an empty subject", wire.RuleNonEmpty, ev(`"subject":""`), nil),
		both("a blank subject", wire.RuleNonEmpty, ev(`"subject":"   "`), nil),
		both("an empty dataschema", wire.RuleNonEmpty, ev(`"dataschema":""`), nil),
		both("an empty datacontenttype", wire.RuleNonEmpty, ev(`"datacontenttype":""`), nil),

		// URIs, media types, times.
		both("a source with a space", wire.RuleSource, `{"specversion":"1.0","id":"rule-1","source":"a b","type":"test.rules"}`, nil),
		both("a source with a bad percent-encoding", wire.RuleSource, `{"specversion":"1.0","id":"rule-1","source":"a%zz","type":"test.rules"}`, nil),
		both("a source that does not parse", wire.RuleSource, `{"specversion":"1.0","id":"rule-1","source":"http://[::1","type":"test.rules"}`, nil),
		both("a relative dataschema", wire.RuleDataSchema, ev(`"dataschema":"schema.json"`), nil),
		both("a dataschema with a fragment", wire.RuleDataSchema, ev(`"dataschema":"https://example.com/s.json#/defs/a"`), nil),
		both("a datacontenttype that is no media type", wire.RuleDataContentType, ev(`"datacontenttype":"xyz"`), nil),
		both("a datacontenttype with a broken parameter", wire.RuleDataContentType, ev(`"datacontenttype":"text/plain; charset"`), nil),
		both("a date without a time", wire.RuleTime, ev(`"time":"2018-04-05"`), nil),
		both("a time without an offset", wire.RuleTime, ev(`"time":"2018-04-05T17:31:00"`), nil),
		both("a time in words", wire.RuleTime, ev(`"time":"yesterday"`), nil),
		both("a time with a lower-case t and z (RFC 3339 §5.6 lets a format require upper case)", wire.RuleTime, ev(`"time":"2018-04-05t17:31:00z"`), nil),
		both("a leap second", wire.RuleTime, ev(`"time":"2016-12-31T23:59:60Z"`), nil),

		// Data.
		structured("data and data_base64", wire.RuleDataExclusive, ev(`"data":{"a":1},"data_base64":"aGVsbG8="`), nil),
		structured("data_base64 not base64", wire.RuleDataBase64, ev(`"data_base64":"not base64!"`), nil),
		structured("data_base64 a number", wire.RuleDataBase64, ev(`"data_base64":5`), nil),
		structured("object data of a text content type", wire.RuleDataString, ev(`"datacontenttype":"text/plain","data":{"a":1}`), nil),
		binaryOnly("a JSON content type and a body that is not JSON", wire.RuleDataJSON, map[string]string{"datacontenttype": "application/json"}, "not json"),
		binaryOnly("no content type and a body that is not JSON", wire.RuleDataJSON, nil, "not json"),

		// HTTP header values.
		httpOnly("a percent sign not followed by hexadecimal digits", wire.RuleHeaderValue, map[string]string{"subject": "100%zz"}, nil),
		httpOnly("a percent sign at the end of a header value", wire.RuleHeaderValue, map[string]string{"comexample": "a%4"}, nil),
		httpOnly("an overlong UTF-8 encoding of a space", wire.RuleHeaderValue, map[string]string{"subject": "a%C0%A0b"}, nil),
		httpOnly("a percent-encoded byte that is no UTF-8", wire.RuleHeaderValue, map[string]string{"id": "%FF"}, nil),
		httpOnly("a quoted string not closed", wire.RuleHeaderValue, map[string]string{"subject": `"a b`}, nil),
		httpOnly("a percent-encoded control character", wire.RuleStringChars, map[string]string{"subject": "a%01b"}, nil),
		httpOnly("a source that decodes to a space", wire.RuleSource, map[string]string{"source": "a%20b"}, nil),
		httpOnly("a specversion percent-encoded", "", map[string]string{"specversion": "1%2E0"}, nil),

		// The JSON object.
		structured("an array", wire.RuleJSONObject, `[`+ev("")+`]`, nil),
		structured("a string", wire.RuleJSONObject, strconv.Quote(ev("")), nil),
		structured("an attribute twice", wire.RuleDuplicate, ev(`"id":"rule-2"`), nil),
	}
}
