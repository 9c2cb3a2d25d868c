package wire

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/cloudevents/sdk-go/v2/event"
)

// EncodedSizeBound returns an upper bound of the length of e's structured
// JSON encoding (what EncodeSQS writes) without encoding it: transports that
// carry events as they are (the in-memory queue and bus) check the size
// limits with it and encode only an event that may be near them.
func EncodedSizeBound(e event.Event) int {
	// A string is at most 6 bytes per byte once escaped (\u00XX), plus quotes,
	// the member's name, its colon and comma.
	str := func(name, v string) int { return len(name) + 4 + 6*len(v) + 1 }
	n := 2 + str("specversion", e.SpecVersion()) + str("id", e.ID()) + sourceBound(e) + str("type", e.Type())
	if s := e.Subject(); s != "" {
		n += str("subject", s)
	}
	if s := e.DataContentType(); s != "" {
		n += str("datacontenttype", s)
	}
	if s := e.DataSchema(); s != "" {
		n += str("dataschema", s)
	}
	if !e.Time().IsZero() {
		n += str("time", "2006-01-02T15:04:05.999999999Z07:00")
	}
	for k, v := range e.Extensions() {
		if s, ok := v.(string); ok {
			n += str(k, s)
		} else {
			n += str(k, fmt.Sprint(v)) + 64
		}
	}
	if data := e.Data(); data != nil {
		switch {
		case e.DataBase64:
			n += str("data_base64", "") + base64.StdEncoding.EncodedLen(len(data))
		case isJSONMedia(e.DataContentType()):
			n += str("data", "") + len(data)
		default:
			n += str("data", string(data))
		}
	}
	return n
}

// sourceBound bounds the encoded "source" member without writing the
// source's URL: its parts, each byte percent-encoded at worst, escaped at
// worst.
func sourceBound(e event.Event) int {
	ec, ok := e.Context.(*event.EventContextV1)
	if !ok {
		return len("source") + 5 + 6*len(e.Source())
	}
	u := &ec.Source.URL
	n := len(u.Scheme) + len(u.Opaque) + 3*len(u.Host) + 3*len(u.Path) + len(u.RawPath) + 3*len(u.RawQuery) + 3*len(u.Fragment) +
		len(u.RawFragment) + 8
	if u.User != nil {
		n += 3 * len(u.User.String())
	}
	return len("source") + 5 + 6*n
}

// SetJSON sets raw JSON as the event's data, written as JSON (not base64)
// in structured mode.
func SetJSON(e *event.Event, raw []byte) {
	e.SetDataContentType(event.ApplicationJSON)
	e.DataEncoded = raw
	e.DataBase64 = false
}

// IsJSON reports whether a content type is JSON: application/json or a
// +json type (an invocation's data must be).
func IsJSON(contentType string) bool {
	mt, _, _ := strings.Cut(strings.ToLower(contentType), ";")
	mt = strings.TrimSpace(mt)
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

// isJSONMedia reports whether the sdk writes data of this content type as
// JSON (not as a string), telling the media type as the sdk does.
func isJSONMedia(contentType string) bool {
	if contentType == "" {
		return true
	}
	// strings.ToLower, not EqualFold: Unicode case folding differs from
	// lowering for a few runes (İ, ſ), and the sdk lowers.
	mt, _, _ := strings.Cut(contentType, ";")
	switch strings.ToLower(strings.TrimSpace(mt)) {
	case "application/json", "text/json", "application/cloudevents+json", "application/cloudevents-batch+json":
		return true
	}
	return false
}

// CheckData checks that the data of an event whose content type is JSON is
// valid JSON: the structured encoding writes such data as it is, and a
// receiver could not decode the message.
func CheckData(e event.Event) error {
	data := e.Data()
	if data == nil || e.DataBase64 || !isJSONMedia(e.DataContentType()) {
		return nil
	}
	if !json.Valid(data) {
		return fmt.Errorf("event %s: its data is not valid JSON, as its content type %q says", e.ID(), e.DataContentType())
	}
	return nil
}
