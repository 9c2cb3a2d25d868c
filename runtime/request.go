package runtime

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
)

// Request is one invocation of an entry, whatever door it came through: the
// local HTTP server, an API Gateway event on Lambda, or (later) a CloudEvent.
// Doors fill it; the App routes, authorizes, binds and invokes from it.
type Request struct {
	// Method is the HTTP method.
	Method string
	// Path is the percent-encoded request path, starting with "/".
	Path string
	// RawQuery is the encoded query string without "?". It is used when
	// Query is nil.
	RawQuery string
	// Query holds decoded query values for doors that receive them decoded
	// (API Gateway REST). When set, RawQuery is ignored for binding.
	Query url.Values
	// Header holds the request headers with canonical keys.
	Header http.Header
	// Body is the request body, or nil when there is none.
	Body io.Reader
	// RemoteAddr is the caller's address, when the door knows it.
	RemoteAddr string
	// ID identifies the request in the logs and in the answer of a server
	// error: API Gateway's and Lambda's request id on those doors; made up
	// by the App when a door gives none.
	ID string
	// BasePath is the prefix of Path the client used to reach the service,
	// which Path does not hold: "/dev" for an API Gateway stage on its own
	// domain, a custom domain's base path mapping; empty at the root (the
	// local server, Function URLs). URLFor puts it before the paths it
	// builds.
	BasePath string
	// Authorized reports that the door has authorized the caller itself
	// (IAM for queues and event buses, the token for the local events
	// endpoint): the App does not ask its authorizer. HTTP doors leave it
	// false.
	Authorized bool

	// Route describes the matched entry; the App sets it before middleware
	// runs. It is nil when no entry matches.
	Route *Route

	entry  *entry
	params []string
	buf    [4]string
}

// Response is what an entry invocation answers, whatever the door.
type Response struct {
	// Status is the HTTP status code.
	Status int
	// ContentType is the Content-Type of the body; empty without a body.
	ContentType string
	// Header holds the other response headers. It is never nil.
	Header http.Header
	// Body is the encoded body, used when Stream is nil.
	Body []byte
	// Stream is the body of an entry that returned an io.Reader. Doors copy
	// it and close it when it is an io.Closer.
	Stream io.Reader
	// Binary reports that the body is not text, so that doors which carry
	// text only (Lambda proxy responses) must encode it as base64.
	Binary bool
}

// Param returns the escaped value of the named path parameter of the matched
// route, or "" when there is none.
func (r *Request) Param(name string) string {
	if r.Route == nil {
		return ""
	}
	for i, p := range r.Route.Params {
		if p == name && i < len(r.params) {
			return r.params[i]
		}
	}
	return ""
}

// callState is the per-invocation state an entry reaches through its
// context: it is that context, the request's context with the state as a
// value, in one allocation.
type callState struct {
	context.Context
	req    *Request
	app    *App
	status int
	header http.Header
	errs   []ParamError
	resp   Response
	// body limits the reading of the request's body (readBody), here to
	// spare it an allocation.
	body io.LimitedReader
}

type callKey struct{}

// Value returns the state for callKey and asks the parent otherwise.
func (st *callState) Value(key any) any {
	if key == (callKey{}) {
		return st
	}
	return st.Context.Value(key)
}

func stateFrom(ctx context.Context) *callState {
	if st, ok := ctx.(*callState); ok {
		return st
	}
	st, _ := ctx.Value(callKey{}).(*callState)
	return st
}

// RequestFrom returns the request an entry is serving, or nil when ctx is not
// an entry's context.
func RequestFrom(ctx context.Context) *Request {
	if st := stateFrom(ctx); st != nil {
		return st.req
	}
	return nil
}

// AppFrom returns the App serving an entry, or nil when ctx is not an entry's
// context.
func AppFrom(ctx context.Context) *App {
	if st := stateFrom(ctx); st != nil {
		return st.app
	}
	return nil
}

// SetStatus sets the status code of the entry's response, e.g. 201 for a
// created resource. It does nothing outside an entry's context.
func SetStatus(ctx context.Context, status int) {
	if st := stateFrom(ctx); st != nil {
		st.status = status
	}
}

// ResponseHeader returns the headers of the entry's response, for the entry
// to set (e.g. Location). Outside an entry's context it returns a throwaway
// header.
func ResponseHeader(ctx context.Context) http.Header {
	st := stateFrom(ctx)
	if st == nil {
		return http.Header{}
	}
	if st.header == nil {
		st.header = make(http.Header, 2)
	}
	return st.header
}

// ReadBody returns the whole body: Body, or what Stream holds (read to its
// end and closed when it is an io.Closer). Doors that cannot stream (Lambda,
// the asynchronous doors) use it.
func (r *Response) ReadBody() ([]byte, error) {
	if r.Stream == nil {
		return r.Body, nil
	}
	defer func() {
		if c, ok := r.Stream.(io.Closer); ok {
			_ = c.Close()
		}
	}()
	return io.ReadAll(r.Stream)
}

// requestID returns the request's id, made up (16 random hex digits) when
// the door gave none.
func (r *Request) requestID() string {
	if r.ID == "" {
		var b [8]byte
		_, _ = rand.Read(b[:])
		r.ID = hex.EncodeToString(b[:])
	}
	return r.ID
}
