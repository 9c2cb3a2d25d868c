package events

import (
	"context"
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
	if n := s.Len(); n > 10 {
		t.Errorf("expired entries are not swept: %d left", n)
	}
}
