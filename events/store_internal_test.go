package events

import (
	"context"
	"strconv"
	"testing"
	"time"
)

func TestMemoryStoreLeaseAndWindow(t *testing.T) {
	s := NewMemoryStore()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return now }
	ctx := context.Background()

	if ok, _, _ := s.Begin(ctx, "k", time.Minute); !ok {
		t.Fatal("first Begin")
	}
	if ok, done, _ := s.Begin(ctx, "k", time.Minute); ok || done != nil {
		t.Errorf("Begin while claimed: %v %v", ok, done)
	}
	now = now.Add(2 * time.Minute) // the claimer died: the lease is over
	if ok, _, _ := s.Begin(ctx, "k", time.Minute); !ok {
		t.Error("Begin after the lease")
	}
	_ = s.Finish(ctx, "k", Outcome{Status: 201, Body: []byte("x")}, time.Hour)
	if ok, done, _ := s.Begin(ctx, "k", time.Minute); ok || done == nil || done.Status != 201 {
		t.Errorf("Begin after Finish: %v %+v", ok, done)
	}
	_ = s.Abandon(ctx, "k") // does not forget a finished run
	if ok, _, _ := s.Begin(ctx, "k", time.Minute); ok {
		t.Error("Abandon forgot a finished run")
	}
	now = now.Add(2 * time.Hour)
	if ok, _, _ := s.Begin(ctx, "k", time.Minute); !ok {
		t.Error("Begin after the window")
	}

	for i := range 3000 {
		s.Begin(ctx, string(rune('a'+i%26))+time.Duration(i).String(), time.Second)
	}
	now = now.Add(time.Hour)
	for range 1100 {
		s.Begin(ctx, "z", time.Second)
	}
	if n := s.Len(); n > 10 || len(s.expiry) > 10 {
		t.Errorf("expired entries are not swept: %d left, %d in the expiry heap", n, len(s.expiry))
	}
}

// A sweep costs what it drops, not what the store holds: a full store
// (a million keys in the window) answers as fast as an empty one.
func BenchmarkMemoryStoreFull(b *testing.B) {
	for _, held := range []int{0, 1_000_000} {
		b.Run("held="+strconv.Itoa(held), func(b *testing.B) {
			s := NewMemoryStore()
			ctx := context.Background()
			for i := range held {
				_ = s.Finish(ctx, "held-"+strconv.Itoa(i), Outcome{Status: 200}, time.Hour)
			}
			b.ResetTimer()
			for i := range b.N {
				key := "k-" + strconv.Itoa(i)
				s.Begin(ctx, key, time.Minute)
				_ = s.Finish(ctx, key, Outcome{Status: 200}, time.Hour)
			}
		})
	}
}
