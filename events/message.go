// Package events is the event side of cws: entries invoked as CloudEvents,
// the mapping of CloudEvents to SQS messages and EventBridge events, and the
// small interfaces every transport implements (Publisher, Consumer,
// Handler). The event model is the CloudEvents SDK's (event.Event); the
// protocol bindings live in transport/memory, transport/sqs,
// transport/eventbridge and transport/lambda.
//
// docs/cloudevents.md describes the binding in full.
package events

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/cloudevents/sdk-go/v2/event"
)

// Message is one delivery of an event.
type Message struct {
	// Event is the delivered CloudEvent.
	Event event.Event
	// ReceiveCount is how many times the transport has delivered it, this
	// delivery included (1 the first time).
	ReceiveCount int
	// GroupID is the message group of a FIFO queue, empty otherwise.
	GroupID string
	// Transport names the door it came through: "memory", "sqs",
	// "eventbridge", "http", "lambda".
	Transport string
}

// Handler handles one delivered message. A nil error acknowledges it; a
// Permanent error (or a client error) sends it to the dead-letter queue
// with the reason; any other error, or a panic, has it delivered again
// later.
type Handler interface {
	Handle(ctx context.Context, m *Message) error
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, m *Message) error

// Handle calls f.
func (f HandlerFunc) Handle(ctx context.Context, m *Message) error { return f(ctx, m) }

// Middleware wraps a Handler.
type Middleware func(next Handler) Handler

// Chain applies middleware to h, the first outermost.
func Chain(h Handler, mw ...Middleware) Handler {
	for i := len(mw) - 1; i >= 0; i-- {
		h = mw[i](h)
	}
	return h
}

// Publisher sends events. A transport with batching sends them in as few
// calls as its service allows; an event over the service's size limit is an
// error wrapping ErrTooLarge.
type Publisher interface {
	Publish(ctx context.Context, events ...event.Event) error
}

// Consumer delivers the events of a source (a queue) to a handler until ctx
// is done, then shuts down gracefully: it stops receiving, lets in-flight
// handlers finish and releases the messages it received but did not start.
type Consumer interface {
	Consume(ctx context.Context, h Handler) error
}

// ErrTooLarge is wrapped by the error of an event over a service's limit.
var ErrTooLarge = errors.New("event too large")

// permanentError marks an error that retrying cannot fix.
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// Permanent marks err as not worth retrying: the message goes to the
// dead-letter queue with err as its reason.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err}
}

// Permanentf is Permanent(fmt.Errorf(format, args...)).
func Permanentf(format string, args ...any) error {
	return Permanent(fmt.Errorf(format, args...))
}

// IsPermanent reports whether retrying err is useless: a Permanent error,
// or an error with a 4xx StatusCode other than 408 (timeout), 409
// (conflict), 425 (too early) and 429 (too many requests). Server errors,
// panics and anything else are retried.
func IsPermanent(err error) bool {
	if err == nil {
		return false
	}
	var p permanentError
	if errors.As(err, &p) {
		return true
	}
	var sc interface{ StatusCode() int }
	if errors.As(err, &sc) {
		return PermanentStatus(sc.StatusCode())
	}
	return false
}

// PermanentStatus reports whether an answer with this HTTP status is a
// client error that retrying cannot fix.
func PermanentStatus(status int) bool {
	switch status {
	case http.StatusRequestTimeout, http.StatusConflict, http.StatusTooEarly, http.StatusTooManyRequests:
		return false
	}
	return status >= 400 && status < 500
}
