// Package http is the local HTTP door of a cws App: a plain net/http
// Handler that hands every request to App.Serve, and a server that shuts
// down gracefully. It depends on the runtime and the standard library only.
package http

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/coworks-go/cws/runtime"
)

// Handler serves an App over net/http.
type Handler struct {
	app         *runtime.App
	endpoints   map[string]http.Handler
	bodyTimeout time.Duration
}

// HandlerOption configures a Handler.
type HandlerOption func(*Handler)

// WithEndpoint serves requests for exactly path with h instead of the App
// (the CloudEvents doors' POST /_cws/events, say); a path ending in a slash
// serves the paths below it too, as a subtree of http.ServeMux does. The
// path is matched as the request gives it, without cleaning.
func WithEndpoint(path string, h http.Handler) HandlerOption {
	return func(s *Handler) {
		if s.endpoints == nil {
			s.endpoints = map[string]http.Handler{}
		}
		s.endpoints[path] = h
	}
}

// WithBodyTimeout bounds how long a client may take to send the body of a
// request once its headers are read (default 60s), to the App and to the
// endpoints alike: a client that sends it a byte at a time gets a 400 from
// the App (an endpoint sees its read fail) and its connection is closed,
// instead of holding a handler. Zero is no limit.
func WithBodyTimeout(d time.Duration) HandlerOption {
	return func(s *Handler) { s.bodyTimeout = d }
}

// NewHandler returns the net/http door of app.
func NewHandler(app *runtime.App, opts ...HandlerOption) *Handler {
	h := &Handler{app: app, bodyTimeout: time.Minute}
	for _, opt := range opts {
		opt(h)
	}
	return h
}

// MaxHeaderBytes is the limit on the request line and header values of a
// request, API Gateway's: "total combined size of request line and header
// values", 10,240 bytes, for REST and HTTP APIs alike. A larger request is
// a 431 locally as it is refused deployed.
const MaxHeaderBytes = 10240

// headerBytes counts a request as API Gateway does: the request line and
// the header values (Host included).
func headerBytes(r *http.Request) int {
	n := len(r.Method) + 1 + len(r.RequestURI) + 1 + len(r.Proto) + len(r.Host)
	for _, vs := range r.Header {
		for _, v := range vs {
			n += len(v)
		}
	}
	return n
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if len(r.TransferEncoding) > 0 {
		// net/http drops the Content-Length of a chunked request, so a
		// request with both (smuggling: the bytes after the chunked body
		// are a second request to a server that reads the length) cannot
		// be told apart: as RFC 9112 section 6.3 asks of a server that
		// reads such a request by its chunks, the connection is closed
		// after the answer and the bytes after the body are never read.
		w.Header().Set("Connection", "close")
	}
	if n := headerBytes(r); n > MaxHeaderBytes {
		WriteResponse(w, runtime.ProblemResponse(runtime.NewProblem(http.StatusRequestHeaderFieldsTooLarge,
			"the request line and header values are %d bytes, over API Gateway's limit of %d", n, MaxHeaderBytes), r.URL.Path))
		return
	}
	if ep := h.endpoint(r.URL.Path); ep != nil {
		r.Body = h.bounded(w, r.Body)
		ep.ServeHTTP(w, r)
		return
	}
	// The request and its body's wrapper in one allocation.
	c := &call{req: runtime.Request{
		Method:     r.Method,
		Path:       r.URL.EscapedPath(),
		RawQuery:   r.URL.RawQuery,
		Header:     r.Header,
		RemoteAddr: r.RemoteAddr,
	}}
	if r.Body != nil && r.Body != http.NoBody {
		c.req.Body = h.bound(&c.body, w, r.Body)
	}
	WriteResponse(w, h.app.Serve(r.Context(), &c.req))
}

// call is what ServeHTTP hands the App.
type call struct {
	req  runtime.Request
	body deadlineBody
}

// endpoint returns the endpoint serving path, or nil.
func (h *Handler) endpoint(path string) http.Handler {
	if ep, ok := h.endpoints[path]; ok {
		return ep
	}
	for p, ep := range h.endpoints {
		if strings.HasSuffix(p, "/") && strings.HasPrefix(path, p) {
			return ep
		}
	}
	return nil
}

// bounded gives body the body timeout: the connection's read deadline,
// lifted once the body is read whole.
func (h *Handler) bounded(w http.ResponseWriter, body io.ReadCloser) io.ReadCloser {
	if h.bodyTimeout <= 0 || body == nil || body == http.NoBody {
		return body // no wrapper to allocate
	}
	return h.bound(new(deadlineBody), w, body)
}

// bound is bounded, with db to hold the wrapper.
func (h *Handler) bound(db *deadlineBody, w http.ResponseWriter, body io.ReadCloser) io.ReadCloser {
	if h.bodyTimeout <= 0 || body == nil || body == http.NoBody {
		return body
	}
	// net/http's own writer sets its connection's deadline itself; a
	// wrapped one through a ResponseController (an allocation).
	rc, ok := w.(readDeadliner)
	if !ok {
		rc = http.NewResponseController(w)
	}
	if rc.SetReadDeadline(time.Now().Add(h.bodyTimeout)) != nil {
		return body
	}
	*db = deadlineBody{body: body, rc: rc}
	return db
}

// deadlineBody lifts the read deadline of its connection once the body is
// read whole: the deadline bounds the body, not the entry that runs after
// it, whose context net/http cancels when a read of the connection fails. A
// body cut off keeps it, so that net/http's discarding of the rest before
// the answer fails at once too.
type deadlineBody struct {
	body io.ReadCloser
	rc   readDeadliner
	done bool
}

// Close closes the body.
func (b *deadlineBody) Close() error { return b.body.Close() }

// readDeadliner sets the read deadline of a request's connection: net/http's
// ResponseWriter and http.ResponseController have it.
type readDeadliner interface {
	SetReadDeadline(deadline time.Time) error
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.body.Read(p)
	if err == io.EOF && !b.done {
		b.done = true
		_ = b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}

// Header values of the common content types, shared to spare an allocation
// per response: net/http copies header values when it writes them.
var contentTypes = map[string][]string{}

func init() {
	for _, ct := range []string{"application/json", "text/plain; charset=utf-8", "application/octet-stream",
		runtime.ProblemContentType, "text/html; charset=utf-8"} {
		contentTypes[ct] = []string{ct}
	}
}

// chunkingSize is the size above which net/http sends a body in chunks
// rather than computing its Content-Length.
const chunkingSize = 2048

// WriteResponse writes an App response to w, streaming a Stream body. A body
// written in one piece gets its Content-Length from net/http.
func WriteResponse(w http.ResponseWriter, resp *runtime.Response) {
	h := w.Header()
	for k, vs := range resp.Header {
		h[k] = vs
	}
	if ct := resp.ContentType; ct != "" {
		if vs, ok := contentTypes[ct]; ok {
			h["Content-Type"] = vs
		} else {
			h["Content-Type"] = []string{ct}
		}
	}
	if n := len(resp.Body); n > chunkingSize && resp.Stream == nil {
		// net/http would chunk a body this large: give its length.
		h["Content-Length"] = []string{strconv.Itoa(n)}
	}
	w.WriteHeader(resp.Status)
	if resp.Stream != nil {
		_, _ = io.Copy(w, resp.Stream)
		if c, ok := resp.Stream.(io.Closer); ok {
			_ = c.Close()
		}
		return
	}
	if len(resp.Body) > 0 {
		_, _ = w.Write(resp.Body)
	}
}

// Option configures a Server.
type Option func(*serverOptions)

type serverOptions struct {
	shutdownTimeout   time.Duration
	readHeaderTimeout time.Duration
	idleTimeout       time.Duration
	logger            *slog.Logger
	ready             func(addr net.Addr)
}

// WithShutdownTimeout bounds how long Serve waits for in-flight requests
// once its context is done (default 10s).
func WithShutdownTimeout(d time.Duration) Option {
	return func(o *serverOptions) { o.shutdownTimeout = d }
}

// WithReadHeaderTimeout bounds how long a client may take to send the
// request line and headers (default 10s): a slowloris client is cut off.
func WithReadHeaderTimeout(d time.Duration) Option {
	return func(o *serverOptions) { o.readHeaderTimeout = d }
}

// WithIdleTimeout bounds how long a keep-alive connection may wait for its
// next request (default 60s): idle connections are closed, not kept
// forever.
func WithIdleTimeout(d time.Duration) Option {
	return func(o *serverOptions) { o.idleTimeout = d }
}

// WithLogger sets the server's logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(o *serverOptions) { o.logger = l } }

// WithReady calls fn with the listening address once the server accepts
// connections.
func WithReady(fn func(addr net.Addr)) Option { return func(o *serverOptions) { o.ready = fn } }

// ListenAndServe serves h on addr until ctx is done, then shuts down
// gracefully: it stops accepting, lets in-flight requests finish (up to the
// shutdown timeout) and returns nil.
func ListenAndServe(ctx context.Context, addr string, h http.Handler, opts ...Option) error {
	o := serverOptions{shutdownTimeout: 10 * time.Second, readHeaderTimeout: 10 * time.Second,
		idleTimeout: 60 * time.Second, logger: slog.Default()}
	for _, opt := range opts {
		opt(&o)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", addr, err)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: o.readHeaderTimeout,
		IdleTimeout:       o.idleTimeout,
		// net/http refuses headers over MaxHeaderBytes plus 4 KiB of slop
		// with a 431 before the handler; the handler refuses what is over
		// MaxHeaderBytes as API Gateway counts it.
		MaxHeaderBytes: MaxHeaderBytes,
		ErrorLog:       slog.NewLogLogger(o.logger.Handler(), slog.LevelWarn),
		BaseContext:    func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	o.logger.Info("serving", "addr", "http://"+ln.Addr().String())
	if o.ready != nil {
		o.ready(ln.Addr())
	}
	select {
	case err := <-errc:
		return fmt.Errorf("serving on %s: %w", addr, err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	o.logger.Info("stopped", "addr", "http://"+ln.Addr().String())
	return nil
}
