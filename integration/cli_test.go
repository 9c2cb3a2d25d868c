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
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/coworks-go/cws/internal/testutil"
)

// cwsBinary is the cws command of the run (built by TestMain).
func cwsBinary(t *testing.T) string {
	t.Helper()
	return cwsBin
}

// TestCLIAgainstLocalStack runs examples/biz with cws run --queue
// --endpoint, consuming a LocalStack queue, and sends it invocations with
// cws events put, to the queue and through a bus.
func TestCLIAgainstLocalStack(t *testing.T) {
	t.Parallel()
	cfg := need(t)
	c, eb := sqs.NewFromConfig(cfg), eventbridge.NewFromConfig(cfg)
	ctx := ctxFor(t, 2*time.Minute)
	url, arn, _ := queueWithDLQ(t, c, false)
	allowEvents(t, c, url, arn)
	bus := name(t, "bus")
	if _, err := eb.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String(bus)}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = eb.DeleteEventBus(context.Background(), &eventbridge.DeleteEventBusInput{Name: aws.String(bus)})
	})
	ruleToQueue(t, eb, bus, name(t, "rule"), `{"detail-type":["cws.invoke"]}`, "", arn)

	cws := cwsBinary(t)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	run := exec.Command(cws, "run", "./examples/biz", "--addr", addr, "--queue", url, "--endpoint", instance.Endpoint)
	run.Dir = ".."
	logs := &testutil.SyncBuffer{}
	run.Stdout, run.Stderr = logs, logs
	var env []string
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !strings.HasPrefix(k, "AWS_") && k != "TOKEN" {
			env = append(env, kv)
		}
	}
	run.Env = env
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = run.Process.Signal(os.Interrupt); _ = run.Wait() })

	get := func() (int, string) {
		req, _ := http.NewRequest("GET", "http://"+addr+"/alerts", nil)
		req.Header.Set("Authorization", "dev-token") // examples/biz/.env
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	waitBody := func(want string) {
		t.Helper()
		deadline := time.Now().Add(90 * time.Second)
		for {
			if status, body := get(); status == 200 && body == want {
				return
			}
			if time.Now().After(deadline) {
				status, body := get()
				t.Fatalf("GET /alerts = %d %s, want %s\n%s", status, body, want, logs)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	waitBody("[]")
	put := func(args ...string) {
		t.Helper()
		cmd := exec.Command(cws, append([]string{"events", "put", "--endpoint", instance.Endpoint}, args...)...)
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("cws events put %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	put("--to", "queue:"+url, "--subject", "POST /alerts", "--data", `{"level":"info","message":"by-queue"}`)
	waitBody(`[{"level":"info","message":"by-queue"}]`)
	put("--to", "bus:"+bus, "--subject", "POST /alerts", "--data", `{"level":"info","message":"by-bus"}`)
	waitBody(`[{"level":"info","message":"by-queue"},{"level":"info","message":"by-bus"}]`)
	if l := logs.String(); !strings.Contains(l, "consuming events") || !strings.Contains(l, fmt.Sprintf("SQS queue %s", url)) {
		t.Errorf("the service does not say it consumes the queue:\n%s", l)
	}
}
