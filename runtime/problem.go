package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// ProblemContentType is the media type of error responses (RFC 9457).
const ProblemContentType = "application/problem+json"

// Problem is an RFC 9457 problem detail. Entries return a *Problem (or any
// error with a StatusCode() int method) to answer with that status; any
// other error becomes a 500 whose body reveals nothing of the error.
type Problem struct {
	// Type is a URI reference identifying the problem type; empty means
	// "about:blank", whose title is the HTTP status text.
	Type string `json:"type,omitempty"`
	// Title is a short summary of the problem type.
	Title string `json:"title"`
	// Status is the HTTP status code.
	Status int `json:"status"`
	// Detail explains this occurrence of the problem.
	Detail string `json:"detail,omitempty"`
	// Instance identifies this occurrence; the runtime sets it to the
	// request path when empty.
	Instance string `json:"instance,omitempty"`
	// Errors lists the parameters that failed, for 400 and 422 answers.
	Errors []ParamError `json:"errors,omitempty"`
	// RequestID is the request's id in a server error's answer: the one
	// thing it tells of the failure, which the log line with the same id
	// explains.
	RequestID string `json:"request_id,omitempty"`

	cause error
}

// ParamError is one parameter that could not be bound.
type ParamError struct {
	// Name is the parameter's name as the caller gives it.
	Name string `json:"name"`
	// In is where the parameter was read: "path", "query" or "body".
	In string `json:"in"`
	// Detail says what is wrong with it.
	Detail string `json:"detail"`
}

// Error implements error.
func (p *Problem) Error() string {
	if p.Detail != "" {
		return fmt.Sprintf("%d %s: %s", p.Status, p.Title, p.Detail)
	}
	return fmt.Sprintf("%d %s", p.Status, p.Title)
}

// StatusCode returns the HTTP status of the problem.
func (p *Problem) StatusCode() int { return p.Status }

// Unwrap returns the error the problem was made from, if any.
func (p *Problem) Unwrap() error { return p.cause }

// NewProblem returns a problem with the given status, its standard title and
// the formatted detail. An error among args that the format wraps with %w is
// kept as the problem's cause.
func NewProblem(status int, format string, args ...any) *Problem {
	err := fmt.Errorf(format, args...)
	return &Problem{Title: http.StatusText(status), Status: status, Detail: err.Error(), cause: errors.Unwrap(err)}
}

// BadRequest returns a 400 problem.
func BadRequest(format string, args ...any) *Problem {
	return NewProblem(http.StatusBadRequest, format, args...)
}

// NotFound returns a 404 problem.
func NotFound(format string, args ...any) *Problem {
	return NewProblem(http.StatusNotFound, format, args...)
}

// Conflict returns a 409 problem.
func Conflict(format string, args ...any) *Problem {
	return NewProblem(http.StatusConflict, format, args...)
}

// Unprocessable returns a 422 problem.
func Unprocessable(format string, args ...any) *Problem {
	return NewProblem(http.StatusUnprocessableEntity, format, args...)
}

// StatusClientClosedRequest is the status of an entry whose caller went away
// (its context was cancelled); nobody reads it but the logs.
const StatusClientClosedRequest = 499

// statusCoder is implemented by errors that carry an HTTP status.
type statusCoder interface{ StatusCode() int }

// problemFor turns an entry's error into the problem to answer with. The
// second result reports whether the error was internal (a 500 that hides its
// text and must be logged). An expired deadline is a 504 and a cancelled
// context a 499.
func problemFor(err error) (*Problem, bool) {
	var p *Problem
	if errors.As(err, &p) {
		out := *p
		if out.Title == "" {
			out.Title = http.StatusText(out.Status)
		}
		if out.Status < 400 || out.Status > 599 {
			out.Status = http.StatusInternalServerError
		}
		return &out, false
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return &Problem{Title: http.StatusText(http.StatusGatewayTimeout), Status: http.StatusGatewayTimeout, Detail: "the entry ran out of time"}, false
	case errors.Is(err, context.Canceled):
		return &Problem{Title: "Client Closed Request", Status: StatusClientClosedRequest, Detail: "the caller went away"}, false
	}
	var sc statusCoder
	if errors.As(err, &sc) {
		status := sc.StatusCode()
		if status >= 400 && status <= 599 {
			return &Problem{Title: http.StatusText(status), Status: status, Detail: err.Error()}, false
		}
	}
	return &Problem{Title: http.StatusText(http.StatusInternalServerError), Status: http.StatusInternalServerError}, true
}

// ProblemResponse renders p as a problem+json response; instance is its
// instance when p has none (the request's path).
func ProblemResponse(p *Problem, instance string) *Response {
	if p.Instance == "" {
		p.Instance = instance
	}
	body, err := json.Marshal(p)
	if err != nil {
		// A Problem holds only strings and ints; this cannot fail.
		panic(err)
	}
	return &Response{Status: p.Status, ContentType: ProblemContentType, Header: http.Header{}, Body: body}
}
