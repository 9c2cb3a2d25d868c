package profiler_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coworks-go/cws/blueprint/profiler"
	"github.com/coworks-go/cws/internal/testutil"
	"github.com/coworks-go/cws/runtime"
)

type svc struct{}

func (svc) GetFast(ctx context.Context) string  { return "fast" }
func (svc) GetFail(ctx context.Context) error   { return runtime.NewProblem(503, "down") }
func (svc) GetBreak(ctx context.Context) error  { panic("broken") }
func (svc) PostEcho(ctx context.Context) string { return "" }

func newApp(t *testing.T) *runtime.App {
	t.Helper()
	app, err := runtime.New(svc{}, runtime.WithBlueprint("/profiler", profiler.New()),
		runtime.WithAuthorizer(runtime.TokenAuthorizer(testutil.Token)), runtime.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}
	return app
}

func get(app *runtime.App, method, target string) *runtime.Response {
	path, query, _ := strings.Cut(target, "?")
	return app.Serve(context.Background(), &runtime.Request{Method: method, Path: path, RawQuery: query,
		Header: http.Header{"Authorization": {testutil.Token}}})
}

var gzipMagic = []byte{0x1f, 0x8b}

func TestProfiles(t *testing.T) {
	app := newApp(t)
	for _, target := range []string{"/profiler/heap?gc=yes", "/profiler/goroutine", "/profiler/allocs", "/profiler/profile?seconds=0.2"} {
		r := get(app, "GET", target)
		if r.Status != 200 || !bytes.HasPrefix(r.Body, gzipMagic) || r.ContentType != "application/octet-stream" {
			t.Errorf("%s: %d %q %.20q", target, r.Status, r.ContentType, r.Body)
		}
	}
	r := get(app, "GET", "/profiler/goroutine?debug=1")
	if r.Status != 200 || !strings.HasPrefix(string(r.Body), "goroutine profile:") || !strings.HasPrefix(r.ContentType, "text/plain") {
		t.Errorf("debug=1: %d %v %.40q", r.Status, r.Header, r.Body)
	}
	r = get(app, "GET", "/profiler/trace?seconds=0.1")
	if r.Status != 200 || !bytes.HasPrefix(r.Body, []byte("go 1.")) {
		t.Errorf("trace: %d %.20q", r.Status, r.Body)
	}
	if r = get(app, "GET", "/profiler/nonesuch"); r.Status != 404 {
		t.Errorf("unknown profile: %d", r.Status)
	}
	if r = get(app, "GET", "/profiler/profile?seconds=1000"); r.Status != 400 {
		t.Errorf("too long: %d", r.Status)
	}
	if r = get(app, "GET", "/profiler"); r.Status != 200 || !strings.Contains(string(r.Body), "goroutine") {
		t.Errorf("index: %d %s", r.Status, r.Body)
	}
}

func TestTimings(t *testing.T) {
	app := newApp(t)
	for range 10 {
		get(app, "GET", "/fast")
	}
	get(app, "GET", "/fail")
	get(app, "GET", "/break")
	get(app, "GET", "/nowhere")
	r := get(app, "GET", "/profiler/timings")
	var timings profiler.Timings
	if err := json.Unmarshal(r.Body, &timings); err != nil {
		t.Fatalf("%s: %v", r.Body, err)
	}
	byPath := map[string]profiler.Timing{}
	for _, e := range timings.Entries {
		byPath[e.Path] = e
	}
	fast := byPath["/fast"]
	if fast.Count != 10 || fast.Errors != 0 || fast.Entry != "GetFast" || fast.MaxMS <= 0 ||
		fast.P50MS > fast.P99MS || fast.P99MS > fast.MaxMS || fast.MeanMS > fast.MaxMS {
		t.Errorf("fast: %+v", fast)
	}
	if f := byPath["/fail"]; f.Count != 1 || f.Errors != 1 {
		t.Errorf("fail: %+v", f)
	}
	if b := byPath["/break"]; b.Count != 1 || b.Errors != 1 {
		t.Errorf("break: %+v", b)
	}
	if _, ok := byPath["/nowhere"]; ok {
		t.Error("unrouted requests are timed")
	}
	if r = get(app, "DELETE", "/profiler/timings"); r.Status != 204 {
		t.Errorf("reset: %d", r.Status)
	}
	r = get(app, "GET", "/profiler/timings")
	_ = json.Unmarshal(r.Body, &timings)
	if len(timings.Entries) != 1 || timings.Entries[0].Entry != "profiler.DeleteTimings" {
		t.Errorf("after reset: %+v", timings.Entries)
	}
}

func TestConcurrentTimings(t *testing.T) {
	app := newApp(t)
	done := make(chan bool)
	for range 8 {
		go func() {
			for range 200 {
				get(app, "GET", "/fast")
			}
			done <- true
		}()
	}
	for range 8 {
		<-done
	}
	var timings profiler.Timings
	_ = json.Unmarshal(get(app, "GET", "/profiler/timings").Body, &timings)
	if len(timings.Entries) != 1 || timings.Entries[0].Count != 1600 {
		t.Errorf("timings %+v", timings.Entries)
	}
}

// The last invocations are kept by door, the newest first, at most
// RecentInvocations each: HTTP requests, and the calls the events doors
// make (authorized by the door); DELETE /timings forgets them.
func TestInvocations(t *testing.T) {
	app := newApp(t)
	before := time.Now().UTC()
	for range 60 {
		get(app, "GET", "/fast")
	}
	get(app, "GET", "/fail")
	// A REST API event hands its query over decoded.
	app.Serve(context.Background(), &runtime.Request{Method: "GET", Path: "/fast", Query: url.Values{"unknown": {"keyword"}},
		Header: http.Header{"Authorization": {testutil.Token}}})
	app.Serve(context.Background(), &runtime.Request{Method: "POST", Path: "/echo", Header: http.Header{}, Authorized: true})
	get(app, "GET", "/nowhere")
	r := get(app, "GET", "/profiler/invocations")
	var got map[string][]profiler.Invocation
	if err := json.Unmarshal(r.Body, &got); err != nil || r.Status != 200 {
		t.Fatalf("%d %s: %v", r.Status, r.Body, err)
	}
	web, evs := got["http"], got["events"]
	if len(web) != profiler.RecentInvocations || len(evs) != 1 {
		t.Fatalf("kept %d http, %d events invocations", len(web), len(evs))
	}
	if w := web[0]; w.Method != "GET" || w.Target != "/fast?unknown=keyword" || w.Path != "/fast" || w.Entry != "GetFast" || w.Status != 422 ||
		w.Door != "http" || w.At.Before(before) || w.DurationMS < 0 {
		t.Errorf("the newest HTTP invocation %+v", w)
	}
	if w := web[1]; w.Target != "/fail" || w.Status != 503 || w.At.After(web[0].At) {
		t.Errorf("the one before %+v", w)
	}
	if w := web[2]; w.Target != "/fast" || w.Status != 200 {
		t.Errorf("the one before that %+v", w)
	}
	if e := evs[0]; e.Method != "POST" || e.Target != "/echo" || e.Door != "events" || e.Status != 200 {
		t.Errorf("the events invocation %+v", e)
	}
	if r := get(app, "DELETE", "/profiler/timings"); r.Status != 204 && r.Status != 200 {
		t.Fatalf("DELETE: %d", r.Status)
	}
	r = get(app, "GET", "/profiler/invocations")
	if err := json.Unmarshal(r.Body, &got); err != nil || len(got["events"]) != 0 || len(got["http"]) != 1 || got["http"][0].Entry != "profiler.DeleteTimings" {
		t.Errorf("after DELETE (only itself): %s %v", r.Body, err)
	}
}
