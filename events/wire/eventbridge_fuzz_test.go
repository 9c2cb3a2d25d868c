package wire_test

import (
	"testing"

	"github.com/coworks-go/cws/events"
	"github.com/coworks-go/cws/events/wire"
)

// FuzzParseEnvelope: any payload delivered to a rule's Lambda target
// decodes to an event or fails with a Permanent error (EventBridge must not
// retry it), never a panic.
func FuzzParseEnvelope(f *testing.F) {
	for _, name := range []string{"eventbridge-cloudevent.json", "eventbridge-scheduled.json"} {
		f.Add(readTestdata(f, name))
	}
	f.Add([]byte(`{"detail-type":"t","source":"s","detail":null}`))
	f.Add([]byte(`{"detail-type":"t","source":"s","detail":{"specversion":"1.0"}}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		if _, err := wire.ParseEnvelope(payload); err != nil && !events.IsPermanent(err) {
			t.Fatalf("%q: %v is not Permanent", payload, err)
		}
	})
}
