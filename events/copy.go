package events

import (
	"bytes"
	"maps"

	"github.com/cloudevents/sdk-go/v2/event"
)

// Copy returns a copy of e that shares nothing e's setters could change:
// its context, extensions and data are copied. It is what event.Clone does,
// in a few allocations, for the in-memory transports that hand one event
// to several receivers; the attribute values themselves (a source's URL, a
// time) are immutable and shared.
func Copy(e event.Event) event.Event {
	out := CopyAttributes(e)
	if e.DataEncoded != nil {
		out.DataEncoded = bytes.Clone(e.DataEncoded)
	}
	return out
}

// CopyAttributes is Copy sharing the data's bytes: what a queue hands each
// delivery of an event it holds (a copy nobody else writes to). A receiver
// can change its copy's attributes, extensions and data (SetData replaces
// the bytes) without another seeing it; it must not write into the bytes
// Data returns, which the SDK hands out as they are.
func CopyAttributes(e event.Event) event.Event {
	ec, ok := e.Context.(*event.EventContextV1)
	if !ok {
		return e.Clone()
	}
	c := *ec
	if ec.Extensions != nil {
		c.Extensions = maps.Clone(ec.Extensions)
		for k, v := range c.Extensions {
			if b, ok := v.([]byte); ok {
				c.Extensions[k] = bytes.Clone(b)
			}
		}
	}
	out := event.Event{Context: &c, DataEncoded: e.DataEncoded, DataBase64: e.DataBase64}
	if e.FieldErrors != nil {
		out.FieldErrors = maps.Clone(e.FieldErrors)
	}
	return out
}
