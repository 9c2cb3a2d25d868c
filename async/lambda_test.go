package async_test

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"sync"
	"testing"

	awsevents "github.com/aws/aws-lambda-go/events"

	"github.com/coworks-go/cws/async"
	"github.com/coworks-go/cws/events"
	"github.com/coworks-go/cws/events/invoke"
	"github.com/coworks-go/cws/internal/testutil"
	cwslambda "github.com/coworks-go/cws/transport/lambda"
	"github.com/coworks-go/cws/transport/queue"
)

// lambdaDoor is the Lambda door of the shop with the CloudEvents doors'
// events handler (h, or the shop's invocation door).
func lambdaDoor(t testing.TB, h events.Handler, dlq async.DeadLetterSender) *cwslambda.Handler {
	t.Helper()
	app := newApp(t, newShop())
	if h == nil {
		h = invoke.NewDoor(app, invoke.WithLogger(discard))
	}
	return cwslambda.NewHandler(app, cwslambda.WithLogger(discard),
		cwslambda.WithEvents(async.LambdaEvents(h, dlq, queue.WithLogger(discard))))
}

// TestLambdaGolden hands the SQS and EventBridge events of testdata/lambda
// to the Lambda door and compares its answers with the golden files (go
// test -update rewrites them): a malformed message and a refused
// invocation are the batch's failures; in a FIFO batch a failure fails the
// rest of its group; a refused EventBridge event fails the invocation.
func TestLambdaGolden(t *testing.T) {
	testutil.GoldenEvents(t, "testdata/lambda", func(ctx context.Context, payload []byte) ([]byte, error) {
		return lambdaDoor(t, nil, nil).Invoke(ctx, payload)
	})
}

// deadLetters records the dead letters sent to it.
type deadLetters struct {
	mu   sync.Mutex
	sent map[string]string // body → reason
	from []string
}

func (d *deadLetters) SendDeadLetter(_ context.Context, source string, m queue.Delivery, reason string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.sent == nil {
		d.sent = map[string]string{}
	}
	d.sent[m.Body] = reason
	d.from = append(d.from, source)
	return nil
}

func TestLambdaSQSWithDeadLetterQueue(t *testing.T) {
	dlq := &deadLetters{}
	payload, _ := os.ReadFile("testdata/lambda/sqs-batch.json")
	out, err := lambdaDoor(t, nil, dlq).Invoke(context.Background(), payload)
	if err != nil {
		t.Fatal(err)
	}
	var resp awsevents.SQSEventResponse
	if err := json.Unmarshal(out, &resp); err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("with a dead-letter queue nothing fails: %s %v", out, err)
	}
	if len(dlq.sent) != 2 || !strings.Contains(dlq.sent["not a CloudEvent"], "malformed message") {
		t.Fatalf("dead letters %v", dlq.sent)
	}
	for body, reason := range dlq.sent {
		if body != "not a CloudEvent" && !strings.Contains(reason, "GET /items/99 answered 404: no item 99") {
			t.Errorf("dead letter %.40s… with reason %q", body, reason)
		}
	}
	for _, from := range dlq.from {
		if from != "arn:aws:sqs:eu-west-1:123456789012:shop" {
			t.Errorf("dead letter from %q", from)
		}
	}
}

func TestLambdaHandlerPanicIsRetried(t *testing.T) {
	h := lambdaDoor(t, events.HandlerFunc(func(context.Context, *events.Message) error { panic("boom") }), nil)
	payload, _ := os.ReadFile("testdata/lambda/sqs-fifo.json")
	out, err := h.Invoke(context.Background(), payload)
	if err != nil {
		t.Fatal(err)
	}
	var resp awsevents.SQSEventResponse
	_ = json.Unmarshal(out, &resp)
	if len(resp.BatchItemFailures) != 5 {
		t.Errorf("a panicking handler: %s", out)
	}
}
