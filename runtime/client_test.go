package runtime_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/coworks-go/cws/runtime"
)

// callee is a service whose entries a Client calls.
type callee struct{}

func (s *callee) Get(ctx context.Context) string { return "callee" }

// GetGuarded needs the token.
func (s *callee) GetGuarded(ctx context.Context) string { return "guarded" }

// PostNames echoes the name (validated refuses an empty one): 201.
func (s *callee) PostNames(ctx context.Context, in validated) map[string]string {
	runtime.SetStatus(ctx, 201)
	runtime.ResponseHeader(ctx).Set("Location", "/names/"+in.Name)
	return map[string]string{"name": in.Name}
}

// GetProdOnly exists in stage prod.
func (s *callee) GetProdOnly(ctx context.Context) string { return "prod" }

// GetFails fails with an internal error.
func (s *callee) GetFails(ctx context.Context) error { return errors.New("secret cause") }

func (s *callee) ConfigureEntries(c *runtime.EntryConfig) {
	c.Entry((*callee).GetProdOnly, runtime.Stages("prod"))
}

func newCallee(t *testing.T, opts ...runtime.Option) *runtime.App {
	t.Helper()
	app, err := runtime.New(&callee{}, append([]runtime.Option{runtime.WithAuthorizer(runtime.TokenAuthorizer(testToken)), runtime.WithStage("test"), runtime.WithLogger(slog.New(slog.DiscardHandler))}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return app
}

func TestClient(t *testing.T) {
	app := newCallee(t)
	ctx := context.Background()
	c := app.Client()

	// The client calls as the service itself: a guarded entry answers
	// without a token.
	resp, err := c.Do(ctx, "GET", "/guarded", nil)
	if err != nil || resp.Status != 200 || string(resp.Body) != "guarded" {
		t.Errorf("GET /guarded: %v %+v", err, resp)
	}
	var text string
	if err := c.Call(ctx, "GET", "/guarded", nil, &text); err != nil || text != "guarded" {
		t.Errorf("Call GET /guarded: %v %q", err, text)
	}

	// Bodies: a value encoded, raw JSON as it is; the answer's status and
	// headers.
	for _, body := range []any{validated{Name: "ann"}, []byte(`{"name":"ann"}`), map[string]string{"name": "ann"}} {
		resp, err := c.Do(ctx, "POST", "/names", body)
		if err != nil || resp.Status != 201 || resp.Header.Get("Location") != "/names/ann" || string(resp.Body) != `{"name":"ann"}` {
			t.Errorf("POST /names %T: %v %+v", body, err, resp)
		}
	}
	var got map[string]string
	if err := c.Call(ctx, "POST", "/names", validated{Name: "bob"}, &got); err != nil || got["name"] != "bob" {
		t.Errorf("Call POST /names: %v %v", err, got)
	}

	// Errors: the entry's problem, found by errors.As.
	for _, tc := range []struct {
		method, target string
		body           any
		status         int
		text           string
	}{
		{"POST", "/names", validated{}, 422, "POST /names: 422 Unprocessable Entity: name is required"},
		{"GET", "/prod/only", nil, 404, "GET /prod/only: 404 Not Found: no route for GET /prod/only"},
		{"GET", "/?x=1", nil, 422, "GET /?x=1: 422 Unprocessable Entity"},
		{"GET", "/fails", nil, 500, "GET /fails: 500 Internal Server Error"},
		{"DELETE", "/guarded", nil, 405, "DELETE /guarded: 405 Method Not Allowed"},
	} {
		err := c.Call(ctx, tc.method, tc.target, tc.body, nil)
		var p *runtime.Problem
		if !errors.As(err, &p) || p.Status != tc.status || !strings.HasPrefix(err.Error(), tc.text) {
			t.Errorf("%s %s: %v, want %d %q", tc.method, tc.target, err, tc.status, tc.text)
		}
	}
	if err := c.Call(ctx, "GET", "/fails", nil, nil); strings.Contains(err.Error(), "secret cause") {
		t.Errorf("an internal error's cause reached the caller: %v", err)
	}
	var n int
	if err := c.Call(ctx, "GET", "/guarded", nil, &n); err == nil || !strings.Contains(err.Error(), "the answer is not a *int") {
		t.Errorf("undecodable answer: %v", err)
	}
	if _, err := c.Do(ctx, "POST", "/names", func() {}); err == nil || !strings.Contains(err.Error(), "encoding the body") {
		t.Errorf("unencodable body: %v", err)
	}
	if _, err := c.Do(ctx, "POST", "/names", []byte("not json")); err != nil {
		t.Fatal(err)
	}
	if resp, _ := c.Do(ctx, "POST", "/names", []byte("not json")); resp.Status != 400 {
		t.Errorf("a raw body that is not JSON: %d", resp.Status)
	}

	// In stage prod the prod entry exists.
	prod := newCallee(t, runtime.WithStage("prod"))
	if err := prod.Client().Call(ctx, "GET", "/prod/only", nil, &text); err != nil || text != "prod" {
		t.Errorf("prod: %v %q", err, text)
	}
}

func TestNewAuthorizedRequest(t *testing.T) {
	req := runtime.NewAuthorizedRequest("POST", "/names", "x=1", []byte(`{"name":"ann"}`))
	body, err := io.ReadAll(req.Body)
	if err != nil || !req.Authorized || req.Method != "POST" || req.Path != "/names" || req.RawQuery != "x=1" ||
		req.Header.Get("Content-Type") != "application/json" || string(body) != `{"name":"ann"}` {
		t.Errorf("with a body: %+v %q %v", req, body, err)
	}
	req = runtime.NewAuthorizedRequest("GET", "/guarded", "", nil)
	if req.Body != nil || req.Header == nil || req.Header.Get("Content-Type") != "" || !req.Authorized {
		t.Errorf("without a body: %+v", req)
	}
	// Served without a token: the App does not ask its authorizer.
	if resp := newCallee(t).Serve(context.Background(), req); resp.Status != 200 || string(resp.Body) != "guarded" {
		t.Errorf("GET /guarded: %d %s", resp.Status, resp.Body)
	}
}
