package biz

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/coworks-go/cws/biz/asl"
	"github.com/coworks-go/cws/events"
	"github.com/coworks-go/cws/events/invoke"
	"github.com/coworks-go/cws/events/wire"
)

// Workflow is a state machine of a service, written in the Amazon States
// Language (a file a non-programmer can read, and edit in AWS Workflow
// Studio), and the subscriptions that start it.
type Workflow struct {
	// Name is the workflow's: its file's name without .asl.yaml, .asl.yml
	// or .asl.json (lower case letters, digits, hyphens).
	Name string
	// Path is the file the workflow was read from.
	Path string
	// Machine is the validated state machine.
	Machine *asl.Machine
	// Subscriptions start executions: on a schedule, the input is the
	// Scheduled Event; on a pattern, the EventBridge event that matched.
	Subscriptions []Subscription
}

// WorkflowProvider is a service with workflows: cws.Main runs them beside
// its reactors, through the CloudEvents doors.
type WorkflowProvider interface {
	Workflows() ([]*Workflow, error)
}

// The suffixes of workflow files.
var workflowSuffixes = []string{".asl.yaml", ".asl.yml", ".asl.json"}

// LoadWorkflow reads a workflow file (an Amazon States Language definition,
// JSON or YAML) from fsys and validates it; subs start it.
func LoadWorkflow(fsys fs.FS, file string, subs ...Subscription) (*Workflow, error) {
	name := ""
	for _, s := range workflowSuffixes {
		if strings.HasSuffix(file, s) {
			name = strings.TrimSuffix(path.Base(file), s)
		}
	}
	if name == "" {
		return nil, fmt.Errorf("workflow %s: a workflow file is named NAME.asl.yaml or NAME.asl.json", file)
	}
	if !namePattern.MatchString(name) {
		return nil, fmt.Errorf("workflow %s: name %q: use lower case letters, digits and hyphens", file, name)
	}
	data, err := fs.ReadFile(fsys, file)
	if err != nil {
		return nil, fmt.Errorf("workflow %s: %w", file, err)
	}
	m, err := asl.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("workflow %s: %w", file, err)
	}
	return &Workflow{Name: name, Path: file, Machine: m, Subscriptions: subs}, nil
}

// LoadWorkflows reads every workflow file in the directory dir of fsys,
// none subscribed to anything.
func LoadWorkflows(fsys fs.FS, dir string) ([]*Workflow, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var out []*Workflow
	for _, e := range entries {
		for _, s := range workflowSuffixes {
			if !e.IsDir() && strings.HasSuffix(e.Name(), s) {
				w, err := LoadWorkflow(fsys, path.Join(dir, e.Name()))
				if err != nil {
					return nil, err
				}
				out = append(out, w)
			}
		}
	}
	return out, nil
}

// The resources of cws task states.
const (
	// ResourceInvoke calls a tech entry: Parameters method, path (with its
	// query), body, and optionally service. A 2xx answer is the task's
	// result (its JSON, or its text); another fails the task with the
	// error cws.Status.<code> (invoke.StatusError) and the problem+json as
	// its cause.
	ResourceInvoke = "cws:invoke"
	// ResourcePublish publishes a notification event: Parameters type,
	// data, and optionally source and subject. The result is {"id": …}.
	ResourcePublish = "cws:publish"
)

var statusClass = regexp.MustCompile(`^cws\.Status\.([1-5])xx$`)

// MatchStatusClass is an ErrorEquals matcher (asl.WithErrorMatch): an
// entry's error answer fails its task with invoke.StatusError
// (cws.Status.503), and cws.Status.5xx matches cws.Status.500 to
// cws.Status.599.
func MatchStatusClass(pattern, name string) bool {
	m := statusClass.FindStringSubmatch(pattern)
	rest, ok := strings.CutPrefix(name, invoke.StatusErrorPrefix)
	return m != nil && ok && len(rest) == 3 && rest[:1] == m[1] && rest[1] >= '0' && rest[1] <= '9' && rest[2] >= '0' && rest[2] <= '9'
}

// invokeParams are the Parameters of a cws:invoke task.
type invokeParams struct {
	Service string          `json:"service"`
	Method  string          `json:"method"`
	Path    string          `json:"path"`
	Body    json.RawMessage `json:"body"`
}

// publishParams are the Parameters of a cws:publish task.
type publishParams struct {
	Type    string          `json:"type"`
	Source  string          `json:"source"`
	Subject string          `json:"subject"`
	Data    json.RawMessage `json:"data"`
}

// Tasks returns the runner of the cws task resources (cws:invoke,
// cws:publish) through the client: entries in process or over HTTP (once
// per attempt: retrying is the definition's Retry), events through its
// publisher. service is the client's service's name: a cws:invoke task
// naming another service fails (it runs deployed, through that service's
// queue).
func (c *Client) Tasks(service string) asl.TaskRunner {
	once := c.With(WithRetries(0, 0))
	return asl.TaskFunc(func(ctx context.Context, t *asl.Task) (any, error) {
		raw, err := json.Marshal(t.Input)
		if err != nil {
			return nil, err
		}
		switch t.Resource {
		case ResourceInvoke:
			var p invokeParams
			if err := json.Unmarshal(raw, &p); err != nil || p.Method == "" || !strings.HasPrefix(p.Path, "/") {
				return nil, asl.Errorf(asl.ErrTaskFailed, "%s takes {\"method\", \"path\" (starting with /), \"body\"}, not %s", ResourceInvoke, raw)
			}
			if p.Service != "" && service != "" && p.Service != service {
				return nil, asl.Errorf(asl.ErrTaskFailed, "service %s: here only the entries of %s are called in process (deployed, the task goes to %s's queue)", p.Service, service, p.Service)
			}
			var body any
			if len(p.Body) > 0 && string(p.Body) != "null" {
				body = p.Body
			}
			res, err := once.Invoke(ctx, strings.ToUpper(p.Method), p.Path, body)
			var ce *CallError
			switch {
			case errors.As(err, &ce):
				return nil, &asl.Error{Name: invoke.StatusError(ce.Status), Cause: string(res.Body)}
			case err != nil:
				return nil, err
			}
			return ResultValue(res.ContentType, res.Body)
		case ResourcePublish:
			var p publishParams
			if err := json.Unmarshal(raw, &p); err != nil || p.Type == "" {
				return nil, asl.Errorf(asl.ErrTaskFailed, "%s takes {\"type\", \"data\", \"source\", \"subject\"}, not %s", ResourcePublish, raw)
			}
			var data any
			if len(p.Data) > 0 {
				data = p.Data
			}
			e, err := c.NewEvent(p.Type, data)
			if err != nil {
				return nil, err
			}
			if p.Source != "" {
				e.SetSource(p.Source)
			}
			if p.Subject != "" {
				e.SetSubject(p.Subject)
			}
			if err := c.Publish(ctx, e); err != nil {
				return nil, err
			}
			return map[string]any{"id": e.ID()}, nil
		}
		return nil, asl.Errorf(asl.ErrTaskFailed, "unknown resource %q (cws runs %s and %s)", t.Resource, ResourceInvoke, ResourcePublish)
	})
}

// ResultValue is an entry's answer as a task's result: its JSON value, its
// text, or null when empty.
func ResultValue(contentType string, body []byte) (any, error) {
	if len(body) == 0 {
		return nil, nil
	}
	if strings.Contains(contentType, "json") || json.Valid(body) {
		if v, err := asl.DecodeJSON(body); err == nil {
			return v, nil
		}
	}
	return string(body), nil
}

// Runner runs a service's workflows on the embedded engine (package asl)
// and keeps their latest executions.
type Runner struct {
	workflows map[string]*Workflow
	names     []string
	tasks     asl.TaskRunner
	clock     asl.Clock
	log       *slog.Logger
	base      context.Context
	keep      int
	// waitTriggers: a trigger waits for its execution's end.
	waitTriggers bool

	mu    sync.Mutex
	execs []*asl.Execution // oldest first, at most keep
}

// RunnerOption configures a Runner.
type RunnerOption func(*Runner)

// WithTasks sets what runs the task states (default: none).
func WithTasks(t asl.TaskRunner) RunnerOption { return func(r *Runner) { r.tasks = t } }

// WithClock sets the executions' clock (default asl.RealClock).
func WithClock(c asl.Clock) RunnerOption { return func(r *Runner) { r.clock = c } }

// WithRunnerLogger sets the logger.
func WithRunnerLogger(l *slog.Logger) RunnerOption { return func(r *Runner) { r.log = l } }

// WithTriggersWaiting makes a trigger wait for the end of the execution it
// starts (on Lambda, where nothing runs between invocations).
func WithTriggersWaiting() RunnerOption { return func(r *Runner) { r.waitTriggers = true } }

// WithKeep sets how many executions are kept (default 500).
func WithKeep(n int) RunnerOption { return func(r *Runner) { r.keep = n } }

// NewRunner checks the workflows (unique names) and returns their runner.
// Executions run until ctx is done.
func NewRunner(ctx context.Context, workflows []*Workflow, opts ...RunnerOption) (*Runner, error) {
	r := &Runner{workflows: map[string]*Workflow{}, clock: asl.RealClock, log: slog.Default(), base: ctx, keep: 500}
	for _, o := range opts {
		o(r)
	}
	for _, w := range workflows {
		if _, dup := r.workflows[w.Name]; dup {
			return nil, fmt.Errorf("two workflows are named %s", w.Name)
		}
		r.workflows[w.Name] = w
		r.names = append(r.names, w.Name)
	}
	sort.Strings(r.names)
	return r, nil
}

// Workflows returns the workflows, by name.
func (r *Runner) Workflows() []*Workflow {
	out := make([]*Workflow, len(r.names))
	for i, n := range r.names {
		out[i] = r.workflows[n]
	}
	return out
}

// Workflow returns a workflow by name.
func (r *Runner) Workflow(name string) (*Workflow, bool) {
	w, ok := r.workflows[name]
	return w, ok
}

// ErrNoWorkflow is the error of starting a workflow that does not exist.
var ErrNoWorkflow = errors.New("no such workflow")

// ErrExecutionExists is the error of starting an execution under the name
// of another one with another input (Step Functions'
// ExecutionAlreadyExists); with the same input the existing execution is
// returned.
var ErrExecutionExists = errors.New("an execution of that name exists with another input")

// Start starts an execution of a workflow with input (JSON values); name
// names it ("" for a fresh one). It returns at once.
func (r *Runner) Start(workflow string, input any, name string) (*asl.Execution, error) {
	w, ok := r.workflows[workflow]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrNoWorkflow, workflow)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if name != "" {
		for _, e := range r.execs {
			if e.Name == name && strings.HasSuffix(e.StateMachineARN, ":"+workflow) {
				if jsonEqual(e.Input, input) {
					return e, nil
				}
				return nil, fmt.Errorf("%w: %s", ErrExecutionExists, name)
			}
		}
	}
	opts := []asl.Option{asl.WithName(workflow, name), asl.WithClock(r.clock), asl.WithErrorMatch(MatchStatusClass),
		asl.WithDone(func(e *asl.Execution) {
			status, _, errName, cause := e.Status()
			log := r.log.With("workflow", workflow, "execution", e.Name, "status", status, "duration", e.StopDate().Sub(e.StartDate),
				"states", strings.Join(asl.StatesEntered(e.History()), " > "))
			if status == asl.StatusSucceeded {
				log.Info("workflow done")
			} else {
				log.Warn("workflow failed", "error", errName, "cause", cause)
			}
		})}
	if r.tasks != nil {
		opts = append(opts, asl.WithTasks(r.tasks))
	}
	e := w.Machine.Start(r.base, input, opts...)
	r.execs = append(r.execs, e)
	if len(r.execs) > r.keep {
		r.execs = r.execs[len(r.execs)-r.keep:]
	}
	return e, nil
}

// Execution returns a kept execution by name.
func (r *Runner) Execution(name string) (*asl.Execution, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.execs) - 1; i >= 0; i-- {
		if r.execs[i].Name == name {
			return r.execs[i], true
		}
	}
	return nil, false
}

// Executions returns the kept executions, newest first.
func (r *Runner) Executions() []*asl.Execution {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*asl.Execution, len(r.execs))
	for i, e := range r.execs {
		out[len(r.execs)-1-i] = e
	}
	return out
}

// Reactors returns the workflows that subscribe to something as reactors
// of the engine: a trigger starts an execution (named after the
// subscription and the event, so that a trigger delivered twice starts
// one), with the EventBridge event as its input, as a rule targeting a
// state machine does.
func (r *Runner) Reactors() map[string]Reactor {
	out := map[string]Reactor{}
	for _, w := range r.workflows {
		if len(w.Subscriptions) > 0 {
			out[w.Name] = workflowReactor{w: w, r: r}
		}
	}
	return out
}

type workflowReactor struct {
	w *Workflow
	r *Runner
}

func (wr workflowReactor) Subscriptions() []Subscription { return wr.w.Subscriptions }

func (wr workflowReactor) React(ctx context.Context, t *Trigger) error {
	input, err := EventInput(t.Event)
	if err != nil {
		return events.Permanent(err)
	}
	name := executionName(t.Subscription + "-" + t.Event.ID())
	e, err := wr.r.Start(wr.w.Name, input, name)
	if err != nil || !wr.r.waitTriggers {
		return err
	}
	return e.Wait(ctx)
}

// executionName makes a Step Functions execution name: at most 80 of
// letters, digits, hyphens and underscores.
func executionName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	if len(b) > 80 {
		b = b[:80]
	}
	return string(b)
}

// EventInput is the input of an execution a trigger starts: the EventBridge
// event as a rule delivers it to a state machine — for a cws event, its
// envelope with the CloudEvent as detail; for an AWS one (a Scheduled
// Event), its own fields and detail.
func EventInput(ev event.Event) (any, error) {
	if acct, native := ev.Extensions()[wire.ExtAWSAccount]; native {
		in := map[string]any{"version": "0", "id": ev.ID(), "detail-type": ev.Type(), "source": ev.Source(),
			"account": fmt.Sprint(acct), "time": ev.Time().UTC().Format(time.RFC3339), "resources": []any{}, "detail": map[string]any{}}
		if region, ok := ev.Extensions()[wire.ExtAWSRegion]; ok {
			in["region"] = fmt.Sprint(region)
		}
		if s := ev.Subject(); s != "" {
			in["resources"] = []any{s}
		}
		if data := ev.Data(); len(data) > 0 {
			detail, err := asl.DecodeJSON(data)
			if err != nil {
				return nil, fmt.Errorf("event %s: its data is not JSON: %w", ev.ID(), err)
			}
			in["detail"] = detail
		}
		return in, nil
	}
	env, err := wire.EnvelopeFor(ev, "", "", nil)
	if err != nil {
		return nil, fmt.Errorf("event %s: %w", ev.ID(), err)
	}
	b, err := json.Marshal(env)
	if err != nil {
		return nil, fmt.Errorf("event %s: %w", ev.ID(), err)
	}
	return asl.DecodeJSON(b)
}

// jsonEqual compares two JSON values.
func jsonEqual(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(x) == string(y)
}

// StartWorkflow starts an execution of a workflow of the client's runner
// (WithRunner) and, when wait is set, waits for its end; the execution is
// returned either way.
func (c *Client) StartWorkflow(ctx context.Context, workflow string, input any, wait bool) (*asl.Execution, error) {
	if c.runner == nil {
		return nil, errors.New("this client runs no workflows (WithRunner)")
	}
	in, err := toJSONValue(input)
	if err != nil {
		return nil, err
	}
	e, err := c.runner.Start(workflow, in, "")
	if err != nil || !wait {
		return e, err
	}
	return e, e.Wait(ctx)
}

// WithRunner lets the client start workflows.
func WithRunner(r *Runner) ClientOption { return func(c *Client) { c.runner = r } }

// toJSONValue turns a Go value into JSON values (through its JSON).
func toJSONValue(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return asl.DecodeJSON(b)
}
