package biz

import (
	"context"
	"fmt"
	"strings"
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
	var planned []string
	e.wait = func(ctx context.Context, until time.Time) bool {
		mu.Lock()
		defer mu.Unlock()
		// What Rules tells while the scheduler waits: the times it fires
		// next, a rate's from the scheduler's start, not from the clock.
		var next []string
		for _, r := range e.Rules(start.Add(3 * time.Minute)) {
			next = append(next, r.Next.Format("15:04"))
		}
		planned = append(planned, strings.Join(next, " "))
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
	wantPlanned := "[08:57 09:00 09:02 09:00 09:02 09:00 09:07 09:00 09:12 09:00]"
	if got := fmt.Sprint(planned); got != wantPlanned {
		t.Errorf("next fire times while running %s, want %s", got, wantPlanned)
	}
	if r := e.Rules(start.Add(3 * time.Minute)); r[0].Next.Format("15:04") != "09:00" {
		t.Errorf("once the scheduler stopped, a rate's next time counts from now: %v", r[0].Next)
	}
	if len(fired) != len(want) {
		t.Fatalf("fired %v, want %v", fired, want)
	}
	for i := range want {
		if fired[i] != want[i] {
			t.Fatalf("fired %v, want %v", fired, want)
		}
	}
}
