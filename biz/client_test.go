package biz_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/coworks-go/cws/biz"
	"github.com/coworks-go/cws/events"
	"github.com/coworks-go/cws/events/invoke"
	"github.com/coworks-go/cws/internal/testutil"
	"github.com/coworks-go/cws/runtime"
	cwshttp "github.com/coworks-go/cws/transport/http"
)

// Counter is a tech service for the client tests.
type Counter struct {
	n     atomic.Int64
	flaky atomic.Int64 // how many calls of GetFlaky fail before one succeeds
}

type AddInput struct {
	By int64 `json:"by"`
}

func (c *Counter) PostAdd(ctx context.Context, in AddInput) map[string]int64 {
	return map[string]int64{"n": c.n.Add(in.By)}
}

func (c *Counter) Get_(ctx context.Context, id int) (string, error) {
	return "", runtime.NotFound("no counter %d", id)
}

func (c *Counter) GetFlaky(ctx context.Context) (string, error) {
	if c.flaky.Add(-1) >= 0 {
		return "", errors.New("the disk is full")
	}
	return "ok", nil
}

type published struct{ evs []event.Event }

func (p *published) Publish(_ context.Context, evs ...event.Event) error {
	p.evs = append(p.evs, evs...)
	return nil
}

func TestClient(t *testing.T) {
	t.Setenv("TOKEN", testutil.Token)
	svc := &Counter{}
	app, err := runtime.New(svc)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(cwshttp.NewHandler(app))
	defer srv.Close()
	ctx := context.Background()
	for name, c := range map[string]*biz.Client{
		"in process": biz.NewClient(biz.WithApp(app), biz.WithRetries(2, time.Millisecond)),
		"over HTTP":  biz.NewClient(biz.WithHTTP(srv.URL, testutil.Token, nil), biz.WithRetries(2, time.Millisecond)),
	} {
		got, err := biz.Call[map[string]int64](ctx, c, "POST", "/add", AddInput{By: 2})
		if err != nil || got["n"] == 0 {
			t.Errorf("%s: Call = %v %v", name, got, err)
		}
		_, err = c.Invoke(ctx, "GET", "/7", nil)
		var ce *biz.CallError
		if !errors.As(err, &ce) || ce.Status != 404 || ce.Detail != "no counter 7" || !events.IsPermanent(err) {
			t.Errorf("%s: a 404: %v", name, err)
		}
		svc.flaky.Store(2)
		if res, err := c.Invoke(ctx, "GET", "/flaky", nil); err != nil || string(res.Body) != "ok" {
			t.Errorf("%s: two server errors, then success: %v", name, err)
		}
		svc.flaky.Store(3)
		if _, err := c.Invoke(ctx, "GET", "/flaky", nil); !errors.As(err, &ce) || ce.Status != 500 || events.IsPermanent(err) {
			t.Errorf("%s: three server errors: %v", name, err)
		}
	}
	if _, err := biz.NewClient(biz.WithHTTP(srv.URL, testutil.WrongToken, nil)).Invoke(ctx, "GET", "/flaky", nil); !strings.Contains(fmtErr(err), "answered 403") {
		t.Errorf("a wrong token: %v", err)
	}

	pub := &published{}
	c := biz.NewClient(biz.WithPublisher(pub), biz.WithSource("cws/office"))
	e, err := c.Send(ctx, "POST", "/add", AddInput{By: 1}, "memory://default")
	if err != nil || len(pub.evs) != 1 {
		t.Fatalf("Send: %v", err)
	}
	inv, err := invoke.Parse(pub.evs[0])
	if err != nil || inv.Method != "POST" || inv.Path != "/add" || string(inv.Body) != `{"by":1}` || inv.ReplyTo != "memory://default" ||
		pub.evs[0].ID() != e.ID() || pub.evs[0].Source() != "cws/office" {
		t.Errorf("Send published %s: %v", pub.evs[0], err)
	}
	n, _ := c.NewEvent("invoice.sent", map[string]int{"invoice": 1})
	if err := c.Publish(ctx, n); err != nil || len(pub.evs) != 2 || pub.evs[1].Type() != "invoice.sent" || pub.evs[1].Source() != "cws/office" {
		t.Errorf("Publish: %v", err)
	}
	if _, err := biz.NewClient().Invoke(ctx, "GET", "/", nil); !events.IsPermanent(err) {
		t.Errorf("a client without a service: %v", err)
	}
}

func fmtErr(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
