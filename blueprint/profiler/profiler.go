// Package profiler is a blueprint that profiles the service it is mounted
// in: Go's pprof profiles, which `go tool pprof` reads straight from its
// URLs, and per-entry timings measured by its middleware.
//
//	cws.Main(&CRUD{}, runtime.WithBlueprint("/profiler", profiler.New()))
//	go tool pprof -http=: -H "Authorization: $TOKEN" ... # or curl it
//	curl -H "Authorization: $TOKEN" localhost:8080/profiler/timings
//	curl -H "Authorization: $TOKEN" localhost:8080/profiler/invocations
package profiler

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/bits"
	goruntime "runtime"
	"runtime/pprof"
	"runtime/trace"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coworks-go/cws/runtime"
)

// MaxSeconds bounds the duration of CPU profiles and traces.
const MaxSeconds = 300

// Profiler serves profiles and keeps per-entry timings. Mount it with
// runtime.WithBlueprint; the App installs its middleware with it.
type Profiler struct {
	mu      sync.RWMutex
	timings map[string]*timing
	started time.Time

	recentMu sync.Mutex
	recent   map[string]*ring // by door
}

// DevEndpoint makes it a developers' blueprint: served in stage dev, or
// where CWS_DEV_ENDPOINTS lists "profiler" (runtime.DevEndpoint).
func (p *Profiler) DevEndpoint() string { return "profiler" }

// New returns a profiler blueprint.
func New() *Profiler {
	return &Profiler{timings: map[string]*timing{}, started: time.Now(), recent: map[string]*ring{DoorHTTP: {}, DoorEvents: {}}}
}

// ConfigureEntries declares what the OpenAPI document says of the
// recordings: a 409 while another one runs, and the text a profile is with
// ?debug=1.
func (p *Profiler) ConfigureEntries(c *runtime.EntryConfig) {
	c.Entry((*Profiler).GetProfile, runtime.Status(409))
	c.Entry((*Profiler).GetTrace, runtime.Status(409))
	c.Entry((*Profiler).Get_, runtime.ContentType("application/octet-stream", "text/plain; charset=utf-8"))
}

// Get lists the profiles this blueprint serves.
func (p *Profiler) Get(ctx context.Context) string {
	var b bytes.Buffer
	b.WriteString("profiles (GET <prefix>/<name>; ?debug=1 for text):\n")
	for _, prof := range pprof.Profiles() {
		fmt.Fprintf(&b, "  %-14s %d\n", prof.Name(), prof.Count())
	}
	b.WriteString("  profile        CPU profile, ?seconds=30\n")
	b.WriteString("  trace          execution trace, ?seconds=1\n")
	b.WriteString("  timings        per-entry timings (DELETE resets them)\n")
	b.WriteString("  invocations    the last invocations per door\n")
	return b.String()
}

// SecondsQuery is the duration of a CPU profile or trace.
type SecondsQuery struct {
	// Seconds is how long to record (default 30 for a profile, 1 for a
	// trace; at most MaxSeconds).
	Seconds float64 `json:"seconds" jsonschema:"minimum=0,maximum=300"`
}

func (q *SecondsQuery) duration(def float64) (time.Duration, error) {
	s := q.Seconds
	if s == 0 {
		s = def
	}
	if s < 0 || s > MaxSeconds {
		return 0, runtime.BadRequest("seconds must be in (0, %d]", MaxSeconds)
	}
	return time.Duration(s * float64(time.Second)), nil
}

// record runs start, waits d (or until ctx is done) and runs stop.
func record(ctx context.Context, d time.Duration, start func() error, stop func()) error {
	if err := start(); err != nil {
		return runtime.Conflict("%v", err)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
	stop()
	return nil
}

// GetProfile records a CPU profile for ?seconds= (default 30).
func (p *Profiler) GetProfile(ctx context.Context, q SecondsQuery) ([]byte, error) {
	d, err := q.duration(30)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := record(ctx, d, func() error { return pprof.StartCPUProfile(&b) }, pprof.StopCPUProfile); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// GetTrace records an execution trace for ?seconds= (default 1).
func (p *Profiler) GetTrace(ctx context.Context, q SecondsQuery) ([]byte, error) {
	d, err := q.duration(1)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := record(ctx, d, func() error { return trace.Start(&b) }, trace.Stop); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// LookupQuery are the options of a named profile.
type LookupQuery struct {
	// Debug selects the text format (1 or 2) over the protobuf (0).
	Debug int `json:"debug"`
	// GC runs a garbage collection before a heap profile.
	GC bool `json:"gc"`
}

// Get_ answers the named profile: heap, allocs, goroutine, block, mutex,
// threadcreate, or any registered with runtime/pprof.
func (p *Profiler) Get_(ctx context.Context, name string, q LookupQuery) ([]byte, error) {
	prof := pprof.Lookup(name)
	if prof == nil {
		return nil, runtime.NotFound("no profile %q", name)
	}
	if q.GC && name == "heap" {
		goruntime.GC()
	}
	if q.Debug > 0 {
		runtime.ResponseHeader(ctx).Set("Content-Type", "text/plain; charset=utf-8")
	}
	var b bytes.Buffer
	if err := prof.WriteTo(&b, q.Debug); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Timing is what the profiler measured of one entry since it started (or
// was reset). Durations are in milliseconds; percentiles are upper bounds
// of power-of-two buckets.
type Timing struct {
	Method string `json:"method"`
	Path   string `json:"path"`
	Entry  string `json:"entry"`
	Count  int64  `json:"count"`
	// Errors counts the server errors (5xx), ClientErrors the refused
	// requests (4xx): a bad request is not the service failing.
	Errors       int64   `json:"errors"`
	ClientErrors int64   `json:"client_errors"`
	MeanMS       float64 `json:"mean_ms"`
	P50MS        float64 `json:"p50_ms"`
	P95MS        float64 `json:"p95_ms"`
	P99MS        float64 `json:"p99_ms"`
	MaxMS        float64 `json:"max_ms"`
}

// Timings is the answer of GET /timings.
type Timings struct {
	Since   time.Time `json:"since"`
	Entries []Timing  `json:"entries"`
}

// GetTimings answers the per-entry timings, by path and method.
func (p *Profiler) GetTimings(ctx context.Context) Timings {
	p.mu.RLock()
	out := Timings{Since: p.started, Entries: make([]Timing, 0, len(p.timings))}
	for _, t := range p.timings {
		out.Entries = append(out.Entries, t.snapshot())
	}
	p.mu.RUnlock()
	sort.Slice(out.Entries, func(i, j int) bool {
		a, b := out.Entries[i], out.Entries[j]
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		return a.Method < b.Method
	})
	return out
}

// DeleteTimings resets the timings and the last invocations.
func (p *Profiler) DeleteTimings(ctx context.Context) {
	p.mu.Lock()
	p.timings = map[string]*timing{}
	p.started = time.Now()
	p.mu.Unlock()
	p.recentMu.Lock()
	for door := range p.recent {
		p.recent[door] = &ring{}
	}
	p.recentMu.Unlock()
}

// The doors the last invocations are kept by.
const (
	// DoorHTTP is the requests of the HTTP doors.
	DoorHTTP = "http"
	// DoorEvents is the calls the program makes itself, which the doors
	// mark authorized: the entries the CloudEvents doors call (invocation
	// events, reactors, workflow tasks).
	DoorEvents = "events"
)

// RecentInvocations is how many invocations GET /invocations keeps per
// door.
const RecentInvocations = 50

// Invocation is one routed request the profiler timed.
type Invocation struct {
	// At is when the request arrived.
	At time.Time `json:"at"`
	// Door is DoorHTTP or DoorEvents.
	Door string `json:"door"`
	// Method is the request's method.
	Method string `json:"method"`
	// Target is the request's path and query; Path the route's template.
	Target string `json:"target"`
	Path   string `json:"path"`
	// Entry is the entry's name (blueprint.Method for a blueprint's).
	Entry string `json:"entry"`
	// Status is the answer's status.
	Status int `json:"status"`
	// DurationMS is how long the answer took, in milliseconds.
	DurationMS float64 `json:"duration_ms"`
}

// ring keeps the last RecentInvocations invocations.
type ring struct {
	buf  [RecentInvocations]Invocation
	next int
	n    int
}

func (r *ring) add(inv Invocation) {
	r.buf[r.next] = inv
	r.next = (r.next + 1) % len(r.buf)
	r.n = min(r.n+1, len(r.buf))
}

// newestFirst returns the kept invocations, the newest first.
func (r *ring) newestFirst() []Invocation {
	out := make([]Invocation, r.n)
	for i := range out {
		out[i] = r.buf[(r.next-1-i+2*len(r.buf))%len(r.buf)]
	}
	return out
}

// GetInvocations answers the last invocations (at most
// RecentInvocations) of each door, "http" and "events", the newest first.
func (p *Profiler) GetInvocations(ctx context.Context) map[string][]Invocation {
	p.recentMu.Lock()
	defer p.recentMu.Unlock()
	out := make(map[string][]Invocation, len(p.recent))
	for door, r := range p.recent {
		out[door] = r.newestFirst()
	}
	return out
}

// Middleware times every routed request by entry; a 5xx answer counts as an
// error, a 4xx as a client error. It keeps the last invocations by door.
func (p *Profiler) Middleware(next runtime.Handler) runtime.Handler {
	return runtime.HandlerFunc(func(ctx context.Context, req *runtime.Request) *runtime.Response {
		start := time.Now()
		resp := next.Serve(ctx, req)
		if req.Route != nil {
			d := time.Since(start)
			t := p.timingOf(req.Route)
			t.observe(d, resp.Status)
			p.remember(req, t.entry, start, d, resp.Status)
		}
		return resp
	})
}

// remember keeps an invocation among the last ones of its door.
func (p *Profiler) remember(req *runtime.Request, entry string, start time.Time, d time.Duration, status int) {
	door := DoorHTTP
	if req.Authorized {
		door = DoorEvents
	}
	target := req.Path
	switch {
	case len(req.Query) > 0:
		// API Gateway REST events hand the query over decoded.
		target += "?" + req.Query.Encode()
	case req.RawQuery != "":
		target += "?" + req.RawQuery
	}
	inv := Invocation{At: start.UTC(), Door: door, Method: req.Method, Target: target, Path: req.Route.Path, Entry: entry,
		Status: status, DurationMS: math.Round(float64(d)/1e3) / 1e3}
	p.recentMu.Lock()
	p.recent[door].add(inv)
	p.recentMu.Unlock()
}

func (p *Profiler) timingOf(r *runtime.Route) *timing {
	key := r.Method + " " + r.Path
	p.mu.RLock()
	t := p.timings[key]
	p.mu.RUnlock()
	if t != nil {
		return t
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if t = p.timings[key]; t == nil {
		t = &timing{method: r.Method, path: r.Path, entry: r.Entry}
		if r.Blueprint != "" {
			t.entry = r.Blueprint + "." + r.Entry
		}
		p.timings[key] = t
	}
	return t
}

// numBuckets power-of-two buckets of nanoseconds cover up to ~9 minutes.
const numBuckets = 40

type timing struct {
	method, path, entry string
	count, errors       atomic.Int64
	clientErrors        atomic.Int64
	total, max          atomic.Int64
	buckets             [numBuckets]atomic.Int64
}

func (t *timing) observe(d time.Duration, status int) {
	ns := max(int64(d), 1)
	t.count.Add(1)
	switch {
	case status >= 500:
		t.errors.Add(1)
	case status >= 400:
		t.clientErrors.Add(1)
	}
	t.total.Add(ns)
	for {
		m := t.max.Load()
		if ns <= m || t.max.CompareAndSwap(m, ns) {
			break
		}
	}
	t.buckets[min(bits.Len64(uint64(ns)), numBuckets-1)].Add(1)
}

func (t *timing) snapshot() Timing {
	s := Timing{Method: t.method, Path: t.path, Entry: t.entry, Count: t.count.Load(), Errors: t.errors.Load(), ClientErrors: t.clientErrors.Load()}
	if s.Count == 0 {
		return s
	}
	ms := func(ns float64) float64 { return math.Round(ns/1e3) / 1e3 }
	s.MeanMS = ms(float64(t.total.Load()) / float64(s.Count))
	s.MaxMS = ms(float64(t.max.Load()))
	var counts [numBuckets]int64
	var n int64
	for i := range counts {
		counts[i] = t.buckets[i].Load()
		n += counts[i]
	}
	quantile := func(q float64) float64 {
		rank := int64(math.Ceil(q * float64(n)))
		var seen int64
		for i, c := range counts {
			seen += c
			if seen >= rank {
				// Bucket i holds durations below 2^i ns.
				return ms(math.Min(math.Ldexp(1, i), float64(t.max.Load())))
			}
		}
		return s.MaxMS
	}
	s.P50MS, s.P95MS, s.P99MS = quantile(.5), quantile(.95), quantile(.99)
	return s
}
