package memory

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/coworks-go/cws/events"
	"github.com/coworks-go/cws/events/wire"
	"github.com/coworks-go/cws/transport/queue"
)

// clock is a settable time for the queue.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newTestQueue(opts ...Option) (*Queue, *clock) {
	q := NewQueue("q", opts...)
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	q.now = c.now
	return q, c
}

func receive(t *testing.T, q *Queue, max int) []queue.Delivery {
	t.Helper()
	ds, err := q.Receive(context.Background(), max, 0, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func bodies(ds []queue.Delivery) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Body)
	}
	return out
}

func TestQueueVisibilityAndRedrive(t *testing.T) {
	dlq, _ := newTestQueue()
	q, c := newTestQueue(WithDeadLetter(dlq, 2))
	dlq.now = c.now
	ctx := context.Background()
	if _, err := q.Send(ctx, Outgoing{Body: "a"}, Outgoing{Body: "b"}, Outgoing{Body: "c"}); err != nil {
		t.Fatal(err)
	}
	ds := receive(t, q, 2)
	if got := bodies(ds); len(got) != 2 || got[0] != "a" || got[1] != "b" || ds[0].ReceiveCount != 1 {
		t.Fatalf("first batch %v", ds)
	}
	if got := bodies(receive(t, q, 10)); len(got) != 1 || got[0] != "c" {
		t.Fatalf("second batch %v", got)
	}
	if got := receive(t, q, 10); len(got) != 0 {
		t.Fatalf("in-flight messages were received again: %v", got)
	}
	_ = q.Delete(ctx, ds[:1]) // a handled
	c.advance(11 * time.Second)
	again := receive(t, q, 10)
	if got := bodies(again); len(got) != 2 || again[0].ReceiveCount != 2 {
		t.Fatalf("after the visibility timeout: %v", again)
	}
	if err := q.ChangeVisibility(ctx, again[0], 0); err != nil {
		t.Fatal(err)
	}
	third := receive(t, q, 10)
	if len(third) != 0 {
		t.Fatalf("a third receive beyond maxReceive 2 went to the consumer: %v", third)
	}
	if s := dlq.Stats(); s.Visible != 1 {
		t.Errorf("dead-letter queue %+v", s)
	}
	dead := receive(t, dlq, 10)
	if len(dead) != 1 || dead[0].Attributes[wire.AttrDeadLetterSource] != "q" {
		t.Errorf("redriven %v", dead)
	}
	if err := q.Delete(ctx, again); err != nil {
		t.Fatal(err)
	}
	if s := q.Stats(); s.Visible != 0 || s.InFlight != 0 || s.Sent != 3 {
		t.Errorf("stats %+v", s)
	}
}

func TestQueueDeadLetterWithReason(t *testing.T) {
	q, _ := newTestQueue()
	q.Send(context.Background(), Outgoing{Body: "x"})
	d := receive(t, q, 1)[0]
	if err := q.DeadLetter(context.Background(), d, "bad"); !errors.Is(err, queue.ErrNoDeadLetterQueue) {
		t.Errorf("no DLQ: %v", err)
	}
	dlq, _ := newTestQueue()
	q2, _ := newTestQueue(WithDeadLetter(dlq, 0))
	q2.Send(context.Background(), Outgoing{Body: "y", Attributes: map[string]string{"k": "v"}})
	d = receive(t, q2, 1)[0]
	if err := q2.DeadLetter(context.Background(), d, "malformed"); err != nil {
		t.Fatal(err)
	}
	dead := receive(t, dlq, 1)
	if len(dead) != 1 || dead[0].Body != "y" || dead[0].Attributes["k"] != "v" || dead[0].Attributes[wire.AttrDeadLetterReason] != "malformed" {
		t.Errorf("dead letter %+v", dead)
	}
	if s := q2.Stats(); s.Visible+s.InFlight != 0 {
		t.Errorf("source after dead-lettering %+v", s)
	}
}

func TestQueueFIFO(t *testing.T) {
	q, c := newTestQueue(WithFIFO())
	ctx := context.Background()
	send := func(group, body string) {
		t.Helper()
		if _, err := q.Send(ctx, Outgoing{Body: body, GroupID: group, DedupID: group + body}); err != nil {
			t.Fatal(err)
		}
	}
	send("g1", "1a")
	send("g2", "2a")
	send("g1", "1b")
	send("g1", "1c")
	send("g1", "1a") // duplicate within 5 minutes
	if _, err := q.Send(ctx, Outgoing{Body: "x"}); err == nil {
		t.Error("FIFO without group: no error")
	}

	first := receive(t, q, 2)
	if got := bodies(first); len(got) != 2 || got[0] != "1a" || got[1] != "1b" {
		t.Fatalf("first batch %v (a group's messages in order)", got)
	}
	if got := bodies(receive(t, q, 10)); len(got) != 1 || got[0] != "2a" {
		t.Fatalf("g1 is in flight: only g2 is available, got %v", got)
	}
	// 1a fails and is retried later; 1b is released unhandled.
	_ = q.ChangeVisibility(ctx, first[0], 5*time.Second)
	_ = q.ChangeVisibility(ctx, first[1], 0)
	if got := receive(t, q, 10); len(got) != 0 {
		t.Fatalf("g1 is locked while 1a is in flight, got %v", bodies(got))
	}
	c.advance(6 * time.Second)
	if got := bodies(receive(t, q, 10)); len(got) != 3 || got[0] != "1a" || got[1] != "1b" || got[2] != "1c" {
		t.Fatalf("g1 after the retry delay: %v", got)
	}
}

func TestQueueWaitsForMessages(t *testing.T) {
	q := NewQueue("wait")
	got := make(chan []queue.Delivery)
	go func() {
		ds, _ := q.Receive(context.Background(), 10, 5*time.Second, time.Second)
		got <- ds
	}()
	time.Sleep(50 * time.Millisecond)
	q.Send(context.Background(), Outgoing{Body: "late"})
	select {
	case ds := <-got:
		if len(ds) != 1 {
			t.Errorf("%v", ds)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("a waiting receive was not woken")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := q.Receive(ctx, 1, time.Second, time.Second); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled receive: %v", err)
	}
	start := time.Now()
	if ds, _ := q.Receive(context.Background(), 1, 100*time.Millisecond, time.Second); len(ds) != 0 || time.Since(start) < 90*time.Millisecond {
		t.Errorf("empty wait returned %v after %v", ds, time.Since(start))
	}
}

func TestQueueTooLarge(t *testing.T) {
	q := NewQueue("small", WithMaxMessageSize(10))
	if _, err := q.Send(context.Background(), Outgoing{Body: "0123456789x"}); !errors.Is(err, events.ErrTooLarge) {
		t.Errorf("oversize: %v", err)
	}
}

// A queue at its capacity refuses what it cannot hold, all of a batch or
// none, and takes again once its messages are gone; in-flight ones count.
func TestQueueCapacity(t *testing.T) {
	ctx := context.Background()
	q := NewQueue("bounded", WithCapacity(3))
	if _, err := q.Send(ctx, Outgoing{Body: "1"}, Outgoing{Body: "2"}); err != nil {
		t.Fatal(err)
	}
	if _, err := q.Send(ctx, Outgoing{Body: "3"}, Outgoing{Body: "4"}); !errors.Is(err, ErrFull) {
		t.Fatalf("a batch over the capacity: %v", err)
	}
	if _, err := q.Send(ctx, Outgoing{Body: "3"}); err != nil {
		t.Fatalf("up to the capacity: %v", err)
	}
	ds, err := q.Receive(ctx, 2, time.Minute, 0)
	if err != nil || len(ds) != 2 {
		t.Fatalf("receive: %v %d", err, len(ds))
	}
	if _, err := q.Send(ctx, Outgoing{Body: "4"}); !errors.Is(err, ErrFull) {
		t.Fatalf("in-flight messages count: %v", err)
	}
	if err := q.Delete(ctx, ds[:1]); err != nil {
		t.Fatal(err)
	}
	if _, err := q.Send(ctx, Outgoing{Body: "4"}); err != nil {
		t.Fatalf("after a delete: %v", err)
	}
}

// Events published on the queue travel as they are: the consumer gets a
// copy, the body is written only for a dead letter, and the size limit
// holds as if the event were encoded.
func TestQueueCarriesEvents(t *testing.T) {
	ctx := context.Background()
	dlq, _ := newTestQueue()
	q, _ := newTestQueue(WithDeadLetter(dlq, 5), WithMaxMessageSize(1024))
	e := event.New()
	e.SetID("1")
	e.SetSource("shop")
	e.SetType("order.completed")
	_ = e.SetData(event.ApplicationJSON, map[string]int{"total": 5})
	if err := q.Publish(ctx, e); err != nil {
		t.Fatal(err)
	}
	e.SetExtension("changed", "after publishing")
	e.DataEncoded[2] = 'X'
	ds := receive(t, q, 10)
	if len(ds) != 1 || ds[0].Event == nil || ds[0].Body != "" {
		t.Fatalf("received %+v", ds)
	}
	got, err := Decode(ds[0])
	if err != nil || string(got.Data()) != `{"total":5}` || got.Extensions()["changed"] != nil {
		t.Fatalf("the publisher's later changes reached the queue: %s %v", got, err)
	}
	got.SetExtension("handler", "changed it")
	if again, _ := Decode(ds[0]); again.Extensions()["handler"] != nil {
		t.Error("a handler's change reached the queued event")
	}
	if err := q.DeadLetter(ctx, ds[0], "no"); err != nil {
		t.Fatal(err)
	}
	dead := receive(t, dlq, 10)
	if len(dead) != 1 || !strings.Contains(dead[0].Body, `"data":{"total":5}`) || dead[0].Attributes[wire.AttrDeadLetterReason] != "no" {
		t.Fatalf("dead letter %+v", dead)
	}

	big := e.Clone()
	_ = big.SetData("text/plain", strings.Repeat("x", 800))
	if err := q.Publish(ctx, big); err != nil {
		t.Errorf("an event under the limit: %v", err)
	}
	_ = big.SetData("text/plain", strings.Repeat("\x01", 300)) // 1,800 bytes escaped
	if err := q.Publish(ctx, big); !errors.Is(err, events.ErrTooLarge) {
		t.Errorf("an event over the limit once encoded: %v", err)
	}
	bad := e.Clone()
	bad.DataEncoded = []byte(`{"no`)
	if err := q.Publish(ctx, bad); err == nil {
		t.Error("an event whose JSON data is invalid was queued")
	}
}

// Waiting lists the waiting messages without receiving them (those in
// flight are not listed), their bodies written from their events; Take
// removes the ones named, or all, and passes over the others.
func TestQueueWaitingAndTake(t *testing.T) {
	ctx := context.Background()
	q, c := newTestQueue()
	if _, err := q.Send(ctx, Outgoing{Body: "a", Attributes: map[string]string{"k": "v"}}, Outgoing{Body: "b"}); err != nil {
		t.Fatal(err)
	}
	sentA := c.t
	c.advance(time.Second)
	e := event.New()
	e.SetID("e-1")
	e.SetSource("shop")
	e.SetType("order.completed")
	if err := q.Publish(ctx, e); err != nil {
		t.Fatal(err)
	}
	if _, err := q.Send(ctx, Outgoing{Body: "in flight"}); err != nil {
		t.Fatal(err)
	}
	ws := q.Waiting()
	if len(ws) != 4 || ws[0].Body != "a" || ws[0].Attributes["k"] != "v" || !ws[0].SentAt.Equal(sentA) || ws[1].Body != "b" ||
		ws[2].Event == nil || !strings.Contains(ws[2].Body, `"id":"e-1"`) || !ws[2].SentAt.Equal(sentA.Add(time.Second)) {
		t.Fatalf("waiting %+v", ws)
	}
	// Listing received nothing: a, b and the event come first, in order.
	if got := bodies(receive(t, q, 3)); len(got) != 3 || got[0] != "a" || got[1] != "b" {
		t.Fatalf("received after listing %v", got)
	}
	ws = q.Waiting()
	if len(ws) != 1 || ws[0].Body != "in flight" || ws[0].ReceiveCount != 0 {
		t.Fatalf("waiting after receiving three %+v", ws)
	}
	c.advance(11 * time.Second) // the three come back, received once
	ws = q.Waiting()
	if len(ws) != 4 || ws[0].Body != "a" || ws[0].ReceiveCount != 1 {
		t.Fatalf("waiting after the visibility timeout %+v", ws)
	}
	taken := q.Take(ws[1].ID, "nonesuch", ws[3].ID)
	if len(taken) != 2 || taken[0].Body != "b" || taken[1].Body != "in flight" {
		t.Fatalf("taken %+v", taken)
	}
	if again := q.Take(ws[1].ID); len(again) != 0 {
		t.Errorf("taken twice: %+v", again)
	}
	if got := bodies(receive(t, q, 10)); len(got) != 2 || got[0] != "a" || got[1] == "b" {
		t.Fatalf("received after taking %v", got)
	}
	q.Send(ctx, Outgoing{Body: "c"}, Outgoing{Body: "d"})
	if all := q.Take(); len(all) != 2 || all[0].Body != "c" || all[1].Body != "d" || len(q.Waiting()) != 0 {
		t.Errorf("take all: %+v, left %+v", all, q.Waiting())
	}
}

// Take on a FIFO queue leaves the other messages of a group in order.
func TestQueueTakeFIFO(t *testing.T) {
	ctx := context.Background()
	q, _ := newTestQueue(WithFIFO())
	for _, b := range []string{"1a", "1b", "1c"} {
		if _, err := q.Send(ctx, Outgoing{Body: b, GroupID: "g1"}); err != nil {
			t.Fatal(err)
		}
	}
	q.Send(ctx, Outgoing{Body: "2a", GroupID: "g2"})
	ws := q.Waiting()
	if len(ws) != 4 || ws[0].Body != "1a" || ws[3].Body != "2a" || ws[3].GroupID != "g2" {
		t.Fatalf("waiting %+v", ws)
	}
	if taken := q.Take(ws[1].ID, ws[3].ID); len(taken) != 2 || taken[0].Body != "1b" || taken[1].Body != "2a" {
		t.Fatalf("taken %+v", taken)
	}
	if got := bodies(receive(t, q, 10)); len(got) != 2 || got[0] != "1a" || got[1] != "1c" {
		t.Fatalf("received %v", got)
	}
	if got := receive(t, q, 10); len(got) != 0 {
		t.Fatalf("g2 was taken, g1 is in flight: %v", bodies(got))
	}
}
