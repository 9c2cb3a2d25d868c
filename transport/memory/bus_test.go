package memory

import (
	"context"
	"errors"
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
