package biz

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/coworks-go/cws/events"
	"github.com/coworks-go/cws/events/pattern"
	"github.com/coworks-go/cws/events/wire"
)

// Engine routes schedules and notification events to the reactors that
// subscribe to them; it is the events.Handler of every event that is not an
// invocation. Each reactor runs once per event (source and id) and
// subscription within the idempotency window, however many rules delivered
// the event (events.Deduplicate, keyed by rule and event), and a reactor's
// panic is its failure (events.Recover), not the others'.
type Engine struct {
	reactors map[string]Reactor
	rules    []Rule
	byName   map[string]int
	handlers map[string]events.Handler // by rule name: the reactor once per event
	matcher  *pattern.Matcher
	client   *Client
	store    events.Store
	window   time.Duration
	lease    time.Duration
	log      *slog.Logger
	prefix   string
	now      func() time.Time
	wait     func(ctx context.Context, until time.Time) bool // false when ctx is done

	planMu  sync.Mutex
	planned map[string]time.Time // by rule name: when RunSchedules fires it next
}

// waitUntil sleeps until t or until ctx is done (false).
func waitUntil(ctx context.Context, t time.Time) bool {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}

// Option configures an Engine.
type Option func(*Engine)

// WithClient sets the client reactors get in their triggers.
func WithClient(c *Client) Option { return func(e *Engine) { e.client = c } }

// WithStore sets the idempotency store (default an events.MemoryStore).
func WithStore(s events.Store) Option { return func(e *Engine) { e.store = s } }

// WithRulePrefix names the deployed rules PREFIX<reactor>-<subscription>
// (e.g. the service's name and a hyphen), so that services sharing an
// account keep their rules apart; Scheduled Events are matched to rules
// without it.
func WithRulePrefix(prefix string) Option { return func(e *Engine) { e.prefix = prefix } }

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(e *Engine) { e.log = l } }

// NewEngine checks the reactors' subscriptions (names, schedules with AWS's
// validation, patterns with AWS's) and returns their engine.
func NewEngine(reactors map[string]Reactor, opts ...Option) (*Engine, error) {
	e := &Engine{reactors: reactors, byName: map[string]int{}, matcher: pattern.NewMatcher(), client: NewClient(),
		store: events.NewMemoryStore(), window: events.DefaultWindow, lease: events.DefaultLease, log: slog.Default(),
		now: time.Now, wait: waitUntil}
	for _, opt := range opts {
		opt(e)
	}
	names := make([]string, 0, len(reactors))
	for name := range reactors {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if !namePattern.MatchString(name) {
			return nil, fmt.Errorf("reactor name %q: use lower case letters, digits and hyphens", name)
		}
		if reactors[name] == nil {
			return nil, fmt.Errorf("reactor %s is nil", name)
		}
		subs := reactors[name].Subscriptions()
		if len(subs) == 0 {
			return nil, fmt.Errorf("reactor %s subscribes to nothing", name)
		}
		for _, s := range subs {
			r, err := ruleFor(name, s)
			if err != nil {
				return nil, err
			}
			if _, dup := e.byName[r.Name]; dup {
				return nil, fmt.Errorf("reactor %s: two subscriptions make the rule %s", name, r.Name)
			}
			e.byName[r.Name] = len(e.rules)
			e.rules = append(e.rules, r)
			if r.pattern != nil {
				e.matcher.Add(r.Name, r.pattern)
			}
		}
	}
	e.handlers = make(map[string]events.Handler, len(e.rules))
	for i := range e.rules {
		e.handlers[e.rules[i].Name] = e.handlerOf(i)
	}
	return e, nil
}

// Rules returns the reactors' subscriptions as EventBridge rules, by
// reactor, named with the engine's prefix; schedules carry their next fire
// time: while RunSchedules runs, the time it fires the rule next (a rate
// counts from its start), else the schedule's next time after now.
func (e *Engine) Rules(now time.Time) []Rule {
	out := make([]Rule, len(e.rules))
	copy(out, e.rules)
	e.planMu.Lock()
	defer e.planMu.Unlock()
	for i := range out {
		if at, ok := e.planned[out[i].Name]; ok {
			out[i].Next = at
		} else if out[i].sched != nil {
			out[i].Next = out[i].sched.Next(now)
		}
		out[i].Name = e.prefix + out[i].Name
	}
	return out
}

// plan records when RunSchedules fires rule next (zero: never again).
func (e *Engine) plan(rule string, at time.Time) {
	e.planMu.Lock()
	defer e.planMu.Unlock()
	if e.planned == nil {
		e.planned = map[string]time.Time{}
	}
	if at.IsZero() {
		delete(e.planned, rule)
		return
	}
	e.planned[rule] = at
}

// Prefix returns the prefix of the deployed rules' names.
func (e *Engine) Prefix() string { return e.prefix }

// Client returns the engine's client.
func (e *Engine) Client() *Client { return e.client }

// ruleOf returns the rule a Scheduled Event names in its subject (the rule
// ARN: …:rule/NAME or …:rule/BUS/NAME).
func (e *Engine) ruleOf(ev event.Event) (*Rule, bool) {
	name := ev.Subject()
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	name, ok := strings.CutPrefix(name, e.prefix)
	if !ok {
		return nil, false
	}
	i, found := e.byName[name]
	if !found || e.rules[i].sched == nil {
		return nil, false
	}
	return &e.rules[i], true
}

// Handle implements events.Handler: it finds the rules that fire for the
// event — a Scheduled Event's own rule, or every pattern that matches —
// and runs their reactors. An event no reactor subscribes to is Permanent
// (it goes to the dead-letter queue with that reason). When some reactors
// fail, those that succeeded are not run again on the retry.
func (e *Engine) Handle(ctx context.Context, m *events.Message) error {
	ev := m.Event
	var fired []*Rule
	if ev.Type() == wire.ScheduledEventType && ev.Source() == wire.ScheduledEventSource {
		r, ok := e.ruleOf(ev)
		if !ok {
			return events.Permanentf("no reactor subscribes to the schedule of rule %q", ev.Subject())
		}
		fired = append(fired, r)
	} else {
		flat, err := flatten(ev)
		if err != nil {
			return events.Permanentf("event %s: %v", ev.ID(), err)
		}
		for _, name := range e.matcher.MatchEvent(flat) {
			fired = append(fired, &e.rules[e.byName[name]])
		}
		if len(fired) == 0 {
			return events.Permanentf("no reactor subscribes to events of type %q from %q", ev.Type(), ev.Source())
		}
	}
	events.EnsureTraceParent(&m.Event)
	var errs []error
	permanent := true
	for _, r := range fired {
		// Each reactor gets its own delivery, so that its outcome is its own.
		rm := *m
		rm.Outcome = nil
		if err := e.handlers[r.Name].Handle(ctx, &rm); err != nil {
			errs = append(errs, fmt.Errorf("reactor %s (%s): %w", r.Reactor, r.Subscription, err))
			permanent = permanent && events.IsPermanent(err)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	err := errors.Join(errs...)
	if permanent {
		return events.Permanent(err)
	}
	return err
}

// handlerOf returns the handler that runs the reactor of rule i: once per
// event, with a panic made its failure.
func (e *Engine) handlerOf(i int) events.Handler {
	r := &e.rules[i]
	return events.Chain(events.HandlerFunc(func(ctx context.Context, m *events.Message) error { return e.react(ctx, r, m) }),
		events.Deduplicate(events.Dedup{Store: e.store, Window: e.window, Lease: e.lease, Log: e.log,
			Key: func(m *events.Message) string { return r.Name + "\x00" + events.Key(m.Event) }}),
		events.Recover(e.log))
}

// react runs the reactor of rule r on the event of m.
func (e *Engine) react(ctx context.Context, r *Rule, m *events.Message) error {
	ev := m.Event
	traceparent := events.EnsureTraceParent(&ev)
	log := e.log.With("reactor", r.Reactor, "subscription", r.Subscription, "event", ev.ID(), "source", ev.Source(),
		"type", ev.Type(), "trace_id", events.TraceID(traceparent), "transport", m.Transport, "receive_count", m.ReceiveCount)
	t := &Trigger{Reactor: r.Reactor, Subscription: r.Subscription, Event: ev.Clone(), Time: ev.Time(), Tech: e.client}
	if t.Time.IsZero() {
		t.Time = time.Now().UTC()
	}
	start := time.Now()
	err := e.reactors[r.Reactor].React(context.WithValue(ctx, traceKey{}, traceparent), t)
	if err != nil {
		log.WarnContext(ctx, "reactor failed", "error", err, "permanent", events.IsPermanent(err), "duration", time.Since(start))
		return err
	}
	m.Outcome = &events.Outcome{Status: 200}
	log.InfoContext(ctx, "reacted", "duration", time.Since(start))
	return nil
}

// flatten rebuilds the EventBridge event an arriving CloudEvent came in,
// for the patterns: a native AWS event (with the awsaccount extension) from
// the adapter's mapping, a CloudEvent published by cws as the detail of an
// envelope with its source and type.
func flatten(ev event.Event) (*pattern.Event, error) {
	acct, native := ev.Extensions()[wire.ExtAWSAccount]
	if !native {
		env := wire.EnvelopeHeader(ev, "", "", nil)
		env.ID = ev.ID()
		return env.FlattenFor(ev, nil)
	}
	b := pattern.NewBuilder(nil)
	b.String("version", "0")
	b.String("id", ev.ID())
	b.String("detail-type", ev.Type())
	b.String("source", ev.Source())
	b.String("account", fmt.Sprint(acct))
	if region, ok := ev.Extensions()[wire.ExtAWSRegion]; ok {
		b.String("region", fmt.Sprint(region))
	}
	if t := ev.Time(); !t.IsZero() {
		b.String("time", t.UTC().Format(time.RFC3339))
	}
	var resources []string
	if s := ev.Subject(); s != "" {
		resources = []string{s}
	}
	b.Strings("resources", resources)
	if data := ev.Data(); len(data) > 0 && json.Valid(data) {
		if err := b.JSON("detail", data); err != nil {
			return nil, err
		}
	}
	return b.Event(), nil
}

// RunSchedules fires the engine's schedules until ctx is done: at each
// fire time it calls fire with the rule's name (with the prefix) and the
// time, for the caller to deliver the rule's Scheduled Event
// (wire.ScheduledEvent) as EventBridge does for a deployed schedule rule. Rates
// count from the call; cron expressions follow the clock.
func (e *Engine) RunSchedules(ctx context.Context, fire func(ctx context.Context, rule string, at time.Time) error) error {
	type next struct {
		rule *Rule
		at   time.Time
	}
	var plan []next
	now := e.now().UTC()
	for i := range e.rules {
		if e.rules[i].sched != nil {
			if at := e.rules[i].sched.Next(now); !at.IsZero() {
				plan = append(plan, next{&e.rules[i], at})
				e.plan(e.rules[i].Name, at)
			}
		}
	}
	defer func() {
		e.planMu.Lock()
		e.planned = nil
		e.planMu.Unlock()
	}()
	for len(plan) > 0 {
		sort.Slice(plan, func(i, j int) bool { return plan[i].at.Before(plan[j].at) })
		first := plan[0]
		if !e.wait(ctx, first.at) {
			return nil
		}
		if err := fire(ctx, e.prefix+first.rule.Name, first.at); err != nil {
			e.log.ErrorContext(ctx, "firing a schedule", "rule", first.rule.Name, "error", err)
		} else {
			e.log.DebugContext(ctx, "schedule fired", "rule", first.rule.Name, "at", first.at)
		}
		at := first.rule.sched.Next(first.at)
		e.plan(first.rule.Name, at)
		if at.IsZero() {
			plan = plan[1:]
		} else {
			plan[0].at = at
		}
	}
	<-ctx.Done()
	return nil
}
