package events

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
)

// Outcome is what a handled event produced: for an invocation, the entry's
// response, kept to answer a duplicate that asks for a reply.
type Outcome struct {
	Status      int
	ContentType string
	Body        []byte
	Binary      bool
}

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
// CloudEvents makes unique.
func Key(e event.Event) string { return e.Source() + "\x00" + e.ID() }

// Group returns the message group of e on a FIFO queue: its cwsgroup
// extension, or else its source.
func Group(e event.Event) string {
	if g, ok := e.Extensions()[ExtGroup]; ok {
		return fmt.Sprint(g)
	}
	return e.Source()
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
	ops     int
	now     func() time.Time
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
	s.entries[key] = &memoryEntry{expires: now.Add(lease)}
	return true, nil, nil
}

// Finish implements Store.
func (s *MemoryStore) Finish(_ context.Context, key string, o Outcome, window time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.entries[key] = &memoryEntry{done: true, outcome: o, expires: s.now().Add(window)}
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

// sweep drops expired entries every 1024 operations.
func (s *MemoryStore) sweep(now time.Time) {
	s.ops++
	if s.ops%1024 != 0 {
		return
	}
	for k, e := range s.entries {
		if !now.Before(e.expires) {
			delete(s.entries, k)
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

// Deduplicate is middleware that handles each event (by source and id)
// once within window: a duplicate of a handled event is acknowledged
// without running the handler; a duplicate arriving while the first is
// running is retried later. A retryable failure forgets the event, so that
// its redelivery runs again.
func Deduplicate(store Store, window, lease time.Duration) Middleware {
	return func(next Handler) Handler {
		return HandlerFunc(func(ctx context.Context, m *Message) error {
			key := Key(m.Event)
			begun, done, err := store.Begin(ctx, key, lease)
			if err != nil {
				return err
			}
			if !begun {
				if done == nil {
					return ErrInProgress
				}
				return nil
			}
			err = next.Handle(ctx, m)
			if err != nil && !IsPermanent(err) {
				_ = store.Abandon(ctx, key)
				return err
			}
			if ferr := store.Finish(ctx, key, Outcome{}, window); ferr != nil && err == nil {
				return ferr
			}
			return err
		})
	}
}
