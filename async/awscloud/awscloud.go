// Package awscloud is the AWS side of the CloudEvents doors, on
// aws-sdk-go-v2: SQS queues to consume and to reply to, EventBridge buses to
// publish to, the dead-letter queue of the Lambda door, and the deployment
// of the reactors' subscriptions as EventBridge rules. A service that uses
// them gives cws.Main its doors:
//
//	cws.Main(NewOffice(), awscloud.Doors())
//
// The clients take the AWS configuration of the environment (the usual
// chain; AWS_ENDPOINT_URL for LocalStack), loaded when first needed.
package awscloud

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/coworks-go/cws"
	"github.com/coworks-go/cws/async"
	"github.com/coworks-go/cws/events"
	"github.com/coworks-go/cws/events/invoke"
	cwseventbridge "github.com/coworks-go/cws/transport/eventbridge"
	"github.com/coworks-go/cws/transport/queue"
	cwssqs "github.com/coworks-go/cws/transport/sqs"
)

// Doors returns the CloudEvents doors with the AWS cloud of the
// environment: async.Doors(async.WithCloud(New()), opts...). With
// CWS_IDEMPOTENCY_TABLE their idempotency store is that DynamoDB table
// (async.EnvIdempotencyTable; the service imports events/dynamostore).
func Doors(opts ...async.Option) cws.Door {
	return async.Doors(append([]async.Option{async.WithCloud(New())}, opts...)...)
}

// Cloud implements async.Cloud on AWS.
type Cloud struct {
	load func(ctx context.Context) (aws.Config, error)

	mu     sync.Mutex
	cfg    *aws.Config
	sqs    *sqs.Client
	eb     *eventbridge.Client
	sfn    *sfn.Client
	cached map[string]events.Publisher // by reply address
}

// Option configures a Cloud.
type Option func(*Cloud)

// WithConfig uses cfg instead of the configuration of the environment.
func WithConfig(cfg aws.Config) Option {
	return func(c *Cloud) { c.load = func(context.Context) (aws.Config, error) { return cfg, nil } }
}

// New returns the AWS cloud; its configuration is loaded on first use.
func New(opts ...Option) *Cloud {
	c := &Cloud{load: func(ctx context.Context) (aws.Config, error) { return config.LoadDefaultConfig(ctx) },
		cached: map[string]events.Publisher{}}
	for _, opt := range opts {
		opt(c)
	}
	return c
}

// clients returns the SQS and EventBridge clients, made once.
func (c *Cloud) clients(ctx context.Context) (*sqs.Client, *eventbridge.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cfg == nil {
		cfg, err := c.load(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("AWS configuration: %w", err)
		}
		c.cfg, c.sqs, c.eb, c.sfn = &cfg, sqs.NewFromConfig(cfg), eventbridge.NewFromConfig(cfg), sfn.NewFromConfig(cfg)
	}
	return c.sqs, c.eb, nil
}

// Resolve implements invoke.ReplyResolver: an SQS queue URL or ARN, an
// EventBridge bus ARN. Publishers are kept by address; looking up a queue
// ARN's URL is done without holding the cache.
func (c *Cloud) Resolve(ctx context.Context, address string) (events.Publisher, error) {
	c.mu.Lock()
	p, ok := c.cached[address]
	c.mu.Unlock()
	if ok {
		return p, nil
	}
	sqsClient, eb, err := c.clients(ctx)
	if err != nil {
		return nil, err
	}
	switch {
	case strings.HasPrefix(address, "http://") || strings.HasPrefix(address, "https://"):
		p = cwssqs.NewPublisher(sqsClient, address)
	case strings.HasPrefix(address, "arn:aws:sqs:"):
		url, err := cwssqs.URLOf(ctx, sqsClient, address)
		if err != nil {
			return nil, err
		}
		p = cwssqs.NewPublisher(sqsClient, url)
	case strings.HasPrefix(address, "arn:aws:events:") && strings.Contains(address, ":event-bus/"):
		p = cwseventbridge.NewPublisher(eb, address)
	default:
		return nil, fmt.Errorf("%q is not a reply address: use memory://NAME, an SQS queue URL or ARN, or an EventBridge bus ARN", address)
	}
	c.mu.Lock()
	c.cached[address] = p
	c.mu.Unlock()
	return p, nil
}

// sqsQueue is an SQS queue with its publisher.
type sqsQueue struct {
	*cwssqs.Queue
	pub *cwssqs.Publisher
}

// Publish implements events.Publisher.
func (q sqsQueue) Publish(ctx context.Context, evs ...event.Event) error {
	return q.pub.Publish(ctx, evs...)
}

// Queue implements async.Cloud: the SQS queue named by URL, ARN or name.
func (c *Cloud) Queue(ctx context.Context, name string) (async.Queue, error) {
	client, _, err := c.clients(ctx)
	if err != nil {
		return nil, err
	}
	url, err := cwssqs.URLOf(ctx, client, name)
	if err != nil {
		return nil, err
	}
	q, err := cwssqs.NewQueue(ctx, client, url)
	if err != nil {
		return nil, err
	}
	return sqsQueue{Queue: q, pub: cwssqs.NewPublisher(client, url)}, nil
}

// Bus implements async.Cloud: the EventBridge bus named by name or ARN.
func (c *Cloud) Bus(ctx context.Context, name string) (events.Publisher, error) {
	_, eb, err := c.clients(ctx)
	if err != nil {
		return nil, err
	}
	return cwseventbridge.NewPublisher(eb, name), nil
}

// DeadLetters implements async.Cloud: dead letters to the SQS queue at
// url (see cwssqs.SendDeadLetter).
func (c *Cloud) DeadLetters(ctx context.Context, url string) (async.DeadLetterSender, error) {
	client, _, err := c.clients(ctx)
	if err != nil {
		return nil, err
	}
	return deadLetters{client: client, url: url}, nil
}

type deadLetters struct {
	client *sqs.Client
	url    string
}

func (d deadLetters) SendDeadLetter(ctx context.Context, source string, del queue.Delivery, reason string) error {
	return cwssqs.SendDeadLetter(ctx, d.client, d.url, source, del, reason)
}

var _ async.Cloud = (*Cloud)(nil)

// TaskSucceeded implements invoke.TaskReporter: Step Functions'
// SendTaskSuccess. A task already answered or timed out is no error.
func (c *Cloud) TaskSucceeded(ctx context.Context, token string, output []byte) error {
	if _, _, err := c.clients(ctx); err != nil {
		return err
	}
	_, err := c.sfn.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(string(output))})
	return taskDone(err)
}

// TaskFailed implements invoke.TaskReporter: Step Functions'
// SendTaskFailure.
func (c *Cloud) TaskFailed(ctx context.Context, token, errName, cause string) error {
	if _, _, err := c.clients(ctx); err != nil {
		return err
	}
	_, err := c.sfn.SendTaskFailure(ctx, &sfn.SendTaskFailureInput{TaskToken: aws.String(token), Error: aws.String(errName), Cause: aws.String(cause)})
	return taskDone(err)
}

// taskDone forgives the errors of a task that no longer waits: it was
// answered already (a message delivered twice), or it timed out.
func taskDone(err error) error {
	var timedOut *sfntypes.TaskTimedOut
	var invalid *sfntypes.InvalidToken
	var gone *sfntypes.TaskDoesNotExist
	if errors.As(err, &timedOut) || errors.As(err, &invalid) || errors.As(err, &gone) {
		return nil
	}
	return err
}

var _ invoke.TaskReporter = (*Cloud)(nil)
