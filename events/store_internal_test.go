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

// Beyond its MaxKeys the store forgets the oldest finished events, never a
// claim in progress, and holds nothing else for them (map, heap and order
// stay the same size).
func TestMemoryStoreMaxKeys(t *testing.T) {
	s := NewMemoryStore(WithMaxKeys(3))
	ctx := context.Background()
	for _, k := range []string{"a", "b"} {
		if ok, _, _ := s.Begin(ctx, k, time.Hour); !ok {
			t.Fatalf("Begin %s", k)
		}
	}
	for i, k := range []string{"c", "d", "e", "f"} {
		s.Begin(ctx, k, time.Hour)
		_ = s.Finish(ctx, k, Outcome{Status: 200 + i}, time.Hour)
	}
	if ok, _, _ := s.Begin(ctx, "c", time.Hour); !ok {
		t.Error("the oldest finished event is still remembered beyond MaxKeys")
	}
	_ = s.Abandon(ctx, "c")
	for i, k := range []string{"d", "e", "f"} {
		if ok, done, _ := s.Begin(ctx, k, time.Hour); ok || done == nil || done.Status != 201+i {
			t.Errorf("%s: forgotten (%v %+v)", k, ok, done)
		}
	}
	for _, k := range []string{"a", "b"} { // more than MaxKeys finished since: still claimed
		if ok, done, _ := s.Begin(ctx, k, time.Hour); ok || done != nil {
			t.Errorf("claim %s forgotten: %v %+v", k, ok, done)
		}
	}
	// Finishing one again makes it the newest: "d" outlives "e" now.
	_ = s.Finish(ctx, "d", Outcome{Status: 299}, time.Hour)
	s.Begin(ctx, "g", time.Hour)
	_ = s.Finish(ctx, "g", Outcome{Status: 200}, time.Hour)
	if ok, _, _ := s.Begin(ctx, "e", time.Hour); !ok {
		t.Error("e should be the oldest finished, and forgotten")
	}
	if ok, done, _ := s.Begin(ctx, "d", time.Hour); ok || done == nil || done.Status != 299 {
		t.Errorf("d: %v %+v", ok, done)
	}

	big := NewMemoryStore(WithMaxKeys(1000))
	for i := range 100_000 {
		k := strconv.Itoa(i)
		big.Begin(ctx, k, time.Minute)
		if i%10 == 0 {
			_ = big.Abandon(ctx, k) // a failed run
			continue
		}
		_ = big.Finish(ctx, k, Outcome{Status: 200}, time.Hour)
	}
	if n, h := big.Len(), len(big.expiry); n != 1000 || h != 1000 || big.nfinished != 1000 {
		t.Errorf("after 100,000 events: %d keys, %d in the expiry heap, %d finished; want 1000 each", n, h, big.nfinished)
	}
	for i, e := range big.expiry {
		if e.index != i || big.entries[e.key] != e {
			t.Fatalf("heap entry %d: index %d, in the map: %v", i, e.index, big.entries[e.key] == e)
		}
	}
}

// A sweep costs what it drops, not what the store holds: a full store
// (a million keys in the window) answers as fast as an empty one.
func BenchmarkMemoryStoreFull(b *testing.B) {
	for _, held := range []int{0, 1_000_000} {
		b.Run("held="+strconv.Itoa(held), func(b *testing.B) {
			s := NewMemoryStore(WithMaxKeys(2 * held))
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
