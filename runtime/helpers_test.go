package runtime_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/coworks-go/cws/internal/testutil"
	"github.com/coworks-go/cws/runtime"
)

const testToken = "test-token"

// call is one request to an App.
type call struct {
	method, target string
	body           string
	contentType    string
	token          string // "" sends testToken; "-" sends none
	header         http.Header
}

// result is an answered call.
type result struct {
	status int
	header http.Header
	body   []byte
	binary bool
}

func (r result) text() string { return string(r.body) }

// problem decodes a problem+json body.
func (r result) problem(t *testing.T) runtime.Problem {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != runtime.ProblemContentType {
		t.Fatalf("Content-Type %q, want %s; body %s", ct, runtime.ProblemContentType, r.body)
	}
	var p runtime.Problem
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatalf("problem body %s: %v", r.body, err)
	}
	return p
}

// do serves c on app.
func do(t *testing.T, app *runtime.App, c call) result {
	t.Helper()
	path, query, _ := strings.Cut(c.target, "?")
	req := &runtime.Request{Method: c.method, Path: path, RawQuery: query, Header: http.Header{}}
	for k, vs := range c.header {
		req.Header[k] = vs
	}
	switch c.token {
	case "":
		req.Header.Set("Authorization", testToken)
	case "-":
	default:
		req.Header.Set("Authorization", c.token)
	}
	if c.body != "" {
		req.Body = strings.NewReader(c.body)
		ct := c.contentType
		if ct == "" {
			ct = "application/json"
		}
		req.Header.Set("Content-Type", ct)
	}
	resp := app.Serve(context.Background(), req)
	if resp == nil {
		t.Fatalf("%s %s: nil response", c.method, c.target)
	}
	body := resp.Body
	if resp.Stream != nil {
		var err error
		if body, err = io.ReadAll(resp.Stream); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := resp.Header["Content-Type"]; ok {
		t.Errorf("%s %s: Content-Type in Response.Header", c.method, c.target)
	}
	h := resp.Header.Clone()
	if resp.ContentType != "" {
		h.Set("Content-Type", resp.ContentType)
	}
	return result{status: resp.Status, header: h, body: body, binary: resp.Binary}
}

// expect checks status and, when set, the body.
func expect(t *testing.T, app *runtime.App, c call, status int, body string) result {
	t.Helper()
	r := do(t, app, c)
	if r.status != status {
		t.Errorf("%s %s: status %d, want %d; body %s", c.method, c.target, r.status, status, r.body)
	}
	if body != "" && strings.TrimSpace(r.text()) != body {
		t.Errorf("%s %s: body\n  %s\nwant\n  %s", c.method, c.target, r.body, body)
	}
	return r
}

// newApp builds an App with the test token and a captured log.
func newApp(t *testing.T, svc any, opts ...runtime.Option) (*runtime.App, *testutil.SyncBuffer) {
	t.Helper()
	t.Setenv("TOKEN", testToken)
	t.Setenv("CWS_STAGE", "")
	logs := &testutil.SyncBuffer{}
	opts = append([]runtime.Option{runtime.WithLogger(slog.New(slog.NewJSONHandler(logs, nil)))}, opts...)
	app, err := runtime.New(svc, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return app, logs
}
