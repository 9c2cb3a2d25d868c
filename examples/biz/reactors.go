package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/coworks-go/cws/biz"
	"github.com/coworks-go/cws/events"
)

// Order is the data of an order.completed event.
type Order struct {
	Order    string  `json:"order"`
	Customer string  `json:"customer"`
	Total    float64 `json:"total"`
}

// orderOf reads the order of an event; an event that carries none cannot
// be handled, ever.
func orderOf(t *biz.Trigger) (Order, error) {
	var o Order
	if err := json.Unmarshal(t.Event.Data(), &o); err != nil {
		return o, events.Permanentf("event %s carries no order: %v", t.Event.ID(), err)
	}
	return o, nil
}

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

// Alerts raises an alert for a large order.
type Alerts struct{ Threshold float64 }

// Subscriptions implements biz.Reactor.
func (a Alerts) Subscriptions() []biz.Subscription {
	return []biz.Subscription{biz.On("large-orders", fmt.Sprintf(
		`{"detail-type":["order.completed"],"detail":{"data":{"total":[{"numeric":[">=",%g]}]}}}`, a.Threshold))}
}

// React implements biz.Reactor.
func (a Alerts) React(ctx context.Context, t *biz.Trigger) error {
	o, err := orderOf(t)
	if err != nil {
		return err
	}
	_, err = t.Tech.Invoke(ctx, "POST", "/alerts", Alert{Level: "warning",
		Message: fmt.Sprintf("order %s of %.2f", o.Order, o.Total)})
	return err
}

// Invoicing invoices completed orders: create the invoice, render its
// document, mail it, publish invoice.sent.
type Invoicing struct{}

// Subscriptions implements biz.Reactor.
func (Invoicing) Subscriptions() []biz.Subscription {
	return []biz.Subscription{biz.On("completed-orders", `{"detail-type":["order.completed"]}`)}
}

// React implements biz.Reactor.
func (Invoicing) React(ctx context.Context, t *biz.Trigger) error {
	o, err := orderOf(t)
	if err != nil {
		return err
	}
	inv, err := biz.Call[Invoice](ctx, t.Tech, "POST", "/invoices", InvoiceInput(o))
	if err != nil {
		return err
	}
	doc, err := t.Tech.Invoke(ctx, "GET", "/invoices/document/"+strconv.Itoa(inv.ID), nil)
	if err != nil {
		return err
	}
	if _, err := t.Tech.Invoke(ctx, "POST", "/mails", Mail{To: o.Customer,
		Subject: fmt.Sprintf("Invoice %d", inv.ID), Body: string(doc.Body)}); err != nil {
		return err
	}
	sent, err := t.Tech.NewEvent("invoice.sent", map[string]any{"invoice": inv.ID, "order": o.Order})
	if err != nil {
		return err
	}
	return t.Tech.Publish(ctx, sent)
}
