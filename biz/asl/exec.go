package asl

import (
	"context"
	"errors"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// TaskRunner runs the Task states of executions.
type TaskRunner interface {
	// RunTask runs one attempt of a task and returns its result. An *Error
	// fails the task with its name (Retry and Catch match it); another
	// error fails it as States.TaskFailed with the error as its cause.
	RunTask(ctx context.Context, t *Task) (any, error)
}

// TaskFunc is a TaskRunner of a function.
type TaskFunc func(ctx context.Context, t *Task) (any, error)

// RunTask implements TaskRunner.
func (f TaskFunc) RunTask(ctx context.Context, t *Task) (any, error) { return f(ctx, t) }

// Task is one attempt of a Task state.
type Task struct {
	// Resource is the state's Resource (e.g. cws:invoke).
	Resource string
	// Input is the effective input: after InputPath and Parameters.
	Input any
	// State is the state's name; Execution the execution's id (ARN).
	State, Execution string
	// Attempt counts from 0 (the first try).
	Attempt int
	// Token is the attempt's task token ($$.Task.Token).
	Token string
}

// Clock is the time of executions: Wait states and Retry intervals sleep
// on it. Tests give one that does not sleep.
type Clock interface {
	Now() time.Time
	Sleep(ctx context.Context, d time.Duration) error
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// RealClock is the wall clock.
var RealClock Clock = realClock{}

// Option configures an execution.
type Option func(*runner)

// WithTasks sets the runner of Task states (default: none, a Task state
// fails with States.TaskFailed).
func WithTasks(t TaskRunner) Option { return func(r *runner) { r.tasks = t } }

// WithClock sets the clock (default RealClock).
func WithClock(c Clock) Option { return func(r *runner) { r.clock = c } }

// WithName names the execution and the state machine: they make the
// execution's and the machine's ids (the context object's
// $$.Execution.Id, $$.StateMachine.Id).
func WithName(stateMachine, execution string) Option {
	return func(r *runner) { r.smName, r.name = stateMachine, execution }
}

// WithErrorMatch adds a way for an ErrorEquals entry to match an error
// name, beyond equality and the predefined wildcards (package biz matches
// cws.Status.5xx to cws.Status.503 with it).
func WithErrorMatch(f func(pattern, name string) bool) Option {
	return func(r *runner) { r.errorMatch = f }
}

// HistoryLimit is how many events an execution's history holds, as on Step
// Functions: an execution that would record more fails (States.Runtime).
const HistoryLimit = 25000

// WithHistoryLimit changes the limit of an execution's history.
func WithHistoryLimit(n int) Option { return func(r *runner) { r.historyLimit = n } }

// WithDone calls f when the execution ends, before Done is closed (a
// waiter sees what f did).
func WithDone(f func(*Execution)) Option { return func(r *runner) { r.done = f } }

// WithObserver calls f with each history event as it is recorded.
func WithObserver(f func(HistoryEvent)) Option { return func(r *runner) { r.observe = f } }

// The statuses of an execution.
const (
	StatusRunning   = "RUNNING"
	StatusSucceeded = "SUCCEEDED"
	StatusFailed    = "FAILED"
	StatusTimedOut  = "TIMED_OUT"
	StatusAborted   = "ABORTED"
)

// Execution is one run of a state machine.
type Execution struct {
	ARN, Name        string
	StateMachineARN  string
	Input            any
	StartDate        time.Time
	mu               sync.Mutex
	status           string
	output           any
	errName, cause   string
	stopDate         time.Time
	history          []HistoryEvent
	done             chan struct{}
	runner           *runner
	machine          *Machine
	cancel           context.CancelFunc
	executionContext map[string]any
}

// Status returns the execution's status, output, error and cause.
func (e *Execution) Status() (status string, output any, errName, cause string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.status, e.output, e.errName, e.cause
}

// Done is closed when the execution has ended.
func (e *Execution) Done() <-chan struct{} { return e.done }

// Wait waits for the end of the execution.
func (e *Execution) Wait(ctx context.Context) error {
	select {
	case <-e.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Stop aborts a running execution.
func (e *Execution) Stop() { e.cancel() }

// StopDate is when the execution ended (zero while it runs).
func (e *Execution) StopDate() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.stopDate
}

// History returns the events so far.
func (e *Execution) History() []HistoryEvent {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]HistoryEvent(nil), e.history...)
}

// Run runs one execution of the machine to its end.
func (m *Machine) Run(ctx context.Context, input any, opts ...Option) *Execution {
	e := m.Start(ctx, input, opts...)
	<-e.done
	return e
}

// Start starts an execution of the machine and returns it at once.
func (m *Machine) Start(ctx context.Context, input any, opts ...Option) *Execution {
	r := &runner{clock: RealClock, smName: "workflow", historyLimit: HistoryLimit}
	for _, o := range opts {
		o(r)
	}
	if r.name == "" {
		id, _ := fnUUID(nil)
		r.name = id.(string)
	}
	smARN := "arn:aws:states:local:000000000000:stateMachine:" + r.smName
	e := &Execution{ARN: "arn:aws:states:local:000000000000:execution:" + r.smName + ":" + r.name, Name: r.name,
		StateMachineARN: smARN, Input: input, StartDate: r.clock.Now().UTC(), status: StatusRunning,
		done: make(chan struct{}), runner: r, machine: m}
	e.executionContext = map[string]any{"Id": e.ARN, "Input": input, "Name": e.Name,
		"RoleArn": "arn:aws:iam::000000000000:role/cws-local", "StartTime": e.StartDate.Format(time.RFC3339Nano), "RedriveCount": int64(0)}
	r.exec = e
	ctx, e.cancel = context.WithCancel(ctx)
	if m.TimeoutSeconds > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(m.TimeoutSeconds)*time.Second)
		prev := e.cancel
		e.cancel = func() { cancel(); prev() }
	}
	r.event("ExecutionStarted", "executionStartedEventDetails", map[string]any{
		"input": compact(input), "inputDetails": map[string]any{"truncated": false}, "roleArn": e.executionContext["RoleArn"]})
	go func() {
		defer e.cancel()
		out, err := r.machine(ctx, m, input)
		e.finish(ctx, out, err)
	}()
	return e
}

func (e *Execution) finish(ctx context.Context, out any, err error) {
	r := e.runner
	var ae *Error
	switch {
	case err == nil:
		r.event("ExecutionSucceeded", "executionSucceededEventDetails", map[string]any{
			"output": compact(out), "outputDetails": map[string]any{"truncated": false}})
	case ctx.Err() == context.DeadlineExceeded:
		ae = &Error{Name: ErrTimeout, Cause: "The execution timed out"}
		r.event("ExecutionTimedOut", "executionTimedOutEventDetails", map[string]any{"error": ae.Name, "cause": ae.Cause})
	case ctx.Err() == context.Canceled:
		r.event("ExecutionAborted", "executionAbortedEventDetails", map[string]any{"error": "States.Aborted", "cause": "stopped"})
	default:
		ae = asError(err)
		r.event("ExecutionFailed", "executionFailedEventDetails", map[string]any{"error": ae.Name, "cause": ae.Cause})
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.stopDate = r.clock.Now().UTC()
	switch {
	case err == nil:
		e.status, e.output = StatusSucceeded, out
	case ctx.Err() == context.DeadlineExceeded:
		e.status, e.errName, e.cause = StatusTimedOut, ae.Name, ae.Cause
	case ctx.Err() == context.Canceled:
		e.status, e.errName, e.cause = StatusAborted, "States.Aborted", "stopped"
	default:
		e.status, e.errName, e.cause = StatusFailed, ae.Name, ae.Cause
	}
	if r.done != nil {
		e.mu.Unlock()
		r.done(e)
		e.mu.Lock()
	}
	close(e.done)
}

// asError makes an *Error of any error: a context's end is States.Timeout
// or an abort, anything else States.TaskFailed.
func asError(err error) *Error {
	var ae *Error
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.Is(err, context.DeadlineExceeded):
		return &Error{Name: ErrTimeout, Cause: err.Error()}
	}
	return &Error{Name: ErrTaskFailed, Cause: err.Error()}
}

// runner runs the states of one execution.
type runner struct {
	tasks      TaskRunner
	clock      Clock
	smName     string
	name       string
	errorMatch func(pattern, name string) bool
	observe    func(HistoryEvent)
	done       func(*Execution)
	exec       *Execution
	// historyLimit bounds the history; overflow says it was reached.
	historyLimit int
	overflow     atomic.Bool
}

// machine runs a machine (the execution's, a branch, an item processor)
// from its StartAt to its end.
func (r *runner) machine(ctx context.Context, m *Machine, input any) (any, error) {
	name := m.StartAt
	for {
		if r.overflow.Load() {
			return nil, Errorf(ErrRuntime, "the execution's history reached its limit of %d events", r.historyLimit)
		}
		if err := ctx.Err(); err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				return nil, &Error{Name: ErrTimeout, Cause: "The execution timed out"}
			}
			return nil, err
		}
		s := m.States[name]
		out, next, err := r.state(ctx, s, input)
		if err != nil {
			return nil, err
		}
		if next == "" {
			return out, nil
		}
		input, name = out, next
	}
}

// contextObject is the context object of a state.
func (r *runner) contextObject(s *State, entered time.Time, retry int, item map[string]any) *contextObject {
	return &contextObject{r: r, s: s, entered: entered, retry: retry, item: item}
}

// contextObject is a state's context object ($$), made when a path asks
// for it: most states never do, and making it was a third of the
// engine's allocations.
type contextObject struct {
	r       *runner
	s       *State
	entered time.Time
	retry   int
	item    map[string]any // the Map state's item, or nil
	task    map[string]any // the Task state's, or nil
	made    map[string]any
}

// value returns the context object, made the first time.
func (c *contextObject) value() map[string]any {
	if c.made == nil {
		c.made = map[string]any{
			"Execution":    c.r.exec.executionContext,
			"State":        map[string]any{"EnteredTime": c.entered.Format(time.RFC3339Nano), "Name": c.s.Name, "RetryCount": int64(c.retry)},
			"StateMachine": map[string]any{"Id": c.r.exec.StateMachineARN, "Name": c.r.smName},
		}
		if c.item != nil {
			c.made["Map"] = map[string]any{"Item": c.item}
		}
		if c.task != nil {
			c.made["Task"] = c.task
		}
	}
	return c.made
}

// setTask sets the Task state's part of the context object.
func (c *contextObject) setTask(task map[string]any) {
	c.task = task
	if c.made != nil {
		c.made["Task"] = task
	}
}

// state runs one state and returns its output and the next state ("" at
// the end).
func (r *runner) state(ctx context.Context, s *State, input any) (any, string, error) {
	entered := r.clock.Now().UTC()
	r.event(s.Type+"StateEntered", "stateEnteredEventDetails", map[string]any{"name": s.Name, "input": compact(input)})
	ctxObj := r.contextObject(s, entered, 0, nil)

	effective := input
	if p, ok := s.InputPath.or("$"); !ok {
		effective = map[string]any{}
	} else if p != "$" {
		v, err := mustLookup(p, input, ctxObj, "InputPath")
		if err != nil {
			return nil, "", err
		}
		effective = v
	}

	var (
		out  any
		next = s.Next
		err  error
	)
	switch s.Type {
	case TypePass:
		out, err = r.pass(s, input, effective, ctxObj)
	case TypeTask, TypeParallel, TypeMap:
		out, next, err = r.withRetry(ctx, s, input, effective, entered)
	case TypeChoice:
		next, err = r.choose(s, effective, ctxObj)
		if err == nil {
			out, err = outputPath(s, effective, ctxObj)
		}
	case TypeWait:
		if err = r.wait(ctx, s, effective, ctxObj); err == nil {
			out, err = outputPath(s, effective, ctxObj)
		}
	case TypeSucceed:
		out, err = outputPath(s, effective, ctxObj)
		next = ""
	case TypeFail:
		return nil, "", r.fail(s, input, ctxObj)
	}
	if err != nil {
		return nil, "", err
	}
	if s.End && s.Type != TypeTask && s.Type != TypeParallel && s.Type != TypeMap {
		next = "" // a caught Task, Parallel or Map goes where its catcher says
	}
	r.event(s.Type+"StateExited", "stateExitedEventDetails", map[string]any{"name": s.Name, "output": compact(out)})
	return out, next, nil
}

func (r *runner) pass(s *State, input, effective any, ctxObj *contextObject) (any, error) {
	result := effective
	if s.Parameters != nil {
		v, err := applyTemplate(s.Parameters, effective, ctxObj)
		if err != nil {
			return nil, err
		}
		result = v
	}
	if s.HasResult {
		result = deepCopy(s.Result)
	}
	return r.finishResult(s, input, result, ctxObj)
}

// finishResult applies ResultPath (onto the state's raw input) and
// OutputPath.
func (r *runner) finishResult(s *State, input, result any, ctxObj *contextObject) (any, error) {
	combined := input
	if p, ok := s.ResultPath.or("$"); ok {
		v, err := setResult(input, p, result)
		if err != nil {
			return nil, err
		}
		combined = v
	}
	return outputPath(s, combined, ctxObj)
}

func outputPath(s *State, v any, ctxObj *contextObject) (any, error) {
	p, ok := s.OutputPath.or("$")
	if !ok {
		return map[string]any{}, nil
	}
	if p == "$" {
		return v, nil
	}
	return mustLookup(p, v, ctxObj, "OutputPath")
}

func (r *runner) choose(s *State, effective any, ctxObj *contextObject) (string, error) {
	for _, rule := range s.Choices {
		ok, err := rule.match(effective, ctxObj)
		if err != nil {
			return "", err
		}
		if ok {
			return rule.Next, nil
		}
	}
	if s.Default != "" {
		return s.Default, nil
	}
	return "", Errorf(ErrNoChoiceMatched, "No Matches! in state %s", s.Name)
}

func (r *runner) wait(ctx context.Context, s *State, effective any, ctxObj *contextObject) error {
	var d time.Duration
	switch {
	case s.Seconds != nil:
		d = time.Duration(*s.Seconds * float64(time.Second))
	case s.SecondsPath != "":
		v, err := mustLookup(s.SecondsPath, effective, ctxObj, "SecondsPath")
		if err != nil {
			return err
		}
		f, ok := toFloat(v)
		if !ok || f < 0 {
			return Errorf(ErrRuntime, "Invalid SecondsPath '%s': %s is not a non-negative number", s.SecondsPath, compact(v))
		}
		d = time.Duration(f * float64(time.Second))
	default:
		ts := s.Timestamp
		if s.TimestampPath != "" {
			v, err := mustLookup(s.TimestampPath, effective, ctxObj, "TimestampPath")
			if err != nil {
				return err
			}
			str, ok := v.(string)
			if !ok {
				return Errorf(ErrRuntime, "Invalid TimestampPath '%s': %s is not a timestamp", s.TimestampPath, compact(v))
			}
			ts = str
		}
		t, err := parseTimestamp(ts)
		if err != nil {
			return Errorf(ErrRuntime, "Invalid timestamp %q", ts)
		}
		d = t.Sub(r.clock.Now())
	}
	if err := r.clock.Sleep(ctx, d); err != nil {
		return asError(err)
	}
	return nil
}

func (r *runner) fail(s *State, input any, ctxObj *contextObject) error {
	e := &Error{Name: s.Error, Cause: s.Cause}
	dyn := func(p string) (string, error) {
		var v any
		var err error
		if strings.HasPrefix(p, "States.") {
			v, err = evalIntrinsic(p, input, ctxObj)
		} else {
			v, err = mustLookup(p, input, ctxObj, "Fail state's")
		}
		if err != nil {
			return "", err
		}
		str, ok := v.(string)
		if !ok {
			return "", Errorf(ErrRuntime, "%s is not a string", p)
		}
		return str, nil
	}
	var err error
	if s.ErrorPath != "" {
		if e.Name, err = dyn(s.ErrorPath); err != nil {
			return err
		}
	}
	if s.CausePath != "" {
		if e.Cause, err = dyn(s.CausePath); err != nil {
			return err
		}
	}
	return e
}

// withRetry runs a Task, Parallel or Map state with its Retry and Catch.
func (r *runner) withRetry(ctx context.Context, s *State, input, effective any, entered time.Time) (any, string, error) {
	attempts := make([]int, len(s.Retry))
	for retry := 0; ; retry++ {
		ctxObj := r.contextObject(s, entered, retry, nil)
		result, err := r.attempt(ctx, s, effective, ctxObj, retry)
		if err == nil {
			if s.ResultSelector != nil {
				if result, err = applyTemplate(s.ResultSelector, result, ctxObj); err != nil {
					return nil, "", err
				}
			}
			out, err := r.finishResult(s, input, result, ctxObj)
			if s.End {
				return out, "", err
			}
			return out, s.Next, err
		}
		ae := asError(err)
		if ctx.Err() != nil && ae.Name != ErrTimeout {
			return nil, "", err
		}
		if ae.Name == ErrRuntime {
			return nil, "", ae // never retried nor caught
		}
		if r.retry(ctx, s, ae, attempts) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, "", asError(err)
		}
		for _, c := range s.Catch {
			if !r.matches(c.ErrorEquals, ae.Name) {
				continue
			}
			out := input
			if p, ok := c.ResultPath.or("$"); ok {
				v, err := setResult(input, p, map[string]any{"Error": ae.Name, "Cause": ae.Cause})
				if err != nil {
					return nil, "", err
				}
				out = v
			}
			return out, c.Next, nil
		}
		return nil, "", ae
	}
}

// retry reports whether a failure is retried: the first retrier whose
// ErrorEquals matches decides (a spent one retries no more), after its
// backoff.
func (r *runner) retry(ctx context.Context, s *State, ae *Error, attempts []int) bool {
	for i, rt := range s.Retry {
		if !r.matches(rt.ErrorEquals, ae.Name) {
			continue
		}
		if attempts[i] >= rt.MaxAttempts {
			return false
		}
		delay := rt.IntervalSeconds * math.Pow(rt.BackoffRate, float64(attempts[i]))
		if rt.MaxDelaySeconds > 0 {
			delay = math.Min(delay, rt.MaxDelaySeconds)
		}
		if rt.JitterStrategy == "FULL" {
			delay *= mrand.Float64()
		}
		attempts[i]++
		return r.clock.Sleep(ctx, time.Duration(delay*float64(time.Second))) == nil
	}
	return false
}

// matches reports whether an ErrorEquals list matches an error name.
func (r *runner) matches(list []string, name string) bool {
	for _, e := range list {
		switch {
		case e == name, e == ErrAll:
			return true
		case e == ErrTaskFailed && name != ErrTimeout:
			return true
		case r.errorMatch != nil && r.errorMatch(e, name):
			return true
		}
	}
	return false
}

// attempt runs a Task, Parallel or Map state once.
func (r *runner) attempt(ctx context.Context, s *State, effective any, ctxObj *contextObject, retry int) (any, error) {
	switch s.Type {
	case TypeTask:
		return r.task(ctx, s, effective, ctxObj, retry)
	case TypeParallel:
		return r.parallel(ctx, s, effective, ctxObj)
	}
	return r.mapState(ctx, s, effective, ctxObj)
}

func (r *runner) task(ctx context.Context, s *State, effective any, ctxObj *contextObject, retry int) (any, error) {
	token, _ := fnUUID(nil)
	ctxObj.setTask(map[string]any{"Token": token})
	params := effective
	if s.Parameters != nil {
		v, err := applyTemplate(s.Parameters, effective, ctxObj)
		if err != nil {
			return nil, err
		}
		params = v
	}
	resourceType, resource := "cws", s.Resource
	if before, after, ok := strings.Cut(s.Resource, ":"); ok && !strings.HasPrefix(s.Resource, "arn:") {
		resourceType, resource = before, after
	}
	r.event("TaskScheduled", "taskScheduledEventDetails", map[string]any{"resourceType": resourceType, "resource": resource,
		"region": "local", "parameters": compact(params)})
	r.event("TaskStarted", "taskStartedEventDetails", map[string]any{"resourceType": resourceType, "resource": resource})
	if r.tasks == nil {
		err := Errorf(ErrTaskFailed, "no task runner: %s cannot run", s.Resource)
		r.event("TaskFailed", "taskFailedEventDetails", map[string]any{"resourceType": resourceType, "resource": resource, "error": err.Name, "cause": err.Cause})
		return nil, err
	}
	tctx := ctx
	if s.TimeoutSeconds > 0 {
		var cancel context.CancelFunc
		tctx, cancel = context.WithTimeout(ctx, time.Duration(s.TimeoutSeconds)*time.Second)
		defer cancel()
	}
	out, err := r.tasks.RunTask(tctx, &Task{Resource: s.Resource, Input: params, State: s.Name, Execution: r.exec.ARN, Attempt: retry, Token: token.(string)})
	if err != nil {
		ae := asError(err)
		if tctx.Err() == context.DeadlineExceeded && ctx.Err() == nil {
			ae = Errorf(ErrTimeout, "the task did not answer within %d s", s.TimeoutSeconds)
			r.event("TaskTimedOut", "taskTimedOutEventDetails", map[string]any{"resourceType": resourceType, "resource": resource, "error": ae.Name, "cause": ae.Cause})
			return nil, ae
		}
		r.event("TaskFailed", "taskFailedEventDetails", map[string]any{"resourceType": resourceType, "resource": resource, "error": ae.Name, "cause": ae.Cause})
		return nil, ae
	}
	r.event("TaskSucceeded", "taskSucceededEventDetails", map[string]any{"resourceType": resourceType, "resource": resource,
		"output": compact(out), "outputDetails": map[string]any{"truncated": false}})
	return out, nil
}

func (r *runner) parallel(ctx context.Context, s *State, effective any, ctxObj *contextObject) (any, error) {
	in := effective
	if s.Parameters != nil {
		v, err := applyTemplate(s.Parameters, effective, ctxObj)
		if err != nil {
			return nil, err
		}
		in = v
	}
	r.event("ParallelStateStarted", "", nil)
	results := make([]any, len(s.Branches))
	errs := make([]error, len(s.Branches))
	bctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for i, b := range s.Branches {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = r.machine(bctx, b, deepCopy(in))
			if errs[i] != nil {
				cancel() // the others stop: the state has failed
			}
		}()
	}
	wg.Wait()
	if err := firstError(errs, ctx); err != nil {
		r.event("ParallelStateFailed", "", nil)
		return nil, err
	}
	r.event("ParallelStateSucceeded", "", nil)
	return results, nil
}

// firstError is the error a Parallel or Map state fails with: the first
// one that is not the others' cancellation.
func firstError(errs []error, parent context.Context) error {
	var fallback error
	for _, err := range errs {
		if err == nil {
			continue
		}
		if errors.Is(err, context.Canceled) && parent.Err() == nil {
			fallback = err
			continue
		}
		return err
	}
	return fallback
}

// defaultMapConcurrency bounds a Map whose MaxConcurrency is 0.
const defaultMapConcurrency = 40

func (r *runner) mapState(ctx context.Context, s *State, effective any, ctxObj *contextObject) (any, error) {
	itemsPath, _ := s.ItemsPath.or("$")
	v, err := mustLookup(itemsPath, effective, ctxObj, "ItemsPath")
	if err != nil {
		return nil, err
	}
	items, ok := v.([]any)
	if !ok {
		return nil, Errorf(ErrQueryEvaluationError, "The ItemsPath '%s' must point to a JSON array, not %s", itemsPath, compact(v))
	}
	r.event("MapStateStarted", "mapStateStartedEventDetails", map[string]any{"length": int64(len(items))})
	limit := s.MaxConcurrency
	if limit <= 0 || limit > defaultMapConcurrency {
		limit = defaultMapConcurrency
	}
	results := make([]any, len(items))
	errs := make([]error, len(items))
	mctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for i, item := range items {
		if mctx.Err() != nil {
			errs[i] = mctx.Err()
			continue
		}
		itemCtx := map[string]any{"Index": int64(i), "Value": item}
		in := item
		if s.ItemSelector != nil {
			c := r.contextObject(s, r.clock.Now().UTC(), 0, itemCtx)
			sel, err := applyTemplate(s.ItemSelector, effective, c)
			if err != nil {
				cancel()
				errs[i] = err
				break
			}
			in = sel
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			iter := map[string]any{"name": s.Name, "index": int64(i)}
			r.event("MapIterationStarted", "mapIterationStartedEventDetails", iter)
			results[i], errs[i] = r.machine(mctx, s.Processor, deepCopy(in))
			if errs[i] != nil {
				r.event("MapIterationFailed", "mapIterationFailedEventDetails", iter)
				cancel()
				return
			}
			r.event("MapIterationSucceeded", "mapIterationSucceededEventDetails", iter)
		}()
	}
	wg.Wait()
	if err := firstError(errs, ctx); err != nil {
		r.event("MapStateFailed", "", nil)
		return nil, err
	}
	r.event("MapStateSucceeded", "", nil)
	return results, nil
}

// String names the state for messages.
func (s *State) String() string { return fmt.Sprintf("%s (%s)", s.Name, s.Type) }
