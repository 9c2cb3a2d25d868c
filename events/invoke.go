package events

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/google/uuid"

	"github.com/coworks-go/cws/runtime"
)

// The CloudEvents types of cws.
const (
	// TypeInvoke is an entry invocation: subject "METHOD /path?query",
	// data the JSON body.
	TypeInvoke = "cws.invoke"
	// TypeResult is the result of an invocation, sent where the invocation's
	// cwsreplyto extension says.
	TypeResult = "cws.result"
)

// The CloudEvents extension attributes of cws.
const (
	// ExtReplyTo is where an invocation's result goes: an SQS queue URL or
	// ARN, an EventBridge bus ARN, or memory://NAME for the local runtime.
	ExtReplyTo = "cwsreplyto"
	// ExtStatus is the HTTP status of a result.
	ExtStatus = "cwsstatus"
	// ExtRequestID and ExtRequestSource are the id and source of the
	// invocation a result answers.
	ExtRequestID     = "cwsrequestid"
	ExtRequestSource = "cwsrequestsource"
	// ExtGroup is the message group of an event sent to a FIFO queue.
	ExtGroup = "cwsgroup"
	// ExtTraceParent and ExtTraceState are the W3C trace context
	// (CloudEvents distributed tracing extension).
	ExtTraceParent = "traceparent"
	ExtTraceState  = "tracestate"
)

// NewInvocation returns a cws.invoke event from source calling
// "METHOD target" (target is the escaped path with its query) with body as
// its JSON data: a value to encode, raw JSON ([]byte or json.RawMessage), or
// nil for none. Its id is a fresh UUID.
func NewInvocation(source, method, target string, body any) (event.Event, error) {
	e := event.New()
	e.SetID(uuid.NewString())
	e.SetSource(source)
	e.SetType(TypeInvoke)
	e.SetSubject(method + " " + target)
	e.SetTime(time.Now().UTC())
	if body != nil {
		var raw []byte
		switch b := body.(type) {
		case []byte:
			raw = b
		case json.RawMessage:
			raw = b
		default:
			var err error
			if raw, err = json.Marshal(body); err != nil {
				return e, fmt.Errorf("encoding the body: %w", err)
			}
		}
		if !json.Valid(raw) {
			return e, fmt.Errorf("the body is not JSON")
		}
		setJSON(&e, raw)
	}
	if _, err := ParseInvocation(e); err != nil {
		return e, err
	}
	return e, e.Validate()
}

// setJSON sets raw JSON as the event's data, written as JSON (not base64)
// in structured mode.
func setJSON(e *event.Event, raw []byte) {
	e.SetDataContentType(event.ApplicationJSON)
	e.DataEncoded = raw
	e.DataBase64 = false
}

// Invocation is a parsed cws.invoke event.
type Invocation struct {
	Method   string
	Path     string // escaped, starting with /
	RawQuery string
	Body     []byte // JSON, or nil
	ReplyTo  string
}

// ParseInvocation checks a cws.invoke event and reads its request. Its
// errors are Permanent: the event cannot be served, ever.
func ParseInvocation(e event.Event) (*Invocation, error) {
	if e.Type() != TypeInvoke {
		return nil, Permanentf("event type %q is not %s", e.Type(), TypeInvoke)
	}
	method, target, ok := strings.Cut(e.Subject(), " ")
	if !ok || method == "" || target == "" {
		return nil, Permanentf("subject %q is not \"METHOD /path?query\"", e.Subject())
	}
	switch method {
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodHead, http.MethodOptions:
	default:
		return nil, Permanentf("subject %q: unknown method %q", e.Subject(), method)
	}
	if !strings.HasPrefix(target, "/") || strings.ContainsAny(target, " #") {
		return nil, Permanentf("subject %q: the target must be a path starting with /", e.Subject())
	}
	inv := &Invocation{Method: method}
	inv.Path, inv.RawQuery, _ = strings.Cut(target, "?")
	if len(e.Data()) > 0 {
		if ct := e.DataContentType(); ct != "" {
			mt, _, err := mime.ParseMediaType(ct)
			if err != nil || !(mt == "application/json" || strings.HasSuffix(mt, "+json")) {
				return nil, Permanentf("datacontenttype %q: an invocation's data is JSON", ct)
			}
		}
		if !json.Valid(e.Data()) {
			return nil, Permanentf("the data of the invocation is not JSON")
		}
		inv.Body = e.Data()
	}
	if v, ok := e.Extensions()[ExtReplyTo]; ok {
		inv.ReplyTo = fmt.Sprint(v)
	}
	return inv, nil
}

// Request is the runtime request of the invocation, marked authorized: the
// door it came through (IAM for queues and buses, the token for the local
// events endpoint) has authorized its sender.
func (inv *Invocation) Request(traceparent string) *runtime.Request {
	req := &runtime.Request{Method: inv.Method, Path: inv.Path, RawQuery: inv.RawQuery, Header: http.Header{}, Authorized: true}
	if inv.Body != nil {
		req.Body = bytes.NewReader(inv.Body)
		req.Header.Set("Content-Type", "application/json")
	}
	if traceparent != "" {
		req.Header.Set("Traceparent", traceparent)
	}
	return req
}

// NewResult returns the cws.result event answering the invocation req with
// an entry's response.
func NewResult(source string, req event.Event, resp *runtime.Response, body []byte) event.Event {
	e := event.New()
	e.SetID(uuid.NewString())
	e.SetSource(source)
	e.SetType(TypeResult)
	e.SetSubject(req.Subject())
	e.SetTime(time.Now().UTC())
	e.SetExtension(ExtStatus, resp.Status)
	e.SetExtension(ExtRequestID, req.ID())
	e.SetExtension(ExtRequestSource, req.Source())
	for _, ext := range []string{ExtTraceParent, ExtTraceState} {
		if v, ok := req.Extensions()[ext]; ok {
			e.SetExtension(ext, v)
		}
	}
	if len(body) > 0 {
		e.SetDataContentType(resp.ContentType)
		e.DataEncoded = body
		mt, _, _ := mime.ParseMediaType(resp.ContentType)
		e.DataBase64 = resp.Binary && !(mt == "application/json" || strings.HasSuffix(mt, "+json") || strings.HasPrefix(mt, "text/"))
	}
	return e
}
