package cws

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/coworks-go/cws/biz"
	"github.com/coworks-go/cws/events"
	"github.com/coworks-go/cws/runtime"
	cwseventbridge "github.com/coworks-go/cws/transport/eventbridge"
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
	// EnvEventBus is the EventBridge bus (name or ARN) where reactors
	// publish their notification events, on Lambda and with CWS_QUEUE_URL.
	EnvEventBus = "CWS_EVENT_BUS"
	// EnvRulePrefix prefixes the names of the reactors' rules (see
	// biz.WithRulePrefix).
	EnvRulePrefix = "CWS_RULE_PREFIX"
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

// The account and region of the local bus's events.
const (
	localAccount = "000000000000"
	localRegion  = "us-east-1"
)

// asyncDoor is the asynchronous side of a running service: where the local
// events endpoint publishes, what consumes, and the door that handles.
type asyncDoor struct {
	publisher events.Publisher
	consumer  events.Consumer
	door      *events.Door
	describe  string
	schedules func(ctx context.Context) error // the local scheduler, or nil
}

// newEngine returns the engine of the service's reactors (nil without
// any), calling the entries in process and publishing through pub.
func newEngine(app *runtime.App, reactors map[string]biz.Reactor, pub events.Publisher, log *slog.Logger) (*biz.Engine, error) {
	if len(reactors) == 0 {
		return nil, nil
	}
	opts := []biz.ClientOption{biz.WithApp(app), biz.WithSource("cws/" + app.Name())}
	if pub != nil {
		opts = append(opts, biz.WithPublisher(pub))
	}
	return biz.NewEngine(reactors, biz.WithClient(biz.NewClient(opts...)), biz.WithLogger(log),
		biz.WithRulePrefix(os.Getenv(EnvRulePrefix)))
}

// busPublisher is the EventBridge publisher of CWS_EVENT_BUS, or nil.
func busPublisher(cfg aws.Config) events.Publisher {
	if bus := os.Getenv(EnvEventBus); bus != "" {
		return cwseventbridge.NewPublisher(eventbridge.NewFromConfig(cfg), bus)
	}
	return nil
}

// loadAWS is the AWS configuration of the environment.
func loadAWS(ctx context.Context) (aws.Config, error) { return config.LoadDefaultConfig(ctx) }

// newAsyncDoor builds the embedded default (an in-memory queue with its
// dead-letter queue, and a bus whose rule sends invocations to the queue)
// or, with CWS_QUEUE_URL, a consumer of that SQS queue.
func newAsyncDoor(ctx context.Context, app *runtime.App, reactors map[string]biz.Reactor, log *slog.Logger) (*asyncDoor, error) {
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
		pub := cwssqs.NewPublisher(client, url)
		// Notifications go to CWS_EVENT_BUS, or else to the queue itself,
		// where the engine matches them against the reactors' patterns.
		notify := busPublisher(cfg)
		if notify == nil {
			notify = pub
		}
		engine, err := newEngine(app, reactors, notify, log)
		if err != nil {
			return nil, err
		}
		doorOpts := []events.DoorOption{events.WithDoorLogger(log),
			events.WithReplier(reply.New(reply.WithAWS(func(context.Context) (aws.Config, error) { return cfg, nil })))}
		if engine != nil {
			doorOpts = append(doorOpts, events.WithEvents(engine))
		}
		return &asyncDoor{publisher: pub, consumer: q.Consumer(queue.WithLogger(log)), door: events.NewDoor(app, doorOpts...),
			describe: "SQS queue " + url}, nil
	}
	dlq := memory.NewQueue(LocalDeadLetters)
	q := memory.NewQueue(LocalQueue, memory.WithDeadLetter(dlq, LocalMaxReceive))
	bus := memory.NewBus(LocalBus)
	if err := bus.PutRule("cws-invocations", `{"detail-type":["`+events.TypeInvoke+`"]}`, q); err != nil {
		return nil, err
	}
	replier := reply.New(reply.WithLocal(LocalQueue, q), reply.WithLocal(LocalBus, bus), reply.WithAWS(loadAWS))
	ad := &asyncDoor{publisher: q, consumer: q.Consumer(queue.WithLogger(log)), describe: "in-memory queue " + LocalQueue}
	engine, err := newEngine(app, reactors, bus, log)
	if err != nil {
		return nil, err
	}
	doorOpts := []events.DoorOption{events.WithDoorLogger(log), events.WithReplier(replier)}
	if engine != nil {
		// Each subscription is a rule of the local bus targeting the queue,
		// as it is an EventBridge rule deployed; the scheduler puts the
		// Scheduled Events on the bus.
		arn := func(name string) string { return biz.RuleARN(localRegion, localAccount, name) }
		for _, r := range engine.Rules(time.Now()) {
			p := r.Pattern
			if r.Schedule != "" {
				p = biz.ScheduledPattern(arn(r.Name))
			}
			if err := bus.PutRule(r.Name, p, q); err != nil {
				return nil, err
			}
		}
		doorOpts = append(doorOpts, events.WithEvents(engine))
		ad.schedules = func(ctx context.Context) error {
			return engine.RunSchedules(ctx, func(ctx context.Context, rule string, at time.Time) error {
				_, err := bus.Put(ctx, biz.ScheduledEvent(arn(rule), localAccount, localRegion, at), "")
				return err
			})
		}
	}
	ad.door = events.NewDoor(app, doorOpts...)
	return ad, nil
}

// lambdaOptions are the Lambda door's options from the environment: replies
// to AWS queues and buses, explicit dead letters with CWS_DEAD_LETTER_QUEUE_URL.
func lambdaOptions(ctx context.Context, app *runtime.App, reactors map[string]biz.Reactor, log *slog.Logger) ([]cwslambda.Option, error) {
	doorOpts := []events.DoorOption{events.WithDoorLogger(log), events.WithReplier(reply.New(reply.WithAWS(loadAWS)))}
	if len(reactors) > 0 {
		var notify events.Publisher
		if os.Getenv(EnvEventBus) != "" {
			cfg, err := loadAWS(ctx)
			if err != nil {
				return nil, fmt.Errorf("AWS configuration for %s: %w", EnvEventBus, err)
			}
			notify = busPublisher(cfg)
		}
		engine, err := newEngine(app, reactors, notify, log)
		if err != nil {
			return nil, err
		}
		doorOpts = append(doorOpts, events.WithEvents(engine))
	}
	door := events.NewDoor(app, doorOpts...)
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
