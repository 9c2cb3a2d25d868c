package cws

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/coworks-go/cws/events"
	"github.com/coworks-go/cws/runtime"
	cwslambda "github.com/coworks-go/cws/transport/lambda"
	"github.com/coworks-go/cws/transport/memory"
	"github.com/coworks-go/cws/transport/queue"
	"github.com/coworks-go/cws/transport/reply"
	cwssqs "github.com/coworks-go/cws/transport/sqs"
)

// Environment variables of the asynchronous doors.
const (
	// EnvQueueURL names an SQS queue (URL, ARN or name) that the local
	// runtime consumes instead of its in-memory queue, with the AWS
	// configuration of the environment (AWS_ENDPOINT_URL for LocalStack).
	EnvQueueURL = "CWS_QUEUE_URL"
	// EnvDeadLetterQueueURL is where the Lambda door sends messages that
	// fail for good, with their reason.
	EnvDeadLetterQueueURL = "CWS_DEAD_LETTER_QUEUE_URL"
)

// Names of the embedded default's queues and bus (memory://NAME as reply
// addresses).
const (
	LocalQueue       = "cws-events"
	LocalDeadLetters = "cws-dead-letters"
	LocalBus         = "default"
	// LocalMaxReceive is how many times the local queue delivers a message
	// before dead-lettering it.
	LocalMaxReceive = 5
)

// asyncDoor is the asynchronous side of a running service: where the local
// events endpoint publishes, what consumes, and the door that handles.
type asyncDoor struct {
	publisher events.Publisher
	consumer  events.Consumer
	door      *events.Door
	describe  string
}

// loadAWS is the AWS configuration of the environment.
func loadAWS(ctx context.Context) (aws.Config, error) { return config.LoadDefaultConfig(ctx) }

// newAsyncDoor builds the embedded default (an in-memory queue with its
// dead-letter queue, and a bus whose rule sends invocations to the queue)
// or, with CWS_QUEUE_URL, a consumer of that SQS queue.
func newAsyncDoor(ctx context.Context, app *runtime.App, log *slog.Logger) (*asyncDoor, error) {
	if name := os.Getenv(EnvQueueURL); name != "" {
		cfg, err := loadAWS(ctx)
		if err != nil {
			return nil, fmt.Errorf("AWS configuration for %s: %w", EnvQueueURL, err)
		}
		client := sqs.NewFromConfig(cfg)
		url, err := cwssqs.URLOf(ctx, client, name)
		if err != nil {
			return nil, err
		}
		q, err := cwssqs.NewQueue(ctx, client, url)
		if err != nil {
			return nil, err
		}
		door := events.NewDoor(app, events.WithDoorLogger(log),
			events.WithReplier(reply.New(reply.WithAWS(func(context.Context) (aws.Config, error) { return cfg, nil }))))
		return &asyncDoor{publisher: cwssqs.NewPublisher(client, url), consumer: q.Consumer(queue.WithLogger(log)), door: door,
			describe: "SQS queue " + url}, nil
	}
	dlq := memory.NewQueue(LocalDeadLetters)
	q := memory.NewQueue(LocalQueue, memory.WithDeadLetter(dlq, LocalMaxReceive))
	bus := memory.NewBus(LocalBus)
	if err := bus.PutRule("cws-invocations", `{"detail-type":["`+events.TypeInvoke+`"]}`, q); err != nil {
		return nil, err
	}
	replier := reply.New(reply.WithLocal(LocalQueue, q), reply.WithLocal(LocalBus, bus), reply.WithAWS(loadAWS))
	door := events.NewDoor(app, events.WithDoorLogger(log), events.WithReplier(replier))
	return &asyncDoor{publisher: q, consumer: q.Consumer(queue.WithLogger(log)), door: door,
		describe: "in-memory queue " + LocalQueue}, nil
}

// lambdaOptions are the Lambda door's options from the environment: replies
// to AWS queues and buses, explicit dead letters with CWS_DEAD_LETTER_QUEUE_URL.
func lambdaOptions(ctx context.Context, app *runtime.App, log *slog.Logger) ([]cwslambda.Option, error) {
	door := events.NewDoor(app, events.WithDoorLogger(log), events.WithReplier(reply.New(reply.WithAWS(loadAWS))))
	opts := []cwslambda.Option{cwslambda.WithEvents(door), cwslambda.WithLogger(log)}
	if url := os.Getenv(EnvDeadLetterQueueURL); url != "" {
		cfg, err := loadAWS(ctx)
		if err != nil {
			return nil, fmt.Errorf("AWS configuration for %s: %w", EnvDeadLetterQueueURL, err)
		}
		opts = append(opts, cwslambda.WithDeadLetterQueue(sqs.NewFromConfig(cfg), url))
	}
	return opts, nil
}
