// Package invoke is where events meet the runtime: the cws.invoke binding,
// by which a CloudEvent invokes an entry and its result comes back as a
// cws.result event, and the Door, the Handler that serves invocations with
// an App through App.Serve, the dispatch path of the HTTP doors.
//
// docs/cloudevents.md describes the binding in full.
package invoke

import (
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/google/uuid"

	"github.com/coworks-go/cws/events"
	"github.com/coworks-go/cws/events/wire"
	"github.com/coworks-go/cws/runtime"
)

// The CloudEvents types of the binding.
const (
	// Type is an entry invocation: subject "METHOD /path?query", data the
	// JSON body.
	Type = "cws.invoke"
	// ResultType is the result of an invocation, sent where the
	// invocation's cwsreplyto extension says.
	ResultType = "cws.result"
)

// The CloudEvents extension attributes of the binding.
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
	// ExtTaskToken is the task token of a workflow's task that sent the
	// invocation (Step Functions' waitForTaskToken): the door reports the
	// entry's answer to the workflow (TaskReporter) instead of retrying or
	// dead-lettering it.
	ExtTaskToken = "cwstasktoken"
)

// New returns a cws.invoke event from source calling "METHOD target"
// (target is the escaped path with its query) with body as its JSON data: a
// value to encode, raw JSON ([]byte or json.RawMessage), or nil for none.
// Its id is a fresh UUID.
func New(source, method, target string, body any) (event.Event, error) {
	e := event.New()
	e.SetID(uuid.NewString())
	e.SetSource(source)
	e.SetType(Type)
	e.SetSubject(method + " " + target)
	e.SetTime(time.Now().UTC())
	raw, err := EncodeBody(body)
	if err != nil {
		return e, err
	}
	if raw != nil {
		wire.SetJSON(&e, raw)
	}
	if _, err := Parse(e); err != nil {
		return e, err
	}
	return e, e.Validate()
}

// EncodeBody returns the JSON of an invocation's body: raw JSON ([]byte or
// json.RawMessage) as it is, once checked, any other value encoded, nil for
// none.
func EncodeBody(body any) ([]byte, error) {
	var raw []byte
	switch b := body.(type) {
	case nil:
		return nil, nil
	case []byte:
		raw = b
	case json.RawMessage:
		raw = b
	default:
		var err error
		if raw, err = json.Marshal(body); err != nil {
			return nil, fmt.Errorf("encoding the body: %w", err)
		}
	}
	if !json.Valid(raw) {
		return nil, fmt.Errorf("the body is not JSON")
	}
	return raw, nil
}

// Invocation is a parsed cws.invoke event.
type Invocation struct {
	Method   string
	Path     string // escaped, starting with /
	RawQuery string
	Body     []byte // JSON, or nil
	ReplyTo  string
	// TaskToken is the token of the workflow task waiting for the answer,
	// or "".
	TaskToken string
}

// Parse checks a cws.invoke event and reads its request. Its errors are
// events.Permanent: the event cannot be served, ever.
func Parse(e event.Event) (*Invocation, error) {
	if e.Type() != Type {
		return nil, events.Permanentf("event type %q is not %s", e.Type(), Type)
	}
	method, target, ok := strings.Cut(e.Subject(), " ")
	if !ok || method == "" || target == "" {
		return nil, events.Permanentf("subject %q is not \"METHOD /path?query\"", e.Subject())
	}
	switch method {
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodHead, http.MethodOptions:
	default:
		return nil, events.Permanentf("subject %q: unknown method %q", e.Subject(), method)
	}
	if !strings.HasPrefix(target, "/") || strings.ContainsAny(target, " #") {
		return nil, events.Permanentf("subject %q: the target must be a path starting with /", e.Subject())
	}
	inv := &Invocation{Method: method}
	inv.Path, inv.RawQuery, _ = strings.Cut(target, "?")
	if len(e.Data()) > 0 {
		if ct := e.DataContentType(); ct != "" {
			if _, _, err := mime.ParseMediaType(ct); err != nil || !wire.IsJSON(ct) {
				return nil, events.Permanentf("datacontenttype %q: an invocation's data is JSON", ct)
			}
		}
		if !json.Valid(e.Data()) {
			return nil, events.Permanentf("the data of the invocation is not JSON")
		}
		inv.Body = e.Data()
	}
	if v, ok := e.Extensions()[ExtReplyTo]; ok {
		inv.ReplyTo = fmt.Sprint(v)
	}
	if v, ok := e.Extensions()[ExtTaskToken]; ok {
		inv.TaskToken = fmt.Sprint(v)
	}
	return inv, nil
}

// StatusErrorPrefix starts the error name a workflow's task fails with when
// its entry answers an error status: cws.Status.404.
const StatusErrorPrefix = "cws.Status."

// StatusError is the error name of an entry's answer status.
func StatusError(status int) string { return StatusErrorPrefix + strconv.Itoa(status) }

// TaskReporter reports to a workflow the answer of an invocation one of its
// tasks sent with its task token: Step Functions' SendTaskSuccess and
// SendTaskFailure. A token already answered, or timed out, is no error.
type TaskReporter interface {
	TaskSucceeded(ctx context.Context, token string, output []byte) error
	TaskFailed(ctx context.Context, token, errName, cause string) error
}

// MaxTaskCause is the longest cause Step Functions takes.
const MaxTaskCause = 32768

// TaskOutput is the output a task gets of an entry's answer: its JSON, a
// text as a JSON string, null when empty.
func TaskOutput(o events.Outcome) []byte {
	switch {
	case len(o.Body) == 0:
		return []byte("null")
	case !o.Binary && json.Valid(o.Body):
		return o.Body
	}
	b, _ := json.Marshal(string(o.Body))
	return b
}

// Request is the runtime request of the invocation; see Request.
func (inv *Invocation) Request(traceparent string) *runtime.Request {
	return Request(inv.Method, inv.Path, inv.RawQuery, inv.Body, traceparent)
}

// Request returns a runtime request for an entry called by the program
// itself — an invocation event, a reactor's call in process — marked
// authorized (runtime.NewAuthorizedRequest): the door it came through (IAM
// for queues and buses, the token for the local events endpoint, the
// binary itself for a reactor) has authorized its sender. body is JSON, or
// nil; traceparent carries the trace on, or is empty.
func Request(method, path, rawQuery string, body []byte, traceparent string) *runtime.Request {
	req := runtime.NewAuthorizedRequest(method, path, rawQuery, body)
	if traceparent != "" {
		req.Header.Set("Traceparent", traceparent)
	}
	return req
}

// NewResult returns the cws.result event answering the invocation req with
// an entry's answer.
func NewResult(source string, req event.Event, o events.Outcome) event.Event {
	e := event.New()
	e.SetID(uuid.NewString())
	e.SetSource(source)
	e.SetType(ResultType)
	e.SetSubject(req.Subject())
	e.SetTime(time.Now().UTC())
	e.SetExtension(ExtStatus, o.Status)
	e.SetExtension(ExtRequestID, req.ID())
	e.SetExtension(ExtRequestSource, req.Source())
	for _, ext := range []string{events.ExtTraceParent, events.ExtTraceState} {
		if v, ok := req.Extensions()[ext]; ok {
			e.SetExtension(ext, v)
		}
	}
	if len(o.Body) > 0 {
		e.SetDataContentType(o.ContentType)
		e.DataEncoded = o.Body
		mt, _, _ := mime.ParseMediaType(o.ContentType)
		e.DataBase64 = o.Binary && !(wire.IsJSON(mt) || strings.HasPrefix(mt, "text/"))
	}
	return e
}
