//go:build integration

package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/coworks-go/cws/deploy"
	"github.com/coworks-go/cws/events"
	"github.com/coworks-go/cws/events/wire"
	"github.com/coworks-go/cws/transport/queue"
	cwssqs "github.com/coworks-go/cws/transport/sqs"
)

// poisonEvent is an order event a consumer refuses for good.
func poisonEvent(id string) event.Event {
	e := event.New()
	e.SetID(id)
	e.SetSource("shop")
	e.SetType("order.completed")
	e.SetSubject("A-1")
	_ = e.SetData(event.ApplicationJSON, map[string]any{"order": "A-1", "total": -5})
	return e
}

// heldBy is how many messages the queue at url holds, visible or not.
func heldBy(t *testing.T, c *sqs.Client, url string) int {
	t.Helper()
	out, err := c.GetQueueAttributes(ctxFor(t, 30*time.Second), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages,
			sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
	if err != nil {
		t.Fatal(err)
	}
	visible, _ := strconv.Atoi(out.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessages)])
	hidden, _ := strconv.Atoi(out.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible)])
	return visible + hidden
}

// deadLetterVia publishes e to the queue at url and consumes it with a
// handler refusing it for good, until cws has dead-lettered it to dlqURL.
func deadLetterVia(t *testing.T, c *sqs.Client, url, dlqURL string, e event.Event) {
	t.Helper()
	ctx := ctxFor(t, 2*time.Minute)
	if err := cwssqs.NewPublisher(c, url).Publish(ctx, e); err != nil {
		t.Fatal(err)
	}
	q, err := cwssqs.NewQueue(ctx, c, url)
	if err != nil {
		t.Fatal(err)
	}
	consuming, stop := context.WithCancel(ctx)
	consumed := make(chan error, 1)
	go func() {
		consumed <- q.Consumer(queue.WithWaitTime(time.Second)).Consume(consuming, events.HandlerFunc(func(_ context.Context, m *events.Message) error {
			return events.Permanentf("order %s: a negative total", m.Event.Subject())
		}))
	}()
	deadline := time.Now().Add(60 * time.Second)
	for heldBy(t, c, dlqURL) != 1 {
		if time.Now().After(deadline) {
			stop()
			t.Fatalf("%s holds %d messages, want 1", dlqURL, heldBy(t, c, dlqURL))
		}
		time.Sleep(200 * time.Millisecond)
	}
	stop()
	if err := <-consumed; err != nil && consuming.Err() == nil {
		t.Fatal(err)
	}
}

// runDLQ runs cws dlq args, with the environment's AWS variables replaced
// by extra; it returns its output and exit status.
func runDLQ(t *testing.T, extra []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(cwsBinary(t), append([]string{"dlq"}, args...)...)
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !strings.HasPrefix(k, "AWS_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, extra...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}

// TestDLQOnSQS drives cws dlq against an SQS dead-letter queue: a message
// a consumer refuses for good, dead-lettered by cws with its reason, and a
// message SQS moved there without one. list shows both and leaves them
// there; show prints the event; redrive puts the event back on its queue
// once, counted, and takes it off the dead-letter queue; a second redrive
// of the same id is exit 1 and sends nothing; a message without cws's
// source attribute goes back to the one queue that dead-letters there.
func TestDLQOnSQS(t *testing.T) {
	t.Parallel()
	c := sqs.NewFromConfig(need(t))
	ctx := ctxFor(t, 3*time.Minute)
	url, _, dlqURL := queueWithDLQ(t, c, false)
	deadLetterVia(t, c, url, dlqURL, poisonEvent("poison-1"))
	held := func(url string) int { t.Helper(); return heldBy(t, c, url) }
	// A message SQS moved by the redrive policy carries no reason nor
	// source of cws's.
	if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(dlqURL), MessageBody: aws.String("raw poison"),
		MessageAttributes: map[string]sqstypes.MessageAttributeValue{"k": {DataType: aws.String("String"), StringValue: aws.String("v")}}}); err != nil {
		t.Fatal(err)
	}

	dlqEnv := func(extra []string, args ...string) (string, string, int) {
		t.Helper()
		return runDLQ(t, extra, args...)
	}
	dlq := func(args ...string) (string, string, int) {
		t.Helper()
		return dlqEnv(nil, append(args, "--endpoint", instance.Endpoint)...)
	}
	type letter struct {
		ID, Reason, Queue, Body string
		EventID                 string `json:"event_id"`
		DecodeError             string `json:"decode_error"`
		Redrives, Receives      int
		Event                   json.RawMessage
		DeadLetteredAt          time.Time `json:"dead_lettered_at"`
	}
	list := func() map[string]letter {
		t.Helper()
		out, errOut, code := dlq("list", "--json", "--queue", dlqURL)
		var got []letter
		if err := json.Unmarshal([]byte(out), &got); code != 0 || err != nil {
			t.Fatalf("dlq list --json: exit %d %v\n%s%s", code, err, out, errOut)
		}
		byBody := map[string]letter{}
		for _, d := range got {
			key := d.EventID
			if key == "" {
				key = d.Body
			}
			byBody[key] = d
		}
		return byBody
	}
	got := list()
	explicit, raw := got["poison-1"], got["raw poison"]
	if len(got) != 2 || explicit.ID == "" || raw.ID == "" {
		t.Fatalf("dead letters: %+v", got)
	}
	if !strings.Contains(explicit.Reason, "order A-1: a negative total") || explicit.Queue != url || explicit.Redrives != 0 ||
		explicit.Receives < 1 || explicit.DeadLetteredAt.IsZero() || time.Since(explicit.DeadLetteredAt) > 5*time.Minute {
		t.Errorf("the dead letter cws sent: %+v", explicit)
	}
	if !strings.Contains(raw.Reason, "maxReceiveCount") || raw.DecodeError == "" {
		t.Errorf("the dead letter without cws's attributes: %+v", raw)
	}
	// Listing leaves them there, visible at once.
	if again := list(); len(again) != 2 {
		t.Errorf("a second list: %+v", again)
	}
	out, errOut, code := dlq("list", "--queue", dlqURL)
	if lines := strings.Split(strings.TrimSpace(out), "\n"); code != 0 || len(lines) != 3 || !strings.Contains(lines[0], "RECEIVES") ||
		!strings.Contains(out, "order.completed A-1") || !strings.Contains(out, "(no CloudEvent)") {
		t.Errorf("dlq list: exit %d\n%s%s", code, out, errOut)
	}

	// An unknown id: exit 1, saying when --max cut the reading short;
	// what the redrive read goes back at once.
	if out, errOut, code := dlq("redrive", "nope", "--max", "1", "--queue", dlqURL); code != 1 || out != "" ||
		!strings.Contains(errOut, "no dead letter nope") || !strings.Contains(errOut, "--max") {
		t.Errorf("dlq redrive of an unknown id: exit %d %q %s", code, out, errOut)
	}
	if again := list(); len(again) != 2 {
		t.Errorf("after redriving an unknown id: %+v", again)
	}

	out, errOut, code = dlq("show", explicit.ID, "--queue", dlqURL)
	var shown struct {
		ID   string
		Data struct{ Total int }
	}
	if err := json.Unmarshal([]byte(out), &shown); code != 0 || err != nil || shown.ID != "poison-1" || shown.Data.Total != -5 {
		t.Errorf("dlq show: exit %d %v\n%s%s", code, err, out, errOut)
	}

	// Redrive: back on its queue once, counted, and off the dead-letter
	// queue.
	if out, errOut, code := dlq("redrive", explicit.ID, "--queue", dlqURL); code != 0 || out != explicit.ID+"\n" {
		t.Fatalf("dlq redrive: exit %d %q %s", code, out, errOut)
	}
	back := receive(t, c, url, 2)
	if len(back) != 1 {
		t.Fatalf("%d messages back on the queue, want 1", len(back))
	}
	e, err := wire.DecodeSQS(aws.ToString(back[0].Body), nil)
	if err != nil || e.ID() != "poison-1" || e.Source() != "shop" || events.Redrives(e) != 1 {
		t.Errorf("the redriven event: %v %v", e, err)
	}
	if _, ok := back[0].MessageAttributes[wire.AttrDeadLetterReason]; ok {
		t.Error("the redriven message keeps its dead-letter reason")
	}
	if left := list(); len(left) != 1 || left["raw poison"].ID != raw.ID || held(dlqURL) != 1 {
		t.Errorf("left in the dead-letter queue: %+v, %d messages in all", left, held(dlqURL))
	}
	// The same id again: exit 1, nothing sent.
	if out, errOut, code := dlq("redrive", explicit.ID, "--queue", dlqURL); code != 1 || out != "" || !strings.Contains(errOut, "no dead letter "+explicit.ID) {
		t.Errorf("dlq redrive of a redriven id: exit %d %q %s", code, out, errOut)
	}
	if more := receive(t, c, url, 2); len(more) != 0 {
		t.Errorf("a second redrive of the same id sent %d messages", len(more))
	}

	// The dead-letter queue of a deployed service: its stack's output.
	stage := "it" + runID
	stack := "dlqsvc-" + stage
	status, why, err := createStack(t, cloudformation.NewFromConfig(awsCfg), stack, map[string]any{
		"Resources": map[string]any{"Queue": map[string]any{"Type": "AWS::SQS::Queue", "Properties": map[string]any{"QueueName": name(t, "stackq")}}},
		"Outputs":   map[string]any{deploy.OutputDeadLetterQueueURL: map[string]any{"Value": dlqURL}},
	})
	if err != nil || status != cfntypes.StackStatusCreateComplete {
		t.Fatalf("stack %s: %s %s %v", stack, status, why, err)
	}
	project := filepath.Join(t.TempDir(), "cws.yaml")
	if err := os.MkdirAll(filepath.Join(filepath.Dir(project), "svc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(project, []byte("services:\n  dlqsvc: svc\nstages:\n  "+stage+": {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	stageEnv := []string{"AWS_ENDPOINT_URL=" + instance.Endpoint, "AWS_REGION=" + awsCfg.Region, "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test"}
	out, errOut, code = dlqEnv(stageEnv, "list", "--service", "dlqsvc", "--project", project, "--stage", stage)
	if lines := strings.Split(strings.TrimSpace(out), "\n"); code != 0 || len(lines) != 2 || !strings.HasPrefix(lines[1], raw.ID+" ") {
		t.Errorf("dlq list --service: exit %d\n%s%s", code, out, errOut)
	}
	if _, errOut, code := dlqEnv(stageEnv, "list", "--service", "dlqsvc", "--project", project, "--stage", "nope"); code != 1 || !strings.Contains(errOut, "nope") {
		t.Errorf("dlq list --service of a stage not in the project: exit %d %s", code, errOut)
	}

	// No source of cws's: back to the one queue dead-lettering there,
	// as it was; the dead-letter queue named by its name.
	dlqName := dlqURL[strings.LastIndex(dlqURL, "/")+1:]
	if out, errOut, code := dlq("redrive", "--all", "--queue", dlqName); code != 0 || out != raw.ID+"\n" {
		t.Fatalf("dlq redrive --all: exit %d %q %s", code, out, errOut)
	}
	back = receive(t, c, url, 2)
	if len(back) != 1 || aws.ToString(back[0].Body) != "raw poison" || aws.ToString(back[0].MessageAttributes["k"].StringValue) != "v" {
		t.Errorf("the raw message back: %+v", back)
	}
	if out, errOut, code := dlq("list", "--queue", dlqURL); code != 0 || out != "no dead letters\n" || held(dlqURL) != 0 {
		t.Errorf("dlq list of an empty queue: exit %d %q %s (%d messages in all)", code, out, errOut, held(dlqURL))
	}
}

// TestDLQOnSQSFIFO redrives from the dead-letter queue of a FIFO queue:
// the event goes back once, counted. A copy of the dead letter left behind
// (a failure between the send and the delete) redriven again is the same
// redrive of the same event: the queue drops it as a duplicate.
func TestDLQOnSQSFIFO(t *testing.T) {
	t.Parallel()
	c := sqs.NewFromConfig(need(t))
	ctx := ctxFor(t, 3*time.Minute)
	url, _, dlqURL := queueWithDLQ(t, c, true)
	deadLetterVia(t, c, url, dlqURL, poisonEvent("poison-fifo"))
	endpoint := []string{"--endpoint", instance.Endpoint, "--queue", dlqURL}

	// The dead letter as it is, to copy.
	got := receive(t, c, dlqURL, 2)
	if len(got) != 1 {
		t.Fatalf("%d dead letters, want 1", len(got))
	}
	dead := got[0]
	if _, err := c.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(dlqURL),
		ReceiptHandle: dead.ReceiptHandle, VisibilityTimeout: 0}); err != nil {
		t.Fatal(err)
	}
	if out, errOut, code := runDLQ(t, nil, append([]string{"redrive", aws.ToString(dead.MessageId)}, endpoint...)...); code != 0 ||
		out != aws.ToString(dead.MessageId)+"\n" {
		t.Fatalf("dlq redrive: exit %d %q %s", code, out, errOut)
	}
	if n := heldBy(t, c, dlqURL); n != 0 {
		t.Errorf("the dead-letter queue holds %d messages after the redrive", n)
	}
	// The copy a failed delete would have left.
	if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(dlqURL), MessageBody: dead.Body,
		MessageAttributes: dead.MessageAttributes, MessageGroupId: aws.String("shop"), MessageDeduplicationId: aws.String("left-behind")}); err != nil {
		t.Fatal(err)
	}
	if out, errOut, code := runDLQ(t, nil, append([]string{"redrive", "--all"}, endpoint...)...); code != 0 || strings.Count(out, "\n") != 1 {
		t.Fatalf("dlq redrive --all of the copy: exit %d %q %s", code, out, errOut)
	}
	back := receive(t, c, url, 2)
	if len(back) != 1 {
		t.Fatalf("%d messages back on the FIFO queue, want 1", len(back))
	}
	e, err := wire.DecodeSQS(aws.ToString(back[0].Body), nil)
	if err != nil || e.ID() != "poison-fifo" || events.Redrives(e) != 1 {
		t.Errorf("the redriven event: %v %v", e, err)
	}
	if n := heldBy(t, c, url); n != 1 {
		t.Errorf("the FIFO queue holds %d messages, want 1", n)
	}
}
