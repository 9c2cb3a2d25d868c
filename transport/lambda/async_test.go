package lambda_test

import (
	"context"
	"encoding/json"
	"os"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	cwsevents "github.com/coworks-go/cws/events"
	cwslambda "github.com/coworks-go/cws/transport/lambda"
	cwssqs "github.com/coworks-go/cws/transport/sqs"
)

// fakeDLQ records the dead letters sent to it.
type fakeDLQ struct {
	cwssqs.API
	mu   sync.Mutex
	sent []*sqs.SendMessageInput
}

func (f *fakeDLQ) SendMessage(_ context.Context, in *sqs.SendMessageInput, _ ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, in)
	return &sqs.SendMessageOutput{}, nil
}

func TestSQSWithDeadLetterQueue(t *testing.T) {
	dlq := &fakeDLQ{}
	h := cwslambda.NewHandler(newApp(t), cwslambda.WithDeadLetterQueue(dlq, "http://dlq"))
	payload, _ := os.ReadFile("testdata/sqs-batch.json")
	out, err := h.Invoke(context.Background(), payload)
	if err != nil {
		t.Fatal(err)
	}
	var resp events.SQSEventResponse
	if err := json.Unmarshal(out, &resp); err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("with a dead-letter queue nothing fails: %s %v", out, err)
	}
	reasons := map[string]string{}
	for _, in := range dlq.sent {
		reasons[aws.ToString(in.MessageBody)] = aws.ToString(in.MessageAttributes[cwsevents.AttrDeadLetterReason].StringValue)
		if aws.ToString(in.QueueUrl) != "http://dlq" || aws.ToString(in.MessageAttributes[cwsevents.AttrDeadLetterSource].StringValue) != "arn:aws:sqs:eu-west-1:123456789012:shop" {
			t.Errorf("dead letter %+v", in)
		}
	}
	if len(dlq.sent) != 2 || reasons["not a CloudEvent"] == "" {
		t.Fatalf("dead letters %v", reasons)
	}
	for body, reason := range reasons {
		t.Logf("%.40s… → %s", body, reason)
	}
}

func TestSQSHandlerPanicIsRetried(t *testing.T) {
	h := cwslambda.NewHandler(newApp(t), cwslambda.WithEvents(cwsevents.HandlerFunc(func(context.Context, *cwsevents.Message) error {
		panic("boom")
	})))
	payload, _ := os.ReadFile("testdata/sqs-fifo.json")
	out, err := h.Invoke(context.Background(), payload)
	if err != nil {
		t.Fatal(err)
	}
	var resp events.SQSEventResponse
	_ = json.Unmarshal(out, &resp)
	if len(resp.BatchItemFailures) != 5 {
		t.Errorf("a panicking handler: %s", out)
	}
}
