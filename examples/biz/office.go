package main

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coworks-go/cws/biz"
	"github.com/coworks-go/cws/runtime"
)

// Reminder is a posted reminder.
type Reminder struct {
	Message string    `json:"message"`
	At      time.Time `json:"at"`
}

// Alert is a raised alert.
type Alert struct {
	Level   string `json:"level"`
	Message string `json:"message"`
}

// Invoice is an invoice of an order.
type Invoice struct {
	ID       int     `json:"id"`
	Order    string  `json:"order"`
	Customer string  `json:"customer"`
	Total    float64 `json:"total"`
}

// InvoiceInput is the body of POST /invoices.
type InvoiceInput struct {
	Order    string  `json:"order"`
	Customer string  `json:"customer"`
	Total    float64 `json:"total"`
}

// Validate refuses an invoice without order or customer (422).
func (in *InvoiceInput) Validate() error {
	if in.Order == "" || in.Customer == "" {
		return errors.New("order and customer are required")
	}
	return nil
}

// Mail is a sent mail.
type Mail struct {
	To      string `json:"to"`
	Subject string `json:"subject"`
	Body    string `json:"body"`
}

// Office keeps reminders, alerts, invoices and an outbox in memory. Every
// entry needs the token of env TOKEN.
type Office struct {
	mu        sync.Mutex
	reminders []Reminder
	alerts    []Alert
	invoices  []Invoice
	outbox    []Mail
	// mailOutage is how many mails are refused with 503 before the mail
	// service answers again (env MAIL_OUTAGE): a transient failure, to see
	// the invoicing workflow retry.
	mailOutage int
}

// NewOffice returns an empty office.
func NewOffice() *Office {
	n, _ := strconv.Atoi(os.Getenv("MAIL_OUTAGE"))
	return &Office{mailOutage: n}
}

// Reactors are the office's code reactors (see main.go).
func (o *Office) Reactors() map[string]biz.Reactor {
	return map[string]biz.Reactor{
		"reminder": Reminders{Schedule: os.Getenv("REMINDER_SCHEDULE")},
	}
}

// workflowFiles are the office's workflows, in the Amazon States Language.
//
//go:embed workflows
var workflowFiles embed.FS

// Workflows are the office's workflows: invoicing, started by every
// order.completed event.
func (o *Office) Workflows() ([]*biz.Workflow, error) {
	invoicing, err := biz.LoadWorkflow(workflowFiles, "workflows/invoicing.asl.yaml",
		biz.On("completed-orders", `{"detail-type":["order.completed"]}`))
	if err != nil {
		return nil, err
	}
	return []*biz.Workflow{invoicing}, nil
}

// PostReminders posts a reminder.
func (o *Office) PostReminders(ctx context.Context, in Reminder) Reminder {
	o.mu.Lock()
	defer o.mu.Unlock()
	if in.At.IsZero() {
		in.At = time.Now().UTC()
	}
	o.reminders = append(o.reminders, in)
	runtime.SetStatus(ctx, 201)
	return in
}

// GetReminders lists the reminders.
func (o *Office) GetReminders(ctx context.Context) []Reminder {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]Reminder{}, o.reminders...)
}

// PostAlerts raises an alert.
func (o *Office) PostAlerts(ctx context.Context, in Alert) (Alert, error) {
	if in.Message == "" {
		return in, runtime.Unprocessable("an alert needs a message")
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.alerts = append(o.alerts, in)
	runtime.SetStatus(ctx, 201)
	return in, nil
}

// GetAlerts lists the alerts.
func (o *Office) GetAlerts(ctx context.Context) []Alert {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]Alert{}, o.alerts...)
}

// PostInvoices creates the invoice of an order (201), or returns the one
// the order already has (200): a retried workflow invoices once.
func (o *Office) PostInvoices(ctx context.Context, in InvoiceInput) Invoice {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, inv := range o.invoices {
		if inv.Order == in.Order {
			return inv
		}
	}
	inv := Invoice{ID: len(o.invoices) + 1, Order: in.Order, Customer: in.Customer, Total: in.Total}
	o.invoices = append(o.invoices, inv)
	runtime.SetStatus(ctx, 201)
	runtime.ResponseHeader(ctx).Set("Location", "/invoices/"+strconv.Itoa(inv.ID))
	return inv
}

// GetInvoices lists the invoices.
func (o *Office) GetInvoices(ctx context.Context) []Invoice {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]Invoice{}, o.invoices...)
}

// GetInvoicesDocument_ renders invoice id as a text document.
func (o *Office) GetInvoicesDocument_(ctx context.Context, id int) (string, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if id < 1 || id > len(o.invoices) {
		return "", runtime.NotFound("no invoice %d", id)
	}
	inv := o.invoices[id-1]
	var b strings.Builder
	fmt.Fprintf(&b, "INVOICE %d\norder: %s\ncustomer: %s\ntotal: %.2f\n", inv.ID, inv.Order, inv.Customer, inv.Total)
	return b.String(), nil
}

// PostMails sends a mail (to the outbox).
func (o *Office) PostMails(ctx context.Context, in Mail) (Mail, error) {
	if !strings.Contains(in.To, "@") {
		return in, runtime.Unprocessable("%q is not a mail address", in.To)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.mailOutage > 0 {
		o.mailOutage--
		return in, runtime.NewProblem(503, "the mail service is down for a moment")
	}
	o.outbox = append(o.outbox, in)
	runtime.SetStatus(ctx, 201)
	return in, nil
}

// GetMails lists the sent mails.
func (o *Office) GetMails(ctx context.Context) []Mail {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]Mail{}, o.outbox...)
}
