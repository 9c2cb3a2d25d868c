// Package transporttest is the conformance suite every queue transport must
// pass (the in-memory queue and bus, SQS, EventBridge to SQS, and the Lambda
// SQS path through EventSourceMapping), in the way of Watermill's pub/sub
// tests: delivery, at-least-once under handler
// failure, dead letters after N receives and with a reason, partial batch
// failure, FIFO order, redelivery after a consumer dies mid-batch, graceful
// shutdown, malformed messages, oversize events and duplicate suppression.
package transporttest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/google/uuid"

	"github.com/coworks-go/cws/events"
	"github.com/coworks-go/cws/transport/queue"
)

// Transport is one transport under test, on a fresh queue.
type Transport struct {
	// Publisher sends events to the queue the consumers read.
	Publisher events.Publisher
	// Consumer returns a new consumer of the queue.
	Consumer func(opts ...queue.Option) events.Consumer
	// SendRaw puts a raw message body on the consumers' queue.
	SendRaw func(ctx context.Context, body string) error
	// DeadLetters takes the messages of the dead-letter queue.
	DeadLetters func(ctx context.Context) ([]DeadLetter, error)
	// MaxReceive is the redrive policy's maximum receive count.
	MaxReceive int
	// FIFO reports a FIFO queue: events carry the cwsgroup extension.
	FIFO bool
	// MaxEventSize is the largest event the publisher takes.
	MaxEventSize int
	// Settle is how long to wait for a message that should not come (a
	// remote service takes longer than memory).
	Settle time.Duration
	// NoHeartbeat says the consumer extends no visibility (Lambda's event
	// source mapping: the function's timeout bounds a handler, and the
	// queue's visibility timeout must exceed it); SlowHandlerKeepsItsMessage
	// runs only for consumers that do.
	NoHeartbeat bool
}

// DeadLetter is a message of the dead-letter queue.
type DeadLetter struct {
	Body   string
	Reason string
}

// Kind says which tests of the suite apply to a transport; the zero Kind is
// a standard queue consumed by a worker.
type Kind struct {
	// FIFO: its queues are FIFO, and FIFOOrder runs.
	FIFO bool
	// NoHeartbeat: its consumer extends no visibility (Lambda's event
	// source mapping), and SlowHandlerKeepsItsMessage does not run.
	NoHeartbeat bool
}

// Run runs the suite; newTransport makes a transport on a fresh queue for
// each test, of the given kind. A test that does not apply to the kind is
// not registered (rather than skipped).
func Run(t *testing.T, kind Kind, newTransport func(t *testing.T) *Transport) {
	tests := []struct {
		name string
		fn   func(t *testing.T, tr *Transport)
	}{
		{"Delivery", testDelivery},
		{"AtLeastOnceUnderFailure", testAtLeastOnce},
		{"DeadLetterAfterMaxReceive", testDeadLetterAfterN},
		{"PermanentFailureDeadLetteredWithReason", testPermanentFailure},
		{"PartialBatchFailure", testPartialBatch},
		{"FIFOOrder", testFIFOOrder},
		{"RedeliveryAfterConsumerDies", testRedeliveryAfterCrash},
		{"GracefulShutdownLosesNothing", testGracefulShutdown},
		{"MalformedMessageDeadLettered", testMalformed},
		{"OversizeEvent", testOversize},
		{"DuplicateSuppression", testDuplicates},
		{"SlowHandlerKeepsItsMessage", testSlowHandler},
	}
	for _, tc := range tests {
		if tc.name == "FIFOOrder" && !kind.FIFO || tc.name == "SlowHandlerKeepsItsMessage" && kind.NoHeartbeat {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tr := newTransport(t)
			if tr.FIFO != kind.FIFO || tr.NoHeartbeat != kind.NoHeartbeat {
				t.Fatalf("the transport is FIFO %v, NoHeartbeat %v; Run was told %+v", tr.FIFO, tr.NoHeartbeat, kind)
			}
			if tr.Settle == 0 {
				tr.Settle = 500 * time.Millisecond
			}
			tc.fn(t, tr)
		})
	}
}

// options are the worker options of the suite: short timeouts.
func options(extra ...queue.Option) []queue.Option {
	return append([]queue.Option{
		queue.WithVisibilityTimeout(2 * time.Second),
		queue.WithWaitTime(time.Second),
		queue.WithBackoff(200*time.Millisecond, time.Second),
		queue.WithShutdownTimeout(5 * time.Second),
		queue.WithConcurrency(8),
		queue.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
	}, extra...)
}

// newEvent makes an event numbered n (in group g for FIFO queues).
func newEvent(tr *Transport, n int, group string) event.Event {
	e := event.New()
	e.SetID(uuid.NewString())
	e.SetSource("cws/transporttest")
	e.SetType("cws.test")
	e.SetSubject(fmt.Sprint(n))
	if tr.FIFO {
		e.SetExtension(events.ExtGroup, group)
	}
	return e
}

func publish(t *testing.T, tr *Transport, evs ...event.Event) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := tr.Publisher.Publish(ctx, evs...); err != nil {
		t.Fatalf("Publish: %v", err)
	}
}

// recorder records the attempts a handler sees, by subject.
type recorder struct {
	mu       sync.Mutex
	attempts map[string]int
	done     map[string]int
	order    map[string][]string // FIFO: the subjects handled successfully, per group
	changed  chan struct{}
	fail     func(subject string, attempt int) error
	block    <-chan struct{}
	started  chan struct{}
}

func newRecorder(fail func(subject string, attempt int) error) *recorder {
	return &recorder{attempts: map[string]int{}, done: map[string]int{}, order: map[string][]string{},
		changed: make(chan struct{}, 1), fail: fail}
}

func (r *recorder) Handle(ctx context.Context, m *events.Message) error {
	s := m.Event.Subject()
	r.mu.Lock()
	r.attempts[s]++
	n := r.attempts[s]
	r.mu.Unlock()
	if r.started != nil {
		select {
		case r.started <- struct{}{}:
		default:
		}
	}
	if r.block != nil {
		select {
		case <-r.block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	var err error
	if r.fail != nil {
		err = r.fail(s, n)
	}
	r.mu.Lock()
	if err == nil {
		r.done[s]++
		g, _ := m.Event.Extensions()[events.ExtGroup].(string)
		r.order[g] = append(r.order[g], s)
	}
	r.mu.Unlock()
	select {
	case r.changed <- struct{}{}:
	default:
	}
	return err
}

func (r *recorder) snapshot() (attempts, done map[string]int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return clone(r.attempts), clone(r.done)
}

func clone(m map[string]int) map[string]int {
	out := make(map[string]int, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// consume runs a consumer until stop is called; stop waits for it.
func consume(t *testing.T, tr *Transport, h events.Handler, opts ...queue.Option) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c := tr.Consumer(options(opts...)...)
	done := make(chan error, 1)
	go func() { done <- c.Consume(ctx, h) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Consume: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("the consumer did not stop")
		}
	}
	t.Cleanup(stop)
	return stop
}

// waitUntil polls cond until it holds or the timeout passes.
func waitUntil(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func subjects(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprint(i)
	}
	return out
}

func testDelivery(t *testing.T, tr *Transport) {
	const n = 25
	var evs []event.Event
	for i := range n {
		evs = append(evs, newEvent(tr, i, fmt.Sprint("g", i%5)))
	}
	publish(t, tr, evs...)
	r := newRecorder(nil)
	stop := consume(t, tr, r)
	waitUntil(t, 60*time.Second, "every event handled", func() bool { _, done := r.snapshot(); return len(done) == n })
	time.Sleep(tr.Settle)
	stop()
	attempts, _ := r.snapshot()
	for _, s := range subjects(n) {
		if attempts[s] != 1 {
			t.Errorf("event %s handled %d times, want once", s, attempts[s])
		}
	}
	assertEmpty(t, tr)
}

// assertEmpty checks that a new consumer finds nothing on the queue.
func assertEmpty(t *testing.T, tr *Transport) {
	t.Helper()
	r := newRecorder(nil)
	stop := consume(t, tr, r)
	time.Sleep(tr.Settle + time.Second)
	stop()
	if attempts, _ := r.snapshot(); len(attempts) != 0 {
		t.Errorf("the queue still delivers %v", attempts)
	}
}

func testAtLeastOnce(t *testing.T, tr *Transport) {
	const n = 12
	var evs []event.Event
	for i := range n {
		evs = append(evs, newEvent(tr, i, fmt.Sprint("g", i)))
	}
	publish(t, tr, evs...)
	r := newRecorder(func(s string, attempt int) error {
		var i int
		fmt.Sscan(s, &i)
		if i%3 == 0 && attempt == 1 {
			return errors.New("transient failure")
		}
		return nil
	})
	stop := consume(t, tr, r)
	waitUntil(t, 60*time.Second, "every event handled", func() bool { _, done := r.snapshot(); return len(done) == n })
	stop()
	attempts, done := r.snapshot()
	for i, s := range subjects(n) {
		want := 1
		if i%3 == 0 {
			want = 2
		}
		if attempts[s] != want || done[s] != 1 {
			t.Errorf("event %s: %d attempts, %d successes; want %d and 1", s, attempts[s], done[s], want)
		}
	}
}

func testDeadLetterAfterN(t *testing.T, tr *Transport) {
	publish(t, tr, newEvent(tr, 0, "poison"), newEvent(tr, 1, "fine"))
	r := newRecorder(func(s string, _ int) error {
		if s == "0" {
			return errors.New("always failing")
		}
		return nil
	})
	stop := consume(t, tr, r)
	var dead []DeadLetter
	waitUntil(t, 90*time.Second, "the failing event in the dead-letter queue", func() bool {
		dl, err := tr.DeadLetters(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		dead = append(dead, dl...)
		return len(dead) > 0
	})
	stop()
	attempts, done := r.snapshot()
	if attempts["0"] != tr.MaxReceive || done["1"] != 1 {
		t.Errorf("attempts %v, done %v; want %d attempts of the failing event", attempts, done, tr.MaxReceive)
	}
	if len(dead) != 1 || !strings.Contains(dead[0].Body, `"subject":"0"`) {
		t.Errorf("dead letters %+v", dead)
	}
}

func testPermanentFailure(t *testing.T, tr *Transport) {
	publish(t, tr, newEvent(tr, 0, "g"))
	r := newRecorder(func(string, int) error { return events.Permanentf("order 42 does not exist") })
	stop := consume(t, tr, r)
	var dead []DeadLetter
	waitUntil(t, 60*time.Second, "a dead letter", func() bool {
		dl, err := tr.DeadLetters(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		dead = append(dead, dl...)
		return len(dead) > 0
	})
	stop()
	if attempts, _ := r.snapshot(); attempts["0"] != 1 {
		t.Errorf("a permanent failure was tried %d times", attempts["0"])
	}
	if dead[0].Reason != "order 42 does not exist" {
		t.Errorf("dead letter reason %q", dead[0].Reason)
	}
}

func testPartialBatch(t *testing.T, tr *Transport) {
	const n = 10
	var evs []event.Event
	for i := range n {
		evs = append(evs, newEvent(tr, i, fmt.Sprint("g", i)))
	}
	publish(t, tr, evs...)
	failing := map[string]bool{"2": true, "5": true, "7": true}
	r := newRecorder(func(s string, attempt int) error {
		if failing[s] && attempt == 1 {
			return errors.New("this one failed")
		}
		return nil
	})
	stop := consume(t, tr, r, queue.WithBatchSize(10))
	waitUntil(t, 60*time.Second, "every event handled", func() bool { _, done := r.snapshot(); return len(done) == n })
	time.Sleep(tr.Settle)
	stop()
	attempts, _ := r.snapshot()
	for _, s := range subjects(n) {
		want := 1
		if failing[s] {
			want = 2
		}
		if attempts[s] != want {
			t.Errorf("event %s: %d attempts, want %d (only the failed ones come back)", s, attempts[s], want)
		}
	}
}

func testFIFOOrder(t *testing.T, tr *Transport) {
	const groups, per = 3, 8
	var evs []event.Event
	var want = map[string][]string{}
	for i := range per {
		for g := range groups {
			gid := fmt.Sprint("g", g)
			n := g*100 + i
			evs = append(evs, newEvent(tr, n, gid))
			want[gid] = append(want[gid], fmt.Sprint(n))
		}
	}
	for i := 0; i < len(evs); i += 10 {
		publish(t, tr, evs[i:min(i+10, len(evs))]...)
	}
	r := newRecorder(func(s string, attempt int) error {
		if (s == "3" || s == "105") && attempt == 1 {
			return errors.New("fails once")
		}
		return nil
	})
	stop := consume(t, tr, r)
	waitUntil(t, 90*time.Second, "every event handled", func() bool { _, done := r.snapshot(); return len(done) == groups*per })
	stop()
	r.mu.Lock()
	defer r.mu.Unlock()
	for g, order := range want {
		if !slices.Equal(r.order[g], order) {
			t.Errorf("group %s handled in order %v, want %v", g, r.order[g], order)
		}
	}
}

func testRedeliveryAfterCrash(t *testing.T, tr *Transport) {
	const n = 6
	var evs []event.Event
	for i := range n {
		evs = append(evs, newEvent(tr, i, fmt.Sprint("g", i)))
	}
	publish(t, tr, evs...)
	// The first consumer takes the messages and dies before handling them:
	// its handlers hang, and its shutdown abandons them.
	hang := newRecorder(nil)
	hang.block = make(chan struct{})
	hang.started = make(chan struct{}, n)
	stop := consume(t, tr, hang, queue.WithShutdownTimeout(10*time.Millisecond))
	select {
	case <-hang.started:
	case <-time.After(30 * time.Second):
		t.Fatal("the first consumer received nothing")
	}
	stop()
	// A second consumer gets every message once its visibility is over.
	r := newRecorder(nil)
	stop2 := consume(t, tr, r)
	waitUntil(t, 60*time.Second, "every event redelivered", func() bool { _, done := r.snapshot(); return len(done) == n })
	stop2()
	_, done := r.snapshot()
	for _, s := range subjects(n) {
		if done[s] != 1 {
			t.Errorf("event %s handled %d times after the crash", s, done[s])
		}
	}
}

func testGracefulShutdown(t *testing.T, tr *Transport) {
	const n = 20
	var evs []event.Event
	for i := range n {
		evs = append(evs, newEvent(tr, i, fmt.Sprint("g", i%4)))
	}
	for i := 0; i < n; i += 10 {
		publish(t, tr, evs[i:i+10]...)
	}
	slow := newRecorder(func(string, int) error { time.Sleep(300 * time.Millisecond); return nil })
	slow.started = make(chan struct{}, n)
	stop := consume(t, tr, slow, queue.WithConcurrency(4))
	select {
	case <-slow.started:
	case <-time.After(30 * time.Second):
		t.Fatal("nothing was handled")
	}
	stop() // SIGTERM: in-flight handlers finish, the rest is released
	_, first := slow.snapshot()
	if len(first) == 0 {
		t.Fatal("the in-flight handlers did not finish")
	}
	r := newRecorder(nil)
	stop2 := consume(t, tr, r)
	waitUntil(t, 60*time.Second, "the rest handled", func() bool { _, done := r.snapshot(); return len(first)+len(done) >= n })
	time.Sleep(tr.Settle)
	stop2()
	_, second := r.snapshot()
	for _, s := range subjects(n) {
		if first[s]+second[s] != 1 {
			t.Errorf("event %s handled %d+%d times across the shutdown", s, first[s], second[s])
		}
	}
}

func testMalformed(t *testing.T, tr *Transport) {
	ctx := context.Background()
	if err := tr.SendRaw(ctx, "this is not a CloudEvent"); err != nil {
		t.Fatal(err)
	}
	r := newRecorder(nil)
	stop := consume(t, tr, r)
	var dead []DeadLetter
	waitUntil(t, 60*time.Second, "the malformed message in the dead-letter queue", func() bool {
		dl, err := tr.DeadLetters(ctx)
		if err != nil {
			t.Fatal(err)
		}
		dead = append(dead, dl...)
		return len(dead) > 0
	})
	stop()
	if attempts, _ := r.snapshot(); len(attempts) != 0 {
		t.Errorf("a malformed message reached the handler: %v", attempts)
	}
	if dead[0].Body != "this is not a CloudEvent" || !strings.Contains(dead[0].Reason, "malformed message") {
		t.Errorf("dead letter %+v", dead[0])
	}
}

func testOversize(t *testing.T, tr *Transport) {
	e := newEvent(tr, 0, "g")
	if err := e.SetData(event.ApplicationJSON, map[string]string{"blob": strings.Repeat("x", tr.MaxEventSize)}); err != nil {
		t.Fatal(err)
	}
	err := tr.Publisher.Publish(context.Background(), e)
	if !errors.Is(err, events.ErrTooLarge) {
		t.Fatalf("publishing %d bytes: %v, want ErrTooLarge", tr.MaxEventSize, err)
	}
	if !strings.Contains(err.Error(), "over") {
		t.Errorf("the error does not say the limit: %v", err)
	}
}

func testDuplicates(t *testing.T, tr *Transport) {
	e := newEvent(tr, 0, "g")
	publish(t, tr, e)
	publish(t, tr, e)
	other := newEvent(tr, 1, "g")
	publish(t, tr, other, e)
	r := newRecorder(nil)
	h := events.Chain(r, events.Deduplicate(events.Dedup{Window: time.Hour, Lease: time.Minute, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	stop := consume(t, tr, h)
	waitUntil(t, 60*time.Second, "both events handled", func() bool { _, done := r.snapshot(); return len(done) == 2 })
	time.Sleep(tr.Settle + time.Second)
	stop()
	if attempts, _ := r.snapshot(); attempts["0"] != 1 || attempts["1"] != 1 {
		t.Errorf("attempts %v: a duplicate ran again", attempts)
	}
}

// testSlowHandler: a handler running three times the visibility timeout
// keeps its message (the worker extends the visibility): it is handled
// once, not delivered again meanwhile.
func testSlowHandler(t *testing.T, tr *Transport) {
	publish(t, tr, newEvent(tr, 0, "g"))
	r := newRecorder(func(string, int) error {
		time.Sleep(6 * time.Second)
		return nil
	})
	stop := consume(t, tr, r, queue.WithVisibilityTimeout(2*time.Second), queue.WithConcurrency(2))
	waitUntil(t, 60*time.Second, "the slow event handled", func() bool { _, done := r.snapshot(); return len(done) == 1 })
	time.Sleep(tr.Settle + 2*time.Second) // a redelivery would come now
	stop()
	attempts, done := r.snapshot()
	if s := subjects(1)[0]; attempts[s] != 1 || done[s] != 1 {
		t.Errorf("the slow event: %d attempts, %d successes; want 1 and 1 (visibility not extended?)", attempts[s], done[s])
	}
}
