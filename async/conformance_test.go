package async_test

import (
	"context"
	"testing"
	"time"

	"github.com/coworks-go/cws/async"
	"github.com/coworks-go/cws/events"
	"github.com/coworks-go/cws/events/wire"
	cwslambda "github.com/coworks-go/cws/transport/lambda"
	"github.com/coworks-go/cws/transport/memory"
	"github.com/coworks-go/cws/transport/queue"
	"github.com/coworks-go/cws/transport/transporttest"
)

// queueDeadLetters dead-letters a message of q to q's dead-letter queue,
// with its reason, as the Lambda door's SQS dead-letter sender does.
type queueDeadLetters struct{ q *memory.Queue }

func (d queueDeadLetters) SendDeadLetter(ctx context.Context, _ string, m queue.Delivery, reason string) error {
	return d.q.DeadLetter(ctx, m, reason)
}

// lambdaTransport is the Lambda SQS path on an in-memory queue: an event
// source mapping hands the queue's batches, as SQS events, to the Lambda
// door of a function with the CloudEvents doors, whose handler is the
// suite's, and deletes what the partial batch response does not name.
func lambdaTransport(fifo bool) func(t *testing.T) *transporttest.Transport {
	return func(t *testing.T) *transporttest.Transport {
		qopts := []memory.Option{memory.WithVisibilityTimeout(2 * time.Second)}
		arn := "arn:aws:sqs:us-east-1:000000000000:q"
		if fifo {
			qopts = append(qopts, memory.WithFIFO())
			arn += ".fifo"
		}
		dlq := memory.NewQueue("dlq", qopts...)
		q := memory.NewQueue("q", append(qopts, memory.WithDeadLetter(dlq, 3))...)
		app := newApp(t, newShop())
		function := func(h events.Handler) transporttest.Function {
			door := cwslambda.NewHandler(app, cwslambda.WithLogger(discard),
				cwslambda.WithEvents(async.LambdaEvents(h, queueDeadLetters{q}, queue.WithLogger(discard), queue.WithConcurrency(8))))
			return door.Invoke
		}
		return &transporttest.Transport{
			Publisher: q,
			Consumer: func(opts ...queue.Option) events.Consumer {
				return transporttest.EventSourceMapping(q, arn, function, opts...)
			},
			SendRaw: func(ctx context.Context, body string) error {
				_, err := q.Send(ctx, memory.Outgoing{Body: body, GroupID: "raw"})
				return err
			},
			DeadLetters: func(ctx context.Context) ([]transporttest.DeadLetter, error) {
				ds, err := dlq.Receive(ctx, 10, 0, time.Minute)
				if err != nil {
					return nil, err
				}
				var out []transporttest.DeadLetter
				for _, d := range ds {
					body := d.Body
					if body == "" && d.Event != nil {
						body, _ = wire.EncodeSQS(*d.Event)
					}
					out = append(out, transporttest.DeadLetter{Body: body, Reason: d.Attributes[wire.AttrDeadLetterReason]})
				}
				return out, dlq.Delete(ctx, ds)
			},
			MaxReceive:   3,
			FIFO:         fifo,
			NoHeartbeat:  true,
			MaxEventSize: wire.MaxSQSMessageSize,
			Settle:       200 * time.Millisecond,
		}
	}
}

// TestLambdaSQSConformance runs the transport conformance suite through the
// Lambda SQS path: what the worker guarantees for a queue it polls holds
// for the messages Lambda hands the function.
func TestLambdaSQSConformance(t *testing.T) {
	t.Run("standard", func(t *testing.T) {
		transporttest.Run(t, transporttest.Kind{NoHeartbeat: true}, lambdaTransport(false))
	})
	t.Run("fifo", func(t *testing.T) {
		transporttest.Run(t, transporttest.Kind{FIFO: true, NoHeartbeat: true}, lambdaTransport(true))
	})
}
