package wire

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/cloudevents/sdk-go/v2/binding"
	"github.com/cloudevents/sdk-go/v2/binding/format"
	"github.com/cloudevents/sdk-go/v2/binding/spec"
	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/go-json-experiment/json/jsontext"
)

// The content types of the CloudEvents HTTP binding's structured and
// batched modes.
const (
	ContentTypeStructured = "application/cloudevents+json"
	ContentTypeBatch      = "application/cloudevents-batch+json"
)

// ErrNotCloudEvent is the error of DecodeHTTP for a request that is in no
// mode of the binding.
var ErrNotCloudEvent = errors.New("not a CloudEvent: no ce-specversion header and the content type is neither " +
	ContentTypeStructured + " nor " + ContentTypeBatch)

// httpSpecs maps the attributes to their headers in binary mode:
// Content-Type for datacontenttype, ce-NAME for the others.
var httpSpecs = spec.WithPrefixMatchExact(attrHeader, "Ce-")

// DecodeHTTP reads the CloudEvents of an HTTP request in the CloudEvents
// HTTP binding: binary mode (the attributes in ce-* headers, the body as the
// data), structured mode (Content-Type application/cloudevents+json, the
// event as JSON) or batched mode (application/cloudevents-batch+json, a JSON
// array of events). It decodes with the SDK, as the SDK's HTTP protocol
// does, without that package (it brings a logger along), and checks each
// event as every door does: a RuleError names the rule an event breaks
// (see DecodeStructured, Validate).
func DecodeHTTP(header http.Header, body io.Reader) ([]event.Event, error) {
	switch f := format.Lookup(header.Get("Content-Type")); {
	case f == format.JSONBatch:
		return decodeBatch(body)
	case f != nil:
		data, err := io.ReadAll(body)
		if err != nil {
			return nil, fmt.Errorf("reading the event: %w", err)
		}
		e, err := DecodeStructured(data)
		if err != nil {
			return nil, err
		}
		return []event.Event{e}, nil
	case len(header.Values(httpSpecs.PrefixedSpecVersionName())) > 0:
		e, err := decodeHTTPBinary(header, body)
		if err != nil {
			return nil, err
		}
		return []event.Event{e}, nil
	}
	return nil, ErrNotCloudEvent
}

// decodeBatch decodes a batch: a JSON array of events in the JSON format.
func decodeBatch(body io.Reader) ([]event.Event, error) {
	data, err := io.ReadAll(body)
	if err != nil {
		return nil, fmt.Errorf("reading the batch: %w", err)
	}
	dec := jsontext.NewDecoder(bytes.NewReader(data), jsontext.AllowDuplicateNames(true))
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '[' {
		return nil, fmt.Errorf("a batch of CloudEvents is a JSON array: %w", ruleErr(RuleJSONObject, "the batch is not a JSON array"))
	}
	var evs []event.Event
	for dec.PeekKind() != ']' {
		v, err := dec.ReadValue()
		if err != nil {
			return nil, fmt.Errorf("a batch of CloudEvents: %w", ruleErr(RuleJSONObject, "the batch is not valid JSON: %v", err))
		}
		e, err := DecodeStructured(bytes.Clone(v))
		if err != nil {
			return nil, fmt.Errorf("event %d of the batch: %w", len(evs)+1, err)
		}
		evs = append(evs, e)
	}
	if _, err := dec.ReadToken(); err != nil {
		return nil, fmt.Errorf("a batch of CloudEvents: %w", ruleErr(RuleJSONObject, "the batch is not valid JSON: %v", err))
	}
	if _, err := dec.ReadToken(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("a batch of CloudEvents: %w", ruleErr(RuleJSONObject, "the batch is followed by more"))
	}
	return evs, nil
}

// decodeHTTPBinary decodes an event in binary mode: its ce-* header values
// decoded (decodeHeaderValue), its attributes checked as the wire carries
// them (checkBinary), then decoded by the SDK's binding, then its data
// (finishBinary) and the event (Validate).
func decodeHTTPBinary(header http.Header, body io.Reader) (event.Event, error) {
	attrs := make(map[string]string, len(header))
	// The attributes' headers, their values decoded, for the SDK's binding.
	decoded := make(http.Header, len(header))
	for k, vs := range header {
		if name, ok := headerAttribute(k); ok {
			v, err := decodeHeaderValue(name, vs[0])
			if err != nil {
				return event.Event{}, err
			}
			attrs[name] = v
			decoded[attrHeader(name)] = []string{v}
		}
	}
	if vs := header["Content-Type"]; len(vs) > 0 {
		attrs["datacontenttype"] = vs[0]
		decoded["Content-Type"] = vs[:1]
	}
	if err := checkBinary(attrs); err != nil {
		return event.Event{}, err
	}
	m := &httpMessage{header: decoded, body: body, version: httpSpecs.Version(decoded.Get(httpSpecs.PrefixedSpecVersionName()))}
	e, err := binding.ToEvent(context.Background(), m)
	if err != nil {
		return event.Event{}, fmt.Errorf("decoding the event: %w", err)
	}
	untrimmed(e, attrs)
	if err := finishBinary(e, e.DataEncoded); err != nil {
		return *e, err
	}
	return *e, validateDecoded(*e)
}

// decodeHeaderValue decodes the value of the ce-* header of attribute name
// as the HTTP binding says a receiver must (§3.1.3.2): the double-quoted
// strings of RFC 7230 §3.2.6 unescaped (older senders quoted values with
// spaces), then one round of percent-decoding, whose bytes must be UTF-8;
// a percent sign not followed by two hexadecimal digits (either case) is
// refused. A value without '%' or '"' is itself.
func decodeHeaderValue(name, v string) (string, error) {
	if !strings.ContainsAny(v, `%"`) {
		return v, nil
	}
	if strings.IndexByte(v, '"') >= 0 {
		var b strings.Builder
		b.Grow(len(v))
		quoted := false
		for i := 0; i < len(v); i++ {
			switch c := v[i]; {
			case c == '"':
				quoted = !quoted
			case c == '\\' && quoted:
				if i++; i == len(v) {
					return "", ruleErr(RuleHeaderValue, "header ce-%s: a backslash ends the value", name)
				}
				b.WriteByte(v[i])
			default:
				b.WriteByte(c)
			}
		}
		if quoted {
			return "", ruleErr(RuleHeaderValue, "header ce-%s: a quoted string is not closed", name)
		}
		v = b.String()
	}
	if strings.IndexByte(v, '%') < 0 {
		return v, nil
	}
	// url.PathUnescape is one round of percent-decoding, '+' left as it is.
	out, err := url.PathUnescape(v)
	if err != nil {
		return "", ruleErr(RuleHeaderValue, "header ce-%s: a %% not followed by two hexadecimal digits in %s", name, quoteShort(v))
	}
	if !utf8.ValidString(out) {
		return "", ruleErr(RuleHeaderValue, "header ce-%s: %s percent-decodes to bytes that are not UTF-8", name, quoteShort(v))
	}
	return out, nil
}

// headerAttribute is the attribute a ce-* header carries: header names are
// case-insensitive, so is the prefix, and the attribute is the rest in
// lower case.
func headerAttribute(header string) (string, bool) {
	if len(header) < 3 || !strings.EqualFold(header[:3], "ce-") {
		return "", false
	}
	return strings.ToLower(header[3:]), true
}

// httpMessage is an HTTP request in binary mode as a binding.Message.
type httpMessage struct {
	header  http.Header
	body    io.Reader
	version spec.Version
}

func (m *httpMessage) ReadEncoding() binding.Encoding { return binding.EncodingBinary }

func (m *httpMessage) ReadStructured(context.Context, binding.StructuredWriter) error {
	return binding.ErrNotStructured
}

func (m *httpMessage) ReadBinary(ctx context.Context, w binding.BinaryWriter) error {
	for k, vs := range m.header {
		var err error
		if attr := m.version.Attribute(k); attr != nil {
			err = w.SetAttribute(attr, vs[0])
		} else if name, ok := headerAttribute(k); ok {
			err = w.SetExtension(name, vs[0])
		}
		if err != nil {
			return err
		}
	}
	if m.body != nil {
		return w.SetData(m.body)
	}
	return nil
}

func (m *httpMessage) Finish(error) error { return nil }

// GetAttribute and GetExtension make it a binding.MessageMetadataReader.
func (m *httpMessage) GetAttribute(k spec.Kind) (spec.Attribute, any) {
	attr := m.version.AttributeFromKind(k)
	if attr == nil {
		return nil, nil
	}
	if vs := m.header[attrHeader(attr.Name())]; len(vs) > 0 {
		return attr, vs[0]
	}
	return attr, nil
}

func (m *httpMessage) GetExtension(name string) any {
	if vs := m.header[attrHeader(name)]; len(vs) > 0 {
		return vs[0]
	}
	return nil
}

// attrHeader is the header of an attribute in binary mode.
func attrHeader(name string) string {
	if name == "datacontenttype" {
		return "Content-Type"
	}
	return textproto.CanonicalMIMEHeaderKey("Ce-" + name)
}
