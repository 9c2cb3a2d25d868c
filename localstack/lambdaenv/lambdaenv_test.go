package lambdaenv_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coworks-go/cws/localstack/lambdaenv"
)

var (
	fnOnce sync.Once
	fnPath string
	fnErr  error
)

// bootstrap builds testdata/fn as a custom runtime's bootstrap, once.
func bootstrap(t *testing.T) string {
	t.Helper()
	fnOnce.Do(func() {
		dir, err := os.MkdirTemp("", "lambdaenv-")
		if err != nil {
			fnErr = err
			return
		}
		fnPath = filepath.Join(dir, "bootstrap")
		cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", fnPath, "./testdata/fn")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			fnErr = err
			fnPath = string(out)
		}
	})
	if fnErr != nil {
		t.Fatalf("building the test function: %v\n%s", fnErr, fnPath)
	}
	return fnPath
}

func start(t *testing.T, cfg lambdaenv.Config) *lambdaenv.Env {
	t.Helper()
	cfg.Bootstrap = bootstrap(t)
	e, err := lambdaenv.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e
}

func invoke(t *testing.T, e *lambdaenv.Env, payload string) *lambdaenv.Result {
	t.Helper()
	r, err := e.Invoke(context.Background(), lambdaenv.Invocation{Payload: []byte(payload)})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestInvocations(t *testing.T) {
	e := start(t, lambdaenv.Config{Env: []string{"FN_SETTING=on"}, Timeout: 2 * time.Second,
		FunctionARN: "arn:aws:lambda:eu-west-1:123456789012:function:fn"})

	r := invoke(t, e, `{"do":"echo","value":"one"}`)
	var out map[string]any
	if err := json.Unmarshal(r.Payload, &out); err != nil || r.Error || out["echo"] != "one" || out["request"] != r.RequestID ||
		out["arn"] != "arn:aws:lambda:eu-west-1:123456789012:function:fn" || out["env"] != "on" {
		t.Fatalf("echo: %+v %s", r, r.Payload)
	}
	if ms := out["deadline_in_ms"].(float64); ms <= 0 || ms > 2000 {
		t.Errorf("the deadline is %vms away, want within the 2s timeout", ms)
	}
	if r.Init <= 0 || !strings.Contains(r.Logs, "handling echo") {
		t.Errorf("a cold start: init %v, logs %q", r.Init, r.Logs)
	}
	if r = invoke(t, e, `{"do":"echo","value":"two"}`); r.Init != 0 || r.Error || !strings.Contains(string(r.Payload), `"two"`) ||
		strings.Contains(r.Logs, "handling echo\nhandling") {
		t.Errorf("a warm invoke: %+v %s", r, r.Payload)
	}

	r = invoke(t, e, `{"do":"fail","value":"bad input"}`)
	if !r.Error || r.ErrorType != "errorString" || !strings.Contains(string(r.Payload), "it failed: bad input") {
		t.Errorf("a handler error: %+v %s", r, r.Payload)
	}
	r = invoke(t, e, `{"do":"panic"}`)
	if !r.Error || !strings.Contains(string(r.Payload), "boom") {
		t.Errorf("a panic: %+v %s", r, r.Payload)
	}
	r = invoke(t, e, `{"do":"exit"}`)
	if !r.Error || r.ErrorType != lambdaenv.ErrorExit || !strings.Contains(string(r.Payload), "Runtime exited with error: exit status 3") ||
		!strings.Contains(string(r.Payload), "RequestId: "+r.RequestID) {
		t.Errorf("a crash: %+v %s", r, r.Payload)
	}
	r = invoke(t, e, `{"do":"sleep"}`)
	if !r.Error || r.ErrorType != lambdaenv.ErrorTimeout || !strings.Contains(string(r.Payload), "Task timed out after 2.00 seconds") ||
		r.Duration < 2*time.Second || r.Duration > 5*time.Second {
		t.Errorf("a timeout: %+v %s", r, r.Payload)
	}
	// The runtime is started again after each.
	if r = invoke(t, e, `{"do":"echo","value":"back"}`); r.Error || r.Init <= 0 || !strings.Contains(string(r.Payload), `"back"`) {
		t.Errorf("after a timeout: %+v %s", r, r.Payload)
	}
}

func TestInitFailure(t *testing.T) {
	e := start(t, lambdaenv.Config{Env: []string{"FN_FAIL_INIT=1"}})
	r := invoke(t, e, `{"do":"echo"}`)
	if !r.Error || r.ErrorType != lambdaenv.ErrorExit || !strings.Contains(string(r.Payload), "exit status 7") || !strings.Contains(r.Logs, "cannot start") {
		t.Errorf("a runtime that cannot start: %+v %s", r, r.Payload)
	}
	if _, err := e.Warm(context.Background()); err == nil {
		t.Error("Warm of a runtime that cannot start: no error")
	}
}

func TestWarmAndClose(t *testing.T) {
	e := start(t, lambdaenv.Config{})
	d, err := e.Warm(context.Background())
	if err != nil || d <= 0 {
		t.Fatalf("Warm: %v %v", d, err)
	}
	if d, err = e.Warm(context.Background()); err != nil || d != 0 {
		t.Errorf("Warm of a warm runtime: %v %v", d, err)
	}
	if r := invoke(t, e, `{"do":"echo","value":"x"}`); r.Init != 0 || r.Error {
		t.Errorf("after Warm: %+v", r)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Invoke(context.Background(), lambdaenv.Invocation{Payload: []byte(`{}`)}); err == nil {
		t.Error("Invoke after Close: no error")
	}
}
