package http_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coworks-go/cws/runtime"
	cwshttp "github.com/coworks-go/cws/transport/http"
)

type svc struct {
	started chan struct{}
	release chan struct{}
}

type closer struct {
	io.Reader
	closed *atomic.Bool
}

func (c closer) Close() error { c.closed.Store(true); return nil }

var streamClosed atomic.Bool

func (s *svc) GetStream(ctx context.Context) io.Reader {
	return closer{strings.NewReader(strings.Repeat("x", 100000)), &streamClosed}
}

func (s *svc) GetText(ctx context.Context) string { return "text" }

func (s *svc) PostEcho(ctx context.Context, kw map[string]any) map[string]any { return kw }

func (s *svc) GetSlow(ctx context.Context) string {
	close(s.started)
	<-s.release
	return "finished"
}

func (s *svc) ConfigureEntries(c *runtime.EntryConfig) {
	for _, e := range []string{"GetStream", "GetText", "PostEcho", "GetSlow"} {
		c.Entry(e, runtime.NoAuth())
	}
}

func newApp(t *testing.T, s *svc, opts ...runtime.Option) *runtime.App {
	t.Helper()
	opts = append(opts, runtime.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	app, err := runtime.New(s, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return app
}

func TestHandler(t *testing.T) {
	srv := httptest.NewServer(cwshttp.NewHandler(newApp(t, &svc{}, runtime.WithMaxBodyBytes(1024))))
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || len(body) != 100000 || resp.Header.Get("Content-Type") != "application/octet-stream" {
		t.Errorf("stream: %d, %d bytes, %v", resp.StatusCode, len(body), resp.Header)
	}
	if !streamClosed.Load() {
		t.Error("the stream was not closed")
	}

	resp, err = http.Head(srv.URL + "/text")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.ContentLength != 4 {
		t.Errorf("HEAD: %d, Content-Length %d", resp.StatusCode, resp.ContentLength)
	}

	resp, err = http.Post(srv.URL+"/echo?x=1", "application/json", strings.NewReader(`{"a":[1,2]}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != `{"a":[1,2]}` {
		t.Errorf("POST: %d %s", resp.StatusCode, body)
	}

	resp, err = http.Post(srv.URL+"/echo", "application/json", strings.NewReader(`{"a":"`+strings.Repeat("y", 2000)+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 413 || resp.Header.Get("Content-Type") != runtime.ProblemContentType {
		t.Errorf("oversize: %d %s", resp.StatusCode, body)
	}

	req, _ := http.NewRequest("DELETE", srv.URL+"/text", nil)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 || resp.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("405: %d Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
}

func TestGracefulShutdown(t *testing.T) {
	s := &svc{started: make(chan struct{}), release: make(chan struct{})}
	app := newApp(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- cwshttp.ListenAndServe(ctx, "127.0.0.1:0", cwshttp.NewHandler(app),
			cwshttp.WithReady(func(a net.Addr) { addrc <- a }),
			cwshttp.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	}()
	addr := <-addrc

	type answer struct {
		body string
		err  error
	}
	answers := make(chan answer, 1)
	go func() {
		resp, err := http.Get(fmt.Sprintf("http://%s/slow", addr))
		if err != nil {
			answers <- answer{err: err}
			return
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		answers <- answer{string(b), err}
	}()
	<-s.started
	cancel() // SIGTERM arrives while a request is in flight

	// New connections are refused once shutdown starts.
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.Dial("tcp", addr.String())
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("still accepting connections after shutdown began")
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case err := <-done:
		t.Fatalf("ListenAndServe returned with a request in flight: %v", err)
	default:
	}
	close(s.release)
	if a := <-answers; a.err != nil || a.body != "finished" {
		t.Errorf("in-flight request: %q %v", a.body, a.err)
	}
	if err := <-done; err != nil {
		t.Errorf("ListenAndServe: %v", err)
	}
}

func TestListenError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	err = cwshttp.ListenAndServe(context.Background(), ln.Addr().String(), cwshttp.NewHandler(newApp(t, &svc{})))
	if err == nil || !strings.Contains(err.Error(), "listening on") {
		t.Errorf("busy port: %v", err)
	}
}

func ExampleNewHandler() {
	app, err := runtime.New(&svc{}, runtime.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(cwshttp.NewHandler(app))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/text")
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, resp.Header.Get("Content-Type"), string(body))
	// Output: 200 text/plain; charset=utf-8 text
}

// The local server answers preflights and decorates answers as the policy
// says, through net/http's own header handling.
func TestCORS(t *testing.T) {
	policy := runtime.CORS{AllowOrigins: []string{"http://localhost:5173"}, AllowHeaders: []string{"Content-Type", "X-Request-Id"}, MaxAge: time.Minute}
	srv := httptest.NewServer(cwshttp.NewHandler(newApp(t, &svc{}, runtime.WithCORS(policy))))
	defer srv.Close()

	send := func(method, path, origin string, header ...string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		req.Header.Set("Origin", origin)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}

	resp := send("OPTIONS", "/echo", "http://localhost:5173", "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type")
	if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "http://localhost:5173" ||
		resp.Header.Get("Access-Control-Allow-Methods") != "POST" ||
		resp.Header.Get("Access-Control-Allow-Headers") != "Content-Type, X-Request-Id" ||
		resp.Header.Get("Access-Control-Max-Age") != "60" {
		t.Errorf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
	resp = send("OPTIONS", "/echo", "http://localhost:8081", "Access-Control-Request-Method", "POST")
	if resp.Header.Get("Access-Control-Allow-Origin") != "" || resp.Header.Get("Access-Control-Allow-Methods") != "" {
		t.Errorf("preflight of another origin: %v", resp.Header)
	}
	resp = send("GET", "/text", "http://localhost:5173")
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "http://localhost:5173" || resp.Header.Get("Vary") != "Origin" {
		t.Errorf("GET: %d %v", resp.StatusCode, resp.Header)
	}
	resp = send("DELETE", "/text", "http://localhost:5173")
	if resp.StatusCode != 405 || resp.Header.Get("Access-Control-Allow-Origin") != "http://localhost:5173" {
		t.Errorf("405 without CORS headers: %d %v", resp.StatusCode, resp.Header)
	}
}
