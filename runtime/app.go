// Package runtime turns Go structs into microservices: their exported
// methods named after HTTP verbs are entries, routed, bound, authorized and
// answered the same way whatever door a request comes through.
//
// A service is any struct (passed by pointer); its methods whose names start
// with Get, Post, Put, Patch, Delete, Options or Head and take a
// context.Context first are its entries:
//
//	func (s *CRUD) GetServiceTest(ctx context.Context) string        // GET /service/test
//	func (s *CRUD) Get_(ctx context.Context, id int) (Item, error)   // GET /{id}
//	func (s *CRUD) Post(ctx context.Context, in ItemInput) (Item, error) // POST /
//
// Parameters after the context are path segments; a final struct or map
// parameter takes the keyword parameters, from the query string for GET and
// HEAD and from the body otherwise. New builds an App from a service; its
// Serve method is the one dispatch path every door goes through:
// transport/http, transport/lambda, and the invocation events of
// events/invoke. The code cws gen writes calls package runtime/cwsgen.
package runtime

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"reflect"
	"sort"
	"strings"

	"github.com/coworks-go/cws/internal/panics"
	"github.com/coworks-go/cws/runtime/cwsgen"
)

// DefaultMaxBodyBytes is the default limit on request bodies: 6 MiB, the
// payload limit of a synchronous Lambda invocation.
const DefaultMaxBodyBytes = 6 << 20

// DefaultStage is the stage when neither WithStage nor CWS_STAGE gives one.
const DefaultStage = "dev"

// Handler serves a routed request. The App's terminal handler invokes the
// matched entry; middleware wraps it.
type Handler interface {
	Serve(ctx context.Context, req *Request) *Response
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, req *Request) *Response

// Serve calls f.
func (f HandlerFunc) Serve(ctx context.Context, req *Request) *Response { return f(ctx, req) }

// Middleware wraps a Handler. It sees every request after routing:
// req.Route is the matched entry, or nil when none matched.
type Middleware func(next Handler) Handler

// MiddlewareProvider is implemented by blueprints that come with middleware
// (e.g. the profiler's timings); the App installs it with the blueprint.
type MiddlewareProvider interface {
	Middleware(next Handler) Handler
}

// DevEndpoint is implemented by blueprints that serve developers (the
// admin pages, the profiler): their routes exist only in the stages that
// expose them, where env CWS_DEV_ENDPOINTS lists their name (comma
// separated; "none" for none) or, when it is not set, in stage dev.
// Elsewhere they are listed as not in the stage and answer 404.
type DevEndpoint interface {
	DevEndpoint() string
}

// EnvDevEndpoints lists the developers' blueprints a stage exposes.
const EnvDevEndpoints = "CWS_DEV_ENDPOINTS"

// DevEndpointOn reports whether the developers' blueprint name is exposed
// in stage (see DevEndpoint).
func DevEndpointOn(name, stage string) bool {
	list, set := os.LookupEnv(EnvDevEndpoints)
	if !set {
		return stage == DefaultStage
	}
	for _, n := range strings.Split(list, ",") {
		if strings.TrimSpace(n) == name {
			return true
		}
	}
	return false
}

// Authorizer decides whether a token (the Authorization header) may call
// guarded entries. A false answer is a 403, an error a 500.
type Authorizer interface {
	Authorize(ctx context.Context, token string) (bool, error)
}

// AuthorizerFunc adapts a function to Authorizer.
type AuthorizerFunc func(ctx context.Context, token string) (bool, error)

// Authorize calls f.
func (f AuthorizerFunc) Authorize(ctx context.Context, token string) (bool, error) {
	return f(ctx, token)
}

// TokenAuthorizer accepts exactly the given token, compared in constant
// time. An empty token accepts nothing.
func TokenAuthorizer(token string) Authorizer {
	want := []byte(token)
	return AuthorizerFunc(func(_ context.Context, got string) (bool, error) {
		return len(want) > 0 && subtle.ConstantTimeCompare([]byte(got), want) == 1, nil
	})
}

// Option configures an App. The options of this package change the App;
// an option of another package embeds EmptyOption and is read by what
// serves the App (cws.Main takes its doors among the options).
type Option interface {
	apply(*options)
}

// optionFunc is an Option of this package.
type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

// EmptyOption is an Option that changes nothing in the App: embed it in an
// option type of another package, which New passes over and that package
// reads from the same list (as gRPC's EmptyServerOption).
type EmptyOption struct{}

func (EmptyOption) apply(*options) {}

type options struct {
	name       string
	stage      string
	blueprints []blueprint
	auth       Authorizer
	maxBody    int64
	logger     *slog.Logger
	middleware []Middleware
	cors       *CORS
}

type blueprint struct {
	prefix string
	recv   any
}

// WithName names the service (default: its type name, lower-cased).
func WithName(name string) Option { return optionFunc(func(o *options) { o.name = name }) }

// WithStage sets the stage (default: env CWS_STAGE, else "dev").
func WithStage(stage string) Option { return optionFunc(func(o *options) { o.stage = stage }) }

// WithBlueprint mounts the entries of bp under the URL prefix. The routes
// carry the blueprint's name: its type name, lower-cased.
func WithBlueprint(prefix string, bp any) Option {
	return optionFunc(func(o *options) { o.blueprints = append(o.blueprints, blueprint{prefix, bp}) })
}

// WithAuthorizer sets the authorizer of guarded entries. Without it, a
// service that implements Authorizer authorizes itself; otherwise the
// Authorization header must equal env TOKEN.
func WithAuthorizer(a Authorizer) Option { return optionFunc(func(o *options) { o.auth = a }) }

// WithMaxBodyBytes sets the request body limit (default 6 MiB); a larger
// body is a 413.
func WithMaxBodyBytes(n int64) Option { return optionFunc(func(o *options) { o.maxBody = n }) }

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return optionFunc(func(o *options) { o.logger = l }) }

// WithMiddleware adds middleware, outermost first.
func WithMiddleware(mw ...Middleware) Option {
	return optionFunc(func(o *options) { o.middleware = append(o.middleware, mw...) })
}

// App is a service with its blueprints, ready to serve requests from any
// door. It is safe for concurrent use.
type App struct {
	name     string
	stage    string
	service  any
	entries  []*entry
	router   router
	handler  Handler
	auth     Authorizer
	maxBody  int64
	log      *slog.Logger
	warnings []string
	// cors says some entry has a CORS policy; corsPolicy is the service's
	// (nil: none), which answers the requests no entry serves.
	cors       bool
	corsPolicy *CORS
}

// New builds the App of a service. It fails, naming the method, when an
// entry has a signature the runtime cannot serve, when two entries have the
// same route, or when entry options are wrong.
func New(service any, opts ...Option) (*App, error) {
	o := options{maxBody: DefaultMaxBodyBytes}
	for _, opt := range opts {
		if opt != nil {
			opt.apply(&o)
		}
	}
	if service == nil {
		return nil, errors.New("runtime.New: nil service")
	}
	a := &App{service: service, maxBody: o.maxBody, log: o.logger}
	if a.log == nil {
		a.log = slog.Default()
	}
	a.name = o.name
	if a.name == "" {
		a.name = strings.ToLower(baseTypeName(reflect.TypeOf(service)))
	}
	a.stage = o.stage
	if a.stage == "" {
		a.stage = os.Getenv("CWS_STAGE")
	}
	if a.stage == "" {
		a.stage = DefaultStage
	}

	a.auth = o.auth
	if a.auth == nil {
		if sa, ok := service.(Authorizer); ok {
			a.auth = sa
		} else {
			token := os.Getenv("TOKEN")
			if token == "" {
				a.warnings = append(a.warnings, "env TOKEN is empty: every guarded entry answers 403")
			}
			a.auth = TokenAuthorizer(token)
		}
	}

	mounts := append([]blueprint{{"", service}}, o.blueprints...)
	var mws []Middleware
	for i, m := range mounts {
		name := ""
		if i > 0 {
			if !strings.HasPrefix(m.prefix, "/") || strings.ContainsAny(m.prefix, "{}") {
				return nil, fmt.Errorf("blueprint %T: prefix %q must start with / and have no parameters", m.recv, m.prefix)
			}
			name = strings.ToLower(baseTypeName(reflect.TypeOf(m.recv)))
		}
		// A developers' blueprint off in this stage has its routes listed,
		// not served, and brings no middleware.
		off := false
		if de, ok := m.recv.(DevEndpoint); ok && i > 0 {
			off = !DevEndpointOn(de.DevEndpoint(), a.stage)
		}
		if mp, ok := m.recv.(MiddlewareProvider); ok && i > 0 && !off {
			mws = append(mws, mp.Middleware)
		}
		entries, warnings, err := buildEntries(m.recv, m.prefix, name, a.stage)
		if err != nil {
			return nil, err
		}
		a.warnings = append(a.warnings, warnings...)
		for _, e := range entries {
			if off {
				e.Active = false
			}
			if e.Active {
				if err := a.router.add(e); err != nil {
					return nil, err
				}
			}
		}
		a.entries = append(a.entries, entries...)
	}
	if len(a.entries) == 0 {
		return nil, fmt.Errorf("%T has no entries: methods named like GetX(ctx context.Context, ...) are entries", service)
	}

	if o.cors != nil {
		if err := o.cors.check(); err != nil {
			return nil, err
		}
		a.corsPolicy, a.cors = o.cors, true
	}
	for _, e := range a.entries {
		switch {
		case e.noCORS:
		case e.ownCORS != nil:
			if err := e.ownCORS.check(); err != nil {
				return nil, fmt.Errorf("%s: %w", e.qualifiedName(), err)
			}
			e.cors = e.ownCORS
		default:
			e.cors = o.cors
		}
		e.Route.CORS = e.cors != nil
		a.cors = a.cors || e.cors != nil
	}

	a.handler = HandlerFunc(a.terminal)
	mws = append(o.middleware, mws...)
	for i := len(mws) - 1; i >= 0; i-- {
		a.handler = mws[i](a.handler)
	}
	return a, nil
}

func baseTypeName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Name()
}

// Name returns the service's name.
func (a *App) Name() string { return a.name }

// Stage returns the stage the App serves.
func (a *App) Stage() string { return a.stage }

// Doc returns the doc comment of the service's type, as `cws gen` found it.
func (a *App) Doc() string {
	info, _ := cwsgen.Lookup(reflect.TypeOf(a.service))
	return info.Doc
}

// Logger returns the App's logger, for the doors that serve it.
func (a *App) Logger() *slog.Logger { return a.log }

// Service returns the service the App was built from.
func (a *App) Service() any { return a.service }

// Warnings returns what New noticed but did not refuse, e.g. parameter names
// unknown because `cws gen` has not run.
func (a *App) Warnings() []string { return a.warnings }

// Description is what the App says of itself: its routes and where it runs.
type Description struct {
	Service string  `json:"service"`
	Doc     string  `json:"doc,omitempty"`
	Stage   string  `json:"stage"`
	Routes  []Route `json:"routes"`
}

// Description describes the App.
func (a *App) Description() Description {
	return Description{Service: a.name, Doc: a.Doc(), Stage: a.stage, Routes: a.Routes()}
}

// Routes lists every entry, those of other stages included (Active false),
// sorted by path and method.
func (a *App) Routes() []Route {
	out := make([]Route, len(a.entries))
	for i, e := range a.entries {
		out[i] = e.Route
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return methodIndex(out[i].Method) < methodIndex(out[j].Method)
	})
	return out
}

// Authorize asks the App's authorizer about a token: the answer of an API
// Gateway authorizer event. An empty token is refused without asking.
func (a *App) Authorize(ctx context.Context, token string) (bool, error) {
	if token == "" {
		return false, nil
	}
	return a.auth.Authorize(ctx, token)
}

// Serve is the one dispatch path: it routes req, runs the middleware and
// invokes the entry, answering errors as problem+json. It never returns nil.
func (a *App) Serve(ctx context.Context, req *Request) *Response {
	if a.cors {
		if resp := a.corsPreflight(req); resp != nil {
			return resp
		}
	}
	e, params := a.router.lookup(req.Method, req.Path, req.buf[:0])
	if e != nil {
		req.entry, req.Route, req.params = e, &e.Route, params
	}
	resp := a.handler.Serve(ctx, req)
	if a.cors {
		a.corsDecorate(req, resp)
	}
	return resp
}

// terminal answers unrouted requests and invokes routed ones.
func (a *App) terminal(ctx context.Context, req *Request) *Response {
	if req.entry == nil {
		return a.unrouted(req)
	}
	return a.invoke(ctx, req)
}

func (a *App) unrouted(req *Request) *Response {
	allow := a.router.allowed(req.Path)
	if len(allow) == 0 {
		return ProblemResponse(NotFound("no route for %s %s", req.Method, req.Path), req.Path)
	}
	if req.Method == http.MethodOptions {
		h := make(http.Header, 1)
		h.Set("Allow", strings.Join(allow, ", "))
		return &Response{Status: http.StatusNoContent, Header: h}
	}
	resp := ProblemResponse(NewProblem(http.StatusMethodNotAllowed, "%s does not serve %s; it serves %s", req.Path, req.Method, strings.Join(allow, ", ")), req.Path)
	resp.Header.Set("Allow", strings.Join(allow, ", "))
	return resp
}

// invoke authorizes, binds, calls and renders the routed entry.
func (a *App) invoke(ctx context.Context, req *Request) (resp *Response) {
	e := req.entry
	st := &callState{Context: ctx, req: req, app: a}
	ctx = st
	defer func() {
		if p := recover(); p != nil {
			id := req.requestID()
			_ = panics.Catch(ctx, a.log, p, "entry panicked", "entry", e.qualifiedName(), "method", req.Method, "path", req.Path, "request_id", id)
			resp = ProblemResponse(&Problem{Title: http.StatusText(500), Status: 500, RequestID: id}, req.Path)
		}
	}()
	if e.Auth && !req.Authorized {
		if p := a.Guard(ctx, req.Header.Get("Authorization")); p != nil {
			return ProblemResponse(p, req.Path)
		}
	}

	var body []byte
	var kind bodyKind
	var boundary string
	if req.Body != nil && (req.Method == http.MethodGet || req.Method == http.MethodHead) {
		// A body a GET cannot carry through API Gateway: refused, not
		// ignored.
		data, err := readBody(&st.body, req.Body, a.maxBody)
		if err != nil {
			return a.errorResponse(ctx, e, req, err)
		}
		if len(data) > 0 {
			return ProblemResponse(BadRequest("a %s request takes no body: send the parameters in the query string", req.Method), req.Path)
		}
	}
	if req.Body != nil && req.Method != http.MethodGet && req.Method != http.MethodHead {
		data, err := readBody(&st.body, req.Body, a.maxBody)
		if err != nil {
			return a.errorResponse(ctx, e, req, err)
		}
		if len(data) > 0 {
			var params map[string]string
			kind, params, err = classifyBody(req.Header.Get("Content-Type"))
			if err != nil {
				return a.errorResponse(ctx, e, req, err)
			}
			body, boundary = data, params["boundary"]
		}
	}
	var cleanup func()
	arena, err := e.bind(st, body, kind, boundary, &cleanup)
	if cleanup != nil {
		defer cleanup()
	}
	if err != nil {
		return a.errorResponse(ctx, e, req, err)
	}
	v, err := e.call(arena)
	if err != nil {
		resp := a.errorResponse(ctx, e, req, err)
		for k, vs := range st.header {
			if k != "Content-Type" {
				// Headers the entry set (Retry-After, WWW-Authenticate...) go
				// with its error.
				resp.Header[k] = vs
			}
		}
		return resp
	}
	if err := e.render(st, v, req.Method == http.MethodHead); err != nil {
		return a.errorResponse(ctx, e, req, err)
	}
	return &st.resp
}

// errorResponse answers an error as problem+json, logging internal ones.
func (a *App) errorResponse(ctx context.Context, e *entry, req *Request, err error) *Response {
	p, internal := problemFor(err)
	if internal {
		p.RequestID = req.requestID()
		a.log.ErrorContext(ctx, "entry failed", "entry", e.qualifiedName(), "method", req.Method, "path", req.Path, "request_id", p.RequestID, "error", err)
	}
	return ProblemResponse(p, req.Path)
}

// Guard answers whether a caller whose Authorization header is token may
// call guarded entries: nil, or the problem to answer — 401 without a
// token, 403 for a refused one, 500 when the authorizer fails (logged, its
// error not shown). Every door that guards something asks it: the entries,
// the local events endpoint.
func (a *App) Guard(ctx context.Context, token string) *Problem {
	if token == "" {
		return NewProblem(http.StatusUnauthorized, "missing Authorization header")
	}
	ok, err := a.auth.Authorize(ctx, token)
	if err != nil {
		p := &Problem{Title: http.StatusText(500), Status: 500}
		if req := RequestFrom(ctx); req != nil {
			p.RequestID = req.requestID()
		}
		a.log.ErrorContext(ctx, "authorizer failed", "request_id", p.RequestID, "error", err)
		return p
	}
	if !ok {
		return NewProblem(http.StatusForbidden, "the token is refused")
	}
	return nil
}

// readBody reads at most limit bytes of body, through lr (the call's, so
// that it is not allocated); a longer body is a 413.
func readBody(lr *io.LimitedReader, body io.Reader, limit int64) ([]byte, error) {
	*lr = io.LimitedReader{R: body, N: limit + 1}
	data, err := io.ReadAll(lr)
	if err != nil {
		// The door's error (a deadline, a reset) names addresses and
		// internals: the answer says what happened, no more.
		var timeout interface{ Timeout() bool }
		if errors.As(err, &timeout) && timeout.Timeout() {
			return nil, BadRequest("the body did not arrive in time")
		}
		return nil, BadRequest("the body could not be read")
	}
	if int64(len(data)) > limit {
		return nil, NewProblem(http.StatusRequestEntityTooLarge, "the body exceeds the limit of %d bytes", limit)
	}
	return data, nil
}
