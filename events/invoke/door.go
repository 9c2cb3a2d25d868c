package invoke

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/coworks-go/cws/events"
	"github.com/coworks-go/cws/runtime"
)

// ReplyResolver finds where results go: the Publisher of an invocation's
// cwsreplyto address. The door resolves the address before it runs the
// entry, so that an invocation whose result could not be delivered runs
// nothing.
type ReplyResolver interface {
	Resolve(ctx context.Context, address string) (events.Publisher, error)
}

// ReplyResolverFunc adapts a function to ReplyResolver.
type ReplyResolverFunc func(ctx context.Context, address string) (events.Publisher, error)

// Resolve calls f.
func (f ReplyResolverFunc) Resolve(ctx context.Context, address string) (events.Publisher, error) {
	return f(ctx, address)
}

// LocalScheme prefixes the reply addresses of the local runtime's queues
// and buses: memory://NAME.
const LocalScheme = "memory://"

// LocalReplies resolves memory://NAME to the publisher named NAME (a queue
// or a bus of the local runtime), and any other address with next (nil: no
// other address is taken).
func LocalReplies(named map[string]events.Publisher, next ReplyResolver) ReplyResolver {
	return ReplyResolverFunc(func(ctx context.Context, address string) (events.Publisher, error) {
		if name, ok := strings.CutPrefix(address, LocalScheme); ok {
			if p, ok := named[name]; ok {
				return p, nil
			}
			return nil, fmt.Errorf("the local runtime has no queue or bus %q", name)
		}
		if next == nil {
			return nil, fmt.Errorf("%q is not a reply address of the local runtime (%sNAME), and this runtime has no AWS clients", address, LocalScheme)
		}
		return next.Resolve(ctx, address)
	})
}

// Door is the asynchronous door of an App: a Handler that serves cws.invoke
// events with the App's entries, through App.Serve like the HTTP doors, and
// sends results where the invocations ask. Each invocation runs once per
// (source, id) within the idempotency window (events.Deduplicate), a panic
// is a retryable failure (events.Recover). Events of other types go to the
// handlers given with WithRoute, then WithNotifications.
type Door struct {
	app           *runtime.App
	source        string
	dedup         events.Dedup
	replies       ReplyResolver
	routes        map[string]events.Handler
	notifications events.Handler
	tasks         TaskReporter
	log           *slog.Logger
	run           events.Handler // Deduplicate(Recover(serve))
}

// DoorOption configures a Door.
type DoorOption func(*Door)

// WithStore sets the idempotency store (default: an events.MemoryStore).
func WithStore(s events.Store) DoorOption { return func(d *Door) { d.dedup.Store = s } }

// WithWindow sets how long a handled invocation is remembered (default
// events.DefaultWindow).
func WithWindow(w time.Duration) DoorOption { return func(d *Door) { d.dedup.Window = w } }

// WithLease sets how long a delivery's claim on an invocation holds while
// its entry runs (default events.DefaultLease): a consumer that dies
// mid-entry leaves its claim, and a redelivery runs only once it is over.
func WithLease(l time.Duration) DoorOption { return func(d *Door) { d.dedup.Lease = l } }

// WithReplies sets where results can go; without it, an invocation asking
// for a reply is refused (Permanent).
func WithReplies(r ReplyResolver) DoorOption { return func(d *Door) { d.replies = r } }

// WithSource sets the source of result events (default "cws/<service>").
func WithSource(s string) DoorOption { return func(d *Door) { d.source = s } }

// WithRoute sends events of type typ to h.
func WithRoute(typ string, h events.Handler) DoorOption {
	return func(d *Door) { d.routes[typ] = h }
}

// WithNotifications sends the events that are not invocations, and that no
// route takes, to h (the biz reactors' engine: schedules and
// notifications). Without it they are Permanent failures.
func WithNotifications(h events.Handler) DoorOption { return func(d *Door) { d.notifications = h } }

// WithTasks sets what reports the answers of invocations that workflows'
// tasks sent with a task token (Step Functions, through the cloud).
func WithTasks(r TaskReporter) DoorOption { return func(d *Door) { d.tasks = r } }

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) DoorOption { return func(d *Door) { d.log = l } }

// NewDoor returns the asynchronous door of app.
func NewDoor(app *runtime.App, opts ...DoorOption) *Door {
	d := &Door{app: app, source: "cws/" + app.Name(), routes: map[string]events.Handler{}, log: slog.Default()}
	for _, opt := range opts {
		opt(d)
	}
	d.dedup.Log = d.log
	d.run = events.Chain(events.HandlerFunc(d.serve), events.Deduplicate(d.dedup), events.Recover(d.log))
	return d
}

// call is what Handle learned of an invocation, for serve.
type call struct {
	inv         *Invocation
	traceparent string
	log         *slog.Logger
}

type callKey struct{}

// Handle implements events.Handler: it invokes the entry an event names
// once per (source, id) within the window. A client error (4xx) of the
// entry is Permanent and the event goes to the dead-letter queue with the
// problem as reason; a server error is retried. The result goes where the
// invocation asks, for a client error too; a duplicate of a handled
// invocation runs nothing, but its result is sent again.
func (d *Door) Handle(ctx context.Context, m *events.Message) error {
	e := m.Event
	if e.Type() != Type {
		if h, ok := d.routes[e.Type()]; ok {
			return h.Handle(ctx, m)
		}
		if d.notifications != nil {
			return d.notifications.Handle(ctx, m)
		}
		return events.Permanentf("no entry or reactor handles events of type %q", e.Type())
	}
	inv, err := Parse(e)
	if err != nil {
		return err
	}
	var reply events.Publisher
	if inv.ReplyTo != "" {
		if d.replies == nil {
			return events.Permanentf("cannot reply to %q: this door sends no results", inv.ReplyTo)
		}
		if reply, err = d.replies.Resolve(ctx, inv.ReplyTo); err != nil {
			return events.Permanentf("cannot reply to %q: %v", inv.ReplyTo, err)
		}
	}
	traceparent := events.EnsureTraceParent(&m.Event)
	log := d.log.With("event", e.ID(), "source", e.Source(), "subject", e.Subject(), "trace_id", events.TraceID(traceparent),
		"transport", m.Transport, "receive_count", m.ReceiveCount)
	if inv.TaskToken != "" && d.tasks == nil {
		return events.Permanentf("the invocation carries a workflow's task token, but this door reports to no workflow engine (a cloud)")
	}
	err = d.run.Handle(context.WithValue(ctx, callKey{}, &call{inv: inv, traceparent: traceparent, log: log}), m)
	if inv.TaskToken != "" && m.Outcome != nil {
		// The workflow decides what an error answer means (its Retry and
		// Catch): the answer is reported, and the message is done.
		return d.report(ctx, log, inv.TaskToken, *m.Outcome)
	}
	if reply != nil && m.Outcome != nil && (err == nil || events.IsPermanent(err)) {
		r := NewResult(d.source, m.Event, *m.Outcome)
		if rerr := reply.Publish(ctx, r); rerr != nil {
			log.ErrorContext(ctx, "sending the result", "reply_to", inv.ReplyTo, "error", rerr)
			return fmt.Errorf("sending the result of %s to %s: %w", e.ID(), inv.ReplyTo, rerr)
		}
	}
	return err
}

// report sends the answer of an invocation to the workflow task waiting
// for it.
func (d *Door) report(ctx context.Context, log *slog.Logger, token string, o events.Outcome) error {
	var err error
	if o.Status < 400 {
		err = d.tasks.TaskSucceeded(ctx, token, TaskOutput(o))
	} else {
		cause := string(o.Body)
		if len(cause) > MaxTaskCause {
			cause = cause[:MaxTaskCause]
		}
		err = d.tasks.TaskFailed(ctx, token, StatusError(o.Status), cause)
	}
	if err != nil {
		log.ErrorContext(ctx, "reporting to the workflow", "status", o.Status, "error", err)
		return fmt.Errorf("reporting the answer to the workflow's task: %w", err)
	}
	log.InfoContext(ctx, "reported to the workflow", "status", o.Status)
	return nil
}

// serve runs the entry of the invocation and records its answer in
// m.Outcome.
func (d *Door) serve(ctx context.Context, m *events.Message) error {
	c := ctx.Value(callKey{}).(*call)
	start := time.Now()
	resp := d.app.Serve(ctx, c.inv.Request(c.traceparent))
	body, err := resp.ReadBody()
	if err != nil {
		return fmt.Errorf("reading the response of %s: %w", m.Event.Subject(), err)
	}
	m.Outcome = &events.Outcome{Status: resp.Status, ContentType: resp.ContentType, Body: body, Binary: resp.Binary}
	log := c.log.With("status", resp.Status, "duration", time.Since(start))
	switch {
	case resp.Status >= 400 && !events.PermanentStatus(resp.Status):
		log.WarnContext(ctx, "invocation failed: will be retried", "problem", problemDetail(body))
		return fmt.Errorf("%s answered %d: %s", m.Event.Subject(), resp.Status, problemDetail(body))
	case resp.Status >= 400:
		log.WarnContext(ctx, "invocation refused: dead-lettered", "problem", problemDetail(body))
		return events.Permanentf("%s answered %d: %s", m.Event.Subject(), resp.Status, problemDetail(body))
	}
	log.InfoContext(ctx, "invoked")
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

var _ events.Handler = (*Door)(nil)
