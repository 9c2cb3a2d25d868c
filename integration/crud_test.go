//go:build integration

package integration

import (
	"context"
	"encoding/json"
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

	"github.com/coworks-go/cws/events"
	"github.com/coworks-go/cws/internal/testutil"
	cwseventbridge "github.com/coworks-go/cws/transport/eventbridge"
	cwssqs "github.com/coworks-go/cws/transport/sqs"
)

var (
	crudOnce sync.Once
	crudBin  string
	crudErr  error
)

// crudBinary builds examples/crud once per run.
func crudBinary(t *testing.T) string {
	t.Helper()
	crudOnce.Do(func() {
		dir, err := os.MkdirTemp("", "cws-it-")
		if err != nil {
			crudErr = err
			return
		}
		crudBin = filepath.Join(dir, "crud")
		if out, err := exec.Command("go", "build", "-o", crudBin, "../examples/crud").CombinedOutput(); err != nil {
			crudErr = fmt.Errorf("building examples/crud: %v\n%s", err, out)
		}
	})
	if crudErr != nil {
		t.Fatal(crudErr)
	}
	return crudBin
}

// crudService is examples/crud running against LocalStack, consuming a
// queue.
type crudService struct {
	base string
	logs *testutil.SyncBuffer
}

const crudToken = "it-token"

// startCrud runs examples/crud consuming the queue at queueURL.
func startCrud(t *testing.T, queueURL string) *crudService {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(crudBinary(t))
	cmd.Env = append(os.Environ(), "CWS_ADDR="+addr, "TOKEN="+crudToken, "CWS_QUEUE_URL="+queueURL,
		"AWS_ENDPOINT_URL="+instance.Endpoint, "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_REGION=us-east-1")
	s := &crudService{base: "http://" + addr, logs: &testutil.SyncBuffer{}}
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
			t.Errorf("examples/crud did not stop on SIGINT\n%s", s.logs)
		}
	})
	s.waitFor(t, "/service/test", "service test")
	return s
}

func (s *crudService) get(path string) (int, string) {
	req, _ := http.NewRequest("GET", s.base+path, nil)
	req.Header.Set("Authorization", crudToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// waitFor polls GET path until it answers 200 with body.
func (s *crudService) waitFor(t *testing.T, path, body string) {
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
			e, err := events.DecodeSQS(aws.ToString(msgs[0].Body), nil)
			if err != nil {
				t.Fatalf("not a CloudEvent on the result queue: %v", err)
			}
			if e.Type() != events.TypeResult || e.Extensions()[events.ExtRequestID] != id {
				t.Fatalf("unexpected event on the result queue: %s", e)
			}
			status, _ := e.Extensions()[events.ExtStatus].(int32)
			return int(status), string(e.Data())
		}
	}
	t.Fatalf("no result for %s", id)
	return 0, ""
}

// TestCrudThroughSQS invokes examples/crud's POST / as a CloudEvent sent to
// the SQS queue the service consumes; the result goes to another queue and
// the item is visible through GET /.
func TestCrudThroughSQS(t *testing.T) {
	t.Parallel()
	c := sqs.NewFromConfig(need(t))
	url, _, _ := queueWithDLQ(t, c, false)
	resultsURL, _ := createQueue(t, c, name(t, "results"), nil)
	svc := startCrud(t, url)

	inv, err := events.NewInvocation("cws/it", "POST", "/", map[string]any{"name": "via-sqs", "price": 2.5, "tags": []string{"it"}})
	if err != nil {
		t.Fatal(err)
	}
	inv.SetExtension(events.ExtReplyTo, resultsURL)
	if err := cwssqs.NewPublisher(c, url).Publish(ctxFor(t, 30*time.Second), inv); err != nil {
		t.Fatal(err)
	}
	status, data := awaitResult(t, c, resultsURL, inv.ID())
	if status != 201 || data != `{"id":1,"name":"via-sqs","price":2.5,"tags":["it"]}` {
		t.Errorf("result %d %s", status, data)
	}
	svc.waitFor(t, "/", `[{"id":1,"name":"via-sqs","price":2.5,"tags":["it"]}]`)
}

// TestCrudThroughEventBridge puts the invocation on an EventBridge bus whose
// rule targets the service's queue; the result goes back to the bus, whose
// second rule sends results to a queue.
func TestCrudThroughEventBridge(t *testing.T) {
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
	svc := startCrud(t, url)

	inv, err := events.NewInvocation("cws/it", "POST", "/", map[string]any{"name": "via-eventbridge", "price": 7})
	if err != nil {
		t.Fatal(err)
	}
	inv.SetExtension(events.ExtReplyTo, aws.ToString(out.EventBusArn))
	if err := cwseventbridge.NewPublisher(eb, bus).Publish(ctx, inv); err != nil {
		t.Fatal(err)
	}
	status, data := awaitResult(t, c, resultsURL, inv.ID())
	if status != 201 || !strings.Contains(data, `"name":"via-eventbridge"`) {
		t.Errorf("result %d %s", status, data)
	}
	svc.waitFor(t, "/", `[{"id":1,"name":"via-eventbridge","price":7,"tags":[]}]`)
	var items []map[string]any
	_, body := svc.get("/")
	if err := json.Unmarshal([]byte(body), &items); err != nil || len(items) != 1 {
		t.Errorf("items %s", body)
	}
}
