//go:build integration

package integration

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/coworks-go/cws/events/invoke"
	"github.com/coworks-go/cws/events/wire"
	"github.com/coworks-go/cws/internal/testutil"
	cwseventbridge "github.com/coworks-go/cws/transport/eventbridge"
	cwssqs "github.com/coworks-go/cws/transport/sqs"
)

// bizBinary builds examples/biz, the example with the CloudEvents doors on
// AWS, once per run.
func bizBinary(t *testing.T) string { return builtOnce(t, "../examples/biz") }

// built holds the binaries builtOnce made, by package.
var built sync.Map // string → func() (string, error)

// builtOnce builds the main package pkg (relative to this directory) once
// per run and returns the binary's path.
func builtOnce(t *testing.T, pkg string) string {
	t.Helper()
	build, _ := built.LoadOrStore(pkg, sync.OnceValues(func() (string, error) {
		dir, err := os.MkdirTemp("", "cws-it-")
		if err != nil {
			return "", err
		}
		bin := filepath.Join(dir, filepath.Base(pkg))
		if out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput(); err != nil {
			return "", fmt.Errorf("building %s: %v\n%s", pkg, err, out)
		}
		return bin, nil
	}))
	bin, err := build.(func() (string, error))()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// service is examples/biz running against LocalStack, consuming a queue.
type service struct {
	base string
	logs *testutil.SyncBuffer
}

const serviceToken = "it-token"

// queueService is the command running the service binary bin on a free
// local address (returned), consuming the queue at queueURL of the run's
// LocalStack; env adds to (and overrides) its environment.
func queueService(t *testing.T, bin, queueURL string, env ...string) (*exec.Cmd, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "CWS_ADDR="+addr, "CWS_QUEUE_URL="+queueURL,
		"AWS_ENDPOINT_URL="+instance.Endpoint, "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_REGION=us-east-1")
	cmd.Env = append(cmd.Env, env...)
	return cmd, addr
}

// startService runs examples/biz consuming the queue at queueURL.
func startService(t *testing.T, queueURL string, env ...string) *service {
	t.Helper()
	cmd, addr := queueService(t, bizBinary(t), queueURL, append([]string{"TOKEN=" + serviceToken}, env...)...)
	s := &service{base: "http://" + addr, logs: &testutil.SyncBuffer{}}
	cmd.Stderr = s.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("examples/biz did not stop on SIGINT\n%s", s.logs)
		}
	})
	s.waitFor(t, "/alerts", "[]")
	return s
}

func (s *service) get(path string) (int, string) {
	req, _ := http.NewRequest("GET", s.base+path, nil)
	req.Header.Set("Authorization", serviceToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// waitFor polls GET path until it answers 200 with body.
func (s *service) waitFor(t *testing.T, path, body string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		status, got := s.get(path)
		if status == 200 && got == body {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s = %d %s, want %s\n%s", path, status, got, body, s.logs)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// awaitResult waits for the cws.result event of invocation id on a queue.
func awaitResult(t *testing.T, c *sqs.Client, url, id string) (int, string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		msgs := receive(t, c, url, 5)
		if len(msgs) > 0 {
			e, err := wire.DecodeSQS(aws.ToString(msgs[0].Body), nil)
			if err != nil {
				t.Fatalf("not a CloudEvent on the result queue: %v", err)
			}
			if e.Type() != invoke.ResultType || e.Extensions()[invoke.ExtRequestID] != id {
				t.Fatalf("unexpected event on the result queue: %s", e)
			}
			status, _ := e.Extensions()[invoke.ExtStatus].(int32)
			return int(status), string(e.Data())
		}
	}
	t.Fatalf("no result for %s", id)
	return 0, ""
}

// TestInvocationThroughSQS invokes examples/biz's POST /alerts as a
// CloudEvent sent to the SQS queue the service consumes; the result goes to
// another queue and the alert is visible through GET /alerts.
func TestInvocationThroughSQS(t *testing.T) {
	t.Parallel()
	c := sqs.NewFromConfig(need(t))
	url, _, _ := queueWithDLQ(t, c, false)
	resultsURL, _ := createQueue(t, c, name(t, "results"), nil)
	svc := startService(t, url)

	inv, err := invoke.New("cws/it", "POST", "/alerts", map[string]any{"level": "info", "message": "via-sqs"})
	if err != nil {
		t.Fatal(err)
	}
	inv.SetExtension(invoke.ExtReplyTo, resultsURL)
	if err := cwssqs.NewPublisher(c, url).Publish(ctxFor(t, 30*time.Second), inv); err != nil {
		t.Fatal(err)
	}
	status, data := awaitResult(t, c, resultsURL, inv.ID())
	if status != 201 || data != `{"level":"info","message":"via-sqs"}` {
		t.Errorf("result %d %s", status, data)
	}
	svc.waitFor(t, "/alerts", `[{"level":"info","message":"via-sqs"}]`)
}

// TestInvocationThroughEventBridge puts the invocation on an EventBridge bus whose
// rule targets the service's queue; the result goes back to the bus, whose
// second rule sends results to a queue.
func TestInvocationThroughEventBridge(t *testing.T) {
	t.Parallel()
	cfg := need(t)
	c, eb := sqs.NewFromConfig(cfg), eventbridge.NewFromConfig(cfg)
	ctx := ctxFor(t, 90*time.Second)
	bus := name(t, "bus")
	out, err := eb.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String(bus)})
	if err != nil {
		t.Fatalf("CreateEventBus: %v", err)
	}
	t.Cleanup(func() {
		_, _ = eb.DeleteEventBus(context.Background(), &eventbridge.DeleteEventBusInput{Name: aws.String(bus)})
	})
	url, arn, _ := queueWithDLQ(t, c, false)
	allowEvents(t, c, url, arn)
	ruleToQueue(t, eb, bus, name(t, "invocations"), `{"detail-type":["cws.invoke"]}`, "", arn)
	resultsURL, resultsARN := createQueue(t, c, name(t, "results"), nil)
	allowEvents(t, c, resultsURL, resultsARN)
	ruleToQueue(t, eb, bus, name(t, "results"), `{"detail-type":["cws.result"]}`, "", resultsARN)
	svc := startService(t, url)

	inv, err := invoke.New("cws/it", "POST", "/alerts", map[string]any{"level": "warning", "message": "via-eventbridge"})
	if err != nil {
		t.Fatal(err)
	}
	inv.SetExtension(invoke.ExtReplyTo, aws.ToString(out.EventBusArn))
	if err := cwseventbridge.NewPublisher(eb, bus).Publish(ctx, inv); err != nil {
		t.Fatal(err)
	}
	status, data := awaitResult(t, c, resultsURL, inv.ID())
	if status != 201 || !strings.Contains(data, `"message":"via-eventbridge"`) {
		t.Errorf("result %d %s", status, data)
	}
	svc.waitFor(t, "/alerts", `[{"level":"warning","message":"via-eventbridge"}]`)
}
