package events_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/coworks-go/cws/events"
	"github.com/coworks-go/cws/internal/panics"
)

func TestTraceParent(t *testing.T) {
	tp := events.NewTraceParent()
	if !events.ValidTraceParent(tp) || len(events.TraceID(tp)) != 32 || tp == events.NewTraceParent() {
		t.Errorf("NewTraceParent %s", tp)
	}
	for _, bad := range []string{"", "00-0000", "00-00000000000000000000000000000000-00f067aa0ba902b7-01", "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"} {
		if events.ValidTraceParent(bad) {
			t.Errorf("ValidTraceParent(%q)", bad)
		}
	}
	e := event.New()
	e.SetExtension(events.ExtTraceParent, "garbage")
	if tp := events.EnsureTraceParent(&e); !events.ValidTraceParent(tp) || e.Extensions()[events.ExtTraceParent] != tp {
		t.Errorf("a malformed traceparent is not replaced: %s", tp)
	}
}

func TestIsPermanent(t *testing.T) {
	for err, want := range map[error]bool{
		errors.New("x"):                false,
		events.Permanentf("bad %d", 1): true,
		events.ErrInProgress:           false,
		statusErr(400):                 true,
		statusErr(404):                 true,
		statusErr(422):                 true,
		statusErr(409):                 false,
		statusErr(429):                 false,
		statusErr(500):                 false,
		statusErr(503):                 false,
		errors.Join(errors.New("w"), statusErr(403)): true,
	} {
		if got := events.IsPermanent(err); got != want {
			t.Errorf("IsPermanent(%v) = %v", err, got)
		}
	}
	if events.Permanent(nil) != nil {
		t.Error("Permanent(nil) != nil")
	}
}

type statusErr int

func (s statusErr) Error() string   { return "status" }
func (s statusErr) StatusCode() int { return int(s) }

// message is a delivery of a fresh event.
func message(id string) *events.Message {
	e := event.New()
	e.SetID(id)
	e.SetSource("cws/test")
	e.SetType("test")
	return &events.Message{Event: e, ReceiveCount: 1, Transport: "test"}
}

func TestDeduplicate(t *testing.T) {
	var runs int
	var result error
	store := events.NewMemoryStore()
	h := events.Chain(events.HandlerFunc(func(_ context.Context, m *events.Message) error {
		runs++
		m.Outcome = &events.Outcome{Status: 200 + runs}
		return result
	}), events.Deduplicate(events.Dedup{Store: store, Log: discard}), events.Recover(discard))
	ctx := context.Background()

	// A retryable failure forgets the event: its redelivery runs again.
	result = errors.New("transient")
	if err := h.Handle(ctx, message("a")); !errors.Is(err, result) {
		t.Fatalf("failure: %v", err)
	}
	result = nil
	if err := h.Handle(ctx, message("a")); err != nil || runs != 2 {
		t.Fatalf("redelivery: %v, %d runs", err, runs)
	}
	// A duplicate of a handled event runs nothing and gets its outcome.
	dup := message("a")
	if err := h.Handle(ctx, dup); err != nil || runs != 2 || dup.Outcome == nil || dup.Outcome.Status != 202 {
		t.Errorf("duplicate: %v, %d runs, outcome %+v", err, runs, dup.Outcome)
	}
	// A permanent failure is recorded: a duplicate does not run either.
	result = events.Permanentf("refused")
	if err := h.Handle(ctx, message("b")); !events.IsPermanent(err) {
		t.Errorf("permanent: %v", err)
	}
	if err := h.Handle(ctx, message("b")); !events.IsPermanent(err) || err.Error() != "refused" || runs != 3 {
		t.Errorf("duplicate of a permanent failure: %v, %d runs; want it refused again, not run", err, runs)
	}
	// A redrive of the refused event runs it again; a duplicate of the
	// redrive does not.
	redriven := events.Redriven(message("b").Event)
	if err := h.Handle(ctx, &events.Message{Event: redriven}); !events.IsPermanent(err) || runs != 4 {
		t.Errorf("redriven: %v, %d runs; want it run again", err, runs)
	}
	if err := h.Handle(ctx, &events.Message{Event: events.Copy(redriven)}); !events.IsPermanent(err) || runs != 4 {
		t.Errorf("duplicate of the redrive: %v, %d runs; want it refused again, not run", err, runs)
	}
	if err := h.Handle(ctx, &events.Message{Event: events.Redriven(redriven)}); !events.IsPermanent(err) || runs != 5 {
		t.Errorf("second redrive: %v, %d runs; want it run again", err, runs)
	}
	// Another delivery holds the claim: retried later.
	if begun, _, _ := store.Begin(ctx, events.Key(message("c").Event), time.Minute); !begun {
		t.Fatal("Begin")
	}
	if err := h.Handle(ctx, message("c")); !errors.Is(err, events.ErrInProgress) || runs != 5 {
		t.Errorf("in progress: %v, %d runs", err, runs)
	}
	// A custom key: once per (key, event).
	keyed := events.Chain(events.HandlerFunc(func(context.Context, *events.Message) error { runs++; return nil }),
		events.Deduplicate(events.Dedup{Store: store, Key: func(m *events.Message) string { return "rule\x00" + events.Key(m.Event) }, Log: discard}))
	if err := keyed.Handle(ctx, message("a")); err != nil || runs != 6 {
		t.Errorf("keyed: %v, %d runs (the same event under another key runs)", err, runs)
	}
}

func TestRecoverInsideDeduplicate(t *testing.T) {
	var runs int
	h := events.Chain(events.HandlerFunc(func(context.Context, *events.Message) error {
		runs++
		if runs == 1 {
			panic("boom")
		}
		return nil
	}), events.Deduplicate(events.Dedup{Log: discard}), events.Recover(discard))
	err := h.Handle(context.Background(), message("p"))
	var perr *panics.Error
	if err == nil || events.IsPermanent(err) || !errors.As(err, &perr) || perr.Value != "boom" || len(perr.Stack) == 0 {
		t.Fatalf("a panic is a retryable error with its stack: %v", err)
	}
	// The claim was dropped: the redelivery runs.
	if err := h.Handle(context.Background(), message("p")); err != nil || runs != 2 {
		t.Errorf("redelivery after a panic: %v, %d runs", err, runs)
	}
}

func TestPublishError(t *testing.T) {
	err := &events.PublishError{To: "queue q", Failed: map[string]string{"b": "Throttled", "a": "InvalidMessageContents: bad"}}
	if got := err.Error(); got != "2 events not sent to queue q: a: InvalidMessageContents: bad; b: Throttled" {
		t.Errorf("Error() = %q", got)
	}
}

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

// The redrive count survives the wire formats (an integer in structured
// JSON, a string in a binary header) and is part of the key.
func TestRedrives(t *testing.T) {
	e := message("a").Event
	if events.Redrives(e) != 0 || events.Key(e) != "cws/test\x00a" {
		t.Fatalf("a new event: %d %q", events.Redrives(e), events.Key(e))
	}
	twice := events.Redriven(events.Redriven(e))
	if events.Redrives(twice) != 2 || events.Redrives(e) != 0 || events.Key(twice) == events.Key(e) {
		t.Fatalf("redriven twice: %d, the original %d, key %q", events.Redrives(twice), events.Redrives(e), events.Key(twice))
	}
	b, err := twice.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var decoded event.Event
	if err := decoded.UnmarshalJSON(b); err != nil || events.Redrives(decoded) != 2 || events.Key(decoded) != events.Key(twice) {
		t.Errorf("through JSON %s: %d %v", b, events.Redrives(decoded), err)
	}
	asString := events.Copy(e)
	asString.SetExtension(events.ExtRedrive, "3")
	if events.Redrives(asString) != 3 {
		t.Errorf("a string count: %d", events.Redrives(asString))
	}
}
