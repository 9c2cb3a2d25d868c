package wire

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"strings"
	"unicode"

	"github.com/cloudevents/sdk-go/v2/binding"
	"github.com/cloudevents/sdk-go/v2/binding/format"
	"github.com/cloudevents/sdk-go/v2/binding/spec"
	"github.com/cloudevents/sdk-go/v2/event"
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
// array of events). It decodes with the SDK's binding package, as the SDK's
// HTTP protocol does, without that package (it brings a logger along). The
// events are not validated: the caller checks each.
func DecodeHTTP(header http.Header, body io.Reader) ([]event.Event, error) {
	m := &httpMessage{header: header, body: body}
	m.format = format.Lookup(header.Get("Content-Type"))
	if m.format == nil {
		m.version = httpSpecs.Version(header.Get(httpSpecs.PrefixedSpecVersionName()))
	}
	switch m.ReadEncoding() {
	case binding.EncodingBatch:
		evs, err := binding.ToEvents(context.Background(), m, body)
		if err != nil {
			return nil, fmt.Errorf("a batch of CloudEvents: %w", err)
		}
		return evs, nil
	case binding.EncodingStructured, binding.EncodingBinary:
		e, err := binding.ToEvent(context.Background(), m)
		if err != nil {
			return nil, err
		}
		return []event.Event{*e}, nil
	}
	return nil, ErrNotCloudEvent
}

// httpMessage is an HTTP request as a binding.Message.
type httpMessage struct {
	header  http.Header
	body    io.Reader
	format  format.Format
	version spec.Version
}

func (m *httpMessage) ReadEncoding() binding.Encoding {
	switch {
	case m.version != nil:
		return binding.EncodingBinary
	case m.format == format.JSONBatch:
		return binding.EncodingBatch
	case m.format != nil:
		return binding.EncodingStructured
	}
	return binding.EncodingUnknown
}

func (m *httpMessage) ReadStructured(ctx context.Context, w binding.StructuredWriter) error {
	if m.format == nil {
		return binding.ErrNotStructured
	}
	return w.SetStructuredEvent(ctx, m.format, m.body)
}

func (m *httpMessage) ReadBinary(ctx context.Context, w binding.BinaryWriter) error {
	if m.version == nil {
		return binding.ErrNotBinary
	}
	for k, vs := range m.header {
		var err error
		if attr := m.version.Attribute(k); attr != nil {
			err = w.SetAttribute(attr, vs[0])
		} else if rest, ok := strings.CutPrefix(k, "Ce-"); ok && rest != "" {
			// Header names are canonical: the extension's name is lower case.
			err = w.SetExtension(string(unicode.ToLower(rune(rest[0])))+rest[1:], vs[0])
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
