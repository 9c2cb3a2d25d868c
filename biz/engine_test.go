package biz_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/coworks-go/cws/biz"
	"github.com/coworks-go/cws/events"
	"github.com/coworks-go/cws/events/wire"
)

// recorder is a reactor that records its triggers and fails as told.
type recorder struct {
	subs []biz.Subscription
	mu   sync.Mutex
	got  []string
	fail func(t *biz.Trigger) error
}

func (r *recorder) Subscriptions() []biz.Subscription { return r.subs }

func (r *recorder) React(_ context.Context, t *biz.Trigger) error {
	r.mu.Lock()
	r.got = append(r.got, t.Subscription+" "+t.Event.ID())
	r.mu.Unlock()
	if r.fail != nil {
		return r.fail(t)
	}
	return nil
}

func (r *recorder) calls() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string{}, r.got...)
}

func notification(id, typ string, data any) event.Event {
	e := event.New()
	e.SetID(id)
	e.SetSource("shop")
	e.SetType(typ)
	_ = e.SetData(event.ApplicationJSON, data)
	return e
}

func TestNewEngineChecks(t *testing.T) {
	for reason, reactors := range map[string]map[string]biz.Reactor{
		"reactor name":                              {"Bad_Name": &recorder{subs: []biz.Subscription{biz.Every("x", "rate(1 day)")}}},
		"subscribes to nothing":                     {"r": &recorder{}},
		"subscription name":                         {"r": &recorder{subs: []biz.Subscription{biz.Every("", "rate(1 day)")}}},
		"Parameter ScheduleExpression is not valid": {"r": &recorder{subs: []biz.Subscription{biz.Every("x", "rate(1 days)")}}},
		`Event pattern is not valid. Reason: "source" must be an object or an array`: {"r": &recorder{subs: []biz.Subscription{biz.On("x", `{"source":"a"}`)}}},
		"not both":                     {"r": &recorder{subs: []biz.Subscription{{Name: "x", Schedule: "rate(1 day)", Pattern: `{}`}}}},
		"give a schedule or a pattern": {"r": &recorder{subs: []biz.Subscription{{Name: "x"}}}},
		"two subscriptions make the rule": {"r": &recorder{subs: []biz.Subscription{biz.Every("x", "rate(1 day)"),
			biz.On("x", `{"source":["a"]}`)}}},
		"over EventBridge's 64 characters": {"r": &recorder{subs: []biz.Subscription{biz.Every(strings.Repeat("x", 63), "rate(1 day)")}}},
	} {
		if _, err := biz.NewEngine(reactors); err == nil || !strings.Contains(err.Error(), reason) {
			t.Errorf("want an error with %q, got %v", reason, err)
		}
	}
}

func TestEngineRoutes(t *testing.T) {
	orders := &recorder{subs: []biz.Subscription{
		biz.On("big", `{"detail-type":["order.completed"],"detail":{"data":{"total":[{"numeric":[">=",100]}]}}}`),
		biz.On("all", `{"source":["shop"],"detail-type":["order.completed"]}`),
	}}
	ec2 := &recorder{subs: []biz.Subscription{biz.On("stopped", `{"source":["aws.ec2"],"account":["123456789012"],"detail":{"state":["stopped"]}}`)}}
	clock := &recorder{subs: []biz.Subscription{biz.Every("nightly", "cron(0 2 * * ? *)")}}
	e, err := biz.NewEngine(map[string]biz.Reactor{"orders": orders, "ec2": ec2, "clock": clock})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	handle := func(ev event.Event) error { return e.Handle(ctx, &events.Message{Event: ev, ReceiveCount: 1}) }

	if err := handle(notification("o1", "order.completed", map[string]int{"total": 250})); err != nil {
		t.Fatal(err)
	}
	if err := handle(notification("o2", "order.completed", map[string]int{"total": 5})); err != nil {
		t.Fatal(err)
	}
	// A duplicate delivery (a second rule's copy, a redelivery) runs nothing.
	if err := handle(notification("o1", "order.completed", map[string]int{"total": 250})); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(orders.calls(), ",")
	if got != "big o1,all o1,all o2" && got != "all o1,big o1,all o2" {
		t.Errorf("orders reacted to %s", got)
	}
	if err := handle(notification("x1", "order.cancelled", nil)); !events.IsPermanent(err) || !strings.Contains(err.Error(), "no reactor subscribes") {
		t.Errorf("an event nobody subscribes to: %v", err)
	}

	// A native AWS event, as the adapter converts it.
	env := wire.Envelope{Version: "0", ID: "n1", DetailType: "EC2 Instance State-change Notification", Source: "aws.ec2",
		Account: "123456789012", Region: "eu-west-1", Time: time.Now(), Resources: []string{"arn:aws:ec2:i-1"},
		Detail: json.RawMessage(`{"instance-id":"i-1","state":"stopped"}`)}
	native, err := env.Event()
	if err != nil {
		t.Fatal(err)
	}
	if err := handle(native); err != nil || strings.Join(ec2.calls(), ",") != "stopped n1" {
		t.Errorf("native event: %v %v", err, ec2.calls())
	}

	// A schedule: its rule is named in the Scheduled Event.
	sched := wire.ScheduledEvent(wire.RuleARN("eu-west-1", "123456789012", "clock-nightly"), "123456789012", "eu-west-1", time.Now())
	se, _ := sched.Event()
	if err := handle(se); err != nil || len(clock.calls()) != 1 {
		t.Errorf("schedule: %v %v", err, clock.calls())
	}
	other := wire.ScheduledEvent(wire.RuleARN("eu-west-1", "123456789012", "someone-else"), "123456789012", "eu-west-1", time.Now())
	oe, _ := other.Event()
	if err := handle(oe); !events.IsPermanent(err) {
		t.Errorf("a schedule of another rule: %v", err)
	}
}

// When one of two reactors fails, the retry runs only the failed one; a
// permanent failure is permanent; a panic is an error.
func TestEngineFailures(t *testing.T) {
	var attempts int
	flaky := &recorder{subs: []biz.Subscription{biz.On("o", `{"detail-type":["order.completed"]}`)}, fail: func(*biz.Trigger) error {
		attempts++
		if attempts == 1 {
			return errors.New("the mail server is down")
		}
		return nil
	}}
	steady := &recorder{subs: []biz.Subscription{biz.On("o", `{"detail-type":["order.completed"]}`)}}
	e, _ := biz.NewEngine(map[string]biz.Reactor{"flaky": flaky, "steady": steady})
	m := &events.Message{Event: notification("o1", "order.completed", map[string]int{"total": 1})}
	err := e.Handle(context.Background(), m)
	if err == nil || events.IsPermanent(err) || !strings.Contains(err.Error(), "reactor flaky (o): the mail server is down") {
		t.Fatalf("first delivery: %v", err)
	}
	if err := e.Handle(context.Background(), m); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if len(steady.calls()) != 1 || len(flaky.calls()) != 2 {
		t.Errorf("steady ran %d times, flaky %d", len(steady.calls()), len(flaky.calls()))
	}

	refuse := &recorder{subs: []biz.Subscription{biz.On("o", `{"detail-type":["order.completed"]}`)},
		fail: func(*biz.Trigger) error { return events.Permanentf("no customer") }}
	panics := &recorder{subs: []biz.Subscription{biz.On("p", `{"detail-type":["boom"]}`)},
		fail: func(*biz.Trigger) error { panic("kaboom") }}
	e, _ = biz.NewEngine(map[string]biz.Reactor{"refuse": refuse, "panics": panics})
	if err := e.Handle(context.Background(), &events.Message{Event: notification("o2", "order.completed", nil)}); !events.IsPermanent(err) ||
		!strings.Contains(err.Error(), "no customer") {
		t.Errorf("permanent failure: %v", err)
	}
	if err := e.Handle(context.Background(), &events.Message{Event: notification("b1", "boom", nil)}); err == nil ||
		events.IsPermanent(err) || !strings.Contains(err.Error(), "panic: kaboom") {
		t.Errorf("panic: %v", err)
	}
}

func ExampleEngine() {
	e, err := biz.NewEngine(map[string]biz.Reactor{"reminder": &recorder{subs: []biz.Subscription{
		biz.Every("weekdays", "cron(0 9 ? * MON-FRI *)"),
		biz.On("orders", `{"detail-type":["order.completed"]}`),
	}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range e.Rules(time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)) {
		fmt.Println(r.Name, r.Schedule+r.Pattern, r.Next.Format(time.RFC3339))
	}
	// Output:
	// reminder-weekdays cron(0 9 ? * MON-FRI *) 2026-11-23T09:00:00Z
	// reminder-orders {"detail-type":["order.completed"]} 0001-01-01T00:00:00Z
}

// Deployed rules carry a prefix; Scheduled Events name them with it.
func TestRulePrefix(t *testing.T) {
	clock := &recorder{subs: []biz.Subscription{biz.Every("nightly", "cron(0 2 * * ? *)")}}
	e, _ := biz.NewEngine(map[string]biz.Reactor{"clock": clock}, biz.WithRulePrefix("office-"))
	if rules := e.Rules(time.Now()); rules[0].Name != "office-clock-nightly" {
		t.Errorf("rule %s", rules[0].Name)
	}
	for arn, ok := range map[string]bool{
		wire.RuleARN("eu-west-1", "1", "office-clock-nightly"):            true,
		"arn:aws:events:eu-west-1:1:rule/custom-bus/office-clock-nightly": true,
		wire.RuleARN("eu-west-1", "1", "clock-nightly"):                   false,
		wire.RuleARN("eu-west-1", "1", "shop-clock-nightly"):              false,
	} {
		env := wire.ScheduledEvent(arn, "1", "eu-west-1", time.Now())
		ev, _ := env.Event()
		err := e.Handle(context.Background(), &events.Message{Event: ev})
		if (err == nil) != ok {
			t.Errorf("%s: %v", arn, err)
		}
	}
}

type nop struct{ subs []biz.Subscription }

func (n nop) Subscriptions() []biz.Subscription       { return n.subs }
func (nop) React(context.Context, *biz.Trigger) error { return nil }

// BenchmarkEngineHandle routes a notification among N reactors, each on
// its own source: the pattern index keeps the cost flat. Each event is new
// (a fresh id), so the reactor runs every time.
func BenchmarkEngineHandle(b *testing.B) {
	for _, n := range []int{10, 1000} {
		reactors := map[string]biz.Reactor{}
		for i := range n {
			reactors[fmt.Sprintf("r%d", i)] = nop{[]biz.Subscription{biz.On("o", fmt.Sprintf(`{"source":["shop-%d"],"detail-type":["order.completed"]}`, i))}}
		}
		e, err := biz.NewEngine(reactors, biz.WithLogger(slog.New(slog.DiscardHandler)))
		if err != nil {
			b.Fatal(err)
		}
		ev := notification("", "order.completed", map[string]int{"total": 5})
		ev.SetSource("shop-7")
		b.Run(fmt.Sprintf("reactors=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				ev.SetID(strconv.Itoa(i))
				if err := e.Handle(context.Background(), &events.Message{Event: ev}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
