package memory_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/coworks-go/cws/events"
	"github.com/coworks-go/cws/events/wire"
	"github.com/coworks-go/cws/events/wire/ruletest"
	"github.com/coworks-go/cws/transport/memory"
)

// Every case of ruletest sent to the in-memory queue as an SQS message
// (structured body, or binary with ce- attributes) and settled by its
// worker: handled as decoded, or dead-lettered with the rule as the reason.
func TestQueueCloudEventsRules(t *testing.T) {
	ctx := context.Background()
	dlq := memory.NewQueue("dead")
	q := memory.NewQueue("events", memory.WithDeadLetter(dlq, 5))
	var got *event.Event
	h := events.HandlerFunc(func(_ context.Context, m *events.Message) error {
		e := m.Event
		got = &e
		return nil
	})
	settle := func(door string, c ruletest.Case, m memory.Outgoing) {
		t.Helper()
		got = nil
		if _, err := q.Send(ctx, m); err != nil {
			t.Fatal(err)
		}
		ds, err := q.Receive(ctx, 1, 0, time.Minute)
		if err != nil || len(ds) != 1 {
			t.Fatalf("%s: %s: received %d: %v", door, c.Name, len(ds), err)
		}
		q.Consumer().HandleBatch(ctx, ds, h)
		dead, _ := dlq.Receive(ctx, 1, 0, time.Minute)
		switch {
		case got != nil && len(dead) == 0:
			c.Check(t, door, *got, nil)
		case got == nil && len(dead) == 1:
			_ = dlq.Delete(ctx, dead)
			c.Check(t, door, event.Event{}, errors.New(dead[0].Attributes[wire.AttrDeadLetterReason]))
		default:
			t.Errorf("%s: %s: handled %v, dead-lettered %d", door, c.Name, got, len(dead))
		}
	}
	for _, c := range ruletest.Cases() {
		if c.Structured != "" {
			settle("memory queue structured", c, memory.Outgoing{Body: c.Structured})
		}
		if b := c.Binary; b != nil {
			settle("memory queue binary", c, memory.Outgoing{Body: b.Data, Attributes: b.SQSAttributes()})
		}
	}
}
