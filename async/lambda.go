package async

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	awsevents "github.com/aws/aws-lambda-go/events"

	"github.com/coworks-go/cws/biz"
	"github.com/coworks-go/cws/events"
	"github.com/coworks-go/cws/events/invoke"
	"github.com/coworks-go/cws/events/wire"
	"github.com/coworks-go/cws/runtime"
	cwslambda "github.com/coworks-go/cws/transport/lambda"
	"github.com/coworks-go/cws/transport/queue"
)

// Lambda implements cws.Door: the invocation door with the reactors'
// engine, fed by the SQS and EventBridge events of the Lambda door; replies
// and notifications through the cloud, explicit dead letters to
// CWS_DEAD_LETTER_QUEUE_URL.
func (d *doors) Lambda(ctx context.Context, app *runtime.App) (cwslambda.EventHandler, error) {
	if d.err != nil {
		return nil, d.err
	}
	notify, err := d.notifications(ctx, nil)
	if err != nil {
		return nil, err
	}
	engine, _, err := d.newEngine(ctx, app, notify, biz.WithTriggersWaiting())
	if err != nil {
		return nil, err
	}
	var cloud invoke.ReplyResolver
	if d.cloud != nil {
		cloud = d.cloud
	}
	door := d.newDoor(app, invoke.LocalReplies(nil, cloud), engine)
	var dlq DeadLetterSender
	if url := os.Getenv(EnvDeadLetterQueueURL); url != "" {
		if d.cloud == nil {
			return nil, needCloud(EnvDeadLetterQueueURL)
		}
		if dlq, err = d.cloud.DeadLetters(ctx, url); err != nil {
			return nil, err
		}
	}
	return LambdaEvents(door, dlq, append([]queue.Option{queue.WithLogger(app.Logger())}, d.worker...)...), nil
}

// LambdaEvents returns the handler of the SQS and EventBridge events of the
// Lambda door, settling each with h the way a queue worker does
// (queue.Worker.HandleBatch: the same decoding, recovery, retries, dead
// letters and FIFO order, proven by the transport conformance suite). A
// message that fails for good goes to dlq with its reason and is reported
// handled; without dlq it is reported failed, for the queue's redrive
// policy to dead-letter it (the reason only in the log).
func LambdaEvents(h events.Handler, dlq DeadLetterSender, opts ...queue.Option) cwslambda.EventHandler {
	return &lambdaEvents{h: h, dlq: dlq, opts: opts, log: queue.Configure(opts...).Log}
}

type lambdaEvents struct {
	h    events.Handler
	dlq  DeadLetterSender
	opts []queue.Option
	log  *slog.Logger
}

// HandleSQS implements cwslambda.EventHandler: the messages of an SQS
// event, handled like a received batch; those not settled (handled or
// dead-lettered) are the batch item failures.
func (l *lambdaEvents) HandleSQS(ctx context.Context, msgs []awsevents.SQSMessage) *awsevents.SQSEventResponse {
	resp := &awsevents.SQSEventResponse{BatchItemFailures: []awsevents.SQSBatchItemFailure{}}
	if len(msgs) == 0 {
		return resp
	}
	ds := make([]queue.Delivery, len(msgs))
	b := &lambdaBatch{dlq: l.dlq, source: msgs[0].EventSourceARN, index: make(map[string]int, len(msgs)), settled: make([]bool, len(msgs))}
	for i, m := range msgs {
		ds[i] = delivery(m)
		b.index[m.MessageId] = i
	}
	opts := l.opts
	if strings.HasSuffix(msgs[0].EventSourceARN, ".fifo") {
		opts = append([]queue.Option{queue.WithFIFO()}, opts...)
	}
	queue.New(b, queue.DecodeSQS, "lambda-sqs", opts...).HandleBatch(ctx, ds, l.h)
	for i, ok := range b.settled {
		if !ok {
			resp.BatchItemFailures = append(resp.BatchItemFailures, awsevents.SQSBatchItemFailure{ItemIdentifier: msgs[i].MessageId})
		}
	}
	return resp
}

// delivery is a message of an SQS event as a queue delivery.
func delivery(m awsevents.SQSMessage) queue.Delivery {
	attrs := make(map[string]string, len(m.MessageAttributes))
	for k, v := range m.MessageAttributes {
		if v.StringValue != nil {
			attrs[k] = *v.StringValue
		}
	}
	n, _ := strconv.Atoi(m.Attributes["ApproximateReceiveCount"])
	return queue.Delivery{ID: m.MessageId, Handle: m.ReceiptHandle, Body: m.Body, Attributes: attrs, ReceiveCount: n,
		GroupID: m.Attributes["MessageGroupId"]}
}

// lambdaBatch is the queue of one SQS event, as the worker settles it: a
// message is settled once deleted (handled) or dead-lettered; whatever is
// left — retried, released, abandoned — is a batch item failure, and comes
// back after the queue's visibility timeout.
type lambdaBatch struct {
	dlq    DeadLetterSender
	source string
	index  map[string]int // message id → position in the batch

	mu      sync.Mutex
	settled []bool
}

func (b *lambdaBatch) settle(d queue.Delivery) {
	i, ok := b.index[d.ID]
	if !ok {
		return
	}
	b.mu.Lock()
	b.settled[i] = true
	b.mu.Unlock()
}

// Receive implements queue.Queue: the batch is received already.
func (b *lambdaBatch) Receive(context.Context, int, time.Duration, time.Duration) ([]queue.Delivery, error) {
	return nil, errors.New("an SQS event's batch receives nothing")
}

// Delete implements queue.Queue: the messages are handled; the event
// source mapping deletes them.
func (b *lambdaBatch) Delete(_ context.Context, ds []queue.Delivery) error {
	for _, d := range ds {
		b.settle(d)
	}
	return nil
}

// ChangeVisibility implements queue.Queue: the message stays a failure;
// it comes back after the queue's visibility timeout.
func (b *lambdaBatch) ChangeVisibility(context.Context, queue.Delivery, time.Duration) error {
	return nil
}

// DeadLetter implements queue.Queue.
func (b *lambdaBatch) DeadLetter(ctx context.Context, d queue.Delivery, reason string) error {
	if b.dlq == nil {
		return queue.ErrNoDeadLetterQueue
	}
	if err := b.dlq.SendDeadLetter(ctx, b.source, d, reason); err != nil {
		return err
	}
	b.settle(d)
	return nil
}

// HandleEventBridge implements cwslambda.EventHandler: an EventBridge
// event delivered to a rule's Lambda target. A failure is the invocation's
// error, so that EventBridge retries it and then sends it to the target's
// dead-letter queue; with a dead-letter sender a permanent failure goes
// there at once with its reason.
func (l *lambdaEvents) HandleEventBridge(ctx context.Context, payload []byte) error {
	e, err := wire.ParseEnvelope(payload)
	if err == nil {
		err = events.Chain(l.h, events.Recover(l.log)).Handle(ctx, &events.Message{Event: e, ReceiveCount: 1, Transport: "lambda-eventbridge"})
	}
	switch {
	case err == nil:
		return nil
	case events.IsPermanent(err) && l.dlq != nil:
		d := queue.Delivery{ID: e.ID(), Body: string(payload)}
		derr := l.dlq.SendDeadLetter(ctx, "eventbridge", d, err.Error())
		if derr == nil {
			l.log.WarnContext(ctx, "dead-lettered", "event", e.ID(), "reason", err.Error())
			return nil
		}
		l.log.ErrorContext(ctx, "dead-lettering failed: the invocation fails", "event", e.ID(), "error", derr)
	}
	return fmt.Errorf("cws: handling EventBridge event: %w", err)
}
