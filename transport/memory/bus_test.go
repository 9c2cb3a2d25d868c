package memory

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/coworks-go/cws/events/pattern"
	"github.com/coworks-go/cws/events/wire"
)

func TestBusRules(t *testing.T) {
	ctx := context.Background()
	dead := NewQueue("dead")
	orders, audit := NewQueue("orders", WithDeadLetter(dead, 3)), NewQueue("audit")
	bus := NewBus("default", WithAccount("123456789012", "eu-west-1"))
	if err := bus.PutRule("big-orders", `{"source":["shop"],"detail-type":["order.completed"],"detail":{"data":{"total":[{"numeric":[">",100]}]}}}`, orders); err != nil {
		t.Fatal(err)
	}
	if err := bus.PutRule("everything", `{"source":[{"exists":true}]}`, audit); err != nil {
		t.Fatal(err)
	}
	var ie *pattern.InvalidError
	if err := bus.PutRule("bad", `{"source":"shop"}`); !errors.As(err, &ie) || ie.Reason != `"source" must be an object or an array` {
		t.Errorf("invalid rule: %v", err)
	}
	mk := func(id, typ string, total int) event.Event {
		e := event.New()
		e.SetID(id)
		e.SetSource("shop")
		e.SetType(typ)
		_ = e.SetData(event.ApplicationJSON, map[string]int{"total": total})
		return e
	}
	if err := bus.Publish(ctx, mk("1", "order.completed", 500), mk("2", "order.completed", 50), mk("3", "order.cancelled", 500)); err != nil {
		t.Fatal(err)
	}
	got, _ := orders.Receive(ctx, 10, 0, time.Minute)
	if len(got) != 1 {
		t.Fatalf("orders got %d events, want the big completed one", len(got))
	}
	e, err := Decode(got[0])
	if err != nil || e.ID() != "1" {
		t.Errorf("delivered %s %v", e, err)
	}
	// The event travels as it is; its envelope is written when it leaves
	// the process's hands, e.g. as a dead letter.
	if got[0].Event == nil || got[0].Body != "" {
		t.Errorf("the event was encoded on the way: %q", got[0].Body)
	}
	if err := orders.DeadLetter(ctx, got[0], "refused"); err != nil {
		t.Fatal(err)
	}
	letters, _ := dead.Receive(ctx, 10, 0, time.Minute)
	if len(letters) != 1 || !wire.IsEnvelope([]byte(letters[0].Body)) || letters[0].Attributes[wire.AttrDeadLetterReason] != "refused" {
		t.Fatalf("not dead-lettered as EventBridge delivers: %+v", letters)
	}
	if back, err := wire.DecodeSQS(letters[0].Body, nil); err != nil || back.ID() != "1" || string(back.Data()) != `{"total":500}` {
		t.Errorf("the dead letter's envelope carries %s %v", back, err)
	}
	if s := audit.Stats(); s.Visible != 3 {
		t.Errorf("audit %+v", s)
	}
	bus.RemoveRule("big-orders")
	matched, err := bus.Put(ctx, wire.Envelope{ID: "s", DetailType: "Scheduled Event", Source: "aws.events", Time: time.Now(), Detail: []byte("{}")}, "")
	if err != nil || len(matched) != 1 || matched[0] != "everything" || len(bus.Rules()) != 1 {
		t.Errorf("after RemoveRule: %v %v %v", matched, err, bus.Rules())
	}
}

// A batch reaches each target in one send, in the batch's order: more
// events than a first target's batch holds on the stack, a second and a
// third target, a queue that two rules name (it gets each event twice, as
// from EventBridge) and a FIFO queue (each event once, by its envelope's
// id).
func TestBusBatchToSeveralTargets(t *testing.T) {
	ctx := context.Background()
	first, second, fifo := NewQueue("first"), NewQueue("second"), NewQueue("fifo.fifo", WithFIFO())
	bus := NewBus("default")
	for name, target := range map[string]*Queue{"a": first, "b": second, "c": first, "d": fifo} {
		if err := bus.PutRule(name, `{"source":["shop"]}`, target); err != nil {
			t.Fatal(err)
		}
	}
	var batch []event.Event
	var want []string
	for i := range 13 {
		e := event.New()
		e.SetID(fmt.Sprint(i))
		e.SetSource("shop")
		e.SetType("order.completed")
		batch = append(batch, e)
		want = append(want, e.ID())
	}
	if err := bus.Publish(ctx, batch...); err != nil {
		t.Fatal(err)
	}
	ids := func(q *Queue) []string {
		var got []string
		for {
			ds, err := q.Receive(ctx, 10, 0, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if len(ds) == 0 {
				return got
			}
			for _, d := range ds {
				e, err := Decode(d)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, e.ID())
			}
			if err := q.Delete(ctx, ds); err != nil {
				t.Fatal(err)
			}
		}
	}
	var twice []string
	for _, id := range want {
		twice = append(twice, id, id)
	}
	if got := ids(first); !slices.Equal(got, twice) {
		t.Errorf("the queue of two rules got %v, want %v", got, twice)
	}
	if got := ids(second); !slices.Equal(got, want) {
		t.Errorf("the second target got %v, want %v", got, want)
	}
	if got := ids(fifo); !slices.Equal(got, want) {
		t.Errorf("the FIFO target got %v, want %v", got, want)
	}
}
