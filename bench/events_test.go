package bench

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/coworks-go/cws/events"
	"github.com/coworks-go/cws/transport/memory"
	"github.com/coworks-go/cws/transport/queue"
)

// ring is the events the in-memory benchmarks publish, made before the
// timer starts: what is measured is moving an event, not making it.
var ring = func() []event.Event {
	out := make([]event.Event, 1024)
	for i := range out {
		out[i] = benchEvent(i)
	}
	return out
}()

// benchEvent is the event every in-memory benchmark carries.
func benchEvent(i int) event.Event {
	e := event.New()
	e.SetID("evt-" + itoa(i))
	e.SetSource("cws/bench")
	e.SetType("order.completed")
	_ = e.SetData(event.ApplicationJSON, map[string]any{"order": i, "total": 42.5, "lines": []string{"a", "b"}})
	return e
}

func itoa(i int) string {
	b := [20]byte{}
	n := len(b)
	for {
		n--
		b[n] = byte('0' + i%10)
		i /= 10
		if i == 0 {
			break
		}
	}
	return string(b[n:])
}

// drain waits until handled reaches n.
func drain(b *testing.B, handled *atomic.Int64, n int) {
	deadline := time.Now().Add(time.Minute)
	for handled.Load() < int64(n) {
		if time.Now().After(deadline) {
			b.Fatalf("only %d of %d handled", handled.Load(), n)
		}
		time.Sleep(50 * time.Microsecond)
	}
}

// BenchmarkInMemory moves events from a publisher to a handler that gets
// them decoded, in process: cws's in-memory queue and worker, and its bus
// (rule matching, envelope, queue, worker), against Watermill's GoChannel.
// The figure is the time per event; msgs/s is reported too.
func BenchmarkInMemory(b *testing.B) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, tc := range []struct {
		name string
		run  func(b *testing.B, n int)
	}{
		{"impl=cws-queue", func(b *testing.B, n int) { runCwsQueue(b, n, quiet, 10, false) }},
		{"impl=cws-queue-c1", func(b *testing.B, n int) { runCwsQueue(b, n, quiet, 1, false) }},
		{"impl=cws-bus", func(b *testing.B, n int) { runCwsQueue(b, n, quiet, 10, true) }},
		{"impl=watermill-gochannel", runGoChannel},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			start := time.Now()
			tc.run(b, b.N)
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
		})
	}
}

func runCwsQueue(b *testing.B, n int, log *slog.Logger, concurrency int, viaBus bool) {
	q := memory.NewQueue("bench")
	var pub events.Publisher = q
	if viaBus {
		bus := memory.NewBus("bench")
		if err := bus.PutRule("orders", `{"source":["cws/bench"],"detail-type":["order.completed"]}`, q); err != nil {
			b.Fatal(err)
		}
		pub = bus
	}
	var handled atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	w := q.Consumer(queue.WithConcurrency(concurrency), queue.WithWaitTime(time.Second), queue.WithLogger(log))
	go func() {
		_ = w.Consume(ctx, events.HandlerFunc(func(_ context.Context, m *events.Message) error {
			if m.Event.ID() == "" {
				b.Error("an event without id")
			}
			handled.Add(1)
			return nil
		}))
		close(done)
	}()
	b.ResetTimer()
	batch := make([]event.Event, 0, 10)
	for i := range n {
		batch = append(batch, ring[i%len(ring)])
		if len(batch) == cap(batch) || i == n-1 {
			if err := pub.Publish(ctx, batch...); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	drain(b, &handled, n)
	b.StopTimer()
	cancel()
	<-done
}

func runGoChannel(b *testing.B, n int) {
	gc := gochannel.NewGoChannel(gochannel.Config{OutputChannelBuffer: 65536}, watermill.NopLogger{})
	defer gc.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	msgs, err := gc.Subscribe(ctx, "orders")
	if err != nil {
		b.Fatal(err)
	}
	var handled atomic.Int64
	go func() {
		for m := range msgs {
			var e event.Event
			if err := json.Unmarshal(m.Payload, &e); err != nil || e.ID() == "" {
				b.Error("a message that is not an event")
			}
			handled.Add(1)
			m.Ack()
		}
	}()
	b.ResetTimer()
	batch := make([]*message.Message, 0, 10)
	for i := range n {
		payload, err := json.Marshal(ring[i%len(ring)])
		if err != nil {
			b.Fatal(err)
		}
		batch = append(batch, message.NewMessage(watermill.NewUUID(), payload))
		if len(batch) == cap(batch) || i == n-1 {
			if err := gc.Publish("orders", batch...); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	drain(b, &handled, n)
	b.StopTimer()
}
