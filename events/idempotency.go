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
//
// It holds at most MaxKeys finished events (DefaultMaxKeys unless
// WithMaxKeys says otherwise): beyond that it forgets the oldest finished
// first, so that a process under a steady load keeps a steady size instead
// of every event of the window. Claims in progress are never forgotten
// before their lease ends (forgetting one would run its duplicate
// concurrently); a duplicate of a forgotten event runs again, the
// at-least-once delivery every consumer already handles.
type MemoryStore struct {
	mu      sync.Mutex
	entries map[string]*memoryEntry
	// expiry orders the entries by expiry, the soonest first: a sweep takes
	// the expired ones from its top, whatever the store holds (a sweep
	// that walked every entry made each operation cost the store's size
	// over 1024: the soak test's consumer slowed down as it filled). Each
	// entry is in it once, at its index.
	expiry expiryHeap
	// oldest and newest end the list of finished entries, linked in the
	// order they finished: the oldest are forgotten first beyond maxKeys.
	oldest, newest *memoryEntry
	nfinished      int
	maxKeys        int
	now            func() time.Time
}

// A MemoryStoreOption configures NewMemoryStore.
type MemoryStoreOption func(*MemoryStore)

// DefaultMaxKeys is how many finished events a MemoryStore remembers
// unless WithMaxKeys says otherwise: a few hundred bytes each, and at ten
// thousand events a second (the soak test's rate) still ten seconds of
// duplicates caught — SQS redelivers within the visibility timeout.
const DefaultMaxKeys = 100_000

// WithMaxKeys bounds how many finished events the store remembers (n > 0;
// DefaultMaxKeys otherwise). Claims in progress are not counted.
func WithMaxKeys(n int) MemoryStoreOption {
	return func(s *MemoryStore) {
		if n > 0 {
			s.maxKeys = n
		}
	}
}

// expiryHeap is a min-heap of entries by expiry (container/heap), each
// entry knowing its index so that it can be fixed or removed in place.
type expiryHeap []*memoryEntry

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].expires.Before(h[j].expires) }
func (h expiryHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *expiryHeap) Push(x any) {
	e := x.(*memoryEntry)
	e.index = len(*h)
	*h = append(*h, e)
}
func (h *expiryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	e.index = -1
	return e
}

type memoryEntry struct {
	key     string
	done    bool
	outcome Outcome
	expires time.Time
	index   int // in the expiry heap
	// older and newer link a finished entry to its neighbours in the order
	// of finishing.
	older, newer *memoryEntry
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore(opts ...MemoryStoreOption) *MemoryStore {
	s := &MemoryStore{entries: map[string]*memoryEntry{}, maxKeys: DefaultMaxKeys, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Begin implements Store.
func (s *MemoryStore) Begin(_ context.Context, key string, lease time.Duration) (bool, *Outcome, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.sweep(now)
	if e, ok := s.entries[key]; ok {
		if e.done {
			o := e.outcome
			return false, &o, nil
		}
		return false, nil, nil
	}
	s.put(&memoryEntry{key: key, expires: now.Add(lease)})
	return true, nil, nil
}

// Finish implements Store.
func (s *MemoryStore) Finish(_ context.Context, key string, o Outcome, window time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	expires := s.now().Add(window)
	e, ok := s.entries[key]
	switch {
	case !ok: // the claim expired (or was never made)
		e = &memoryEntry{key: key}
		s.put(e)
	case e.done: // finished twice: it becomes the newest
		s.unlink(e)
	}
	e.done, e.outcome, e.expires = true, o, expires
	heap.Fix(&s.expiry, e.index)
	s.link(e)
	for s.nfinished > s.maxKeys {
		s.remove(s.oldest)
	}
	return nil
}

// Abandon implements Store.
func (s *MemoryStore) Abandon(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.entries[key]; ok && !e.done {
		s.remove(e)
	}
	return nil
}

// Len returns how many keys the store holds: the claims in progress and
// the finished events it remembers.
func (s *MemoryStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(s.now())
	return len(s.entries)
}

// put holds e until it expires.
func (s *MemoryStore) put(e *memoryEntry) {
	s.entries[e.key] = e
	heap.Push(&s.expiry, e)
}

// remove forgets e: from the map, the expiry heap and the finished order.
func (s *MemoryStore) remove(e *memoryEntry) {
	delete(s.entries, e.key)
	heap.Remove(&s.expiry, e.index)
	if e.done {
		s.unlink(e)
	}
}

// link appends the finished e to the finished order, the newest.
func (s *MemoryStore) link(e *memoryEntry) {
	e.older, e.newer = s.newest, nil
	if s.newest != nil {
		s.newest.newer = e
	} else {
		s.oldest = e
	}
	s.newest = e
	s.nfinished++
}

// unlink takes the finished e out of the finished order.
func (s *MemoryStore) unlink(e *memoryEntry) {
	if e.older != nil {
		e.older.newer = e.newer
	} else {
		s.oldest = e.newer
	}
	if e.newer != nil {
		e.newer.older = e.older
	} else {
		s.newest = e.older
	}
	e.older, e.newer = nil, nil
	s.nfinished--
}

// sweep drops the expired entries: O(log n) each, the soonest first.
func (s *MemoryStore) sweep(now time.Time) {
	for len(s.expiry) > 0 && !now.Before(s.expiry[0].expires) {
		s.remove(s.expiry[0])
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
