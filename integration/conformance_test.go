//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/coworks-go/cws/async"
	"github.com/coworks-go/cws/async/awscloud"
	"github.com/coworks-go/cws/events"
	"github.com/coworks-go/cws/events/wire"
	"github.com/coworks-go/cws/runtime"
	cwseventbridge "github.com/coworks-go/cws/transport/eventbridge"
	cwslambda "github.com/coworks-go/cws/transport/lambda"
	"github.com/coworks-go/cws/transport/queue"
	cwssqs "github.com/coworks-go/cws/transport/sqs"
	"github.com/coworks-go/cws/transport/transporttest"
)

const maxReceive = 3

// queueWithDLQ creates a queue redriving to a dead-letter queue after
// maxReceive receives; it returns both URLs and the queue's ARN.
func queueWithDLQ(t *testing.T, c *sqs.Client, fifo bool) (url, arn, dlqURL string) {
	t.Helper()
	suffix, attrs := "", map[string]string{}
	if fifo {
		suffix = ".fifo"
		attrs["FifoQueue"] = "true"
	}
	dlqURL, dlqARN := createQueue(t, c, name(t, "dlq")+suffix, attrs)
	policy, _ := json.Marshal(map[string]string{"deadLetterTargetArn": dlqARN, "maxReceiveCount": fmt.Sprint(maxReceive)})
	qattrs := map[string]string{"RedrivePolicy": string(policy)}
	for k, v := range attrs {
		qattrs[k] = v
	}
	url, arn = createQueue(t, c, name(t, "q")+suffix, qattrs)
	return url, arn, dlqURL
}

// deadLetters takes the messages of a dead-letter queue.
func deadLetters(c *sqs.Client, dlqURL string) func(ctx context.Context) ([]transporttest.DeadLetter, error) {
	return func(ctx context.Context) ([]transporttest.DeadLetter, error) {
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(dlqURL), MaxNumberOfMessages: 10,
			WaitTimeSeconds: 1, MessageAttributeNames: []string{"All"}})
		if err != nil {
			return nil, err
		}
		var dl []transporttest.DeadLetter
		for _, m := range out.Messages {
			reason := ""
			if v, ok := m.MessageAttributes[wire.AttrDeadLetterReason]; ok {
				reason = aws.ToString(v.StringValue)
			}
			dl = append(dl, transporttest.DeadLetter{Body: aws.ToString(m.Body), Reason: reason})
			if _, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(dlqURL), ReceiptHandle: m.ReceiptHandle}); err != nil {
				return nil, err
			}
		}
		return dl, nil
	}
}

// sqsTransport is a fresh SQS queue (FIFO or not) with its dead-letter
// queue.
func sqsTransport(fifo bool) func(t *testing.T) *transporttest.Transport {
	return func(t *testing.T) *transporttest.Transport {
		c := sqs.NewFromConfig(need(t))
		url, _, dlqURL := queueWithDLQ(t, c, fifo)
		q, err := cwssqs.NewQueue(ctxFor(t, 30*time.Second), c, url)
		if err != nil {
			t.Fatal(err)
		}
		if q.DeadLetterURL() != dlqURL || q.FIFO() != fifo {
			t.Fatalf("queue attributes: dead-letter %q (want %q), FIFO %v", q.DeadLetterURL(), dlqURL, q.FIFO())
		}
		return &transporttest.Transport{
			Publisher: cwssqs.NewPublisher(c, url),
			Consumer:  func(opts ...queue.Option) events.Consumer { return q.Consumer(opts...) },
			SendRaw: func(ctx context.Context, body string) error {
				in := &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(body)}
				if fifo {
					in.MessageGroupId, in.MessageDeduplicationId = aws.String("raw"), aws.String(fmt.Sprintf("raw-%d", len(body)))
				}
				_, err := c.SendMessage(ctx, in)
				return err
			},
			DeadLetters:  deadLetters(c, dlqURL),
			MaxReceive:   maxReceive,
			FIFO:         fifo,
			MaxEventSize: wire.MaxSQSMessageSize,
			Settle:       2 * time.Second,
		}
	}
}

func TestConformanceSQS(t *testing.T) {
	need(t)
	t.Parallel()
	transporttest.Run(t, transporttest.Kind{}, sqsTransport(false))
}

func TestConformanceSQSFIFO(t *testing.T) {
	need(t)
	t.Parallel()
	transporttest.Run(t, transporttest.Kind{FIFO: true}, sqsTransport(true))
}

// TestConformanceEventBridge publishes to an EventBridge bus whose rule
// targets the queue the consumer reads.
func TestConformanceEventBridge(t *testing.T) {
	need(t)
	t.Parallel()
	transporttest.Run(t, transporttest.Kind{}, func(t *testing.T) *transporttest.Transport {
		cfg := need(t)
		c, eb := sqs.NewFromConfig(cfg), eventbridge.NewFromConfig(cfg)
		url, arn, dlqURL := queueWithDLQ(t, c, false)
		allowEvents(t, c, url, arn)
		bus := name(t, "bus")
		if _, err := eb.CreateEventBus(ctxFor(t, 30*time.Second), &eventbridge.CreateEventBusInput{Name: aws.String(bus)}); err != nil {
			t.Fatalf("CreateEventBus: %v", err)
		}
		t.Cleanup(func() {
			_, _ = eb.DeleteEventBus(context.Background(), &eventbridge.DeleteEventBusInput{Name: aws.String(bus)})
		})
		ruleToQueue(t, eb, bus, name(t, "rule"), `{"source":["cws/transporttest"]}`, "", arn)
		q, err := cwssqs.NewQueue(ctxFor(t, 30*time.Second), c, url)
		if err != nil {
			t.Fatal(err)
		}
		return &transporttest.Transport{
			Publisher: cwseventbridge.NewPublisher(eb, bus),
			Consumer:  func(opts ...queue.Option) events.Consumer { return q.Consumer(opts...) },
			SendRaw: func(ctx context.Context, body string) error {
				_, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(body)})
				return err
			},
			DeadLetters:  deadLetters(c, dlqURL),
			MaxReceive:   maxReceive,
			MaxEventSize: wire.MaxPutEventsEntrySize,
			Settle:       3 * time.Second,
		}
	})
}

// quiet drops the logs of the Lambda path's handlers.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// pinger is the service of the Lambda function of TestConformanceLambdaSQS:
// the suite's handler takes its events, the App only has to exist.
type pinger struct{}

func (pinger) GetPing(context.Context) string { return "pong" }

// lambdaSQSTransport is the Lambda SQS path on a LocalStack queue: an event
// source mapping hands the queue's batches, as SQS events, to the Lambda
// door of a function with the CloudEvents doors (dead letters sent to the
// dead-letter queue by SQS SendMessage, with their reason), and deletes
// what the partial batch response does not name.
func lambdaSQSTransport(fifo bool) func(t *testing.T) *transporttest.Transport {
	return func(t *testing.T) *transporttest.Transport {
		cfg := need(t)
		tr := sqsTransport(fifo)(t)
		c := sqs.NewFromConfig(cfg)
		url := tr.Publisher.(*cwssqs.Publisher).URL()
		q, err := cwssqs.NewQueue(ctxFor(t, 30*time.Second), c, url)
		if err != nil {
			t.Fatal(err)
		}
		dlq, err := awscloud.New(awscloud.WithConfig(cfg)).DeadLetters(ctxFor(t, 30*time.Second), q.DeadLetterURL())
		if err != nil {
			t.Fatal(err)
		}
		app, err := runtime.New(pinger{}, runtime.WithLogger(quiet))
		if err != nil {
			t.Fatal(err)
		}
		arn := "arn:aws:sqs:us-east-1:000000000000:" + url[strings.LastIndexByte(url, '/')+1:]
		tr.Consumer = func(opts ...queue.Option) events.Consumer {
			return transporttest.EventSourceMapping(q, arn, func(h events.Handler) transporttest.Function {
				return cwslambda.NewHandler(app, cwslambda.WithLogger(quiet),
					cwslambda.WithEvents(async.LambdaEvents(h, dlq, queue.WithLogger(quiet)))).Invoke
			}, opts...)
		}
		tr.NoHeartbeat = true
		return tr
	}
}

// TestConformanceLambdaSQS runs the suite through the Lambda SQS path on
// LocalStack's SQS (the event source mapping is the suite's; LocalStack runs
// no Lambda without Docker).
func TestConformanceLambdaSQS(t *testing.T) {
	need(t)
	t.Parallel()
	t.Run("standard", func(t *testing.T) {
		transporttest.Run(t, transporttest.Kind{NoHeartbeat: true}, lambdaSQSTransport(false))
	})
	t.Run("fifo", func(t *testing.T) {
		transporttest.Run(t, transporttest.Kind{FIFO: true, NoHeartbeat: true}, lambdaSQSTransport(true))
	})
}
