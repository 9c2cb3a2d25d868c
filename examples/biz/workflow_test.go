package main

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/coworks-go/cws/biz"
	"github.com/coworks-go/cws/biz/asl"
	"github.com/coworks-go/cws/internal/testutil"
	"github.com/coworks-go/cws/runtime"
	"github.com/coworks-go/cws/services/mail"
)

// published records what the workflow publishes.
type published struct {
	mu  sync.Mutex
	evs []event.Event
}

func (p *published) Publish(_ context.Context, evs ...event.Event) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.evs = append(p.evs, evs...)
	return nil
}

// instant is a clock that does not sleep: Retry intervals pass at once.
type instant struct{ sleeps []time.Duration }

func (c *instant) Now() time.Time { return time.Now() }
func (c *instant) Sleep(ctx context.Context, d time.Duration) error {
	c.sleeps = append(c.sleeps, d)
	return ctx.Err()
}

// office runs the invoicing workflow on the embedded engine against an
// office's entries and its Templates and Mail services, in process; the
// mail service's in-memory outbox refuses the first outage mails with 503.
func office(t *testing.T, outage int) (*Office, *mail.Service, *biz.Runner, *published, *instant) {
	t.Helper()
	t.Setenv("TOKEN", testutil.Token)
	t.Setenv(mail.EnvHost, "")
	t.Setenv(mail.EnvOutboxFailures, strconv.Itoa(outage))
	o := NewOffice()
	opts, mailer, err := Services()
	if err != nil {
		t.Fatal(err)
	}
	app, err := runtime.New(o, opts...)
	if err != nil {
		t.Fatal(err)
	}
	pub, clock := &published{}, &instant{}
	client := biz.NewClient(biz.WithApp(app), biz.WithPublisher(pub), biz.WithSource("cws/office"))
	wfs, err := o.Workflows()
	if err != nil {
		t.Fatal(err)
	}
	runner, err := biz.NewRunner(context.Background(), wfs, biz.WithTasks(client.Tasks("office")), biz.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	return o, mailer, runner, pub, clock
}

// orderCompleted is the input a rule gives the workflow: the EventBridge
// event whose detail is the order.completed CloudEvent.
func orderCompleted(t *testing.T, order, customer string, total float64) any {
	t.Helper()
	e := event.New()
	e.SetID("evt-" + order)
	e.SetSource("shop")
	e.SetType("order.completed")
	e.SetTime(time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC))
	_ = e.SetData(event.ApplicationJSON, map[string]any{"order": order, "customer": customer, "total": total})
	in, err := biz.EventInput(e)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func execute(t *testing.T, runner *biz.Runner, input any) *asl.Execution {
	t.Helper()
	e, err := runner.Start("invoicing", input, "")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	return e
}

func TestInvoicingWorkflow(t *testing.T) {
	t.Run("a small order is invoiced, mailed and announced", func(t *testing.T) {
		o, mailer, runner, pub, _ := office(t, 0)
		e := execute(t, runner, orderCompleted(t, "S-1", "ann@example.com", 120))
		status, out, errName, cause := e.Status()
		if status != asl.StatusSucceeded || mustJSON(out) != `{"customer":"ann@example.com","id":1,"order":"S-1","total":120}` {
			t.Fatalf("%s %s %s %s", status, mustJSON(out), errName, cause)
		}
		sent := mailer.GetOutbox(context.Background())
		if len(sent) != 1 || sent[0].Subject != "Invoice 1" || sent[0].Recipients[0] != "ann@example.com" ||
			!strings.Contains(sent[0].Text, "INVOICE 1\norder: S-1") || !strings.Contains(sent[0].Text, "total: 120.00") ||
			!strings.Contains(sent[0].HTML, "<h1>Invoice 1</h1>") || len(o.alerts) != 0 {
			t.Errorf("outbox %+v, alerts %+v", sent, o.alerts)
		}
		if len(pub.evs) != 1 || pub.evs[0].Type() != "invoice.sent" || string(pub.evs[0].Data()) != `{"invoice":1,"order":"S-1"}` {
			t.Errorf("published %v", pub.evs)
		}
		if got := strings.Join(asl.StatesEntered(e.History()), " "); got != "CreateInvoice RenderDocument IsLarge MailInvoice PublishSent" {
			t.Errorf("path %s", got)
		}
	})
	t.Run("a large order raises an alert", func(t *testing.T) {
		o, mailer, runner, _, _ := office(t, 0)
		e := execute(t, runner, orderCompleted(t, "L-1", "bob@example.com", 1500))
		if status, _, _, _ := e.Status(); status != asl.StatusSucceeded || len(o.alerts) != 1 || o.alerts[0].Message != "large order L-1 of 1500" {
			t.Errorf("%s, alerts %+v", status, o.alerts)
		}
		if sent := mailer.GetOutbox(context.Background()); len(sent) != 1 || !strings.Contains(sent[0].HTML, "Thank you for this large order.") {
			t.Errorf("the large order's mail: %+v", sent)
		}
	})
	t.Run("a mail service down for a moment is tried again", func(t *testing.T) {
		_, mailer, runner, _, clock := office(t, 2)
		e := execute(t, runner, orderCompleted(t, "R-1", "cy@example.com", 10))
		scheduled := 0
		for _, ev := range e.History() {
			if ev.Type == "TaskScheduled" && strings.Contains(ev.Details["parameters"].(string), `"path":"/mail/send"`) {
				scheduled++
			}
		}
		if status, _, _, _ := e.Status(); status != asl.StatusSucceeded || len(mailer.GetOutbox(context.Background())) != 1 || scheduled != 3 {
			t.Errorf("%s, %d mails, %d tries", status, len(mailer.GetOutbox(context.Background())), scheduled)
		}
		if len(clock.sleeps) != 2 || clock.sleeps[0] != time.Second || clock.sleeps[1] != 2*time.Second {
			t.Errorf("backoff %v, want 1s then 2s", clock.sleeps)
		}
	})
	t.Run("an invoice that cannot be mailed raises an alert and fails", func(t *testing.T) {
		o, mailer, runner, pub, _ := office(t, 0)
		e := execute(t, runner, orderCompleted(t, "N-1", "nobody", 10))
		status, _, errName, cause := e.Status()
		if status != asl.StatusFailed || errName != "InvoiceNotMailed" || !strings.Contains(cause, `"status":422`) || !strings.Contains(cause, "to[0]") {
			t.Errorf("%s %s %s", status, errName, cause)
		}
		if len(o.alerts) != 1 || o.alerts[0].Level != "error" || o.alerts[0].Message != "invoice 1 was not mailed to nobody (cws.Status.422)" {
			t.Errorf("alerts %+v", o.alerts)
		}
		if len(pub.evs) != 0 || len(mailer.GetOutbox(context.Background())) != 0 {
			t.Errorf("published %d, mailed %d", len(pub.evs), len(mailer.GetOutbox(context.Background())))
		}
	})
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return err.Error()
	}
	return string(b)
}
