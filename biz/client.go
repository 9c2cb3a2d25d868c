package biz

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/google/uuid"

	"github.com/coworks-go/cws/events"
	"github.com/coworks-go/cws/events/invoke"
	"github.com/coworks-go/cws/runtime"
)

// Client calls tech entries for reactors: synchronously, in process (the
// entries of the same binary) or over HTTP with the token, and
// asynchronously as cws.invoke CloudEvents; it also publishes the
// reactors' own notification events.
type Client struct {
	app     *runtime.App
	baseURL string
	token   string
	http    *http.Client
	pub     events.Publisher
	source  string
	timeout time.Duration
	retries int
	backoff time.Duration
	runner  *Runner
}

// ClientOption configures a Client.
type ClientOption func(*Client)

// WithApp calls the entries of app in process.
func WithApp(app *runtime.App) ClientOption { return func(c *Client) { c.app = app } }

// WithHTTP calls the entries of the service at baseURL over HTTP, with
// token as the Authorization header.
func WithHTTP(baseURL, token string, hc *http.Client) ClientOption {
	return func(c *Client) {
		c.baseURL, c.token, c.http = strings.TrimSuffix(baseURL, "/"), token, hc
		if c.http == nil {
			c.http = http.DefaultClient
		}
	}
}

// WithPublisher sends invocations (Send) and notifications (Publish)
// through p: the local bus, an SQS queue, an EventBridge bus.
func WithPublisher(p events.Publisher) ClientOption { return func(c *Client) { c.pub = p } }

// WithSource sets the source of the events the client sends (default
// "cws/biz").
func WithSource(s string) ClientOption { return func(c *Client) { c.source = s } }

// WithTimeout bounds each call (default 30s).
func WithTimeout(d time.Duration) ClientOption { return func(c *Client) { c.timeout = d } }

// WithRetries retries a call that failed with a server error (5xx, 408,
// 429) or did not reach the service, n more times, waiting base, 2×base…
// with jitter (default 2 retries from 200ms).
func WithRetries(n int, base time.Duration) ClientOption {
	return func(c *Client) { c.retries, c.backoff = max(0, n), base }
}

// NewClient returns a client; without WithApp or WithHTTP it cannot call
// entries synchronously.
func NewClient(opts ...ClientOption) *Client {
	c := &Client{source: "cws/biz", timeout: 30 * time.Second, retries: 2, backoff: 200 * time.Millisecond}
	for _, opt := range opts {
		opt(c)
	}
	return c
}

// With returns a copy of the client with more options.
func (c *Client) With(opts ...ClientOption) *Client {
	cp := *c
	for _, opt := range opts {
		opt(&cp)
	}
	return &cp
}

// Result is an entry's answer.
type Result struct {
	Status      int
	ContentType string
	Body        []byte
}

// CallError is an entry's error answer (status 400 and above): its
// problem's title and detail. One for a client error (4xx but 408, 409,
// 425, 429) is wrapped as events.Permanent, so that a reactor returning it
// goes to the dead-letter queue without retrying.
type CallError struct {
	Target string
	Status int
	Title  string
	Detail string
}

// Error implements error.
func (e *CallError) Error() string {
	msg := fmt.Sprintf("%s answered %d", e.Target, e.Status)
	if e.Detail != "" {
		return msg + ": " + e.Detail
	}
	if e.Title != "" {
		return msg + ": " + e.Title
	}
	return msg
}

// StatusCode returns the status.
func (e *CallError) StatusCode() int { return e.Status }

// Invoke calls "METHOD target" (target the path with its query) with body
// as its JSON body (a value, raw JSON as []byte or json.RawMessage, or
// nil) and returns the answer. An answer of 400 and above is a *CallError
// too; server errors and unreachable services are retried first.
func (c *Client) Invoke(ctx context.Context, method, target string, body any) (*Result, error) {
	raw, err := invoke.EncodeBody(body)
	if err != nil {
		return nil, err
	}
	call := method + " " + target
	for attempt := 0; ; attempt++ {
		res, err := c.once(ctx, method, target, raw)
		retry := err != nil && ctx.Err() == nil
		if err == nil && res.Status >= 400 {
			err = callError(call, res)
			retry = !events.PermanentStatus(res.Status)
			if !retry {
				err = events.Permanent(err)
			}
		}
		if err == nil || !retry || attempt >= c.retries {
			return res, err
		}
		delay := c.backoff << attempt
		delay += time.Duration(rand.Int64N(int64(delay)/5 + 1))
		select {
		case <-ctx.Done():
			return res, fmt.Errorf("%s: %w (after %v)", call, ctx.Err(), err)
		case <-time.After(delay):
		}
	}
}

// Call is Invoke with the JSON answer decoded into a T.
func Call[T any](ctx context.Context, c *Client, method, target string, body any) (T, error) {
	var out T
	res, err := c.Invoke(ctx, method, target, body)
	if err != nil {
		return out, err
	}
	if len(res.Body) == 0 {
		return out, nil
	}
	if err := json.Unmarshal(res.Body, &out); err != nil {
		return out, fmt.Errorf("%s %s: the answer is not a %T: %w", method, target, out, err)
	}
	return out, nil
}

// once makes one call, in process or over HTTP.
func (c *Client) once(ctx context.Context, method, target string, body []byte) (*Result, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	path, query, _ := strings.Cut(target, "?")
	switch {
	case c.app != nil:
		resp := c.app.Serve(ctx, invoke.Request(method, path, query, body, traceParent(ctx)))
		data, err := resp.ReadBody()
		if err != nil {
			return nil, fmt.Errorf("%s %s: reading the answer: %w", method, target, err)
		}
		return &Result{Status: resp.Status, ContentType: resp.ContentType, Body: data}, nil
	case c.baseURL != "":
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		req, err := http.NewRequestWithContext(ctx, method, c.baseURL+target, rd)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", method, target, err)
		}
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		if c.token != "" {
			req.Header.Set("Authorization", c.token)
		}
		if tp := traceParent(ctx); tp != "" {
			req.Header.Set("Traceparent", tp)
		}
		resp, err := c.http.Do(req)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", method, target, err)
		}
		defer resp.Body.Close()
		data, err := io.ReadAll(resp.Body)
		if err != nil {
			return nil, fmt.Errorf("%s %s: reading the answer: %w", method, target, err)
		}
		return &Result{Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), Body: data}, nil
	}
	return nil, events.Permanentf("%s %s: this client calls no service (WithApp or WithHTTP)", method, target)
}

// Send invokes "METHOD target" asynchronously: a cws.invoke event through
// the client's publisher, whose result goes to replyTo when it is not
// empty. It returns the event sent (its id correlates the result).
func (c *Client) Send(ctx context.Context, method, target string, body any, replyTo string) (event.Event, error) {
	if c.pub == nil {
		return event.Event{}, errors.New("this client has no publisher (WithPublisher)")
	}
	e, err := invoke.New(c.source, method, target, body)
	if err != nil {
		return e, err
	}
	if replyTo != "" {
		e.SetExtension(invoke.ExtReplyTo, replyTo)
	}
	if tp := traceParent(ctx); tp != "" {
		e.SetExtension(events.ExtTraceParent, tp)
	}
	return e, c.pub.Publish(ctx, e)
}

// Publish sends notification events (their source defaults to the
// client's).
func (c *Client) Publish(ctx context.Context, evs ...event.Event) error {
	if c.pub == nil {
		return errors.New("this client has no publisher (WithPublisher)")
	}
	for i := range evs {
		if evs[i].Source() == "" {
			evs[i].SetSource(c.source)
		}
		if tp := traceParent(ctx); tp != "" {
			if _, ok := evs[i].Extensions()[events.ExtTraceParent]; !ok {
				evs[i].SetExtension(events.ExtTraceParent, tp)
			}
		}
	}
	return c.pub.Publish(ctx, evs...)
}

// NewEvent returns a notification event of type typ with data as its JSON
// data, a fresh id, the client's source and the time now.
func (c *Client) NewEvent(typ string, data any) (event.Event, error) {
	e := event.New()
	e.SetID(uuid.NewString())
	e.SetSource(c.source)
	e.SetType(typ)
	e.SetTime(time.Now().UTC())
	if data != nil {
		if err := e.SetData(event.ApplicationJSON, data); err != nil {
			return e, fmt.Errorf("event %s: %w", typ, err)
		}
	}
	return e, e.Validate()
}

func callError(call string, res *Result) error {
	ce := &CallError{Target: call, Status: res.Status}
	var p runtime.Problem
	if json.Unmarshal(res.Body, &p) == nil {
		ce.Title, ce.Detail = p.Title, p.Detail
	}
	return ce
}

// traceKey carries a trigger's traceparent in its context.
type traceKey struct{}

func traceParent(ctx context.Context) string {
	tp, _ := ctx.Value(traceKey{}).(string)
	return tp
}
