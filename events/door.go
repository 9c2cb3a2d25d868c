package events

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/coworks-go/cws/runtime"
)

// Replier finds where results go: the Publisher of a cwsreplyto address (an
// SQS queue URL or ARN, an EventBridge bus ARN, memory://NAME).
type Replier interface {
	Replier(address string) (Publisher, error)
}

// ReplierFunc adapts a function to Replier.
type ReplierFunc func(address string) (Publisher, error)

// Replier calls f.
func (f ReplierFunc) Replier(address string) (Publisher, error) { return f(address) }

// Door is the asynchronous door of an App: a Handler that serves cws.invoke
// events with the App's entries, through App.Serve like the HTTP doors, and
// sends results where the invocations ask. Events of other types go to the
// handlers given with WithRoute.
type Door struct {
	app     *runtime.App
	source  string
	store   Store
	window  time.Duration
	lease   time.Duration
	replies Replier
	routes  map[string]Handler
	others  Handler
	log     *slog.Logger
}

// DoorOption configures a Door.
type DoorOption func(*Door)

// WithStore sets the idempotency store (default: a MemoryStore).
func WithStore(s Store) DoorOption { return func(d *Door) { d.store = s } }

// WithWindow sets how long a handled invocation is remembered (default
// DefaultWindow).
func WithWindow(w time.Duration) DoorOption { return func(d *Door) { d.window = w } }

// WithReplier sets where results can go; without one, an invocation asking
// for a reply is refused (Permanent).
func WithReplier(r Replier) DoorOption { return func(d *Door) { d.replies = r } }

// WithSource sets the source of result events (default "cws/<service>").
func WithSource(s string) DoorOption { return func(d *Door) { d.source = s } }

// WithRoute sends events of type typ to h.
func WithRoute(typ string, h Handler) DoorOption {
	return func(d *Door) { d.routes[typ] = h }
}

// WithEvents sends the events that are not invocations, and that no route
// takes, to h (the biz reactors' engine).
func WithEvents(h Handler) DoorOption { return func(d *Door) { d.others = h } }

// WithDoorLogger sets the logger (default slog.Default()).
func WithDoorLogger(l *slog.Logger) DoorOption { return func(d *Door) { d.log = l } }

// NewDoor returns the asynchronous door of app.
func NewDoor(app *runtime.App, opts ...DoorOption) *Door {
	d := &Door{app: app, source: "cws/" + app.Name(), store: NewMemoryStore(), window: DefaultWindow,
		lease: DefaultLease, routes: map[string]Handler{}, log: slog.Default()}
	for _, opt := range opts {
		opt(d)
	}
	return d
}

// Handle implements Handler: it invokes the entry an event names once per
// (source, id) within the window. A client error (4xx) of the entry is
// Permanent and the event goes to the dead-letter queue with the problem as
// reason; a server error is retried. A duplicate of a handled invocation
// runs nothing, but its result is sent again when it asks for one.
func (d *Door) Handle(ctx context.Context, m *Message) error {
	e := m.Event
	if e.Type() != TypeInvoke {
		if h, ok := d.routes[e.Type()]; ok {
			return h.Handle(ctx, m)
		}
		if d.others != nil {
			return d.others.Handle(ctx, m)
		}
		return Permanentf("no entry or reactor handles events of type %q", e.Type())
	}
	inv, err := ParseInvocation(e)
	if err != nil {
		return err
	}
	var reply Publisher
	if inv.ReplyTo != "" {
		if d.replies == nil {
			return Permanentf("cannot reply to %q: this door sends no results", inv.ReplyTo)
		}
		if reply, err = d.replies.Replier(inv.ReplyTo); err != nil {
			return Permanentf("cannot reply to %q: %v", inv.ReplyTo, err)
		}
	}
	traceparent := EnsureTraceParent(&e)
	log := d.log.With("event", e.ID(), "source", e.Source(), "subject", e.Subject(), "trace_id", TraceID(traceparent),
		"transport", m.Transport, "receive_count", m.ReceiveCount)

	key := Key(e)
	begun, done, err := d.store.Begin(ctx, key, d.lease)
	if err != nil {
		return fmt.Errorf("idempotency store: %w", err)
	}
	if !begun {
		if done == nil {
			return ErrInProgress
		}
		log.InfoContext(ctx, "duplicate invocation: not run again", "status", done.Status)
		if reply != nil {
			return d.reply(ctx, reply, e, *done)
		}
		return nil
	}

	start := time.Now()
	resp := d.app.Serve(ctx, inv.Request(traceparent))
	body, err := resp.ReadBody()
	if err != nil {
		_ = d.store.Abandon(ctx, key)
		return fmt.Errorf("reading the response of %s: %w", e.Subject(), err)
	}
	outcome := Outcome{Status: resp.Status, ContentType: resp.ContentType, Body: body, Binary: resp.Binary}
	log = log.With("status", resp.Status, "duration", time.Since(start))
	if resp.Status >= 400 && !PermanentStatus(resp.Status) {
		_ = d.store.Abandon(ctx, key)
		log.WarnContext(ctx, "invocation failed: will be retried", "problem", problemDetail(body))
		return fmt.Errorf("%s answered %d: %s", e.Subject(), resp.Status, problemDetail(body))
	}
	if err := d.store.Finish(ctx, key, outcome, d.window); err != nil {
		log.ErrorContext(ctx, "idempotency store: recording the outcome", "error", err)
	}
	if reply != nil {
		if err := d.reply(ctx, reply, e, outcome); err != nil {
			log.ErrorContext(ctx, "sending the result", "reply_to", inv.ReplyTo, "error", err)
			return err
		}
	}
	if resp.Status >= 400 {
		log.WarnContext(ctx, "invocation refused: dead-lettered", "problem", problemDetail(body))
		return Permanentf("%s answered %d: %s", e.Subject(), resp.Status, problemDetail(body))
	}
	log.InfoContext(ctx, "invoked")
	return nil
}

// reply sends the result of the invocation req.
func (d *Door) reply(ctx context.Context, p Publisher, req event.Event, o Outcome) error {
	r := NewResult(d.source, req, &runtime.Response{Status: o.Status, ContentType: o.ContentType, Binary: o.Binary}, o.Body)
	if err := p.Publish(ctx, r); err != nil {
		return fmt.Errorf("sending the result of %s: %w", req.ID(), err)
	}
	return nil
}

// problemDetail is the detail (or title) of a problem+json body.
func problemDetail(body []byte) string {
	var p runtime.Problem
	if json.Unmarshal(body, &p) == nil {
		if p.Detail != "" {
			return p.Detail
		}
		return p.Title
	}
	return string(body)
}
