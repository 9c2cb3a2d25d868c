// Package lambdaenv is a Lambda execution environment on this machine: it
// runs a function's bootstrap (a custom runtime, as provided.al2023 runs it)
// under a Lambda Runtime API of its own (2018-06-01: invocation/next, the
// invocation's response and error, init/error), hands it invocations one at
// a time, enforces the function's timeout, restarts a runtime that crashed
// or timed out, captures what the runtime writes, and tells the init
// duration of a cold start.
//
// Two users: the LocalStack executor (localstack.ServeExecutor), which
// LocalStack starts per execution environment so that it runs Go functions
// without Docker, and `cws invoke --runtime`, which hands a service's Lambda
// binary events as Lambda would.
//
// It is not a sandbox: the runtime runs as the same user, on the host's
// file system, without a memory limit.
package lambdaenv

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Default limits, Lambda's.
const (
	DefaultTimeout     = 3 * time.Second
	DefaultInitTimeout = 10 * time.Second
)

// Config configures an execution environment.
type Config struct {
	// Bootstrap is the runtime's executable (the function's bootstrap).
	Bootstrap string
	// Dir is its working directory (LAMBDA_TASK_ROOT); default the
	// bootstrap's directory.
	Dir string
	// Env is the runtime's environment (the function's variables and those
	// Lambda sets); AWS_LAMBDA_RUNTIME_API is added.
	Env []string
	// FunctionARN is what Lambda-Runtime-Invoked-Function-Arn says when an
	// invocation gives none.
	FunctionARN string
	// Timeout bounds an invocation (default DefaultTimeout).
	Timeout time.Duration
	// InitTimeout bounds a runtime's start up to its first request for an
	// invocation (default DefaultInitTimeout).
	InitTimeout time.Duration
	// Output receives what the runtime writes, as it writes it (nil:
	// nowhere else than the invocations' Logs).
	Output io.Writer
}

// Invocation is an event handed to the function.
type Invocation struct {
	// RequestID is the invocation's id (default: a fresh UUID).
	RequestID string
	// Payload is the event.
	Payload []byte
	// FunctionARN is the invoked function's ARN (default the Config's).
	FunctionARN string
	// TraceID is the X-Ray trace header, passed on as
	// Lambda-Runtime-Trace-Id.
	TraceID string
}

// Result is the runtime's answer to an invocation.
type Result struct {
	RequestID string
	// Payload is the response, or, when Error is set, the error's JSON
	// ({"errorType", "errorMessage", …}): what the function answered, or
	// what Lambda answers for a runtime that crashed or timed out.
	Payload []byte
	// Error says the invocation failed (Lambda's FunctionError Unhandled);
	// ErrorType is the error's type.
	Error     bool
	ErrorType string
	// Logs is what the runtime wrote from the invocation's start to its
	// answer (its start too, for a cold start).
	Logs string
	// Init is how long the runtime took to start, for the invocation that
	// started it (a cold start); zero for a warm one.
	Init time.Duration
	// Duration is the invocation's time, from handing it over to the answer.
	Duration time.Duration
}

// Errors of the execution environment, as Lambda names them.
const (
	ErrorTimeout  = "Sandbox.Timedout"
	ErrorExit     = "Runtime.ExitError"
	ErrorInitFail = "Runtime.InitError"
)

// Env is an execution environment: one runtime process at a time, one
// invocation at a time. It is safe for concurrent use: invocations wait
// their turn.
type Env struct {
	cfg  Config
	srv  *http.Server
	addr string

	invoking sync.Mutex // one invocation at a time

	mu      sync.Mutex
	rt      *runtimeProc // the running runtime, or nil
	next    chan *call   // the invocation a /next request takes
	current *call        // the invocation the runtime holds
	closed  bool
}

// runtimeProc is one run of the bootstrap.
type runtimeProc struct {
	cmd      *exec.Cmd
	started  time.Time
	ready    chan struct{} // closed on its first /next
	exited   chan struct{} // closed when it exits
	exitErr  error
	initErr  []byte // what it posted to init/error
	initType string
	initTime time.Duration
	logs     *logBuffer
}

// call is an invocation in flight.
type call struct {
	inv  Invocation
	dead time.Time
	done chan *Result // the runtime's answer
}

// Start starts an execution environment: its Runtime API listens on a free
// loopback port; the runtime starts with the first invocation, or Warm.
func Start(cfg Config) (*Env, error) {
	if cfg.Bootstrap == "" {
		return nil, errors.New("lambdaenv: no bootstrap")
	}
	if fi, err := os.Stat(cfg.Bootstrap); err != nil {
		return nil, fmt.Errorf("lambdaenv: the bootstrap: %w", err)
	} else if fi.IsDir() || fi.Mode()&0o111 == 0 {
		return nil, fmt.Errorf("lambdaenv: the bootstrap %s is not an executable file", cfg.Bootstrap)
	}
	if cfg.Dir == "" {
		cfg.Dir = filepath.Dir(cfg.Bootstrap)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.InitTimeout <= 0 {
		cfg.InitTimeout = DefaultInitTimeout
	}
	if cfg.FunctionARN == "" {
		cfg.FunctionARN = "arn:aws:lambda:us-east-1:000000000000:function:function"
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("lambdaenv: the Runtime API: %w", err)
	}
	e := &Env{cfg: cfg, addr: ln.Addr().String(), next: make(chan *call)}
	e.srv = &http.Server{Handler: http.HandlerFunc(e.serve), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = e.srv.Serve(ln) }()
	return e, nil
}

// RuntimeAPI is the address the runtime is given (AWS_LAMBDA_RUNTIME_API).
func (e *Env) RuntimeAPI() string { return e.addr }

// Warm starts the runtime, when none runs, and waits until it asks for an
// invocation; it returns how long that took (zero when it was running).
func (e *Env) Warm(ctx context.Context) (time.Duration, error) {
	e.invoking.Lock()
	defer e.invoking.Unlock()
	rt, started, err := e.runtime()
	if err != nil {
		return 0, err
	}
	if err := e.awaitReady(ctx, rt); err != nil {
		return 0, err
	}
	if !started {
		return 0, nil
	}
	return rt.initTime, nil
}

// runtime returns the running runtime, starting one when none runs; started
// says it was started now.
func (e *Env) runtime() (*runtimeProc, bool, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, false, errors.New("lambdaenv: the environment is closed")
	}
	if e.rt != nil {
		select {
		case <-e.rt.exited:
		default:
			return e.rt, false, nil
		}
	}
	rt := &runtimeProc{ready: make(chan struct{}), exited: make(chan struct{}), logs: &logBuffer{out: e.cfg.Output}}
	cmd := exec.Command(e.cfg.Bootstrap)
	cmd.Dir = e.cfg.Dir
	cmd.Env = append(append([]string{}, e.cfg.Env...), "AWS_LAMBDA_RUNTIME_API="+e.addr, "LAMBDA_TASK_ROOT="+e.cfg.Dir)
	// The runtime's output goes through a pipe of our own, so that the
	// logs of an invocation can be taken once the pipe is drained.
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, false, fmt.Errorf("lambdaenv: %w", err)
	}
	rt.logs.pipe = pr
	cmd.Stdout, cmd.Stderr = pw, pw
	cmd.SysProcAttr = childAttr()
	rt.cmd = cmd
	rt.started = time.Now()
	err = cmd.Start()
	pw.Close()
	if err != nil {
		pr.Close()
		return nil, false, fmt.Errorf("lambdaenv: starting %s: %w", e.cfg.Bootstrap, err)
	}
	copied := make(chan struct{})
	go func() {
		_, _ = io.Copy(rt.logs, pr)
		close(copied)
	}()
	go func() {
		err := cmd.Wait()
		<-copied // all the output is in the logs
		pr.Close()
		rt.exitErr = err
		close(rt.exited)
	}()
	e.rt = rt
	return rt, true, nil
}

// awaitReady waits for rt's first /next, its exit or init error, or the
// init timeout (after which it is stopped).
func (e *Env) awaitReady(ctx context.Context, rt *runtimeProc) error {
	timer := time.NewTimer(e.cfg.InitTimeout)
	defer timer.Stop()
	select {
	case <-rt.ready:
		return nil
	case <-rt.exited:
		e.mu.Lock()
		initErr, initType := rt.initErr, rt.initType
		e.mu.Unlock()
		if initErr != nil {
			return &InitError{Type: initType, Payload: initErr, Logs: rt.logs.take()}
		}
		return &InitError{Type: ErrorExit, Payload: errorJSON(ErrorExit, "Runtime exited with error: "+exitStatus(rt.exitErr)), Logs: rt.logs.take()}
	case <-timer.C:
		e.kill(rt)
		return &InitError{Type: ErrorTimeout, Payload: errorJSON(ErrorTimeout, fmt.Sprintf("Runtime did not start within %.2f seconds", e.cfg.InitTimeout.Seconds())),
			Logs: rt.logs.take()}
	case <-ctx.Done():
		return ctx.Err()
	}
}

// InitError is the failure of a runtime to start: it exited, posted an
// init error, or did not ask for an invocation in time.
type InitError struct {
	Type    string
	Payload []byte // the error's JSON
	Logs    string
}

func (e *InitError) Error() string {
	return fmt.Sprintf("lambdaenv: the runtime did not start (%s): %s", e.Type, e.Payload)
}

// Invoke hands inv to the runtime — starting it first when none runs — and
// returns its answer. A runtime that crashes, or outlives the timeout, is
// stopped (and started again by the next invocation); its answer is the
// error Lambda gives (Runtime.ExitError, Sandbox.Timedout). A runtime that
// cannot start makes the answer its init error, and a Go error is returned
// only when ctx ends or the environment is closed.
func (e *Env) Invoke(ctx context.Context, inv Invocation) (*Result, error) {
	e.invoking.Lock()
	defer e.invoking.Unlock()
	if inv.RequestID == "" {
		inv.RequestID = uuid.NewString()
	}
	if inv.FunctionARN == "" {
		inv.FunctionARN = e.cfg.FunctionARN
	}
	c := &call{inv: inv, done: make(chan *Result, 1)}
	res := &Result{RequestID: inv.RequestID}
	var rt *runtimeProc
	var start time.Time
	timer := time.NewTimer(e.cfg.Timeout)
	defer timer.Stop()
	// A runtime that exits before it takes the invocation (the rest of
	// its previous one's failure) did not get it: the invocation goes to a
	// new one, once.
	for attempt := 0; ; attempt++ {
		var started bool
		var err error
		rt, started, err = e.runtime()
		if err != nil {
			return nil, err
		}
		if err := e.awaitReady(ctx, rt); err != nil {
			var ie *InitError
			if errors.As(err, &ie) {
				return &Result{RequestID: inv.RequestID, Payload: ie.Payload, Error: true, ErrorType: ie.Type, Logs: ie.Logs,
					Init: time.Since(rt.started)}, nil
			}
			return nil, err
		}
		if started {
			res.Init = rt.initTime
		}
		start = time.Now()
		c.dead = start.Add(e.cfg.Timeout)
		timer.Reset(e.cfg.Timeout)
		select {
		case e.next <- c:
		case <-rt.exited:
			if attempt == 0 {
				continue
			}
			return e.exitResult(res, rt, start), nil
		case <-timer.C:
			e.kill(rt)
			return e.timeoutResult(res, rt, start), nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		break
	}
	select {
	case r := <-c.done:
		r.Init, r.Duration = res.Init, time.Since(start)
		r.Logs = rt.logs.settle()
		e.clearCurrent(c)
		return r, nil
	case <-rt.exited:
		e.clearCurrent(c)
		select {
		case r := <-c.done: // it answered, then exited (a runtime ends after a panic)
			r.Init, r.Duration, r.Logs = res.Init, time.Since(start), rt.logs.take()
			return r, nil
		default:
		}
		return e.exitResult(res, rt, start), nil
	case <-timer.C:
		e.kill(rt)
		e.clearCurrent(c)
		return e.timeoutResult(res, rt, start), nil
	case <-ctx.Done():
		e.kill(rt)
		e.clearCurrent(c)
		return nil, ctx.Err()
	}
}

func (e *Env) clearCurrent(c *call) {
	e.mu.Lock()
	if e.current == c {
		e.current = nil
	}
	e.mu.Unlock()
}

func (e *Env) exitResult(res *Result, rt *runtimeProc, start time.Time) *Result {
	<-rt.exited
	res.Error, res.ErrorType = true, ErrorExit
	res.Payload = errorJSON(ErrorExit, fmt.Sprintf("RequestId: %s Error: Runtime exited with error: %s", res.RequestID, exitStatus(rt.exitErr)))
	res.Duration, res.Logs = time.Since(start), rt.logs.take()
	return res
}

func (e *Env) timeoutResult(res *Result, rt *runtimeProc, start time.Time) *Result {
	res.Error, res.ErrorType = true, ErrorTimeout
	res.Payload = errorJSON(ErrorTimeout, fmt.Sprintf("RequestId: %s Error: Task timed out after %.2f seconds", res.RequestID, e.cfg.Timeout.Seconds()))
	res.Duration, res.Logs = time.Since(start), rt.logs.take()
	return res
}

// kill stops rt and waits for it.
func (e *Env) kill(rt *runtimeProc) {
	_ = rt.cmd.Process.Kill()
	<-rt.exited
}

// Close stops the runtime and the Runtime API.
func (e *Env) Close() error {
	e.mu.Lock()
	e.closed = true
	rt := e.rt
	e.mu.Unlock()
	if rt != nil {
		select {
		case <-rt.exited:
		default:
			e.kill(rt)
		}
	}
	return e.srv.Close()
}

// The Runtime API.
const apiPrefix = "/2018-06-01/runtime/"

func (e *Env) serve(w http.ResponseWriter, r *http.Request) {
	path, ok := strings.CutPrefix(r.URL.Path, apiPrefix)
	switch {
	case !ok:
		http.NotFound(w, r)
	case path == "invocation/next" && r.Method == http.MethodGet:
		e.serveNext(w, r)
	case path == "init/error" && r.Method == http.MethodPost:
		e.serveInitError(w, r)
	case strings.HasPrefix(path, "invocation/") && r.Method == http.MethodPost:
		id, kind, _ := strings.Cut(strings.TrimPrefix(path, "invocation/"), "/")
		e.serveAnswer(w, r, id, kind)
	default:
		writeAPIError(w, http.StatusNotFound, "InvalidRequest", "no such Runtime API endpoint: "+r.Method+" "+r.URL.Path)
	}
}

// serveNext hands the runtime its next invocation, once there is one; the
// first request tells that the runtime is ready.
func (e *Env) serveNext(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	rt := e.rt
	e.mu.Unlock()
	if rt != nil {
		select {
		case <-rt.ready:
		default:
			rt.initTime = time.Since(rt.started)
			close(rt.ready)
		}
	}
	select {
	case c := <-e.next:
		e.mu.Lock()
		e.current = c
		e.mu.Unlock()
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Lambda-Runtime-Aws-Request-Id", c.inv.RequestID)
		h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(c.dead.UnixMilli(), 10))
		h.Set("Lambda-Runtime-Invoked-Function-Arn", c.inv.FunctionARN)
		if c.inv.TraceID != "" {
			h.Set("Lambda-Runtime-Trace-Id", c.inv.TraceID)
		}
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(c.inv.Payload)
	case <-r.Context().Done():
	}
}

// serveAnswer takes the runtime's response or error for invocation id.
func (e *Env) serveAnswer(w http.ResponseWriter, r *http.Request, id, kind string) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeAPIError(w, http.StatusBadRequest, "InvalidRequest", "reading the body: "+err.Error())
		return
	}
	e.mu.Lock()
	c := e.current
	if c != nil && c.inv.RequestID == id && (kind == "response" || kind == "error") {
		e.current = nil
	} else {
		c = nil
	}
	e.mu.Unlock()
	if c == nil {
		writeAPIError(w, http.StatusBadRequest, "InvalidRequestID", "no invocation "+id+" is waiting for its "+kind)
		return
	}
	res := &Result{RequestID: id, Payload: body}
	if kind == "error" {
		res.Error = true
		res.ErrorType = r.Header.Get("Lambda-Runtime-Function-Error-Type")
		if res.ErrorType == "" {
			var p struct {
				ErrorType string `json:"errorType"`
			}
			_ = json.Unmarshal(body, &p)
			res.ErrorType = p.ErrorType
		}
	}
	c.done <- res
	w.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(w, `{"status":"OK"}`)
}

// serveInitError records a runtime's failure to initialize.
func (e *Env) serveInitError(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	typ := r.Header.Get("Lambda-Runtime-Function-Error-Type")
	if typ == "" {
		typ = ErrorInitFail
	}
	e.mu.Lock()
	if rt := e.rt; rt != nil {
		rt.initErr, rt.initType = body, typ
	}
	e.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(w, `{"status":"OK"}`)
}

func writeAPIError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(errorJSON(typ, msg))
}

// errorJSON is Lambda's error payload.
func errorJSON(typ, msg string) []byte {
	b, _ := json.Marshal(struct {
		ErrorType    string `json:"errorType"`
		ErrorMessage string `json:"errorMessage"`
	}{typ, msg})
	return b
}

// exitStatus says how a process ended, as Lambda does ("exit status 3",
// "signal: killed").
func exitStatus(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.Error()
	}
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// logBuffer collects what the runtime writes, line by line, and copies it
// to out.
type logBuffer struct {
	mu   sync.Mutex
	b    bytes.Buffer
	out  io.Writer
	pipe *os.File // the read end of the runtime's output
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.Write(p)
	if l.out != nil {
		_, _ = l.out.Write(p)
	}
	return len(p), nil
}

// settle returns what was written since the last take, once the runtime's
// output pipe is drained: a line it wrote just before it answered may still
// be in the pipe.
func (l *logBuffer) settle() string {
	deadline := time.Now().Add(10 * time.Millisecond)
	for time.Now().Before(deadline) {
		n, ok := pending(l.pipe)
		if !ok {
			// Without a way to ask the pipe, wait for the output to be quiet.
			time.Sleep(time.Millisecond)
			break
		}
		if n == 0 {
			// Let the copier append what it has just read.
			runtime.Gosched()
			break
		}
		time.Sleep(50 * time.Microsecond)
	}
	return l.take()
}

// take returns what was written since the last take.
func (l *logBuffer) take() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.b.String()
	l.b.Reset()
	return s
}
