package biz

import (
	"context"
	"sync"
	"testing"
	"time"
)

type tick struct{}

func (tick) Subscriptions() []Subscription {
	return []Subscription{Every("often", "rate(5 minutes)"), Every("daily", "cron(0 9 * * ? *)")}
}
func (tick) React(context.Context, *Trigger) error { return nil }

// The scheduler fires each schedule at its times, in order, with the
// Scheduled Event of its rule.
func TestRunSchedules(t *testing.T) {
	e, err := NewEngine(map[string]Reactor{"tick": tick{}})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 11, 22, 8, 52, 0, 0, time.UTC)
	e.now = func() time.Time { return start }
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	var fired []string
	e.wait = func(ctx context.Context, until time.Time) bool {
		mu.Lock()
		defer mu.Unlock()
		if len(fired) >= 4 {
			cancel()
			return false
		}
		return true
	}
	err = e.RunSchedules(ctx, func(_ context.Context, rule string, at time.Time) error {
		mu.Lock()
		defer mu.Unlock()
		fired = append(fired, at.Format("15:04")+" "+rule)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"08:57 tick-often", "09:00 tick-daily", "09:02 tick-often", "09:07 tick-often"}
	if len(fired) != len(want) {
		t.Fatalf("fired %v, want %v", fired, want)
	}
	for i := range want {
		if fired[i] != want[i] {
			t.Fatalf("fired %v, want %v", fired, want)
		}
	}
}
