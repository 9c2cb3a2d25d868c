// Package storetest is the conformance suite of events.Store: every store
// (the in-memory default, the DynamoDB one) passes the same tests, on real
// time (leases and windows of a second or less).
package storetest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/coworks-go/cws/events"
)

// Run runs the suite on the store newStore returns. Its subtests run in
// parallel, each on keys of its own: the store may be shared.
func Run(t *testing.T, newStore func(t *testing.T) events.Store) {
	tests := []struct {
		name string
		test func(t *testing.T, s events.Store, key string)
	}{
		{"ClaimThenDuplicateInProgress", claimThenDuplicate},
		{"LeaseEndsAfterACrash", leaseEnds},
		{"OutcomeReplayed", outcomeReplayed},
		{"RefusalReplayed", refusalReplayed},
		{"AbandonLetsARetryRun", abandonFrees},
		{"AbandonKeepsAFinishedRun", abandonKeepsFinished},
		{"ExpiredRecordIgnored", windowEnds},
		{"ConcurrentClaimsOneWins", concurrentClaims},
		{"KeysAreIndependent", keysIndependent},
		{"DeduplicateRunsOnceAcrossACrash", deduplicateAcrossCrash},
		{"DeduplicateTwoDeliveriesAtOnce", deduplicateAtOnce},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.test(t, newStore(t), t.Name()+"\x00"+time.Now().Format(time.RFC3339Nano))
		})
	}
}

func begin(t *testing.T, s events.Store, key string, lease time.Duration) (bool, *events.Outcome) {
	t.Helper()
	ok, done, err := s.Begin(context.Background(), key, lease)
	if err != nil {
		t.Fatalf("Begin: %v", err)
	}
	return ok, done
}

func finish(t *testing.T, s events.Store, key string, o events.Outcome, window time.Duration) {
	t.Helper()
	if err := s.Finish(context.Background(), key, o, window); err != nil {
		t.Fatalf("Finish: %v", err)
	}
}

func abandon(t *testing.T, s events.Store, key string) {
	t.Helper()
	if err := s.Abandon(context.Background(), key); err != nil {
		t.Fatalf("Abandon: %v", err)
	}
}

func claimThenDuplicate(t *testing.T, s events.Store, key string) {
	if ok, done := begin(t, s, key, time.Minute); !ok || done != nil {
		t.Fatalf("first Begin: %v %+v, want a claim", ok, done)
	}
	if ok, done := begin(t, s, key, time.Minute); ok || done != nil {
		t.Errorf("Begin while claimed: %v %+v, want in progress (false, nil)", ok, done)
	}
}

// leaseEnds: the consumer that claimed the key died (it never finishes nor
// abandons); once its lease is over a redelivery runs.
func leaseEnds(t *testing.T, s events.Store, key string) {
	const lease = 300 * time.Millisecond
	if ok, _ := begin(t, s, key, lease); !ok {
		t.Fatal("first Begin")
	}
	if ok, done := begin(t, s, key, lease); ok || done != nil {
		t.Fatalf("Begin within the lease: %v %+v", ok, done)
	}
	time.Sleep(lease + 200*time.Millisecond)
	if ok, done := begin(t, s, key, time.Minute); !ok || done != nil {
		t.Fatalf("Begin after the lease: %v %+v, want a claim", ok, done)
	}
	if ok, _ := begin(t, s, key, time.Minute); ok {
		t.Error("the new claim does not hold")
	}
}

func outcomeReplayed(t *testing.T, s events.Store, key string) {
	want := events.Outcome{Status: 201, ContentType: "application/octet-stream", Body: []byte{0, 1, 2, 0xff, '"'}, Binary: true}
	if ok, _ := begin(t, s, key, time.Minute); !ok {
		t.Fatal("first Begin")
	}
	finish(t, s, key, want, time.Hour)
	for range 2 {
		ok, done := begin(t, s, key, time.Minute)
		if ok || done == nil {
			t.Fatalf("Begin after Finish: %v %+v, want the outcome", ok, done)
		}
		if done.Status != want.Status || done.ContentType != want.ContentType || !bytes.Equal(done.Body, want.Body) ||
			done.Binary != want.Binary || done.Refused != "" {
			t.Errorf("replayed outcome %+v, want %+v", *done, want)
		}
	}
}

func refusalReplayed(t *testing.T, s events.Store, key string) {
	if ok, _ := begin(t, s, key, time.Minute); !ok {
		t.Fatal("first Begin")
	}
	finish(t, s, key, events.Outcome{Refused: "no such order"}, time.Hour)
	ok, done := begin(t, s, key, time.Minute)
	if ok || done == nil || done.Refused != "no such order" {
		t.Errorf("Begin after a refusal: %v %+v, want the refusal", ok, done)
	}
}

func abandonFrees(t *testing.T, s events.Store, key string) {
	if ok, _ := begin(t, s, key, time.Minute); !ok {
		t.Fatal("first Begin")
	}
	abandon(t, s, key)
	if ok, done := begin(t, s, key, time.Minute); !ok || done != nil {
		t.Errorf("Begin after Abandon: %v %+v, want a claim", ok, done)
	}
	abandon(t, s, key+" never claimed") // no error
}

func abandonKeepsFinished(t *testing.T, s events.Store, key string) {
	if ok, _ := begin(t, s, key, time.Minute); !ok {
		t.Fatal("first Begin")
	}
	finish(t, s, key, events.Outcome{Status: 200}, time.Hour)
	abandon(t, s, key)
	if ok, done := begin(t, s, key, time.Minute); ok || done == nil || done.Status != 200 {
		t.Errorf("Abandon forgot a finished run: %v %+v", ok, done)
	}
}

// windowEnds: a record past its window is ignored, whether or not the
// store has deleted it yet (DynamoDB's TTL deletes items late).
func windowEnds(t *testing.T, s events.Store, key string) {
	if ok, _ := begin(t, s, key, time.Minute); !ok {
		t.Fatal("first Begin")
	}
	finish(t, s, key, events.Outcome{Status: 200}, time.Second)
	if ok, done := begin(t, s, key, time.Minute); ok || done == nil {
		t.Fatalf("Begin within the window: %v %+v", ok, done)
	}
	// A store may keep expirations in whole seconds (a TTL attribute),
	// rounded up: the record lives at most a second longer.
	time.Sleep(2*time.Second + 100*time.Millisecond)
	if ok, done := begin(t, s, key, time.Minute); !ok || done != nil {
		t.Errorf("Begin after the window: %v %+v, want a claim", ok, done)
	}
}

func concurrentClaims(t *testing.T, s events.Store, key string) {
	const n = 8
	var wg sync.WaitGroup
	var begun, inProgress atomic.Int32
	start := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-start
			ok, done, err := s.Begin(context.Background(), key, time.Minute)
			switch {
			case err != nil:
				t.Errorf("Begin: %v", err)
			case ok:
				begun.Add(1)
			case done == nil:
				inProgress.Add(1)
			default:
				t.Errorf("Begin: an outcome %+v with no run finished", done)
			}
		})
	}
	close(start)
	wg.Wait()
	if begun.Load() != 1 || inProgress.Load() != n-1 {
		t.Errorf("%d claims at once: %d won and %d were told in progress, want 1 and %d", n, begun.Load(), inProgress.Load(), n-1)
	}
}

// keysIndependent: the keys events.Key makes (with NUL separators and a
// redrive count) are distinct keys.
func keysIndependent(t *testing.T, s events.Store, key string) {
	e := event.New()
	e.SetID(key)
	e.SetSource("test/source")
	e.SetType("t")
	k1, k2 := events.Key(e), events.Key(events.Redriven(e))
	if ok, _ := begin(t, s, k1, time.Minute); !ok {
		t.Fatal("Begin of the event")
	}
	finish(t, s, k1, events.Outcome{Refused: "bad"}, time.Hour)
	if ok, done := begin(t, s, k2, time.Minute); !ok || done != nil {
		t.Errorf("Begin of its redrive: %v %+v, want a claim of its own", ok, done)
	}
}

// effects is a handler that counts its runs: the side effects a duplicate
// must not repeat.
type effects struct {
	n     atomic.Int32
	block chan struct{}
}

func (h *effects) Handle(_ context.Context, m *events.Message) error {
	h.n.Add(1)
	if h.block != nil {
		<-h.block
	}
	m.Outcome = &events.Outcome{Status: 201, Body: []byte("created " + m.Event.ID())}
	return nil
}

func message(key string) *events.Message {
	e := event.New()
	e.SetID(key)
	e.SetSource("test/source")
	e.SetType("t")
	return &events.Message{Event: e}
}

// deduplicateAcrossCrash: a consumer claimed the event and died (its claim
// stays, as after a kill); a redelivery within the lease runs nothing and
// is retried, the one after it runs the effect once, and every duplicate
// after that gets the recorded outcome.
func deduplicateAcrossCrash(t *testing.T, s events.Store, key string) {
	const lease = 300 * time.Millisecond
	h := &effects{}
	run := events.Deduplicate(events.Dedup{Store: s, Lease: lease, Window: time.Hour, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})(h)
	m := message(key)
	if ok, _ := begin(t, s, events.Key(m.Event), lease); !ok { // the consumer that died
		t.Fatal("Begin of the dead consumer")
	}
	if err := run.Handle(context.Background(), message(key)); !errors.Is(err, events.ErrInProgress) {
		t.Fatalf("redelivery within the lease: %v, want ErrInProgress", err)
	}
	time.Sleep(lease + 200*time.Millisecond)
	if err := run.Handle(context.Background(), m); err != nil {
		t.Fatalf("redelivery after the lease: %v", err)
	}
	for range 3 {
		d := message(key)
		if err := run.Handle(context.Background(), d); err != nil {
			t.Fatalf("duplicate: %v", err)
		}
		if d.Outcome == nil || d.Outcome.Status != 201 || string(d.Outcome.Body) != "created "+key {
			t.Errorf("duplicate's outcome %+v, want the recorded one", d.Outcome)
		}
	}
	if n := h.n.Load(); n != 1 {
		t.Errorf("the effect ran %d times, want 1", n)
	}
}

// deduplicateAtOnce: two deliveries of one event at once: one runs, the
// other is retried later, and its retry gets the outcome.
func deduplicateAtOnce(t *testing.T, s events.Store, key string) {
	h := &effects{block: make(chan struct{})}
	run := events.Deduplicate(events.Dedup{Store: s, Lease: time.Minute, Window: time.Hour, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})(h)
	first := make(chan error, 1)
	go func() { first <- run.Handle(context.Background(), message(key)) }()
	for h.n.Load() == 0 { // the first delivery is running
		select {
		case err := <-first:
			t.Fatalf("first delivery ended before it ran: %v", err)
		case <-time.After(5 * time.Millisecond):
		}
	}
	if err := run.Handle(context.Background(), message(key)); !errors.Is(err, events.ErrInProgress) {
		t.Errorf("second delivery while the first runs: %v, want ErrInProgress", err)
	}
	close(h.block)
	if err := <-first; err != nil {
		t.Fatalf("first delivery: %v", err)
	}
	retry := message(key)
	if err := run.Handle(context.Background(), retry); err != nil || retry.Outcome == nil || retry.Outcome.Status != 201 {
		t.Errorf("retry of the second delivery: %v %+v, want the recorded outcome", err, retry.Outcome)
	}
	if n := h.n.Load(); n != 1 {
		t.Errorf("the effect ran %d times, want 1", n)
	}
}
