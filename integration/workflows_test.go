//go:build integration

package integration

import (
	"bufio"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/coworks-go/cws/biz/asl"
)

// embeddedRun runs a workflow file on the embedded engine with `cws
// workflows run --service ./examples/biz --history` (with the service's
// environment) and returns its output or error, and the states it entered.
func embeddedRun(t *testing.T, file, input string, env ...string) (out map[string]any, entered []string) {
	t.Helper()
	res, err := runCWSEnv(t, env, "workflows", "run", file, "--service", "./examples/biz", "--input", input, "--history")
	if err != nil && !strings.Contains(res.stdout, `"error"`) {
		t.Fatalf("cws workflows run: %v\n%s\n%s", err, res.stdout, res.stderr)
	}
	if err := json.Unmarshal([]byte(res.stdout), &out); err != nil {
		t.Fatalf("the embedded run's output: %v\n%s", err, res.stdout)
	}
	var history []asl.HistoryEvent
	sc := bufio.NewScanner(strings.NewReader(res.stderr))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var e asl.HistoryEvent
		if strings.HasPrefix(sc.Text(), `{"id"`) && json.Unmarshal(sc.Bytes(), &e) == nil {
			history = append(history, e)
		}
	}
	return out, asl.StatesEntered(history)
}

// sfnEntered lists the states a Step Functions execution entered.
func sfnEntered(t *testing.T, c *sfn.Client, arn string) (entered []string, taskFailures int) {
	t.Helper()
	p := sfn.NewGetExecutionHistoryPaginator(c, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctxFor(t, 30*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Events {
			if d := e.StateEnteredEventDetails; d != nil {
				entered = append(entered, aws.ToString(d.Name))
			}
			if e.Type == sfntypes.HistoryEventTypeTaskFailed {
				taskFailures++
			}
		}
	}
	return entered, taskFailures
}

// TestWorkflowOnStepFunctions: examples/biz's invoicing workflow, compiled
// with `cws workflows compile` and created as a state machine on
// LocalStack's Step Functions, its cws:invoke tasks sent to the queue the
// service consumes and answered by the service through SendTaskSuccess and
// SendTaskFailure, its invoice.sent put on a bus: it gives the output and
// goes through the states the embedded run does — the mail service down
// twice retried, then an invoice that cannot be mailed caught, alerted and
// failed as the definition says.
func TestWorkflowOnStepFunctions(t *testing.T) {
	t.Parallel()
	cfg := need(t)
	c, eb, sf := sqs.NewFromConfig(cfg), eventbridge.NewFromConfig(cfg), sfn.NewFromConfig(cfg)
	ctx := ctxFor(t, 5*time.Minute)
	url, _, _ := queueWithDLQ(t, c, false)
	bus := name(t, "bus")
	if _, err := eb.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String(bus)}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = eb.DeleteEventBus(context.Background(), &eventbridge.DeleteEventBusInput{Name: aws.String(bus)})
	})
	sinkURL, sinkARN := createQueue(t, c, name(t, "sent"), nil)
	allowEvents(t, c, sinkURL, sinkARN)
	ruleToQueue(t, eb, bus, name(t, "sent"), `{"detail-type":["invoice.sent"]}`, "", sinkARN)
	svc := startService(t, url, "MAIL_OUTBOX_FAILURES=2")

	const file = "examples/biz/workflows/invoicing.asl.yaml"
	res, err := runCWSEnv(t, nil, "workflows", "compile", file, "--queue", url, "--bus", bus)
	if err != nil {
		t.Fatalf("cws workflows compile: %v\n%s", err, res.stderr)
	}
	sm, err := sf.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String(name(t, "invoicing")),
		Definition: aws.String(res.stdout), RoleArn: aws.String("arn:aws:iam::000000000000:role/cws-it")})
	if err != nil {
		t.Fatalf("CreateStateMachine: %v\n%s", err, res.stdout)
	}
	t.Cleanup(func() {
		_, _ = sf.DeleteStateMachine(context.Background(), &sfn.DeleteStateMachineInput{StateMachineArn: sm.StateMachineArn})
	})

	execute := func(input string) (*sfn.DescribeExecutionOutput, []string, int) {
		t.Helper()
		start, err := sf.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn, Input: aws.String(input)})
		if err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(2 * time.Minute); ; {
			d, err := sf.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: start.ExecutionArn})
			if err != nil {
				t.Fatal(err)
			}
			if d.Status != sfntypes.ExecutionStatusRunning {
				entered, failures := sfnEntered(t, sf, aws.ToString(start.ExecutionArn))
				return d, entered, failures
			}
			if time.Now().After(deadline) {
				t.Fatalf("the execution still runs\n%s", svc.logs)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	order := func(id, customer string, total int) string {
		b, _ := json.Marshal(map[string]any{"detail-type": "order.completed", "source": "shop",
			"detail": map[string]any{"data": map[string]any{"order": id, "customer": customer, "total": total}}})
		return string(b)
	}

	// A large order, the mail service down twice.
	in := order("SF-1", "ann@example.com", 1500)
	d, entered, failures := execute(in)
	wantOut, wantEntered := embeddedRun(t, file, in, "MAIL_OUTBOX_FAILURES=2")
	var out map[string]any
	_ = json.Unmarshal([]byte(aws.ToString(d.Output)), &out)
	if d.Status != sfntypes.ExecutionStatusSucceeded || mustJSON(out) != mustJSON(wantOut) {
		t.Errorf("on Step Functions: %s %s %s (%s), embedded %s\n%s", d.Status, aws.ToString(d.Output), aws.ToString(d.Error),
			aws.ToString(d.Cause), mustJSON(wantOut), svc.logs)
	}
	if strings.Join(entered, ">") != strings.Join(wantEntered, ">") {
		t.Errorf("states: on Step Functions %v, embedded %v", entered, wantEntered)
	}
	// The mail service answered 503 twice, and the task was tried again
	// each time. (LocalStack 4.14.0 records one failed attempt more than
	// the service answered: after two failed attempts of a waitForTaskToken
	// task, the next fails the moment its message is sent, and the one after
	// succeeds; the execution ends as on AWS.)
	if busy := strings.Count(svc.logs.String(), `msg="invocation failed: will be retried"`); busy != 2 || failures < 2 {
		t.Errorf("the service answered 503 %d times, Step Functions recorded %d failed attempts; want 2 retried\n%s", busy, failures, svc.logs)
	}
	var sent string
	for deadline := time.Now().Add(30 * time.Second); sent == "" && time.Now().Before(deadline); {
		for _, m := range receive(t, c, sinkURL, 2) {
			sent = aws.ToString(m.Body)
		}
	}
	if !strings.Contains(sent, `"detail-type":"invoice.sent"`) || !strings.Contains(sent, `"order":"SF-1"`) {
		t.Errorf("invoice.sent on the bus: %s", sent)
	}

	// An invoice that cannot be mailed: caught, alerted, failed.
	in = order("SF-2", "nobody", 20)
	d, entered, _ = execute(in)
	wantOut, wantEntered = embeddedRun(t, file, in)
	if d.Status != sfntypes.ExecutionStatusFailed || aws.ToString(d.Error) != "InvoiceNotMailed" || wantOut["error"] != "InvoiceNotMailed" ||
		!strings.Contains(aws.ToString(d.Cause), "is not a mail address") {
		t.Errorf("on Step Functions: %s %s %s; embedded %v", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause), wantOut)
	}
	if strings.Join(entered, ">") != strings.Join(wantEntered, ">") || !strings.Contains(strings.Join(entered, ">"), "MailInvoice>AlertNotMailed>NotMailed") {
		t.Errorf("states: on Step Functions %v, embedded %v", entered, wantEntered)
	}
	svc.waitFor(t, "/alerts", `[{"level":"warning","message":"large order SF-1 of 1500"},{"level":"error","message":"invoice 2 was not mailed to nobody (cws.Status.422)"}]`)
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
