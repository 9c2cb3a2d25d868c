package lambda

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"

	awsevents "github.com/aws/aws-lambda-go/events"

	"github.com/coworks-go/cws/events"
	"github.com/coworks-go/cws/transport/queue"
	cwssqs "github.com/coworks-go/cws/transport/sqs"
)

// Option configures a Handler.
type Option func(*Handler)

// WithEvents sets the handler of the events that SQS and EventBridge
// deliver (default: an events.Door of the App, without replies).
func WithEvents(h events.Handler) Option { return func(l *Handler) { l.events = h } }

// WithDeadLetterQueue sends the messages that fail for good (malformed, or
// refused with a client error) to the queue at url, with the reason, and
// reports them handled. Without it they are reported failed, so that the
// queue's redrive policy dead-letters them after its maximum receives (the
// reason then only goes to the log).
func WithDeadLetterQueue(client cwssqs.API, url string) Option {
	return func(l *Handler) { l.dlq, l.dlqURL = client, url }
}

// WithConcurrency sets how many messages of an SQS batch are handled at
// once (default 10); FIFO groups are each handled in order.
func WithConcurrency(n int) Option { return func(l *Handler) { l.concurrency = max(1, n) } }

// WithLogger sets the logger (default slog.Default()).
func WithLogger(log *slog.Logger) Option { return func(l *Handler) { l.log = log } }

// sqsBatch handles the messages of an SQS event and reports the failed
// ones (partial batch response: the event source mapping needs
// ReportBatchItemFailures). In a FIFO batch, a failure fails the rest of
// its group, unhandled.
func (h *Handler) sqsBatch(ctx context.Context, recs []sqsRecord) *awsevents.SQSEventResponse {
	failed := make([]bool, len(recs))
	var groups [][]int
	if strings.HasSuffix(recs[0].EventSourceARN, ".fifo") {
		byGroup := map[string]int{}
		for i, r := range recs {
			g := r.Attributes["MessageGroupId"]
			j, ok := byGroup[g]
			if !ok {
				j = len(groups)
				byGroup[g] = j
				groups = append(groups, nil)
			}
			groups[j] = append(groups[j], i)
		}
	} else {
		for i := range recs {
			groups = append(groups, []int{i})
		}
	}
	sem := make(chan struct{}, h.concurrency)
	var wg sync.WaitGroup
	for _, g := range groups {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			for k, i := range g {
				if !h.record(ctx, recs[i]) {
					for _, rest := range g[k:] {
						failed[rest] = true
					}
					return
				}
			}
		}()
	}
	wg.Wait()
	resp := &awsevents.SQSEventResponse{BatchItemFailures: []awsevents.SQSBatchItemFailure{}}
	for i, f := range failed {
		if f {
			resp.BatchItemFailures = append(resp.BatchItemFailures, awsevents.SQSBatchItemFailure{ItemIdentifier: recs[i].MessageID})
		}
	}
	return resp
}

// record handles one SQS message and reports whether it is settled
// (handled, or dead-lettered).
func (h *Handler) record(ctx context.Context, r sqsRecord) bool {
	attrs := make(map[string]string, len(r.MessageAttributes))
	for k, v := range r.MessageAttributes {
		if v.StringValue != nil {
			attrs[k] = *v.StringValue
		}
	}
	n, _ := strconv.Atoi(r.Attributes["ApproximateReceiveCount"])
	d := queue.Delivery{ID: r.MessageID, Handle: r.ReceiptHandle, Body: r.Body, Attributes: attrs, ReceiveCount: n,
		GroupID: r.Attributes["MessageGroupId"]}
	e, err := events.DecodeSQS(r.Body, attrs)
	if err != nil {
		return h.deadLetter(ctx, d, r.EventSourceARN, fmt.Errorf("malformed message: %w", err))
	}
	err = h.handleEvent(ctx, &events.Message{Event: e, ReceiveCount: n, GroupID: d.GroupID, Transport: "lambda-sqs"})
	switch {
	case err == nil:
		return true
	case events.IsPermanent(err):
		return h.deadLetter(ctx, d, r.EventSourceARN, err)
	default:
		h.log.WarnContext(ctx, "handling failed: the message will be retried", "message", r.MessageID, "event", e.ID(), "error", err)
		return false
	}
}

// handleEvent runs the events handler, turning a panic into a retryable
// error.
func (h *Handler) handleEvent(ctx context.Context, m *events.Message) (err error) {
	defer func() {
		if p := recover(); p != nil {
			h.log.ErrorContext(ctx, "event handler panicked", "event", m.Event.ID(), "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			err = fmt.Errorf("event handler panicked: %v", p)
		}
	}()
	return h.events.Handle(ctx, m)
}

// deadLetter sends a message that failed for good to the dead-letter queue
// and reports whether it is settled.
func (h *Handler) deadLetter(ctx context.Context, d queue.Delivery, source string, reason error) bool {
	if h.dlq == nil {
		h.log.ErrorContext(ctx, "the message cannot be handled: reported failed, for the redrive policy to dead-letter it (set CWS_DEAD_LETTER_QUEUE_URL to dead-letter it at once with its reason)",
			"message", d.ID, "reason", reason.Error())
		return false
	}
	if err := cwssqs.SendDeadLetter(ctx, h.dlq, h.dlqURL, source, d, reason.Error()); err != nil {
		h.log.ErrorContext(ctx, "dead-lettering failed: reported failed", "message", d.ID, "error", err)
		return false
	}
	h.log.WarnContext(ctx, "dead-lettered", "message", d.ID, "reason", reason.Error())
	return true
}

// eventBridge handles an EventBridge event delivered to a Lambda target.
// A failure is the invocation's error, so that EventBridge retries it and
// then sends it to the target's dead-letter queue; with WithDeadLetterQueue
// a permanent failure goes there at once with its reason.
func (h *Handler) eventBridge(ctx context.Context, payload []byte) error {
	e, err := events.ParseEnvelope(payload)
	if err == nil {
		err = h.handleEvent(ctx, &events.Message{Event: e, ReceiveCount: 1, Transport: "lambda-eventbridge"})
	}
	switch {
	case err == nil:
		return nil
	case events.IsPermanent(err) && h.dlq != nil:
		d := queue.Delivery{ID: e.ID(), Body: string(payload)}
		if h.deadLetter(ctx, d, "eventbridge", err) {
			return nil
		}
	}
	return fmt.Errorf("cws: handling EventBridge event: %w", err)
}
