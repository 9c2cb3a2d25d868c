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
	out := event.Event{Context: &c, DataBase64: e.DataBase64}
	if e.DataEncoded != nil {
		out.DataEncoded = bytes.Clone(e.DataEncoded)
	}
	if e.FieldErrors != nil {
		out.FieldErrors = maps.Clone(e.FieldErrors)
	}
	return out
}
