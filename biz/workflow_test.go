package biz_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/coworks-go/cws/biz"
	"github.com/coworks-go/cws/biz/asl"
	"github.com/coworks-go/cws/events"
	"github.com/coworks-go/cws/events/invoke"
	"github.com/coworks-go/cws/events/wire"
	"github.com/coworks-go/cws/internal/testutil"
	"github.com/coworks-go/cws/runtime"
)

// ledger is a service whose entries a workflow calls.
type ledger struct {
	mu      sync.Mutex
	entries []string
	flaky   int // answers 503 that many times
}

type entryIn struct {
	Label  string `json:"label"`
	Amount int    `json:"amount"`
}

func (l *ledger) PostEntries(ctx context.Context, in entryIn) (map[string]any, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.flaky > 0 {
		l.flaky--
		return nil, runtime.NewProblem(503, "busy")
	}
	if in.Amount < 0 {
		return nil, runtime.Unprocessable("negative amount %d", in.Amount)
	}
	l.entries = append(l.entries, in.Label)
	runtime.SetStatus(ctx, 201)
	return map[string]any{"n": len(l.entries), "label": in.Label}, nil
}

func (l *ledger) GetEntries_(ctx context.Context, n int) (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n < 1 || n > len(l.entries) {
		return "", runtime.NotFound("no entry %d", n)
	}
	return l.entries[n-1], nil
}

const ledgerWorkflow = `
StartAt: Record
States:
  Record:
    Type: Task
    Resource: cws:invoke
    Parameters:
      method: post
      path: /entries
      body:
        label.$: $.label
        amount.$: $.amount
    Retry:
      - ErrorEquals: [cws.Status.5xx]
        MaxAttempts: 2
    Catch:
      - ErrorEquals: [cws.Status.4xx]
        ResultPath: $.refused
        Next: Refused
    ResultPath: $.recorded
    Next: Read
  Read:
    Type: Task
    Resource: cws:invoke
    Parameters:
      method: GET
      path.$: States.Format('/entries/{}', $.recorded.n)
    ResultPath: $.text
    Next: Announce
  Announce:
    Type: Task
    Resource: cws:publish
    Parameters:
      type: entry.recorded
      data:
        label.$: $.text
    ResultPath: $.announced
    Next: Done
  Done:
    Type: Succeed
  Refused:
    Type: Fail
    Error: Refused
    CausePath: $.refused.Error
`

func loadLedgerWorkflow(t *testing.T) *biz.Workflow {
	t.Helper()
	wf, err := biz.LoadWorkflow(fstest.MapFS{"wf/ledger.asl.yaml": {Data: []byte(ledgerWorkflow)}}, "wf/ledger.asl.yaml",
		biz.On("orders", `{"detail-type":["order.completed"]}`))
	if err != nil {
		t.Fatal(err)
	}
	return wf
}

func ledgerApp(t *testing.T, l *ledger) *runtime.App {
	t.Helper()
	t.Setenv("TOKEN", testutil.Token)
	app, err := runtime.New(l, runtime.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}
	return app
}

type nosleep struct{}

func (nosleep) Now() time.Time                                   { return time.Now() }
func (nosleep) Sleep(ctx context.Context, _ time.Duration) error { return ctx.Err() }

// run runs a machine to its end.
func run(t *testing.T, m *asl.Machine, input string, opts ...asl.Option) *asl.Execution {
	t.Helper()
	in, _ := asl.DecodeJSON([]byte(input))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return m.Run(ctx, in, append(opts, asl.WithClock(nosleep{}))...)
}

// TestWorkflowTasks: cws:invoke calls entries in process — a 2xx answer is
// the result, JSON or text; 5xx is retried by the definition's Retry
// (cws.Status.5xx matching 503); 4xx is caught by cws.Status.4xx —;
// cws:publish publishes the event.
func TestWorkflowTasks(t *testing.T) {
	wf := loadLedgerWorkflow(t)
	l := &ledger{flaky: 2}
	pub := &collector{}
	client := biz.NewClient(biz.WithApp(ledgerApp(t, l)), biz.WithPublisher(pub), biz.WithSource("cws/ledger"))
	opts := []asl.Option{asl.WithTasks(client.Tasks("ledger")), asl.WithErrorMatch(biz.MatchStatusClass)}

	e := run(t, wf.Machine, `{"label":"coffee","amount":3}`, opts...)
	status, out, errName, cause := e.Status()
	if status != asl.StatusSucceeded {
		t.Fatalf("%s %s %s", status, errName, cause)
	}
	o := out.(map[string]any)
	if mustJSON(o["recorded"]) != `{"label":"coffee","n":1}` || o["text"] != "coffee" || o["announced"].(map[string]any)["id"] == "" {
		t.Errorf("output %s", mustJSON(out))
	}
	tries := 0
	for _, ev := range e.History() {
		if ev.Type == "TaskFailed" && ev.Details["error"] == "cws.Status.503" {
			tries++
		}
	}
	if tries != 2 || l.flaky != 0 {
		t.Errorf("%d failed tries, want the 2 busy answers retried", tries)
	}
	if evs := pub.all(); len(evs) != 1 || evs[0].Type() != "entry.recorded" || string(evs[0].Data()) != `{"label":"coffee"}` || evs[0].Source() != "cws/ledger" {
		t.Errorf("published %v", evs)
	}

	e = run(t, wf.Machine, `{"label":"refund","amount":-5}`, opts...)
	if status, _, errName, cause := e.Status(); status != asl.StatusFailed || errName != "Refused" || cause != "cws.Status.422" {
		t.Errorf("a refused call: %s %s %s", status, errName, cause)
	}
}

// TestWorkflowTriggers: a workflow's subscription starts it through the
// engine, once per event however often it is delivered, with the
// EventBridge event as its input; the runner keeps the execution.
func TestWorkflowTriggers(t *testing.T) {
	wf := loadLedgerWorkflow(t)
	client := biz.NewClient(biz.WithApp(ledgerApp(t, &ledger{})), biz.WithPublisher(&collector{}))
	runner, err := biz.NewRunner(context.Background(), []*biz.Workflow{wf}, biz.WithTasks(client.Tasks("")), biz.WithClock(nosleep{}))
	if err != nil {
		t.Fatal(err)
	}
	engine, err := biz.NewEngine(runner.Reactors(), biz.WithClient(client.With(biz.WithRunner(runner))),
		biz.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}
	order := notification("o-1", "order.completed", map[string]any{"label": "tea", "amount": 2})
	for range 2 {
		if err := engine.Handle(context.Background(), &events.Message{Event: order}); err != nil {
			t.Fatal(err)
		}
	}
	execs := runner.Executions()
	if len(execs) != 1 || execs[0].Name != "orders-o-1" {
		t.Fatalf("executions %v", execs)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = execs[0].Wait(ctx)
	// The input is the event as a rule delivers it: its envelope, the
	// CloudEvent as its detail; this workflow reads $.label, which the
	// envelope lacks.
	in := execs[0].Input.(map[string]any)
	if in["detail-type"] != "order.completed" || in["source"] != "shop" || in["detail"].(map[string]any)["data"].(map[string]any)["label"] != "tea" {
		t.Errorf("input %s", mustJSON(in))
	}
	if status, _, errName, _ := execs[0].Status(); status != asl.StatusFailed || errName != asl.ErrRuntime {
		t.Errorf("the execution: %s %s", status, errName)
	}
	// The client starts workflows too, and waits for them if asked.
	e, err := client.With(biz.WithRunner(runner)).StartWorkflow(ctx, "ledger", map[string]any{"label": "jam", "amount": 1}, true)
	if status, _, _, _ := e.Status(); err != nil || status != asl.StatusSucceeded {
		t.Errorf("StartWorkflow: %v %s", err, status)
	}
	if _, err := runner.Start("nope", nil, ""); err == nil {
		t.Error("a workflow that does not exist started")
	}
}

// sfnIntegrations emulates Step Functions' service integrations for a
// compiled definition run on the embedded engine: sqs:sendMessage
// .waitForTaskToken hands the message to the service's CloudEvents door
// (as its queue worker would) and waits for its report; events:putEvents
// publishes the detail.
type sfnIntegrations struct {
	t       *testing.T
	door    *invoke.Door
	queue   string
	reports *reports
	pub     *collector
}

type reports struct {
	mu  sync.Mutex
	out map[string]any
	err map[string]*asl.Error
}

func (r *reports) TaskSucceeded(_ context.Context, token string, output []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	v, err := asl.DecodeJSON(output)
	r.out[token] = v
	return err
}

func (r *reports) TaskFailed(_ context.Context, token, name, cause string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.err[token] = &asl.Error{Name: name, Cause: cause}
	return nil
}

func (s *sfnIntegrations) RunTask(ctx context.Context, task *asl.Task) (any, error) {
	params := task.Input.(map[string]any)
	switch task.Resource {
	case biz.ResourceSQSWaitForTaskToken:
		if params["QueueUrl"] != s.queue {
			return nil, fmt.Errorf("sent to %v", params["QueueUrl"])
		}
		body, _ := json.Marshal(params["MessageBody"])
		e, err := wire.DecodeSQS(string(body), nil)
		if err != nil {
			return nil, err
		}
		if e.Extensions()[invoke.ExtTaskToken] != task.Token {
			return nil, fmt.Errorf("the message carries token %v, not the task's", e.Extensions()[invoke.ExtTaskToken])
		}
		if err := s.door.Handle(ctx, &events.Message{Event: e}); err != nil {
			return nil, err
		}
		s.reports.mu.Lock()
		defer s.reports.mu.Unlock()
		if f, ok := s.reports.err[task.Token]; ok {
			return nil, f
		}
		return s.reports.out[task.Token], nil
	case biz.ResourcePutEvents:
		entries := params["Entries"].([]any)
		entry := entries[0].(map[string]any)
		detail, _ := json.Marshal(entry["Detail"])
		var e event.Event
		if err := json.Unmarshal(detail, &e); err != nil {
			return nil, err
		}
		if entry["DetailType"] != e.Type() || entry["EventBusName"] != "office-bus" {
			return nil, fmt.Errorf("entry %v", entry)
		}
		_ = s.pub.Publish(ctx, e)
		return map[string]any{"Entries": []any{map[string]any{"EventId": "eb-" + e.ID()}}, "FailedEntryCount": int64(0)}, nil
	}
	return nil, fmt.Errorf("unexpected resource %s", task.Resource)
}

// TestCompileStepFunctions: the compiled definition is valid ASL whose cws
// tasks are service integrations, and — run with those integrations
// emulated — it ends as the workflow does on the embedded engine, through
// the same states.
func TestCompileStepFunctions(t *testing.T) {
	wf := loadLedgerWorkflow(t)
	def, err := biz.CompileStepFunctions(wf, biz.StepFunctionsTargets{EventBus: "office-bus",
		QueueURL: func(service string) (string, error) { return "https://sqs/ledger", nil }})
	if err != nil {
		t.Fatal(err)
	}
	compiled, err := asl.Parse(def)
	if err != nil {
		t.Fatalf("the compiled definition: %v\n%s", err, def)
	}
	for _, want := range []string{`"Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken"`, `"cwstasktoken.$": "$$.Task.Token"`,
		`"subject": "POST /entries"`, `"subject.$": "States.Format('{} {}', 'GET', States.Format('/entries/{}', $.recorded.n))"`,
		`"Resource": "arn:aws:states:::events:putEvents"`, `"cws.Status.503"`, `"cws.Status.422"`, `"id.$": "$.Entries[0].EventId"`} {
		if !strings.Contains(string(def), want) {
			t.Errorf("the compiled definition lacks %s:\n%s", want, def)
		}
	}
	if strings.Contains(string(def), "5xx") || strings.Contains(string(def), `"cws:invoke"`) {
		t.Errorf("the compiled definition keeps what Step Functions does not know:\n%s", def)
	}
	for _, input := range []string{`{"label":"coffee","amount":3}`, `{"label":"refund","amount":-5}`} {
		l := &ledger{flaky: 1}
		app := ledgerApp(t, l)
		rep := &reports{out: map[string]any{}, err: map[string]*asl.Error{}}
		integ := &sfnIntegrations{t: t, queue: "https://sqs/ledger", reports: rep, pub: &collector{},
			door: invoke.NewDoor(app, invoke.WithTasks(rep), invoke.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))}
		deployed := run(t, compiled, input, asl.WithTasks(integ))

		l2 := &ledger{flaky: 1}
		client := biz.NewClient(biz.WithApp(ledgerApp(t, l2)), biz.WithPublisher(&collector{}))
		embedded := run(t, wf.Machine, input, asl.WithTasks(client.Tasks("")), asl.WithErrorMatch(biz.MatchStatusClass))

		s1, o1, e1, _ := deployed.Status()
		s2, o2, e2, _ := embedded.Status()
		path1, path2 := strings.Join(asl.StatesEntered(deployed.History()), ">"), strings.Join(asl.StatesEntered(embedded.History()), ">")
		if s1 != s2 || e1 != e2 || path1 != path2 {
			t.Errorf("%s: deployed %s %s via %s, embedded %s %s via %s", input, s1, e1, path1, s2, e2, path2)
		}
		if s1 == asl.StatusSucceeded {
			d, m := o1.(map[string]any), o2.(map[string]any)
			if mustJSON(d["recorded"]) != mustJSON(m["recorded"]) || d["text"] != m["text"] || len(integ.pub.all()) != 1 {
				t.Errorf("%s: deployed %s, embedded %s", input, mustJSON(o1), mustJSON(o2))
			}
		}
	}
}

// collector is a Publisher that keeps the events.
type collector struct {
	mu  sync.Mutex
	evs []event.Event
}

func (c *collector) Publish(_ context.Context, evs ...event.Event) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.evs = append(c.evs, evs...)
	return nil
}

func (c *collector) all() []event.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]event.Event(nil), c.evs...)
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return err.Error()
	}
	return string(b)
}
