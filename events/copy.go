package events

import (
	"bytes"
	"maps"

	"github.com/cloudevents/sdk-go/v2/event"
)

// Copy returns a copy of e that shares nothing e's setters could change,
// nor its data's bytes: its context, extensions and data are copied, so
// that a receiver that writes into Data() changes its copy only. It is what
// event.Clone does, in one or two allocations, for the in-memory transports
// that hand one event to several receivers; the attribute values themselves
// (a source's URL, a time) are immutable and shared.
func Copy(e event.Event) event.Event {
	ec, ok := e.Context.(*event.EventContextV1)
	if !ok {
		return e.Clone()
	}
	var c *event.EventContextV1
	var data []byte
	switch n := len(e.DataEncoded); {
	case n > 0 && n <= tinyData:
		// Small data lives beside the context: one allocation, of the
		// smaller of two sizes that holds it.
		cd := &contextAndTinyData{context: *ec}
		c, data = &cd.context, cd.data[:n:n]
		copy(data, e.DataEncoded)
	case n > 0 && n <= smallData:
		cd := &contextAndData{context: *ec}
		c, data = &cd.context, cd.data[:n:n]
		copy(data, e.DataEncoded)
	default:
		c = new(event.EventContextV1)
		*c = *ec
		if e.DataEncoded != nil {
			data = bytes.Clone(e.DataEncoded)
		}
	}
	if ec.Extensions != nil {
		c.Extensions = maps.Clone(ec.Extensions)
		for k, v := range c.Extensions {
			if b, ok := v.([]byte); ok {
				c.Extensions[k] = bytes.Clone(b)
			}
		}
	}
	out := event.Event{Context: c, DataEncoded: data, DataBase64: e.DataBase64}
	if e.FieldErrors != nil {
		out.FieldErrors = maps.Clone(e.FieldErrors)
	}
	return out
}

// smallData is the most data Copy keeps beside the event's context;
// tinyData the most it keeps in the smaller of its two sizes (the context
// is 216 bytes: with 64 bytes of data, the allocation is of 288 bytes, with
// 128 of 352).
const (
	smallData = 128
	tinyData  = 64
)

// contextAndData is a copied context and its event's small data.
type contextAndData struct {
	context event.EventContextV1
	data    [smallData]byte
}

// contextAndTinyData is a copied context and its event's tiny data.
type contextAndTinyData struct {
	context event.EventContextV1
	data    [tinyData]byte
}
