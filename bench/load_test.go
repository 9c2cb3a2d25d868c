package bench

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/coworks-go/cws/async"
	"github.com/coworks-go/cws/runtime"
	cwshttp "github.com/coworks-go/cws/transport/http"
)

// The load test drives real servers on loopback with wrk, Debian's load
// generator: cws's local server (transport/http with the async doors'
// endpoints, as cws run serves) against a hand-written net/http +
// encoding/json server doing the same work. It asserts correctness (no
// error, no lost event, the same answers) and reports the ratios; the
// speed targets are figures in docs/benchmarks.md, not assertions.
//
// EnvWrk says where wrk is (the Makefile sets it); LOAD_DURATION,
// LOAD_ROUNDS, LOAD_THREADS and LOAD_CONNECTIONS change the run; the
// figures go to LOAD_RESULTS (default load.txt, beside results.txt).
const (
	EnvWrk = "WRK"

	// postBody is the item the JSON POST sends, and gets back.
	postBody = `{"name":"widget","qty":3,"price":9.5,"tags":["a","b"]}`
)

// mixScript sends, by turns, the benchmarked GET and the JSON POST.
const mixScript = `
local n = 0
local get, post
function init(args)
  get = wrk.format("GET", "` + target + `", {["Authorization"] = "` + token + `"})
  post = wrk.format("POST", "/items", {["Authorization"] = "` + token + `", ["Content-Type"] = "application/json"}, '` + postBody + `')
end
function request()
  n = n + 1
  if n % 2 == 0 then return post end
  return get
end
`

// eventsScript posts one cws.invoke CloudEvent (binary mode) per request to
// POST /_cws/events, invoking POST /marks with the event's id in the body.
// Each thread numbers its events: the ids are "thread-counter", unique.
const eventsScript = `
local threads = 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end
counter = 0
function request()
  counter = counter + 1
  local id = tid .. "-" .. counter
  local headers = {
    ["Authorization"] = "` + token + `",
    ["Content-Type"] = "application/json",
    ["ce-specversion"] = "1.0",
    ["ce-id"] = id,
    ["ce-source"] = "cws/load",
    ["ce-type"] = "cws.invoke",
    ["ce-subject"] = "POST /marks",
  }
  return wrk.format("POST", "` + async.EventsPath + `", headers, '{"id":"' .. id .. '"}')
end
`

// wrkPath finds wrk: $WRK, else wrk on the PATH. A missing wrk fails the
// test with how to install it.
func wrkPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv(EnvWrk); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s=%s: %v (make wrk installs Debian's wrk)", EnvWrk, p, err)
		}
		return p
	}
	p, err := exec.LookPath("wrk")
	if err != nil {
		t.Fatalf("wrk is not installed: make wrk (apt-get install wrk), or set %s to it", EnvWrk)
	}
	return p
}

// loadConfig is how hard and how long the load test drives the servers.
type loadConfig struct {
	duration             time.Duration
	rounds               int
	threads, connections int
}

func loadConfigFromEnv(t *testing.T) loadConfig {
	t.Helper()
	c := loadConfig{duration: 4 * time.Second, rounds: 5, threads: 2, connections: 32}
	if raceEnabled {
		// Under the race detector the figures mean nothing: one short
		// round checks the answers; make unit runs it again without.
		c.duration, c.rounds = time.Second, 1
	}
	if v := os.Getenv("LOAD_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("LOAD_DURATION: %v", err)
		}
		c.duration = d
	}
	for env, dst := range map[string]*int{"LOAD_ROUNDS": &c.rounds, "LOAD_THREADS": &c.threads, "LOAD_CONNECTIONS": &c.connections} {
		if v := os.Getenv(env); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				t.Fatalf("%s=%q: not a positive integer", env, v)
			}
			*dst = n
		}
	}
	return c
}

// wrkResult is what one wrk run reports.
type wrkResult struct {
	requests     int
	perSecond    float64
	p50, p99     time.Duration
	non2xx       int
	socketErrors int
}

var (
	wrkRequests  = regexp.MustCompile(`(?m)^\s*(\d+) requests in `)
	wrkPerSecond = regexp.MustCompile(`(?m)^Requests/sec:\s+([0-9.]+)`)
	wrkPercent   = regexp.MustCompile(`(?m)^\s+(50|99)%\s+([0-9.]+[a-z]+)`)
	wrkNon2xx    = regexp.MustCompile(`(?m)^\s*Non-2xx or 3xx responses:\s+(\d+)`)
	wrkSocket    = regexp.MustCompile(`(?m)^\s*Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
)

// parseWrk reads wrk --latency's report.
func parseWrk(out string) (wrkResult, error) {
	var r wrkResult
	m := wrkRequests.FindStringSubmatch(out)
	if m == nil {
		return r, errors.New("no request count in wrk's report")
	}
	r.requests, _ = strconv.Atoi(m[1])
	if m = wrkPerSecond.FindStringSubmatch(out); m == nil {
		return r, errors.New("no Requests/sec in wrk's report")
	}
	r.perSecond, _ = strconv.ParseFloat(m[1], 64)
	for _, m := range wrkPercent.FindAllStringSubmatch(out, -1) {
		d, err := time.ParseDuration(m[2])
		if err != nil {
			return r, fmt.Errorf("wrk's %s%% latency: %w", m[1], err)
		}
		if m[1] == "50" {
			r.p50 = d
		} else {
			r.p99 = d
		}
	}
	if r.p99 == 0 {
		return r, errors.New("no latency distribution in wrk's report (--latency)")
	}
	if m = wrkNon2xx.FindStringSubmatch(out); m != nil {
		r.non2xx, _ = strconv.Atoi(m[1])
	}
	if m = wrkSocket.FindStringSubmatch(out); m != nil {
		for _, s := range m[1:] {
			n, _ := strconv.Atoi(s)
			r.socketErrors += n
		}
	}
	return r, nil
}

// runWrk runs wrk with script against base for d.
func runWrk(t *testing.T, wrk, script, base string, c loadConfig, d time.Duration) wrkResult {
	t.Helper()
	r, err := wrkRun(wrk, script, t.TempDir(), base, c, d)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// wrkRun runs wrk with script (written into dir) against base for d, and
// reads its report.
func wrkRun(wrk, script, dir, base string, c loadConfig, d time.Duration) (wrkResult, error) {
	path := filepath.Join(dir, "load.lua")
	if err := os.WriteFile(path, []byte(script), 0o600); err != nil {
		return wrkResult{}, err
	}
	cmd := exec.Command(wrk, "-t", strconv.Itoa(c.threads), "-c", strconv.Itoa(c.connections),
		"-d", strconv.Itoa(max(1, int(d.Seconds())))+"s", "--latency", "-s", path, base)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return wrkResult{}, fmt.Errorf("%s: %w\n%s", cmd, err, out)
	}
	r, err := parseWrk(string(out))
	if err != nil {
		return r, fmt.Errorf("%w:\n%s", err, out)
	}
	return r, nil
}

// serve serves h on a loopback port until the test ends, as cws run does
// (transport/http's ListenAndServe) when cwsServer, else with a bare
// http.Server; it returns the base URL.
func serve(t *testing.T, h http.Handler, cwsServer bool) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var base string
	if cwsServer {
		ready := make(chan string, 1)
		go func() {
			done <- cwshttp.ListenAndServe(ctx, "127.0.0.1:0", h, cwshttp.WithLogger(quietLogger()),
				cwshttp.WithReady(func(a net.Addr) { ready <- "http://" + a.String() }))
		}()
		select {
		case base = <-ready:
		case err := <-done:
			t.Fatal(err)
		}
	} else {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
		go func() { done <- srv.Serve(ln) }()
		go func() { <-ctx.Done(); _ = srv.Close() }()
		base = "http://" + ln.Addr().String()
	}
	t.Cleanup(func() { cancel(); <-done })
	return base
}

// handWrittenServer is the floor of the load test: the benchmarked GET and
// the JSON POST written by hand on http.ServeMux and encoding/json, with
// the checks of the input that cws makes (sameInputChecks): the body's
// JSON, and its arrival bounded as cws bounds it (a minute from the
// handler's start, lifted once the body is read, so that a slow client
// cannot hold the handler and a long handler is not cut off); or without
// them: the bare floor, which takes a body with invalid UTF-8 (changed
// without a word), unknown fields or data after the JSON value, as slowly
// as it comes.
func handWrittenServer() http.Handler { return handWrittenServerChecking(true) }

// handWrittenServerChecking is handWrittenServer, with sameInputChecks or
// without.
func handWrittenServerChecking(sameInputChecks bool) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /items/{id}", handWritten(func(r *http.Request, name string) string { return r.PathValue(name) }))
	want := []byte(token)
	mux.HandleFunc("POST /items", func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			http.Error(w, "the token is refused", http.StatusForbidden)
			return
		}
		var in Item
		body := io.Reader(http.MaxBytesReader(w, r.Body, runtime.DefaultMaxBodyBytes))
		if sameInputChecks {
			// A writer without a connection (the in-process benchmark's)
			// has no deadline to set, as for cws.
			rc := http.NewResponseController(w)
			bounded := rc.SetReadDeadline(time.Now().Add(time.Minute)) == nil
			b, err := io.ReadAll(body)
			if bounded {
				_ = rc.SetReadDeadline(time.Time{})
			}
			// What cws refuses of a JSON body: invalid UTF-8, null, unknown
			// fields, data after the value.
			if err != nil || !utf8.Valid(b) || string(bytes.TrimSpace(b)) == "null" {
				http.Error(w, "not an item", http.StatusBadRequest)
				return
			}
			dec := json.NewDecoder(bytes.NewReader(b))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&in); err != nil {
				http.Error(w, "not an item", http.StatusBadRequest)
				return
			}
			if _, err := dec.Token(); err != io.EOF {
				http.Error(w, "data after the item", http.StatusBadRequest)
				return
			}
		} else if err := json.NewDecoder(body).Decode(&in); err != nil {
			http.Error(w, "not an item", http.StatusBadRequest)
			return
		}
		out, err := json.Marshal(in)
		if err != nil {
			http.Error(w, "", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(out)
	})
	return mux
}

// answer is a status and a body, as a server gave them.
type answer struct {
	status int
	body   string
}

func call(t *testing.T, method, url, body string) answer {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{resp.StatusCode, strings.TrimSpace(string(b))}
}

// sameRefusals checks what "the same work" means for the JSON POST: cws
// and the hand-written server refuse the bodies cws refuses (4xx), where
// the bare one takes them.
func sameRefusals(t *testing.T, bases map[string]string) {
	t.Helper()
	for _, body := range []string{
		"{\"name\":\"w\xffidget\"}",       // invalid UTF-8
		`{"name":"widget","color":"red"}`, // an unknown field
		`{"name":"widget"} {}`,            // data after the value
		`null`,
	} {
		for name, base := range bases {
			got := call(t, "POST", base+"/items", body)
			if refused := got.status >= 400 && got.status < 500; refused == (name == "bare") {
				t.Errorf("%s answered %d to %q: want a refusal from cws and nethttp, none from bare", name, got.status, body)
			}
		}
	}
}

// sameAnswers checks that both servers answer the load's two requests
// alike, and rightly.
func sameAnswers(t *testing.T, bases map[string]string) {
	t.Helper()
	want := map[string]answer{"GET": {200, wantBody}, "POST": {200, postBody}}
	for name, base := range bases {
		for method, w := range want {
			url, body := base+target, ""
			if method == "POST" {
				url, body = base+"/items", postBody
			}
			if got := call(t, method, url, body); got != w {
				t.Errorf("%s %s: %d %s, want %d %s", name, method, got.status, got.body, w.status, w.body)
			}
		}
	}
}

func median[T int | float64 | time.Duration](xs []T) T {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// TestLoad runs wrk against cws's local server and the hand-written one,
// interleaved, then against the async door; it asserts no error, no lost
// event and the same answers, and reports the ratios.
func TestLoad(t *testing.T) {
	wrk := wrkPath(t)
	c := loadConfigFromEnv(t)
	bases := map[string]string{
		"cws":     serve(t, cwshttp.NewHandler(cwsApp(t)), true),
		"nethttp": serve(t, handWrittenServer(), false),
		"bare":    serve(t, handWrittenServerChecking(false), false),
	}
	sameAnswers(t, bases)
	sameRefusals(t, bases)
	perSecond := map[string][]float64{}
	p99 := map[string][]time.Duration{}
	order := []string{"cws", "nethttp", "bare"}
	for round := range c.rounds {
		for _, name := range order {
			r := runWrk(t, wrk, mixScript, bases[name], c, c.duration)
			t.Logf("round %d %s: %d requests, %.0f req/s, p50 %v, p99 %v", round+1, name, r.requests, r.perSecond, r.p50, r.p99)
			if r.non2xx != 0 || r.socketErrors != 0 || r.requests == 0 {
				t.Errorf("%s: %d requests, %d non-2xx, %d socket errors", name, r.requests, r.non2xx, r.socketErrors)
			}
			perSecond[name] = append(perSecond[name], r.perSecond)
			p99[name] = append(p99[name], r.p99)
		}
		slices.Reverse(order)
	}
	sameAnswers(t, bases)
	ev := loadEvents(t, wrk, c, c.duration)

	report := fmt.Sprintf("load: wrk -t%d -c%d, %d rounds of %v, GET %s and POST /items by turns (medians)\n",
		c.threads, c.connections, c.rounds, c.duration, target)
	for _, name := range []string{"cws", "nethttp", "bare"} {
		report += fmt.Sprintf("  %-8s %9.0f req/s  p99 %v\n", name, median(perSecond[name]), median(p99[name]))
	}
	// The ratios are taken round by round, each of two runs back to
	// back, then their median: drift on a shared machine cancels out.
	ratios := func(peer string) (throughput, latency float64) {
		var rps, lat []float64
		for i := range c.rounds {
			rps = append(rps, perSecond["cws"][i]/perSecond[peer][i])
			lat = append(lat, float64(p99["cws"][i])/float64(p99[peer][i]))
		}
		return median(rps), median(lat)
	}
	rps, lat := ratios("nethttp")
	report += fmt.Sprintf("  ratio cws/nethttp (median of the rounds' ratios): throughput %.2fx (target >= 0.95x), p99 %.2fx (target <= 1.2x)\n", rps, lat)
	rps, lat = ratios("bare")
	report += fmt.Sprintf("  ratio cws/bare, the hand-written server without cws's checks of the input: throughput %.2fx, p99 %.2fx\n", rps, lat)
	report += fmt.Sprintf("async door: %d events accepted by POST %s (%.0f req/s, p99 %v), %d reached the entry (%.0f events/s), 0 lost, 0 twice; acceptance->entry p50 %v, p99 %v\n",
		ev.accepted, async.EventsPath, ev.acceptPerSecond, ev.acceptP99, ev.accepted, ev.perSecond, ev.p50, ev.p99)
	if raceEnabled {
		report += "(race detector on: the figures mean nothing)\n"
	}
	t.Log("\n" + report)
	out := os.Getenv("LOAD_RESULTS")
	if out == "" {
		out = "load.txt"
	}
	if err := os.WriteFile(out, []byte(report), 0o644); err != nil {
		t.Error(err)
	}
}

// eventsFigures is what the async door's load measured.
type eventsFigures struct {
	accepted        int
	acceptPerSecond float64
	acceptP99       time.Duration
	perSecond       float64
	p50, p99        time.Duration
}

// marks is what the async door's load records: when the door accepted each
// event id (the request reached POST /_cws/events and was answered 202) and
// when the entry ran with it.
type marks struct {
	mu        sync.Mutex
	accepted  map[string]time.Time
	arrived   map[string]time.Time
	twice     []string
	keep      bool // keep the ids and times; without, only count (the soak)
	nArrived  int
	nAccepted int
}

func newMarks(keep bool) *marks {
	return &marks{accepted: map[string]time.Time{}, arrived: map[string]time.Time{}, keep: keep}
}

func (m *marks) arrive(id string, at time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.nArrived++
	if !m.keep {
		return
	}
	if _, ok := m.arrived[id]; ok {
		m.twice = append(m.twice, id)
		return
	}
	m.arrived[id] = at
}

// statusWriter remembers the status a handler answered.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// asyncServer serves the Sink service as cws run does with the async doors
// (the in-memory queue and its consumer beside the local server), POST
// /_cws/events wrapped to note when each event arrived and whether it was
// accepted.
func asyncServer(t *testing.T, m *marks) string {
	t.Helper()
	doors := async.Doors()
	app, err := runtime.New(Sink{Arrived: m.arrive}, runtime.WithAuthorizer(runtime.TokenAuthorizer(token)),
		runtime.WithLogger(quietLogger()), doors)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ld, err := doors.Local(ctx, app)
	if err != nil {
		t.Fatal(err)
	}
	var hopts []cwshttp.HandlerOption
	for path, h := range ld.Endpoints {
		if path == async.EventsPath {
			inner := h
			h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				at := time.Now()
				sw := &statusWriter{ResponseWriter: w}
				inner.ServeHTTP(sw, r)
				if sw.status == http.StatusAccepted {
					m.mu.Lock()
					m.nAccepted++
					if m.keep {
						m.accepted[r.Header.Get("ce-id")] = at
					}
					m.mu.Unlock()
				}
			})
		}
		hopts = append(hopts, cwshttp.WithEndpoint(path, h))
	}
	ran := make(chan error, 1)
	go func() { ran <- ld.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-ran; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("the async door: %v", err)
		}
	})
	return serve(t, cwshttp.NewHandler(app, hopts...), true)
}

// loadEvents drives the async door with wrk for d, waits until every
// accepted event reached the entry, and checks none is lost or counted
// twice.
func loadEvents(t *testing.T, wrk string, c loadConfig, d time.Duration) eventsFigures {
	t.Helper()
	m := newMarks(true)
	base := asyncServer(t, m)
	r := runWrk(t, wrk, eventsScript, base, c, d)
	if r.non2xx != 0 || r.socketErrors != 0 || r.requests == 0 {
		t.Errorf("POST %s: %d requests, %d non-2xx, %d socket errors", async.EventsPath, r.requests, r.non2xx, r.socketErrors)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		m.mu.Lock()
		accepted, arrived := len(m.accepted), m.nArrived
		m.mu.Unlock()
		if arrived >= accepted || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.accepted) < r.requests {
		t.Errorf("the door accepted %d events, wrk had %d answered", len(m.accepted), r.requests)
	}
	var lost []string
	var first, last time.Time
	lat := make([]time.Duration, 0, len(m.accepted))
	for id, at := range m.accepted {
		got, ok := m.arrived[id]
		if !ok {
			lost = append(lost, id)
			continue
		}
		lat = append(lat, got.Sub(at))
		if first.IsZero() || at.Before(first) {
			first = at
		}
		if got.After(last) {
			last = got
		}
	}
	if len(lost) > 0 {
		t.Errorf("%d of %d accepted events never reached the entry, e.g. %q", len(lost), len(m.accepted), lost[0])
	}
	if len(m.twice) > 0 {
		t.Errorf("%d events reached the entry twice, e.g. %q", len(m.twice), m.twice[0])
	}
	if n := len(m.arrived) - len(m.accepted) + len(lost); n > 0 {
		t.Errorf("%d events reached the entry that the door did not accept", n)
	}
	if len(lat) == 0 {
		t.Fatal("no event reached the entry")
	}
	slices.Sort(lat)
	return eventsFigures{
		accepted:        len(m.accepted),
		acceptPerSecond: r.perSecond,
		acceptP99:       r.p99,
		perSecond:       float64(len(lat)) / last.Sub(first).Seconds(),
		p50:             lat[len(lat)/2],
		p99:             lat[len(lat)*99/100],
	}
}
