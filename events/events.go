// Package events is the event model of cws and its small interfaces: a
// delivered Message (a CloudEvent of the CloudEvents SDK, event.Event, with
// its delivery), the Handler that settles it, the Publisher and Consumer
// every transport implements, and the middleware that settles messages the
// same way whatever brought them (Recover, Deduplicate).
//
// The wire formats (SQS messages, EventBridge events, the HTTP binding) are
// in events/wire; the invocation of an entry by a cws.invoke event, where
// events meet the runtime, in events/invoke; the transports in transport/.
// docs/cloudevents.md describes the binding in full.
package events

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

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
	// "lambda-sqs", "lambda-eventbridge".
	Transport string
	// Outcome is what handling produced, for the middleware around the
	// handler: a handler may record it (the invocation door records the
	// entry's answer), and Deduplicate sets it, from its store, for a
	// duplicate of an event already handled.
	Outcome *Outcome
}

// Outcome is what a handled event produced: for an invocation, the entry's
// response, kept to answer a duplicate that asks for a reply.
type Outcome struct {
	Status      int
	ContentType string
	Body        []byte
	Binary      bool
	// Refused is the reason of a permanent failure, empty after a success:
	// a duplicate of a refused event is refused again with it (and so
	// dead-lettered, never acknowledged as if it had succeeded).
	Refused string
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

// Middleware wraps a Handler, for what every handler needs the same way:
// recovering panics, handling an event once.
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
// error wrapping ErrTooLarge; entries the service refused make a
// *PublishError.
type Publisher interface {
	Publish(ctx context.Context, events ...event.Event) error
}

// PublisherFunc is a Publisher of a function.
type PublisherFunc func(ctx context.Context, events ...event.Event) error

// Publish implements Publisher.
func (f PublisherFunc) Publish(ctx context.Context, events ...event.Event) error {
	return f(ctx, events...)
}

// Consumer delivers the events of a source (a queue) to a handler until ctx
// is done, then shuts down gracefully: it stops receiving, lets in-flight
// handlers finish and releases the messages it received but did not start.
type Consumer interface {
	Consume(ctx context.Context, h Handler) error
}

// ErrTooLarge is wrapped by the error of an event over a service's limit.
var ErrTooLarge = errors.New("event too large")

// PublishError is a publication some events of which the service refused
// (after the retries of its own failures).
type PublishError struct {
	// To names where they were sent: a queue URL, a bus.
	To string
	// Failed maps the ids of the events not sent to why.
	Failed map[string]string
}

// Error implements error.
func (e *PublishError) Error() string {
	parts := make([]string, 0, len(e.Failed))
	for id, why := range e.Failed {
		parts = append(parts, id+": "+why)
	}
	sort.Strings(parts)
	return fmt.Sprintf("%d events not sent to %s: %s", len(e.Failed), e.To, strings.Join(parts, "; "))
}

// ExtGroup is the extension attribute naming the message group of an event
// sent to a FIFO queue.
const ExtGroup = "cwsgroup"

// Group returns the message group of e on a FIFO queue: its cwsgroup
// extension, or else its source.
func Group(e event.Event) string {
	if g, ok := e.Extensions()[ExtGroup]; ok {
		return fmt.Sprint(g)
	}
	return e.Source()
}

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
