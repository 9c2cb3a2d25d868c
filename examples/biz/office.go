package main

import (
	"context"
	"embed"
	"errors"
	"io/fs"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/coworks-go/cws/biz"
	"github.com/coworks-go/cws/runtime"
	"github.com/coworks-go/cws/services/mail"
	"github.com/coworks-go/cws/services/templates"
)

// Reminder is a posted reminder.
type Reminder struct {
	Message string    `json:"message"`
	At      time.Time `json:"at"`
}

// Alert is a raised alert.
type Alert struct {
	Level   string `json:"level"`
	Message string `json:"message" jsonschema:"required,minLength=1"`
}

// Invoice is an invoice of an order.
type Invoice struct {
	ID       int     `json:"id"`
	Order    string  `json:"order"`
	Customer string  `json:"customer"`
	Total    float64 `json:"total"`
}

// InvoiceInput is the body of POST /invoices. Its jsonschema tags declare
// to the OpenAPI document what Validate enforces.
type InvoiceInput struct {
	Order    string  `json:"order" jsonschema:"required,minLength=1"`
	Customer string  `json:"customer" jsonschema:"required,minLength=1"`
	Total    float64 `json:"total"`
}

// Validate refuses an invoice without order or customer (422).
func (in *InvoiceInput) Validate() error {
	if in.Order == "" || in.Customer == "" {
		return errors.New("order and customer are required")
	}
	return nil
}

// Office keeps reminders, alerts and invoices in memory; it renders with
// the Templates service and mails with the Mail service, mounted beside it
// (Services). Every entry needs the token of env TOKEN.
type Office struct {
	mu        sync.Mutex
	reminders []Reminder
	alerts    []Alert
	invoices  []Invoice
}

// NewOffice returns an empty office.
func NewOffice() *Office { return &Office{} }

// templateFiles are the office's templates (invoice.html, invoice.txt),
// compiled into the binary; TEMPLATES_DIR names a directory to use
// instead (to edit them while cws run serves them).
//
//go:embed templates
var templateFiles embed.FS

// Services are the predefined services the office uses, as blueprints:
// the Templates service under /templates (its templates), the Mail service
// under /mail (SMTP_HOST and the other SMTP_ variables; without SMTP_HOST,
// an in-memory outbox at GET /mail/outbox), its bodies from the templates.
func Services() ([]runtime.Option, *mail.Service, error) {
	var src templates.Source
	if dir := os.Getenv(templates.EnvDir); dir != "" {
		src = templates.Dir(dir)
	} else {
		sub, err := fs.Sub(templateFiles, "templates")
		if err != nil {
			return nil, nil, err
		}
		src = templates.FS(sub)
	}
	var tpl *templates.Service = templates.New(src)
	cfg, err := mail.ConfigFromEnv()
	if err != nil {
		return nil, nil, err
	}
	if cfg.From == "" {
		cfg.From = "Office <office@example.com>"
	}
	var mailer *mail.Service
	mailer, err = mail.New(cfg, mail.WithTemplates(tpl))
	if err != nil {
		return nil, nil, err
	}
	return []runtime.Option{runtime.WithBlueprint("/templates", tpl), runtime.WithBlueprint("/mail", mailer)}, mailer, nil
}

// ConfigureEntries declares the statuses of the entries that create:
// 201, and 200 for an invoice the order already has.
func (o *Office) ConfigureEntries(c *runtime.EntryConfig) {
	c.Entry((*Office).PostReminders, runtime.Status(201))
	c.Entry((*Office).PostAlerts, runtime.Status(201))
	c.Entry((*Office).PostInvoices, runtime.Status(200, 201))
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
