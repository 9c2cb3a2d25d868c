package queue

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/coworks-go/cws/events"
)

// askingQueue hands out numbered messages and records how many each
// receive asked for.
type askingQueue struct {
	mu    sync.Mutex
	asked []int
	next  int
	total int
}

func (q *askingQueue) Receive(ctx context.Context, max int, wait, _ time.Duration) ([]Delivery, error) {
	q.mu.Lock()
	q.asked = append(q.asked, max)
	var ds []Delivery
	for len(ds) < max && q.next < q.total {
		q.next++
		id := strconv.Itoa(q.next)
		ds = append(ds, Delivery{ID: id, Handle: id, ReceiveCount: 1})
	}
	q.mu.Unlock()
	if len(ds) == 0 {
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
	}
	return ds, nil
}

func (q *askingQueue) Delete(context.Context, []Delivery) error                        { return nil }
func (q *askingQueue) ChangeVisibility(context.Context, Delivery, time.Duration) error { return nil }
func (q *askingQueue) DeadLetter(context.Context, Delivery, string) error              { return nil }

// A receiver whose handlers are still busy waits a moment for a full
// batch of slots, instead of asking for the few free: two receives of 10
// for 20 messages whose handlers free their slots one after the other.
func TestReceiverAsksForFullBatches(t *testing.T) {
	q := &askingQueue{total: 20}
	decode := func(d Delivery) (event.Event, error) {
		e := event.New()
		e.SetID(d.ID)
		e.SetSource("test")
		e.SetType("t")
		return e, nil
	}
	w := New(q, decode, "test", WithConcurrency(10), WithBatchSize(10), WithReceivers(1), WithWaitTime(10*time.Millisecond),
		WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
		// Long enough for a loaded machine; the wait ends as the slots free.
		WithBatchFill(time.Second))
	var handled sync.WaitGroup
	handled.Add(q.total)
	release := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = w.Consume(ctx, events.HandlerFunc(func(_ context.Context, m *events.Message) error {
			if n, _ := strconv.Atoi(m.Event.ID()); n <= 10 {
				<-release
				// The first batch's handlers end a few at a time.
				time.Sleep(time.Duration(n%3) * 200 * time.Microsecond)
			}
			handled.Done()
			return nil
		}))
	}()
	time.Sleep(20 * time.Millisecond) // the first batch is in its handlers
	close(release)
	handled.Wait()
	cancel()
	<-done
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.asked) < 2 || q.asked[0] != 10 || q.asked[1] != 10 {
		t.Fatalf("the receives asked for %v: want 10, then 10 once the handlers were done", q.asked)
	}
}
