package events

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/cloudevents/sdk-go/v2/types"
)

// Store remembers which events have been handled, for idempotency across
// duplicate deliveries. Keys are Key(event).
type Store interface {
	// Begin claims key for the lease. It returns false and the outcome of a
	// finished run, or false and nil while another delivery holds an
	// unexpired claim. A claim that expires (its consumer crashed) can be
	// taken again.
	Begin(ctx context.Context, key string, lease time.Duration) (begun bool, done *Outcome, err error)
	// Finish records the outcome of the claimed run for the window.
	Finish(ctx context.Context, key string, o Outcome, window time.Duration) error
	// Abandon drops the claim of a run that failed, so that a redelivery
	// runs again.
	Abandon(ctx context.Context, key string) error
}

// Key is the idempotency key of an event: its source and id, which
// CloudEvents makes unique, and for an event redriven from a dead-letter
// queue its redrive count (Redriven): a redrive asks for the event to run
// again, where a duplicate of it must not.
func Key(e event.Event) string {
	k := e.Source() + "\x00" + e.ID()
	if n := Redrives(e); n > 0 {
		k += "\x00redrive " + strconv.Itoa(n)
	}
	return k
}

// ExtRedrive is the extension attribute counting the times an event was
// redriven from a dead-letter queue.
const ExtRedrive = "cwsredrive"

// Redrives returns how many times e was redriven from a dead-letter queue
// (its cwsredrive extension; 0 without it).
func Redrives(e event.Event) int {
	v, ok := e.Extensions()[ExtRedrive]
	if !ok {
		return 0
	}
	n, err := types.ToInteger(v)
	if err != nil || n < 0 {
		return 0
	}
	return int(n)
}

// Redriven returns a copy of e to send again from a dead-letter queue: its
// redrive count one more, so that Deduplicate runs it again instead of
// refusing it as the duplicate of the refused event, while the copies of
// this redrive stay duplicates of one another.
func Redriven(e event.Event) event.Event {
	c := Copy(e)
	c.SetExtension(ExtRedrive, Redrives(e)+1)
	return c
}

// ErrInProgress is the error of a duplicate delivered while another
// delivery of the same event is being handled: it is retried later.
var ErrInProgress = errors.New("another delivery of this event is being handled")

// MemoryStore is a Store in memory, the default: enough for one process
// (the local runtime, one worker); use a shared store (DynamoDB, Redis...)
// behind the Store interface when several consumers share a queue.
type MemoryStore struct {
	mu      sync.Mutex
	entries map[string]*memoryEntry
	// expiry orders the entries by expiry, the soonest first: a sweep takes
	// the expired ones from its top, whatever the store holds (a sweep
	// that walked every entry made each operation cost the store's size
	// over 1024: the soak test's consumer slowed down as it filled).
	expiry expiryHeap
	now    func() time.Time
}

// expiring is an entry in the expiry heap; an entry replaced since is left
// there until it expires, and then passed over.
type expiring struct {
	key   string
	entry *memoryEntry
}

// expiryHeap is a min-heap of entries by expiry (container/heap).
type expiryHeap []expiring

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].entry.expires.Before(h[j].entry.expires) }
func (h expiryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *expiryHeap) Push(x any)        { *h = append(*h, x.(expiring)) }
func (h *expiryHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	old[len(old)-1] = expiring{}
	*h = old[:len(old)-1]
	return x
}

type memoryEntry struct {
	done    bool
	outcome Outcome
	expires time.Time
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{entries: map[string]*memoryEntry{}, now: time.Now}
}

// Begin implements Store.
func (s *MemoryStore) Begin(_ context.Context, key string, lease time.Duration) (bool, *Outcome, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.sweep(now)
	if e, ok := s.entries[key]; ok && now.Before(e.expires) {
		if e.done {
			o := e.outcome
			return false, &o, nil
		}
		return false, nil, nil
	}
	s.put(key, &memoryEntry{expires: now.Add(lease)})
	return true, nil, nil
}

// Finish implements Store.
func (s *MemoryStore) Finish(_ context.Context, key string, o Outcome, window time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.put(key, &memoryEntry{done: true, outcome: o, expires: s.now().Add(window)})
	return nil
}

// Abandon implements Store.
func (s *MemoryStore) Abandon(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.entries[key]; ok && !e.done {
		delete(s.entries, key)
	}
	return nil
}

// Len returns how many keys the store holds (expired ones included until
// swept).
func (s *MemoryStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.entries)
}

// put holds e for key until it expires.
func (s *MemoryStore) put(key string, e *memoryEntry) {
	s.entries[key] = e
	heap.Push(&s.expiry, expiring{key: key, entry: e})
}

// sweep drops the expired entries: O(log n) each, the soonest first.
func (s *MemoryStore) sweep(now time.Time) {
	for len(s.expiry) > 0 && !now.Before(s.expiry[0].entry.expires) {
		x := heap.Pop(&s.expiry).(expiring)
		if s.entries[x.key] == x.entry {
			delete(s.entries, x.key)
		}
	}
}

// Default idempotency durations.
const (
	// DefaultWindow is how long a handled event's key is remembered.
	DefaultWindow = time.Hour
	// DefaultLease is how long a claim holds while its handler runs: a
	// duplicate arriving meanwhile is retried later (ErrInProgress). A claim
	// outlives its handler only when the consumer died; once the lease is
	// over, a redelivery may run again.
	DefaultLease = 5 * time.Minute
)

// Dedup configures Deduplicate. Its zero value is the defaults.
type Dedup struct {
	// Store remembers the handled events (default: a new MemoryStore).
	Store Store
	// Window is how long a handled event is remembered (default
	// DefaultWindow).
	Window time.Duration
	// Lease is how long a claim holds while the handler runs (default
	// DefaultLease).
	Lease time.Duration
	// Key is the idempotency key of a message (default: Key of its
	// event). The biz engine keys by rule and event, so that each reactor
	// runs once per event.
	Key func(m *Message) string
	// Log tells of duplicates and of a store that failed to record an
	// outcome (default slog.Default()).
	Log *slog.Logger
}

// Deduplicate is middleware that handles each event once (by key) within
// the window, the idempotency of every consumer:
//   - a duplicate of an event already handled runs nothing and gets the
//     recorded outcome in m.Outcome (the invocation door sends its result
//     again); it is acknowledged after a success, and refused again with
//     the same reason after a permanent failure, so that it goes where
//     refused events go (a dead-letter queue, or a queue's redrive policy
//     after the Lambda door reports it failed);
//   - a duplicate arriving while the first delivery is being handled is
//     retried later (ErrInProgress);
//   - a retryable failure (or a panic turned into one by Recover inside it)
//     forgets the event, so that its redelivery runs again; a success or a
//     permanent failure is recorded with m.Outcome.
//
// A store that fails to claim makes the delivery retryable; one that fails
// to record an outcome is logged (the handler ran: the delivery is
// settled).
func Deduplicate(d Dedup) Middleware {
	if d.Store == nil {
		d.Store = NewMemoryStore()
	}
	if d.Window <= 0 {
		d.Window = DefaultWindow
	}
	if d.Lease <= 0 {
		d.Lease = DefaultLease
	}
	if d.Key == nil {
		d.Key = func(m *Message) string { return Key(m.Event) }
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	return func(next Handler) Handler {
		return HandlerFunc(func(ctx context.Context, m *Message) error {
			key := d.Key(m)
			begun, done, err := d.Store.Begin(ctx, key, d.Lease)
			if err != nil {
				return fmt.Errorf("idempotency store: %w", err)
			}
			if !begun {
				if done == nil {
					return ErrInProgress
				}
				d.Log.InfoContext(ctx, "duplicate: handled already, not run again", "event", m.Event.ID(), "source", m.Event.Source(),
					"status", done.Status, "refused", done.Refused)
				m.Outcome = done
				if done.Refused != "" {
					return Permanent(errors.New(done.Refused))
				}
				return nil
			}
			err = next.Handle(ctx, m)
			if err != nil && !IsPermanent(err) {
				if aerr := d.Store.Abandon(ctx, key); aerr != nil {
					d.Log.ErrorContext(ctx, "idempotency store: forgetting a failed run", "event", m.Event.ID(), "error", aerr)
				}
				return err
			}
			var o Outcome
			if m.Outcome != nil {
				o = *m.Outcome
			}
			if err != nil {
				o.Refused = err.Error()
			}
			if ferr := d.Store.Finish(ctx, key, o, d.Window); ferr != nil {
				d.Log.ErrorContext(ctx, "idempotency store: recording the outcome", "event", m.Event.ID(), "error", ferr)
			}
			return err
		})
	}
}
