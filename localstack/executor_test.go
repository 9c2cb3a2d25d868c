package localstack

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeLocalStack's runtime endpoint records what an execution environment
// posts to it.
type runtimeEndpoint struct {
	mu    sync.Mutex
	posts []string // "PATH BODY"
	got   chan string
}

func (r *runtimeEndpoint) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	b, _ := io.ReadAll(req.Body)
	entry := req.URL.Path + " " + string(b)
	if req.Header.Get("Content-Type") != "application/json" {
		w.WriteHeader(http.StatusUnsupportedMediaType)
		return
	}
	r.mu.Lock()
	r.posts = append(r.posts, entry)
	r.mu.Unlock()
	r.got <- entry
	w.WriteHeader(http.StatusAccepted)
}

// TestServeExecutor runs an execution environment as LocalStack's executor
// does, against a stand-in for LocalStack's runtime endpoint: it says ready,
// takes an invocation on /invoke, and posts the logs, then the response; a
// function error is posted to /error.
func TestServeExecutor(t *testing.T) {
	code := t.TempDir()
	build := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", filepath.Join(code, "bootstrap"), "./lambdaenv/testdata/fn")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the function: %v\n%s", err, out)
	}
	ep := &runtimeEndpoint{got: make(chan string, 16)}
	srv := httptest.NewServer(ep)
	defer srv.Close()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	listen := ln.Addr().String()
	ln.Close()

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- ServeExecutor(ctx, ExecutorConfig{Listen: listen, Code: code, Log: io.Discard, Env: []string{
			"LOCALSTACK_RUNTIME_ENDPOINT=" + srv.URL + "/_localstack_lambda/env1", "LOCALSTACK_RUNTIME_ID=env1",
			"AWS_LAMBDA_FUNCTION_TIMEOUT=5", "AWS_LAMBDA_FUNCTION_NAME=fn", "AWS_REGION=eu-west-1",
			"LOCALSTACK_FUNCTION_ACCOUNT_ID=123456789012", "FN_SETTING=from-localstack"}})
	}()
	next := func() string {
		t.Helper()
		select {
		case p := <-ep.got:
			return p
		case <-time.After(30 * time.Second):
			t.Fatal("nothing posted")
		}
		return ""
	}
	if p := next(); p != "/_localstack_lambda/env1/status/env1/ready " {
		t.Fatalf("first post %q, want the ready status", p)
	}
	invoke := func(id, payload string) {
		t.Helper()
		body, _ := json.Marshal(map[string]string{"invoke-id": id, "invoked-function-arn": "arn:aws:lambda:eu-west-1:123456789012:function:fn",
			"payload": payload, "trace-id": "Root=1-5759e988-bd862e3fe1be46a994272793"})
		resp, err := http.Post("http://"+listen+"/invoke", "application/json", bytes.NewReader(body))
		if err != nil || resp.StatusCode != http.StatusAccepted {
			t.Fatalf("invoke: %v %v", resp, err)
		}
		resp.Body.Close()
	}
	invoke("r1", `{"do":"echo","value":"hi"}`)
	logs, answer := next(), next()
	if !strings.HasPrefix(logs, "/_localstack_lambda/env1/invocations/r1/logs ") || !strings.Contains(logs, "START RequestId: r1") ||
		!strings.Contains(logs, "handling echo") || !strings.Contains(logs, "Init Duration") {
		t.Errorf("logs %q", logs)
	}
	if !strings.HasPrefix(answer, "/_localstack_lambda/env1/invocations/r1/response ") || !strings.Contains(answer, `"echo":"hi"`) ||
		!strings.Contains(answer, `"env":"from-localstack"`) || !strings.Contains(answer, `"arn":"arn:aws:lambda:eu-west-1:123456789012:function:fn"`) {
		t.Errorf("answer %q", answer)
	}
	invoke("r2", `{"do":"fail","value":"no"}`)
	logs, answer = next(), next()
	if strings.Contains(logs, "Init Duration") || !strings.HasPrefix(answer, "/_localstack_lambda/env1/invocations/r2/error ") ||
		!strings.Contains(answer, "it failed: no") {
		t.Errorf("a function error: %q then %q", logs, answer)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("ServeExecutor: %v", err)
	}
}

// An environment whose bootstrap cannot start says so to LocalStack.
func TestServeExecutorInitError(t *testing.T) {
	ep := &runtimeEndpoint{got: make(chan string, 4)}
	srv := httptest.NewServer(ep)
	defer srv.Close()
	err := ServeExecutor(context.Background(), ExecutorConfig{Listen: "127.0.0.1:0", Code: t.TempDir(), Log: io.Discard, Env: []string{
		"LOCALSTACK_RUNTIME_ENDPOINT=" + srv.URL + "/_localstack_lambda/env2", "LOCALSTACK_RUNTIME_ID=env2"}})
	if err == nil {
		t.Fatal("no bootstrap: no error")
	}
	if p := <-ep.got; !strings.HasPrefix(p, "/_localstack_lambda/env2/status/env2/error ") || !strings.Contains(p, "bootstrap") {
		t.Errorf("post %q", p)
	}
}
