// Package queue is the consumer machinery shared by the queue transports:
// the in-memory queue of the local runtime (transport/memory), SQS
// (transport/sqs), and the SQS events Lambda hands a function (the async
// doors, through Worker.HandleBatch). A Worker receives messages from a Queue
// in batches and hands them to a handler with the semantics of
// docs/cloudevents.md: concurrent handlers, panics recovered
// (events.Recover), visibility extended for slow ones, retries with backoff
// through visibility, dead letters with their reason, FIFO groups in order,
// graceful shutdown and reconnection with backoff.
package queue

import (
	"context"
	"errors"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/coworks-go/cws/events/wire"
)

// Delivery is one received message.
type Delivery struct {
	// ID is the message id.
	ID string
	// Handle is the receipt handle Delete and ChangeVisibility take.
	Handle string
	// Body is the message body. It may be empty when Event is set.
	Body string
	// Event is the message's CloudEvent when the transport carries events
	// as they are (the in-memory queue does, within the process); a
	// Decoder may return a copy of it instead of decoding Body. Nobody
	// changes it.
	Event *event.Event
	// Attributes are the message's string attributes.
	Attributes map[string]string
	// ReceiveCount is how many times the message was received, this time
	// included.
	ReceiveCount int
	// GroupID is the message group of a FIFO queue.
	GroupID string
}

// Queue is what a Worker needs of a queue.
type Queue interface {
	// Receive waits up to wait for at most max messages and hides those it
	// returns for visibility.
	Receive(ctx context.Context, max int, wait, visibility time.Duration) ([]Delivery, error)
	// Delete deletes handled messages. It does not keep ds: the worker
	// reuses the slice.
	Delete(ctx context.Context, ds []Delivery) error
	// ChangeVisibility hides d for timeout from now; 0 makes it visible at
	// once.
	ChangeVisibility(ctx context.Context, d Delivery, timeout time.Duration) error
	// DeadLetter moves d to the dead-letter queue with the reason attached
	// (attribute cws-dead-letter-reason) and deletes it; it returns
	// ErrNoDeadLetterQueue when the queue has none.
	DeadLetter(ctx context.Context, d Delivery, reason string) error
}

// ErrNoDeadLetterQueue is DeadLetter's error for a queue without a
// dead-letter queue: the message then stays on the queue and is retried.
var ErrNoDeadLetterQueue = errors.New("the queue has no dead-letter queue")

// DecodeSQS is the Decoder of SQS messages (wire.DecodeSQS of the body and
// string attributes), for the SQS worker and Lambda's SQS events.
func DecodeSQS(d Delivery) (event.Event, error) { return wire.DecodeSQS(d.Body, d.Attributes) }
