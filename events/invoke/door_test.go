package invoke_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/coworks-go/cws/events"
	"github.com/coworks-go/cws/events/invoke"
	"github.com/coworks-go/cws/internal/testutil"
	"github.com/coworks-go/cws/runtime"
)

// shop counts the calls of its entries.
type shop struct {
	posts, boom atomic.Int32
}

type item struct {
	Name string `json:"name"`
}

func (s *shop) Post(ctx context.Context, in item) (item, error) {
	s.posts.Add(1)
	runtime.SetStatus(ctx, 201)
	if tp := runtime.RequestFrom(ctx).Header.Get("Traceparent"); tp == "" {
		return item{}, errors.New("no trace context")
	}
	return in, nil
}

func (s *shop) GetBoom(ctx context.Context) error {
	s.boom.Add(1)
	return errors.New("database down")
}

func (s *shop) GetGone(ctx context.Context) error { return runtime.NotFound("gone for good") }

func (s *shop) GetText(ctx context.Context) string { return "plain" }

// recorder is a Publisher that keeps what it is given.
type recorder struct {
	mu   sync.Mutex
	got  []event.Event
	fail error
}

func (r *recorder) Publish(_ context.Context, evs ...event.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	r.got = append(r.got, evs...)
	return nil
}

func (r *recorder) events() []event.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]event.Event(nil), r.got...)
}

func newDoor(t *testing.T, opts ...invoke.DoorOption) (*invoke.Door, *shop, *recorder) {
	t.Helper()
	t.Setenv("TOKEN", testutil.Token) // the entries are guarded: the door is trusted
	s := &shop{}
	app, err := runtime.New(s, runtime.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	opts = append([]invoke.DoorOption{
		invoke.WithReplies(invoke.ReplyResolverFunc(func(_ context.Context, addr string) (events.Publisher, error) {
			if addr != "memory://results" {
				return nil, errors.New("unknown address")
			}
			return rec, nil
		})),
		invoke.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
	}, opts...)
	return invoke.NewDoor(app, opts...), s, rec
}

func invocation(t *testing.T, method, target string, body any, replyTo string) *events.Message {
	t.Helper()
	e, err := invoke.New("cws/test", method, target, body)
	if err != nil {
		t.Fatal(err)
	}
	if replyTo != "" {
		e.SetExtension(invoke.ExtReplyTo, replyTo)
	}
	e.SetExtension(events.ExtTraceParent, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	return &events.Message{Event: e, ReceiveCount: 1, Transport: "test"}
}

func TestDoorInvokesAndReplies(t *testing.T) {
	d, s, rec := newDoor(t)
	m := invocation(t, "POST", "/", map[string]string{"name": "pen"}, "memory://results")
	if err := d.Handle(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if s.posts.Load() != 1 {
		t.Fatalf("the entry ran %d times", s.posts.Load())
	}
	got := rec.events()
	if len(got) != 1 {
		t.Fatalf("%d results", len(got))
	}
	r := got[0]
	ext := r.Extensions()
	if r.Type() != invoke.ResultType || r.Source() != "cws/shop" || r.Subject() != "POST /" ||
		ext[invoke.ExtStatus] != int32(201) || ext[invoke.ExtRequestID] != m.Event.ID() || ext[invoke.ExtRequestSource] != "cws/test" ||
		ext[events.ExtTraceParent] != "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" ||
		string(r.Data()) != `{"name":"pen"}` || r.DataContentType() != "application/json" {
		t.Errorf("result %s", r)
	}
	if err := r.Validate(); err != nil {
		t.Errorf("invalid result: %v", err)
	}

	// A duplicate runs nothing but gets its result again.
	if err := d.Handle(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if s.posts.Load() != 1 || len(rec.events()) != 2 || string(rec.events()[1].Data()) != `{"name":"pen"}` {
		t.Errorf("duplicate: %d runs, %d results", s.posts.Load(), len(rec.events()))
	}
}

func TestDoorFailures(t *testing.T) {
	d, s, rec := newDoor(t)
	ctx := context.Background()

	boom := invocation(t, "GET", "/boom", nil, "")
	err := d.Handle(ctx, boom)
	if err == nil || events.IsPermanent(err) || !strings.Contains(err.Error(), "answered 500") {
		t.Errorf("server error: %v", err)
	}
	// Retried: a redelivery runs again.
	if err := d.Handle(ctx, boom); err == nil || s.boom.Load() != 2 {
		t.Errorf("redelivery of a failure: %v, %d runs", err, s.boom.Load())
	}

	gone := invocation(t, "GET", "/gone", nil, "memory://results")
	err = d.Handle(ctx, gone)
	if err == nil || !events.IsPermanent(err) || !strings.Contains(err.Error(), "answered 404: gone for good") {
		t.Errorf("client error: %v", err)
	}
	if got := rec.events(); len(got) != 1 || got[0].Extensions()[invoke.ExtStatus] != int32(404) || !json.Valid(got[0].Data()) {
		t.Errorf("the client error's result: %v", got)
	}
	// A duplicate is refused again, with the same reason, and runs nothing;
	// its result is sent again.
	if err := d.Handle(ctx, gone); !events.IsPermanent(err) || !strings.Contains(err.Error(), "answered 404: gone for good") {
		t.Errorf("a duplicate of a refused invocation: %v", err)
	}
	if got := rec.events(); len(got) != 2 || got[1].Extensions()[invoke.ExtStatus] != int32(404) {
		t.Errorf("the duplicate's result: %v", got)
	}

	nope := invocation(t, "GET", "/nowhere", nil, "")
	if err := d.Handle(ctx, nope); !events.IsPermanent(err) {
		t.Errorf("no route: %v", err)
	}
	if err := d.Handle(ctx, invocation(t, "GET", "/text", nil, "sqs://elsewhere")); !events.IsPermanent(err) || !strings.Contains(err.Error(), "cannot reply") {
		t.Errorf("unknown reply address: %v", err)
	}

	other := invocation(t, "GET", "/text", nil, "")
	other.Event.SetType("order.completed")
	if err := d.Handle(ctx, other); !events.IsPermanent(err) || !strings.Contains(err.Error(), `"order.completed"`) {
		t.Errorf("unrouted type: %v", err)
	}
}

func TestDoorReplyFailureIsRetried(t *testing.T) {
	d, s, rec := newDoor(t)
	rec.fail = errors.New("queue unavailable")
	m := invocation(t, "POST", "/", map[string]string{"name": "pen"}, "memory://results")
	if err := d.Handle(context.Background(), m); err == nil || events.IsPermanent(err) {
		t.Fatalf("reply failure: %v", err)
	}
	rec.fail = nil
	if err := d.Handle(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if s.posts.Load() != 1 || len(rec.events()) != 1 {
		t.Errorf("after the retry: %d runs, %d results", s.posts.Load(), len(rec.events()))
	}
}

func TestDoorRoutesAndInProgress(t *testing.T) {
	var routed atomic.Int32
	store := events.NewMemoryStore()
	d, _, _ := newDoor(t, invoke.WithStore(store), invoke.WithRoute("order.completed", events.HandlerFunc(func(context.Context, *events.Message) error {
		routed.Add(1)
		return nil
	})))
	m := invocation(t, "GET", "/text", nil, "")
	m.Event.SetType("order.completed")
	if err := d.Handle(context.Background(), m); err != nil || routed.Load() != 1 {
		t.Errorf("route: %v %d", err, routed.Load())
	}
	busy := invocation(t, "GET", "/text", nil, "")
	if begun, _, _ := store.Begin(context.Background(), events.Key(busy.Event), events.DefaultLease); !begun {
		t.Fatal("Begin")
	}
	if err := d.Handle(context.Background(), busy); !errors.Is(err, events.ErrInProgress) {
		t.Errorf("in progress: %v", err)
	}
}

// tasks records what the door reports to workflows.
type tasks struct {
	mu   sync.Mutex
	got  []string
	fail error
}

func (r *tasks) TaskSucceeded(_ context.Context, token string, output []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, token+" success "+string(output))
	return r.fail
}

func (r *tasks) TaskFailed(_ context.Context, token, errName, cause string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, token+" failure "+errName+" "+cause)
	return r.fail
}

// TestDoorReportsToWorkflows: an invocation with a task token reports the
// entry's answer to the workflow — its JSON or text as the output, an
// error status as cws.Status.NNN with the problem as cause — and is done,
// whatever the status: the workflow's Retry and Catch decide. A report that
// fails is retried; a door without a reporter refuses the token.
func TestDoorReportsToWorkflows(t *testing.T) {
	rec := &tasks{}
	door, s, _ := newDoor(t, invoke.WithTasks(rec))
	for _, c := range []struct {
		method, target string
		body           any
		want           string
	}{
		{"POST", "/", item{Name: "pen"}, `t1 success {"name":"pen"}`},
		{"GET", "/text", nil, `t2 success "plain"`},
		{"GET", "/gone", nil, `t3 failure cws.Status.404 {"title":"Not Found","status":404,"detail":"gone for good","instance":"/gone"}`},
		{"GET", "/boom", nil, `t4 failure cws.Status.500 `},
	} {
		m := invocation(t, c.method, c.target, c.body, "")
		token := "t" + fmt.Sprint(len(rec.got)+1)
		m.Event.SetExtension(invoke.ExtTaskToken, token)
		if err := door.Handle(context.Background(), m); err != nil {
			t.Errorf("%s %s: %v (a reported answer is done)", c.method, c.target, err)
		}
		if got := rec.got[len(rec.got)-1]; !strings.HasPrefix(got, c.want) {
			t.Errorf("%s %s: reported %q, want %q…", c.method, c.target, got, c.want)
		}
	}
	if s.boom.Load() != 1 {
		t.Errorf("a failing entry ran %d times: the workflow retries, not the door", s.boom.Load())
	}
	rec.fail = errors.New("throttled")
	m := invocation(t, "GET", "/text", nil, "")
	m.Event.SetExtension(invoke.ExtTaskToken, "t5")
	if err := door.Handle(context.Background(), m); err == nil || events.IsPermanent(err) {
		t.Errorf("a failed report: %v, want a retry", err)
	}
	bare, _, _ := newDoor(t)
	m = invocation(t, "GET", "/text", nil, "")
	m.Event.SetExtension(invoke.ExtTaskToken, "t6")
	if err := bare.Handle(context.Background(), m); !events.IsPermanent(err) {
		t.Errorf("a token without a reporter: %v, want it refused", err)
	}
}
