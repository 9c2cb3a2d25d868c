package async_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coworks-go/cws/async"
	"github.com/coworks-go/cws/biz"
	"github.com/coworks-go/cws/internal/testutil"
	"github.com/coworks-go/cws/runtime"
	cwshttp "github.com/coworks-go/cws/transport/http"
)

// serveLocal opens the doors' local side for app and serves it with the
// events endpoint, as cws.Main does; do calls it with the token.
func serveLocal(t *testing.T, app *runtime.App, opts ...async.Option) func(method, path, contentType, body string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ld, err := async.Doors(opts...).Local(ctx, app)
	if err != nil {
		t.Fatal(err)
	}
	var hopts []cwshttp.HandlerOption
	for path, h := range ld.Endpoints {
		hopts = append(hopts, cwshttp.WithEndpoint(path, h))
	}
	srv := httptest.NewServer(cwshttp.NewHandler(app, hopts...))
	ran := make(chan error, 1)
	go func() { ran <- ld.Run(ctx) }()
	t.Cleanup(func() {
		srv.Close()
		cancel()
		if err := <-ran; err != nil {
			t.Errorf("the local door stopped with %v", err)
		}
	})
	return func(method, path, contentType, body string) (int, string) {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", testutil.Token)
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
}

// waitFor polls until cond holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// An invocation posted to the local events endpoint runs its entry once,
// however many times it is posted; a refused one is dead-lettered with its
// reason; the trace context reaches the logs.
func TestLocalInvocations(t *testing.T) {
	logs := &testutil.SyncBuffer{}
	app := newApp(t, newShop(), runtime.WithLogger(slog.New(slog.NewTextHandler(logs, nil))))
	do := serveLocal(t, app)
	inv := `{"specversion":"1.0","id":"inv-1","source":"cws/test","type":"cws.invoke","subject":"POST /items",` +
		`"datacontenttype":"application/json","data":{"name":"kettle"},` +
		`"traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}`
	for range 2 {
		if status, body := do("POST", async.EventsPath, "application/cloudevents+json", inv); status != 202 {
			t.Fatalf("posting the invocation: %d %s", status, body)
		}
	}
	waitFor(t, "the item", func() bool { status, _ := do("GET", "/items/8", "", ""); return status == 200 })
	if status, _ := do("GET", "/items/9", "", ""); status != 404 {
		t.Errorf("the duplicate ran again: GET /items/9 = %d", status)
	}
	refused := `{"specversion":"1.0","id":"inv-2","source":"cws/test","type":"cws.invoke","subject":"GET /items/42"}`
	if status, body := do("POST", async.EventsPath, "application/cloudevents+json", refused); status != 202 {
		t.Fatalf("posting the refused invocation: %d %s", status, body)
	}
	for _, s := range []string{"dead-lettered", "GET /items/42 answered 404: no item 42", "trace_id=4bf92f3577b34da6a3ce929d0e0e4736", "duplicate"} {
		waitFor(t, "the logs to say "+s, func() bool { return strings.Contains(logs.String(), s) })
	}
}

// office has a reactor: a notification posted to the local endpoint
// reaches it through the local bus's rules.
type office struct{ noted chan string }

func (o *office) GetText(ctx context.Context) string { return "text" }

func (o *office) Reactors() map[string]biz.Reactor {
	return map[string]biz.Reactor{"notes": (*notes)(o)}
}

type notes office

func (n *notes) Subscriptions() []biz.Subscription {
	return []biz.Subscription{biz.On("orders", `{"detail-type":["order.completed"]}`)}
}

func (n *notes) React(ctx context.Context, tr *biz.Trigger) error {
	n.noted <- tr.Event.ID()
	return nil
}

func TestLocalReactors(t *testing.T) {
	o := &office{noted: make(chan string, 4)}
	do := serveLocal(t, newApp(t, o))
	ev := `{"specversion":"1.0","id":"o-1","source":"shop","type":"order.completed"}`
	if status, body := do("POST", async.EventsPath, "application/cloudevents+json", ev); status != 202 {
		t.Fatalf("posting the notification: %d %s", status, body)
	}
	select {
	case id := <-o.noted:
		if id != "o-1" {
			t.Errorf("the reactor got %q", id)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the reactor was not triggered")
	}
}

// Settings that need a cloud are refused at start-up without one.
func TestNeedsCloud(t *testing.T) {
	t.Run(async.EnvQueueURL, func(t *testing.T) {
		t.Setenv(async.EnvQueueURL, "orders")
		_, err := async.Doors().Local(context.Background(), newApp(t, &office{}))
		if err == nil || !strings.Contains(err.Error(), async.EnvQueueURL) || !strings.Contains(err.Error(), "awscloud") {
			t.Errorf("Local with %s and no cloud: %v", async.EnvQueueURL, err)
		}
	})
	for _, env := range []string{async.EnvEventBus, async.EnvDeadLetterQueueURL} {
		t.Run(env, func(t *testing.T) {
			t.Setenv(env, "somewhere")
			_, err := async.Doors().Lambda(context.Background(), newApp(t, &office{}))
			if err == nil || !strings.Contains(err.Error(), env) || !strings.Contains(err.Error(), "awscloud") {
				t.Errorf("Lambda with %s and no cloud: %v", env, err)
			}
		})
	}
}
