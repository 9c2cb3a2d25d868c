package events_test

import (
	"context"
	"fmt"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/coworks-go/cws/events"
)

// Every consumer settles messages with the same middleware: a panic is a
// retryable failure, and a duplicate of a handled event runs nothing.
func ExampleDeduplicate() {
	runs := 0
	h := events.Chain(events.HandlerFunc(func(ctx context.Context, m *events.Message) error {
		runs++
		return nil
	}), events.Deduplicate(events.Dedup{Log: discard}), events.Recover(discard))

	e := event.New()
	e.SetID("order-42")
	e.SetSource("shop")
	e.SetType("order.completed")
	for range 3 { // delivered three times: at least once
		_ = h.Handle(context.Background(), &events.Message{Event: e, ReceiveCount: 1})
	}
	fmt.Println("handled", runs, "time(s)")
	// Output: handled 1 time(s)
}
