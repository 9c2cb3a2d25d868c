package wire_test

import (
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/coworks-go/cws/events/pattern"
	"github.com/coworks-go/cws/events/wire"
)

// BenchmarkDecodeStructured decodes an SQS body of a structured event:
// with the rules the doors check, and with the SDK's decoder alone.
func BenchmarkDecodeStructured(b *testing.B) {
	e := event.New()
	e.SetID("evt-42")
	e.SetSource("cws/bench")
	e.SetType("order.completed")
	e.SetSubject("POST /orders")
	_ = e.SetData(event.ApplicationJSON, map[string]any{"order": 42, "total": 42.5, "lines": []string{"a", "b"}})
	body, err := wire.EncodeSQS(e)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("impl=rules", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := wire.DecodeSQS(body, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=sdk", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var e event.Event
			if err := e.UnmarshalJSON([]byte(body)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkFlattenInto flattens an envelope for a bus whose rules use its
// source and detail-type, through one builder reset between events.
func BenchmarkFlattenInto(b *testing.B) {
	e := event.New()
	e.SetID("evt-42")
	e.SetSource("cws/bench")
	e.SetType("order.completed")
	_ = e.SetData(event.ApplicationJSON, map[string]any{"order": 42, "total": 42.5, "lines": []string{"a", "b"}})
	env := wire.EnvelopeHeader(e, "123456789012", "eu-west-1", nil)
	used := map[string]bool{"source": true, "detail-type": true}
	builder := pattern.NewBuilder(func(p string) bool { return used[p] })
	b.ReportAllocs()
	for b.Loop() {
		builder.Reset()
		if err := env.FlattenInto(builder, e); err != nil {
			b.Fatal(err)
		}
	}
}
