package transporttest

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	awsevents "github.com/aws/aws-lambda-go/events"

	"github.com/coworks-go/cws/events"
	"github.com/coworks-go/cws/events/wire"
	"github.com/coworks-go/cws/transport/queue"
)

// Function is a Lambda function as its runtime hands it a payload (an
// SQS event) and takes its answer.
type Function func(ctx context.Context, payload []byte) ([]byte, error)

// EventSourceMapping returns a Consumer that does to q what Lambda's SQS
// event source mapping does, so that the Lambda SQS path passes the suite:
// it receives batches (the options' batch size and wait; the visibility of
// the options, which stands for the queue's), hands each to the function
// that function(h) returns as the SQS event Lambda sends (ReceiptHandle,
// ApproximateReceiveCount, MessageGroupId, string message attributes,
// eventSourceARN arn), and deletes the messages that its partial batch
// response does not name as failed — none when the function fails. It
// extends no visibility: a message whose handler outlives it comes back,
// as on Lambda, whose function timeout must stay under the queue's
// visibility timeout. On shutdown it lets the functions running finish,
// up to the options' shutdown timeout; those left behind are abandoned
// unanswered, their messages coming back after their visibility.
func EventSourceMapping(q queue.Queue, arn string, function func(h events.Handler) Function, opts ...queue.Option) events.Consumer {
	return &esm{q: q, arn: arn, function: function, cfg: queue.Configure(opts...)}
}

type esm struct {
	q        queue.Queue
	arn      string
	function func(h events.Handler) Function
	cfg      queue.Config
}

// Consume implements events.Consumer.
func (m *esm) Consume(ctx context.Context, h events.Handler) error {
	fn := m.function(h)
	work, abandon := context.WithCancel(context.WithoutCancel(ctx))
	defer abandon()
	var running sync.WaitGroup
	// Lambda scales its pollers with the queue; as many as the worker has
	// receivers here.
	pollers := make(chan struct{}, m.cfg.Receivers)
	for ctx.Err() == nil {
		select {
		case pollers <- struct{}{}:
		case <-ctx.Done():
			continue
		}
		ds, err := m.q.Receive(ctx, m.cfg.BatchSize, m.cfg.WaitTime, m.cfg.VisibilityTimeout)
		if err != nil || len(ds) == 0 {
			<-pollers
			if err != nil && ctx.Err() == nil {
				time.Sleep(100 * time.Millisecond)
			}
			continue
		}
		running.Go(func() {
			defer func() { <-pollers }()
			m.invoke(work, fn, ds)
		})
	}
	finished := make(chan struct{})
	go func() { running.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(m.cfg.ShutdownTimeout):
		abandon()
	}
	return nil
}

// invoke hands a batch to the function and deletes what it handled.
func (m *esm) invoke(ctx context.Context, fn Function, ds []queue.Delivery) {
	payload, err := SQSEvent(m.arn, ds)
	if err != nil {
		m.cfg.Log.Error("event source mapping: encoding the batch", "error", err)
		return
	}
	out, err := fn(ctx, payload)
	if err != nil || ctx.Err() != nil {
		return // the whole batch comes back after its visibility
	}
	var resp awsevents.SQSEventResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		return
	}
	failed := map[string]bool{}
	for _, f := range resp.BatchItemFailures {
		failed[f.ItemIdentifier] = true
	}
	var handled []queue.Delivery
	for _, d := range ds {
		if !failed[d.ID] {
			handled = append(handled, d)
		}
	}
	if len(handled) > 0 {
		_ = m.q.Delete(context.WithoutCancel(ctx), handled)
	}
}

// SQSEvent returns the SQS event Lambda's event source mapping sends for
// the deliveries of the queue arn.
func SQSEvent(arn string, ds []queue.Delivery) ([]byte, error) {
	recs := make([]awsevents.SQSMessage, len(ds))
	for i, d := range ds {
		body := d.Body
		if body == "" && d.Event != nil {
			b, err := wire.EncodeSQS(*d.Event)
			if err != nil {
				return nil, err
			}
			body = b
		}
		attrs := map[string]string{"ApproximateReceiveCount": fmt.Sprint(d.ReceiveCount), "SentTimestamp": "1764400000000"}
		if d.GroupID != "" {
			attrs["MessageGroupId"] = d.GroupID
		}
		mattrs := map[string]awsevents.SQSMessageAttribute{}
		for k, v := range d.Attributes {
			mattrs[k] = awsevents.SQSMessageAttribute{StringValue: &v, DataType: "String"}
		}
		recs[i] = awsevents.SQSMessage{MessageId: d.ID, ReceiptHandle: d.Handle, Body: body, Attributes: attrs,
			MessageAttributes: mattrs, EventSource: "aws:sqs", EventSourceARN: arn, AWSRegion: "us-east-1"}
	}
	return json.Marshal(awsevents.SQSEvent{Records: recs})
}
