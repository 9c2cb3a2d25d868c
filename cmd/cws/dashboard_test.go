package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/coworks-go/cws/blueprint/admin"
	"github.com/coworks-go/cws/blueprint/profiler"
	"github.com/coworks-go/cws/internal/testutil"
	"github.com/coworks-go/cws/runtime"
	cwshttp "github.com/coworks-go/cws/transport/http"
)

// EnvChromium names the Chromium binary of the browser test (make sets
// it); EnvScreenshots, a directory where it writes the dashboard's
// screenshots (make screenshots: docs/img).
const (
	EnvChromium    = "CHROMIUM"
	EnvScreenshots = "CWS_SCREENSHOTS"
)

// chromium finds the browser: $CHROMIUM, else chromium on the PATH.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv(EnvChromium); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatalf("no Chromium for the dashboard's browser test: `make chromium` installs it (apt-get install chromium), or set %s", EnvChromium)
	return ""
}

// browser is a headless Chromium tab, and what its console said.
type browser struct {
	t   *testing.T
	ctx context.Context

	mu       sync.Mutex
	problems []string
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium(t)), chromedp.NoSandbox,
		chromedp.WindowSize(1360, 900), chromedp.Flag("lang", "en-US"))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	b := &browser{t: t, ctx: ctx}
	// Errors and warnings of the console, uncaught exceptions, and the
	// browser log's errors (a failed request among them).
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleWarning || m.IsException() {
				b.mu.Lock()
				b.problems = append(b.problems, fmt.Sprintf("%s (%s:%d)", m, m.URL, m.Line))
				b.mu.Unlock()
			}
		}
	}()
	return b
}

// do runs actions, failing the test on an error.
func (b *browser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v\nconsole: %v", what, err, b.consoleProblems())
	}
}

// eval evaluates a JavaScript expression.
func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// waitJS waits until a JavaScript expression is truthy and returns it.
func waitJS[T any](b *browser, what, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Poll[T](expr, chromedp.WithPollingTimeout(20*time.Second),
		chromedp.WithPollingInterval(200*time.Millisecond)))
	if err != nil {
		b.t.Fatalf("waiting for %s (%s): %v\nconsole: %v", what, expr, err, b.consoleProblems())
	}
	return v
}

func (b *browser) consoleProblems() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.problems)
}

// TestAdminDashboard drives the dashboard of examples/biz under cws run in
// a real browser (headless Chromium): the page asks for the token and
// loads without a console error or a request to another host; it lists
// every route; "try it" posts an alert and reads it back; a refused
// invocation appears among the dead letters with its reason, and its
// redrive runs it again (the events door's calls show it twice, and it
// comes back counted); the reactors and the workflow's diagram and
// execution show. With CWS_SCREENSHOTS it writes the screenshots of
// docs/admin.md, light and dark.
func TestAdminDashboard(t *testing.T) {
	const tok = testutil.DevToken
	s := startRun(t, repoRoot, tok, "/alerts", "./examples/biz")
	b := newBrowser(t)

	// Orders: the invoicing workflow runs for each.
	post := func(event string) {
		t.Helper()
		req, _ := http.NewRequest("POST", s.base+"/_cws/events", strings.NewReader(event))
		req.Header.Set("Content-Type", "application/cloudevents+json")
		req.Header.Set("Authorization", tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 202 {
			t.Fatalf("posting %s: %v %v", event, resp, err)
		}
		resp.Body.Close()
	}
	for i, total := range []int{1200, 80, 340} {
		post(fmt.Sprintf(`{"specversion":"1.0","id":"order-%d","source":"shop","type":"order.completed",`+
			`"datacontenttype":"application/json","data":{"order":"A-%d","customer":"ann@example.com","total":%d}}`, i+1, i+1, total))
	}

	// The page asks for the token before anything else.
	b.do("opening /admin", chromedp.Navigate(s.base+"/admin"), chromedp.WaitVisible(chromedp.CSS("#signin")))
	if hidden := eval[bool](b, `document.getElementById('app').hidden`); !hidden {
		t.Error("the dashboard shows before the token is given")
	}
	b.do("giving the token", chromedp.SetValue(chromedp.CSS("#token"), tok), chromedp.Click(chromedp.CSS("#signin-form button[type=submit]")))
	waitJS[bool](b, "the dashboard", `document.body.hasAttribute('data-ready')`)

	// Every route, listed.
	status, body, _ := s.do("GET", "/admin/routes", "", tok)
	var desc struct {
		Service string
		Routes  []struct{ Method, Path string }
	}
	if err := json.Unmarshal([]byte(body), &desc); status != 200 || err != nil || len(desc.Routes) < 10 {
		t.Fatalf("GET /admin/routes: %d %s %v", status, body, err)
	}
	var want []string
	for _, r := range desc.Routes {
		want = append(want, r.Method+" "+r.Path)
	}
	listed := eval[[]string](b, `[...document.querySelectorAll('#routes-body tr[data-route]')].map(tr => tr.dataset.route)`)
	if !slices.Equal(listed, want) {
		t.Errorf("the dashboard lists\n%v\nthe service has\n%v", listed, want)
	}
	if got := eval[string](b, `document.getElementById('service').textContent`); got != desc.Service {
		t.Errorf("service %q, want %q", got, desc.Service)
	}

	// Try it: post an alert, then list the alerts.
	tryIt := func(route, body string) (string, string, string) {
		t.Helper()
		form := `form[data-route="` + route + `"]`
		b.do("opening try it of "+route, chromedp.Click(chromedp.CSS(`tr[data-route="`+route+`"] button.try-open`)),
			chromedp.WaitVisible(chromedp.CSS(form)))
		if body != "" {
			b.do("filling the body", chromedp.SetValue(chromedp.CSS(form+` textarea[name=body]`), body))
		}
		b.do("sending "+route, chromedp.Click(chromedp.CSS(form+` button[type=submit]`)))
		sel := `document.querySelector('` + form + ` .answer [data-status]')`
		status := waitJS[string](b, "the answer of "+route, sel+`?.dataset.status`)
		ct := eval[string](b, `document.querySelector('`+form+` .answer [data-content-type]').dataset.contentType`)
		text := eval[string](b, `document.querySelector('`+form+` .answer pre').textContent`)
		return status, ct, text
	}
	if skeleton := func() string {
		b.do("opening try it", chromedp.Click(chromedp.CSS(`tr[data-route="POST /alerts"] button.try-open`)))
		defer b.do("closing try it", chromedp.Click(chromedp.CSS(`tr[data-route="POST /alerts"] button.try-open`)))
		return eval[string](b, `document.querySelector('form[data-route="POST /alerts"] textarea[name=body]').value`)
	}(); strings.Join(strings.Fields(skeleton), " ") != `{ "level": "", "message": "" }` {
		t.Errorf("the body offered for POST /alerts: %s", skeleton)
	}
	st, ct, text := tryIt("POST /alerts", `{"level":"info","message":"from the browser"}`)
	if st != "201" || ct != "application/json" || !strings.Contains(text, `"message": "from the browser"`) {
		t.Errorf("POST /alerts answered %s %s %s", st, ct, text)
	}
	st, _, text = tryIt("GET /alerts", "")
	if st != "200" || !strings.Contains(text, "from the browser") {
		t.Errorf("GET /alerts answered %s %s", st, text)
	}

	// A dead letter: an invocation the entry refuses (422, an alert
	// without a message), dead-lettered at once.
	post(`{"specversion":"1.0","id":"no-message","source":"shop","type":"cws.invoke","subject":"POST /alerts",` +
		`"datacontenttype":"application/json","data":{"level":"info"}}`)
	row := `document.querySelector('#deadletters-body tr[data-event-id="no-message"]')`
	b.do("refreshing", chromedp.Click(chromedp.CSS("#refresh")))
	waitJS[bool](b, "the dead letter", `(document.getElementById('refresh').click(), `+row+` !== null)`)
	if reason := eval[string](b, row+`.querySelector('.reason').textContent`); reason != "POST /alerts answered 422: an alert needs a message" {
		t.Errorf("the dead letter's reason: %q", reason)
	}
	if n := eval[string](b, row+`.dataset.redrives`); n != "0" {
		t.Errorf("redrives before: %s", n)
	}
	waitJS[bool](b, "the refused call among the events door's", `document.querySelectorAll('#inv-events tr[data-target="POST /alerts"][data-status="422"]').length === 1`)
	if got := eval[string](b, `document.querySelector('[data-card=deadletters] .n').textContent`); got != "1" {
		t.Errorf("the dead letters' card says %s", got)
	}

	if dir := os.Getenv(EnvScreenshots); dir != "" {
		screenshots(b, dir)
	}

	// Its redrive runs it again: refused again, it comes back counted.
	b.do("redriving", chromedp.Click(chromedp.CSS(`#deadletters-body tr[data-event-id="no-message"] button.redrive`)))
	waitJS[bool](b, "the dead letter back, redriven once", `(document.getElementById('refresh').click(), `+row+`?.dataset.redrives === '1')`)
	waitJS[bool](b, "the second call", `document.querySelectorAll('#inv-events tr[data-target="POST /alerts"][data-status="422"]').length === 2`)

	// The reactors, and the workflow with its diagram and execution.
	if next := eval[string](b, `document.querySelector('#reactors-body tr[data-rule="reminder-standup"] td:last-child span').title`); next == "" {
		t.Error("the reminder's next fire time is not shown")
	} else if at, err := time.Parse(time.RFC3339, next); err != nil || at.Hour() != 9 || !at.After(time.Now()) {
		t.Errorf("the reminder fires next at %s (%v)", next, err)
	}
	waitJS[bool](b, "the diagram", `document.querySelector('[data-diagram=invoicing] img')?.naturalWidth > 100`)
	if st := eval[string](b, `document.querySelector('[data-workflow=invoicing] tr[data-execution="completed-orders-order-1"] .badge').textContent`); st != "SUCCEEDED" {
		t.Errorf("the execution: %s", st)
	}

	// The OpenAPI document, read with the token, in the viewer.
	b.do("opening the OpenAPI document", chromedp.Click(chromedp.CSS(`#links-body button[data-view="openapi.json"]`)))
	doc := waitJS[string](b, "the OpenAPI document", `document.getElementById('viewer').open && document.getElementById('viewer-body').textContent.includes('"paths"') && document.getElementById('viewer-body').textContent`)
	if !strings.Contains(doc, `"openapi": "3.1`) || !strings.Contains(doc, `"/alerts"`) {
		t.Errorf("the OpenAPI document shown: %.300s", doc)
	}
	b.do("closing the viewer", chromedp.Click(chromedp.CSS(`#viewer-close`)))

	// Nothing was fetched from another host, and the console is clean.
	if others := eval[[]string](b, `performance.getEntriesByType('resource').map(e => e.name).filter(u => !u.startsWith(location.origin + '/') && !u.startsWith('blob:') && !u.startsWith('data:'))`); len(others) > 0 {
		t.Errorf("requests to other hosts: %v", others)
	}
	if p := b.consoleProblems(); len(p) > 0 {
		t.Errorf("console:\n%s", strings.Join(p, "\n"))
	}
	s.stop()
}

// screenshots writes the dashboard into dir: its top in light and dark,
// and its parts (try it, invocations, workflows, dead letters) in light.
func screenshots(b *browser, dir string) {
	t := b.t
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	scheme := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, target *chromedp.Target) error {
			_, err := cdp.Call(ctx, target, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
				Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: name}}})
			return err
		})
	}
	shoot := func(name string, a chromedp.Action[[]byte]) {
		t.Helper()
		ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
		defer cancel()
		png, err := chromedp.Run(ctx, a)
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Only the try it of POST /alerts open, with its answer.
	b.do("closing the other try its", chromedp.Evaluate[chromedp.Void](
		`document.querySelectorAll('tr.try').forEach(tr => { if (!tr.querySelector('form[data-route="POST /alerts"]')) tr.remove(); })`))
	for _, mode := range []string{"light", "dark"} {
		b.do("switching to "+mode, scheme(mode), chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`), chromedp.Sleep(300*time.Millisecond))
		shoot("admin-"+mode+".png", chromedp.CaptureScreenshot())
	}
	b.do("back to light", scheme("light"), chromedp.Sleep(300*time.Millisecond))
	shoot("admin-try-it.png", chromedp.Screenshot(chromedp.CSS(`tr.try`)))
	shoot("admin-invocations.png", chromedp.Screenshot(chromedp.CSS(`#invocations`)))
	shoot("admin-workflows.png", chromedp.Screenshot(chromedp.CSS(`#workflows`)))
	shoot("admin-dead-letters.png", chromedp.Screenshot(chromedp.CSS(`#deadletters`)))
}

// plain is a service without the CloudEvents doors or the profiler.
type plain struct{}

// GetHello greets.
func (plain) GetHello(ctx context.Context) string { return "hello" }

// TestAdminDashboardWithoutDoors: for a service with neither the
// CloudEvents doors nor the profiler, the dashboard hides the sections
// whose sources answer 404, and shows the routes; the only console
// entries are the browser's notes of those 404s.
func TestAdminDashboardWithoutDoors(t *testing.T) {
	app, err := runtime.New(plain{}, runtime.WithBlueprint("/admin", admin.New()),
		runtime.WithAuthorizer(runtime.TokenAuthorizer(testutil.Token)), runtime.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(cwshttp.NewHandler(app))
	defer srv.Close()
	b := newBrowser(t)
	b.do("opening /admin", chromedp.Navigate(srv.URL+"/admin"), chromedp.WaitVisible(chromedp.CSS("#signin")),
		chromedp.SetValue(chromedp.CSS("#token"), testutil.Token), chromedp.Click(chromedp.CSS("#signin-form button[type=submit]")))
	waitJS[bool](b, "the dashboard", `document.body.hasAttribute('data-ready')`)
	shown := eval[[]string](b, `[...document.querySelectorAll('section.panel')].filter(s => !s.hidden).map(s => s.id)`)
	if !slices.Equal(shown, []string{"routes", "links"}) {
		t.Errorf("sections shown: %v, want routes and links", shown)
	}
	nav := eval[[]string](b, `[...document.querySelectorAll('#nav a')].filter(a => !a.hidden).map(a => a.textContent)`)
	if !slices.Equal(nav, []string{"Routes", "Links"}) {
		t.Errorf("links shown: %v", nav)
	}
	if cards := eval[[]string](b, `[...document.querySelectorAll('[data-card]')].map(c => c.dataset.card)`); !slices.Equal(cards, []string{"routes"}) {
		t.Errorf("cards: %v", cards)
	}
	if n := eval[int](b, `document.querySelectorAll('#links-body .profiles').length`); n != 0 {
		t.Errorf("%d profile links without a profiler", n)
	}
	listed := eval[[]string](b, `[...document.querySelectorAll('#routes-body tr[data-route]')].map(tr => tr.dataset.route)`)
	if !slices.Contains(listed, "GET /hello") {
		t.Errorf("routes listed: %v", listed)
	}
	// The browser notes the 404s (which shows that the console is read),
	// once: a section found absent is not asked again.
	done := eval[string](b, `document.body.dataset.refreshes`)
	b.do("refreshing", chromedp.Click(chromedp.CSS("#refresh")))
	waitJS[bool](b, "a refresh", `document.body.dataset.refreshes > `+done)
	notes := 0
	for _, p := range b.consoleProblems() {
		if !strings.Contains(p, "404") || !strings.Contains(p, "/_cws/") {
			t.Errorf("console: %s", p)
		}
		if strings.Contains(p, "/_cws/deadletters") {
			notes++
		}
	}
	if notes != 1 {
		t.Errorf("the browser noted %d 404s of /_cws/deadletters, want 1: %q", notes, b.consoleProblems())
	}
}

// TestAdminDashboardBehindAStage: deployed behind an API Gateway stage, the
// page is /dev/admin and the service's paths are under /dev; API Gateway
// answers anything else 403 "Missing Authentication Token". The dashboard
// finds the prefix and calls the routes, the profiler and try-it under it.
func TestAdminDashboardBehindAStage(t *testing.T) {
	app, err := runtime.New(plain{}, runtime.WithBlueprint("/admin", admin.New()), runtime.WithBlueprint("/profiler", profiler.New()),
		runtime.WithAuthorizer(runtime.TokenAuthorizer(testutil.Token)), runtime.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}
	service := cwshttp.NewHandler(app)
	var outside sync.Map // paths asked outside the stage
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rest, ok := strings.CutPrefix(r.URL.Path, "/dev/"); ok {
			r2 := r.Clone(r.Context())
			r2.URL.Path, r2.URL.RawPath = "/"+rest, ""
			service.ServeHTTP(w, r2)
			return
		}
		outside.Store(r.URL.Path, true)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, `{"message":"Missing Authentication Token"}`)
	}))
	defer srv.Close()
	b := newBrowser(t)
	b.do("opening /dev/admin", chromedp.Navigate(srv.URL+"/dev/admin"), chromedp.WaitVisible(chromedp.CSS("#signin")),
		chromedp.SetValue(chromedp.CSS("#token"), testutil.Token), chromedp.Click(chromedp.CSS("#signin-form button[type=submit]")))
	waitJS[bool](b, "the dashboard", `document.body.hasAttribute('data-ready')`)

	// Try it: GET /hello, sent to /dev/hello.
	form := `form[data-route="GET /hello"]`
	b.do("opening try it of GET /hello", chromedp.Click(chromedp.CSS(`tr[data-route="GET /hello"] button.try-open`)),
		chromedp.WaitVisible(chromedp.CSS(form)))
	b.do("sending it", chromedp.Click(chromedp.CSS(form+` button[type=submit]`)))
	status := waitJS[string](b, "the answer", `document.querySelector('`+form+` .answer [data-status]')?.dataset.status`)
	if text := eval[string](b, `document.querySelector('`+form+` .answer pre').textContent`); status != "200" || !strings.Contains(text, "hello") {
		t.Errorf("try-it answered %s %q", status, text)
	}
	// The profiler's invocations show the call, read under /dev too.
	waitJS[bool](b, "the invocations", `!document.getElementById('invocations').hidden && document.getElementById('invocations').textContent.includes('/hello')`)
	if eval[bool](b, `!document.getElementById('signin').hidden`) {
		t.Error("the page asked for the token again")
	}
	outside.Range(func(k, _ any) bool {
		if k != "/favicon.ico" {
			t.Errorf("the dashboard asked %s, outside the stage", k)
		}
		return true
	})
}
