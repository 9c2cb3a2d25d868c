package async_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coworks-go/cws/async"
	"github.com/coworks-go/cws/biz"
	"github.com/coworks-go/cws/events"
	"github.com/coworks-go/cws/events/wire"
	"github.com/coworks-go/cws/internal/testutil"
	"github.com/coworks-go/cws/runtime"
	"github.com/coworks-go/cws/transport/memory"
	"github.com/coworks-go/cws/transport/queue"
)

// deadLetters lists the dead letters through the endpoint.
func listDeadLetters(t *testing.T, do func(method, path, contentType, body string) (int, string)) []async.DeadLetter {
	t.Helper()
	status, body := do("GET", async.DeadLettersPath, "", "")
	var out []async.DeadLetter
	if err := json.Unmarshal([]byte(body), &out); status != 200 || err != nil {
		t.Fatalf("GET %s: %d %s %v", async.DeadLettersPath, status, body, err)
	}
	return out
}

// A refused invocation is listed with its reason; redriven, it runs again:
// it succeeds once what it needed exists, or is refused again and comes
// back with its redrive count (not taken for a duplicate of the refused
// one). Bad redrive requests are problems.
func TestDeadLetterEndpoints(t *testing.T) {
	logs := &testutil.SyncBuffer{}
	do := serveLocal(t, newApp(t, newShop(), runtime.WithLogger(slog.New(slog.NewTextHandler(logs, nil)))))
	if got := listDeadLetters(t, do); len(got) != 0 {
		t.Fatalf("dead letters at the start: %+v", got)
	}
	for _, inv := range []string{
		`{"specversion":"1.0","id":"inv-a","source":"cws/test","type":"cws.invoke","subject":"GET /items/8"}`,
		`{"specversion":"1.0","id":"inv-b","source":"cws/test","type":"cws.invoke","subject":"GET /items/9"}`,
	} {
		if status, body := do("POST", async.EventsPath, "application/cloudevents+json", inv); status != 202 {
			t.Fatalf("posting %s: %d %s", inv, status, body)
		}
	}
	var dead []async.DeadLetter
	waitFor(t, "two dead letters", func() bool { dead = listDeadLetters(t, do); return len(dead) == 2 })
	// The worker runs the two at once: either may be dead-lettered first.
	slices.SortFunc(dead, func(x, y async.DeadLetter) int { return strings.Compare(x.EventID, y.EventID) })
	a := dead[0]
	if a.EventID != "inv-a" || a.Reason != "GET /items/8 answered 404: no item 8" || a.Queue != async.LocalQueue ||
		a.Subject != "GET /items/8" || a.EventType != "cws.invoke" || a.Redrives != 0 || time.Since(a.DeadLetteredAt) > time.Minute ||
		!strings.Contains(string(a.Event), `"id": "inv-a"`) || dead[1].EventID != "inv-b" {
		t.Fatalf("dead letters %+v", dead)
	}

	// Item 8 now exists: inv-a redriven succeeds.
	if status, body := do("POST", "/items", "application/json", `{"name":"saw"}`); status != 201 || !strings.Contains(body, `"id":8`) {
		t.Fatalf("POST /items: %d %s", status, body)
	}
	if status, body := do("POST", async.RedrivePath, "application/json", `{"id":"`+a.ID+`"}`); status != 200 || !strings.Contains(body, a.ID) {
		t.Fatalf("redrive %s: %d %s", a.ID, status, body)
	}
	waitFor(t, "inv-a to run again", func() bool { return strings.Contains(logs.String(), "msg=invoked event=inv-a") })
	if dead = listDeadLetters(t, do); len(dead) != 1 || dead[0].EventID != "inv-b" {
		t.Fatalf("after redriving inv-a: %+v", dead)
	}

	// inv-b redriven is refused again: it runs, and comes back counted.
	if status, body := do("POST", async.RedrivePath, "application/json", `{"all":true}`); status != 200 || !strings.Contains(body, dead[0].ID) {
		t.Fatalf("redrive all: %d %s", status, body)
	}
	waitFor(t, "inv-b back", func() bool { dead = listDeadLetters(t, do); return len(dead) == 1 && dead[0].Redrives == 1 })
	if dead[0].EventID != "inv-b" || dead[0].Reason != "GET /items/9 answered 404: no item 9" {
		t.Errorf("inv-b back %+v", dead[0])
	}
	if n := strings.Count(logs.String(), "invocation refused: dead-lettered\" event=inv-b"); n != 2 || strings.Contains(logs.String(), "duplicate") {
		t.Errorf("inv-b ran %d times (want 2: refused, redriven and refused again)\n%s", n, logs)
	}

	for _, c := range []struct {
		method, body string
		want         int
	}{
		{"POST", `{"id":"nonesuch"}`, 404},
		{"POST", `{"id":"` + a.ID + `"}`, 404}, // redriven already
		{"POST", `{}`, 400},
		{"POST", `{"id":"x","all":true}`, 400},
		{"POST", `not json`, 400},
		{"GET", ``, 405},
	} {
		if status, body := do(c.method, async.RedrivePath, "application/json", c.body); status != c.want || !strings.Contains(body, `"status":`) {
			t.Errorf("%s %s %s: %d %s, want %d problem+json", c.method, async.RedrivePath, c.body, status, body, c.want)
		}
	}
	if status, _ := do("DELETE", async.DeadLettersPath, "", ""); status != 405 {
		t.Errorf("DELETE %s: %d", async.DeadLettersPath, status)
	}
}

// Without the token the endpoints answer 401; with CWS_QUEUE_URL the dead
// letters are not here, and the answer says where they are.
func TestDeadLetterEndpointsGuardedAndUnavailable(t *testing.T) {
	app := newApp(t, newShop())
	eps := async.UnavailableDeadLetterEndpoints(app, "https://sqs.eu-west-1.amazonaws.com/1/orders")
	for _, path := range []string{async.DeadLettersPath, async.RedrivePath} {
		rec := httptest.NewRecorder()
		eps[path].ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != 401 {
			t.Errorf("%s without the token: %d", path, rec.Code)
		}
		req := httptest.NewRequest("GET", path, nil)
		req.Header.Set("Authorization", testutil.Token)
		rec = httptest.NewRecorder()
		eps[path].ServeHTTP(rec, req)
		if rec.Code != 501 || rec.Header().Get("Content-Type") != "application/problem+json" ||
			!strings.Contains(rec.Body.String(), "start-message-move-task") || !strings.Contains(rec.Body.String(), "cws dlq --queue") || !strings.Contains(rec.Body.String(), "/1/orders") {
			t.Errorf("%s with SQS: %d %s", path, rec.Code, rec.Body)
		}
	}
	rec := httptest.NewRecorder()
	async.ReactorsEndpoint(app, nil).ServeHTTP(rec, httptest.NewRequest("GET", async.ReactorsPath, nil))
	if rec.Code != 401 {
		t.Errorf("%s without the token: %d", async.ReactorsPath, rec.Code)
	}
}

// hourly is a reactor on a schedule and on a pattern.
type hourly struct{}

func (hourly) Subscriptions() []biz.Subscription {
	return []biz.Subscription{biz.Every("tick", "rate(1 hour)"), biz.On("orders", `{"detail-type":["order.completed"]}`)}
}
func (hourly) React(ctx context.Context, tr *biz.Trigger) error { return nil }

type clock struct{ *shop }

func (clock) Reactors() map[string]biz.Reactor { return map[string]biz.Reactor{"hourly": hourly{}} }

// GET /_cws/reactors lists the rules, a schedule with the time the
// scheduler fires it next (a rate counts from the scheduler's start); a
// service without reactors has none.
func TestReactorsEndpoint(t *testing.T) {
	started := time.Now()
	do := serveLocal(t, newApp(t, clock{newShop()}))
	// Once the scheduler runs, the next fire time stays put (before, it
	// is an hour after each request).
	var body string
	waitFor(t, "the scheduler's plan", func() bool {
		_, first := do("GET", async.ReactorsPath, "", "")
		time.Sleep(5 * time.Millisecond)
		_, body = do("GET", async.ReactorsPath, "", "")
		return first == body
	})
	var rules []biz.Rule
	if err := json.Unmarshal([]byte(body), &rules); err != nil || len(rules) != 2 {
		t.Fatalf("GET %s: %s %v", async.ReactorsPath, body, err)
	}
	tick, orders := rules[0], rules[1]
	if tick.Name != "hourly-tick" || tick.Schedule != "rate(1 hour)" || orders.Name != "hourly-orders" || orders.Pattern == "" || !orders.Next.IsZero() {
		t.Errorf("rules %+v", rules)
	}
	if next := tick.Next.Sub(started); next < time.Hour || next > time.Hour+5*time.Second {
		t.Errorf("the rate fires next %v after the start, want 1h", next)
	}
	if status, body := serveLocal(t, newApp(t, newShop()))("GET", async.ReactorsPath, "", ""); status != 200 || strings.TrimSpace(body) != "[]" {
		t.Errorf("a service without reactors: %d %s", status, body)
	}
}

// Dead letters that carry no CloudEvent as it is (a body only: the
// scheduler's Scheduled Event, or a body no decoder reads) are listed from
// their bodies; redriven, the first goes back as its CloudEvent counted,
// the other as it was, without the dead-letter attributes.
func TestRedriveBodies(t *testing.T) {
	app := newApp(t, newShop())
	q, dlq := memory.NewQueue("q"), memory.NewQueue("dlq")
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	sched := wire.ScheduledEvent(wire.RuleARN("us-east-1", "000000000000", "reminder-standup"), "000000000000", "us-east-1", at)
	dead := map[string]string{wire.AttrDeadLetterSource: "q", wire.AttrDeadLetterReason: "reactor reminder failed"}
	if _, err := dlq.Send(context.Background(), memory.Outgoing{Body: string(sched.Encode()), Attributes: dead},
		memory.Outgoing{Body: "garbage", Attributes: map[string]string{wire.AttrDeadLetterSource: "q", "k": "v"}}); err != nil {
		t.Fatal(err)
	}
	eps := async.LocalDeadLetterEndpoints(app, q, dlq)
	call := func(method, path, body string) (int, string) {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Authorization", testutil.Token)
		rec := httptest.NewRecorder()
		eps[path].ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	status, body := call("GET", async.DeadLettersPath, "")
	var list []async.DeadLetter
	if err := json.Unmarshal([]byte(body), &list); status != 200 || err != nil || len(list) != 2 {
		t.Fatalf("list: %d %s %v", status, body, err)
	}
	if s := list[0]; s.EventType != wire.ScheduledEventType || s.EventID != sched.ID || s.Reason != "reactor reminder failed" || s.DecodeError != "" {
		t.Errorf("the Scheduled Event %+v", s)
	}
	if g := list[1]; g.Body != "garbage" || g.DecodeError == "" || g.EventID != "" || !strings.Contains(g.Reason, "5 times") {
		t.Errorf("the garbage %+v", g)
	}
	if status, body := call("POST", async.RedrivePath, `{"all":true}`); status != 200 || !strings.Contains(body, list[1].ID) {
		t.Fatalf("redrive all: %d %s", status, body)
	}
	back := q.Waiting()
	if len(back) != 2 || len(dlq.Waiting()) != 0 {
		t.Fatalf("back on q %+v, left %+v", back, dlq.Waiting())
	}
	e, err := memory.Decode(queue.Delivery{Body: back[0].Body, Event: back[0].Event, Attributes: back[0].Attributes})
	if err != nil || e.ID() != sched.ID || e.Type() != wire.ScheduledEventType || events.Redrives(e) != 1 || !e.Time().Equal(at) {
		t.Errorf("the Scheduled Event back: %v %v", e, err)
	}
	if g := back[1]; g.Body != "garbage" || g.Attributes["k"] != "v" || g.Attributes[wire.AttrDeadLetterSource] != "" {
		t.Errorf("the garbage back %+v", g)
	}
}
