package main

import (
	"context"

	"github.com/coworks-go/cws/biz"
)

// Reminders posts the stand-up reminder: every weekday at 09:00 UTC, or on
// Schedule (env REMINDER_SCHEDULE, e.g. rate(1 minute) to see it fire).
type Reminders struct{ Schedule string }

// Subscriptions implements biz.Reactor.
func (r Reminders) Subscriptions() []biz.Subscription {
	if r.Schedule == "" {
		r.Schedule = "cron(0 9 ? * MON-FRI *)"
	}
	return []biz.Subscription{biz.Every("standup", r.Schedule)}
}

// React implements biz.Reactor.
func (Reminders) React(ctx context.Context, t *biz.Trigger) error {
	_, err := t.Tech.Invoke(ctx, "POST", "/reminders", map[string]any{
		"message": "Time for the stand-up", "at": t.Time,
	})
	return err
}
