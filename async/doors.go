// Package async is the CloudEvents doors of a service: every entry can be
// invoked by a cws.invoke event, and the biz reactors run on schedules and
// notifications, through one events.Handler (invoke.Door, with the reactors'
// biz.Engine) whatever brings the event.
//
//   - Locally (cws run), the embedded default: an in-memory queue with its
//     dead-letter queue and an in-memory bus whose rules send invocations
//     and the reactors' subscriptions to the queue, a scheduler that fires
//     the reactors' schedules, and on the local server POST /_cws/events,
//     the reactors with their next fire times (GET /_cws/reactors), the
//     dead letters and their redrive (GET /_cws/deadletters, POST
//     /_cws/deadletters/redrive) and the workflows' endpoints. With
//     CWS_QUEUE_URL (and a Cloud) it consumes that SQS queue instead, and
//     the dead letters are in that queue's dead-letter queue (501 here).
//   - On Lambda: the messages of an SQS event source mapping (partial batch
//     responses, FIFO groups in order) and the events of EventBridge rule
//     targets.
//
// Give the doors to cws.Main among the App's options:
//
//	cws.Main(NewOffice(), async.Doors())
//
// Without a Cloud they need no AWS SDK: locally everything runs in memory,
// and on Lambda results, explicit dead letters and notifications have
// nowhere to go (a reply address other than memory:// is refused). The
// Cloud of package async/awscloud adds SQS, EventBridge and AWS replies
// (awscloud.Doors()).
package async

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/coworks-go/cws"
	"github.com/coworks-go/cws/biz"
	"github.com/coworks-go/cws/events"
	"github.com/coworks-go/cws/events/invoke"
	"github.com/coworks-go/cws/runtime"
	"github.com/coworks-go/cws/transport/queue"
)

// Environment variables of the doors.
const (
	// EnvQueueURL names an SQS queue (URL, ARN or name) that the local
	// runtime consumes instead of its in-memory queue (needs a Cloud).
	EnvQueueURL = "CWS_QUEUE_URL"
	// EnvDeadLetterQueueURL is where the Lambda door sends messages that
	// fail for good, with their reason (needs a Cloud). Without it they are
	// reported failed, for the queue's redrive policy to dead-letter them.
	EnvDeadLetterQueueURL = "CWS_DEAD_LETTER_QUEUE_URL"
	// EnvEventBus is the EventBridge bus (name or ARN) where reactors
	// publish their notification events, on Lambda and with CWS_QUEUE_URL
	// (needs a Cloud).
	EnvEventBus = "CWS_EVENT_BUS"
	// EnvRulePrefix prefixes the names of the reactors' rules (see
	// biz.WithRulePrefix).
	EnvRulePrefix = "CWS_RULE_PREFIX"
	// EnvIdempotencyTable names the DynamoDB table (name or ARN) of the
	// idempotency store, shared by every consumer and kept across their
	// crashes; the service links the store by importing
	// events/dynamostore (import _ "github.com/coworks-go/cws/events/dynamostore"),
	// and without it the doors refuse to start, saying so. Without the
	// variable, each process remembers the events it handled in memory.
	EnvIdempotencyTable = "CWS_IDEMPOTENCY_TABLE"
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
	// LocalCapacity is how many messages the local queue holds: beyond it
	// POST /_cws/events answers 503 with Retry-After (the soak test's
	// producer outran the consumer and the queue grew to gigabytes).
	LocalCapacity = 100_000
)

// The account and region of the local bus's events.
const (
	localAccount = "000000000000"
	localRegion  = "us-east-1"
)

// Cloud is what the doors need of a cloud's queues and buses. Package
// async/awscloud implements it on AWS (SQS and EventBridge).
type Cloud interface {
	// ReplyResolver resolves the reply addresses of invocations that are
	// not memory:// (an SQS queue URL or ARN, an EventBridge bus ARN).
	invoke.ReplyResolver
	// Queue opens the queue the local runtime consumes (CWS_QUEUE_URL): a
	// name, URL or ARN.
	Queue(ctx context.Context, name string) (Queue, error)
	// Bus returns the publisher of an event bus (name or ARN), where the
	// reactors' notifications go (CWS_EVENT_BUS).
	Bus(ctx context.Context, name string) (events.Publisher, error)
	// DeadLetters returns what sends the Lambda door's dead letters to the
	// queue at url (CWS_DEAD_LETTER_QUEUE_URL).
	DeadLetters(ctx context.Context, url string) (DeadLetterSender, error)
}

// Queue is a queue of a Cloud: consumed by a worker, published to.
type Queue interface {
	events.Publisher
	// Consumer returns a worker of the queue.
	Consumer(opts ...queue.Option) *queue.Worker
	// URL is the queue's address, for the log.
	URL() string
}

// DeadLetterSender sends a message that failed for good to a dead-letter
// queue, with the reason and where it came from (source).
type DeadLetterSender interface {
	SendDeadLetter(ctx context.Context, source string, d queue.Delivery, reason string) error
}

// Option configures the doors.
type Option func(*doors)

// WithCloud gives the doors a cloud: SQS queues, event buses and AWS reply
// addresses (awscloud.New).
func WithCloud(c Cloud) Option { return func(d *doors) { d.cloud = c } }

// WithStore sets the idempotency store of invocations and reactors
// (default: one events.MemoryStore per process).
func WithStore(s events.Store) Option { return func(d *doors) { d.store = s } }

// WithLease sets how long an invocation's claim in the idempotency store
// holds while its entry runs (default events.DefaultLease): after a
// consumer died mid-entry, the redelivery waits that long before it runs.
// Longer than the slowest entry, or a duplicate may run beside it.
func WithLease(l time.Duration) Option { return func(d *doors) { d.lease = l } }

// WithWorker sets options of the queue workers, local and on Lambda
// (concurrency, visibility, backoff...).
func WithWorker(opts ...queue.Option) Option {
	return func(d *doors) { d.worker = append(d.worker, opts...) }
}

// doors implements cws.Door.
type doors struct {
	runtime.EmptyOption
	cloud  Cloud
	store  events.Store
	lease  time.Duration
	worker []queue.Option
	// err is why the doors cannot open (an idempotency store not linked).
	err error
}

// Doors returns the CloudEvents doors, to give cws.Main among the App's
// options.
func Doors(opts ...Option) cws.Door {
	d := &doors{}
	for _, opt := range opts {
		opt(d)
	}
	switch table := os.Getenv(EnvIdempotencyTable); {
	case d.store != nil: // WithStore wins
	case table != "":
		if d.store, d.err = events.OpenStore("dynamo", table); d.err != nil {
			d.err = fmt.Errorf("%s=%s: %w", EnvIdempotencyTable, table, d.err)
		}
	default:
		d.store = events.NewMemoryStore()
	}
	return d
}

// reactorsOf returns the reactors of a service with a Reactors method.
func reactorsOf(app *runtime.App) map[string]biz.Reactor {
	if p, ok := app.Service().(biz.Provider); ok {
		return p.Reactors()
	}
	return nil
}

// newEngine returns the engine of the service's reactors and of its
// workflows' subscriptions (nil without any), calling the entries in
// process and publishing through pub (nil: no publisher), and the runner
// of its workflows (nil without any), whose executions run until ctx is
// done.
func (d *doors) newEngine(ctx context.Context, app *runtime.App, pub events.Publisher, ropts ...biz.RunnerOption) (*biz.Engine, *biz.Runner, error) {
	reactors := reactorsOf(app)
	copts := []biz.ClientOption{biz.WithApp(app), biz.WithSource("cws/" + app.Name())}
	if pub != nil {
		copts = append(copts, biz.WithPublisher(pub))
	}
	client := biz.NewClient(copts...)
	var runner *biz.Runner
	if p, ok := app.Service().(biz.WorkflowProvider); ok {
		wfs, err := p.Workflows()
		if err != nil {
			return nil, nil, err
		}
		ropts = append([]biz.RunnerOption{biz.WithTasks(client.Tasks(app.Name())), biz.WithRunnerLogger(app.Logger())}, ropts...)
		if runner, err = biz.NewRunner(ctx, wfs, ropts...); err != nil {
			return nil, nil, err
		}
		client = client.With(biz.WithRunner(runner))
		all := map[string]biz.Reactor{}
		for name, r := range reactors {
			all[name] = r
		}
		for name, r := range runner.Reactors() {
			if _, dup := all[name]; dup {
				return nil, nil, fmt.Errorf("a reactor and a workflow are both named %s", name)
			}
			all[name] = r
		}
		reactors = all
	}
	if len(reactors) == 0 {
		return nil, runner, nil
	}
	engine, err := biz.NewEngine(reactors, biz.WithClient(client), biz.WithLogger(app.Logger()),
		biz.WithStore(d.store), biz.WithRulePrefix(os.Getenv(EnvRulePrefix)))
	return engine, runner, err
}

// newDoor returns the invocation door of app, with the reactors' engine
// for the other events.
func (d *doors) newDoor(app *runtime.App, replies invoke.ReplyResolver, engine *biz.Engine) *invoke.Door {
	opts := []invoke.DoorOption{invoke.WithLogger(app.Logger()), invoke.WithStore(d.store), invoke.WithReplies(replies),
		invoke.WithLease(d.lease)}
	if tr, ok := d.cloud.(invoke.TaskReporter); ok {
		opts = append(opts, invoke.WithTasks(tr))
	}
	if engine != nil {
		opts = append(opts, invoke.WithNotifications(engine))
	}
	return invoke.NewDoor(app, opts...)
}

// needCloud is the error of a setting that needs a Cloud.
func needCloud(env string) error {
	return fmt.Errorf("%s is set, but these doors have no cloud to reach it: give cws.Main awscloud.Doors() (or async.Doors(async.WithCloud(...)))", env)
}

// notifications returns where the reactors publish: CWS_EVENT_BUS of the
// cloud, or fallback.
func (d *doors) notifications(ctx context.Context, fallback events.Publisher) (events.Publisher, error) {
	bus := os.Getenv(EnvEventBus)
	if bus == "" {
		return fallback, nil
	}
	if d.cloud == nil {
		return nil, needCloud(EnvEventBus)
	}
	return d.cloud.Bus(ctx, bus)
}

// RunMode implements cws.ModeRunner: CWS_MODE=reactors prints the
// reactors' rules as JSON, CWS_MODE=workflows the workflows
// (WorkflowInfo), CWS_MODE=workflow-run runs one execution of the workflow
// file CWS_WORKFLOW_FILE on the input read from stdin, its tasks calling
// the service's entries in process, and prints its ExecutionInfo.
func (d *doors) RunMode(ctx context.Context, app *runtime.App, mode string, w io.Writer) (bool, error) {
	if mode == "workflow-run" {
		return true, runWorkflowFile(ctx, app, os.Getenv(EnvWorkflowFile), os.Stdin, w)
	}
	if mode != "reactors" && mode != "workflows" {
		return false, nil
	}
	engine, runner, err := d.newEngine(ctx, app, nil)
	if err != nil {
		return true, err
	}
	rules := []biz.Rule{}
	if engine != nil {
		rules = engine.Rules(time.Now().UTC())
	}
	if mode == "reactors" {
		return true, writeJSON(w, rules)
	}
	return true, writeJSON(w, workflowInfos(runner, rules))
}

// WorkflowInfo describes a workflow of a service: its file, its states and
// the rules that start it.
type WorkflowInfo struct {
	Name       string         `json:"name"`
	Path       string         `json:"path"`
	Comment    string         `json:"comment,omitempty"`
	States     int            `json:"states"`
	Rules      []biz.Rule     `json:"rules"`
	Definition map[string]any `json:"definition"`
}

func workflowInfos(runner *biz.Runner, rules []biz.Rule) []WorkflowInfo {
	out := []WorkflowInfo{}
	if runner == nil {
		return out
	}
	for _, wf := range runner.Workflows() {
		info := WorkflowInfo{Name: wf.Name, Path: wf.Path, Comment: wf.Machine.Comment, States: len(wf.Machine.States),
			Rules: []biz.Rule{}, Definition: wf.Machine.Definition}
		for _, r := range rules {
			if r.Reactor == wf.Name {
				info.Rules = append(info.Rules, r)
			}
		}
		out = append(out, info)
	}
	return out
}

// Manifest is what the CloudEvents doors need deployed (their part of
// cws.Manifest): a queue with its dead-letter queue and the function's
// event source mapping, an event bus, and a rule per reactor subscription.
type Manifest struct {
	// Door is "cloudevents".
	Door string `json:"door"`
	// Cloud is "aws" when the doors reach AWS (replies, dead letters,
	// notifications), "" when they run in memory only.
	Cloud string `json:"cloud,omitempty"`
	// Rules are the reactors' subscriptions, without the rule prefix.
	Rules []biz.Rule `json:"rules"`
	// Workflows names the service's workflows: it answers their tasks
	// (Step Functions' SendTaskSuccess and SendTaskFailure).
	Workflows []string `json:"workflows,omitempty"`
	// Stores are the kinds of the durable idempotency stores the binary
	// links (events.RegisterStore): "dynamo" with events/dynamostore.
	Stores []string `json:"stores,omitempty"`
}

// DescribeDoor implements cws.DoorDescriber.
func (d *doors) DescribeDoor(ctx context.Context, app *runtime.App) (any, error) {
	if d.err != nil {
		return nil, d.err
	}
	m := Manifest{Door: "cloudevents", Rules: []biz.Rule{}, Stores: events.StoreKinds()}
	if d.cloud != nil {
		m.Cloud = "aws"
	}
	engine, runner, err := d.newEngine(ctx, app, nil)
	if err != nil {
		return nil, err
	}
	if runner != nil {
		for _, wf := range runner.Workflows() {
			m.Workflows = append(m.Workflows, wf.Name)
		}
	}
	if engine != nil {
		for _, r := range engine.Rules(time.Now().UTC()) {
			r.Name = strings.TrimPrefix(r.Name, engine.Prefix())
			r.Next = time.Time{}
			m.Rules = append(m.Rules, r)
		}
	}
	return m, nil
}

var (
	_ cws.ModeRunner    = (*doors)(nil)
	_ cws.DoorDescriber = (*doors)(nil)
)
