package lambda_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/coworks-go/cws/async"
	"github.com/coworks-go/cws/events"
	"github.com/coworks-go/cws/events/wire"
	"github.com/coworks-go/cws/events/wire/ruletest"
	cwslambda "github.com/coworks-go/cws/transport/lambda"
	"github.com/coworks-go/cws/transport/queue"
)

// lastDeadLetter keeps the reason of the last dead letter.
type lastDeadLetter struct{ reason string }

func (d *lastDeadLetter) SendDeadLetter(_ context.Context, _ string, _ queue.Delivery, reason string) error {
	d.reason = reason
	return nil
}

// Every case of ruletest through the Lambda door: as an SQS record
// (structured body, or binary with ce- message attributes) of an event
// source mapping's event, and as the detail of an EventBridge event to a
// rule's target; handled as decoded, or dead-lettered with the rule as
// the reason.
func TestLambdaCloudEventsRules(t *testing.T) {
	ctx := context.Background()
	var got *event.Event
	h := events.HandlerFunc(func(_ context.Context, m *events.Message) error {
		e := m.Event
		got = &e
		return nil
	})
	dlq := &lastDeadLetter{}
	handler := cwslambda.NewHandler(newApp(t), cwslambda.WithEvents(async.LambdaEvents(h, dlq)))
	invoke := func(door string, c ruletest.Case, payload []byte) {
		t.Helper()
		got, dlq.reason = nil, ""
		out, err := handler.Invoke(ctx, payload)
		if err != nil {
			t.Fatalf("%s: %s: %v", door, c.Name, err)
		}
		if door == "Lambda SQS" || door == "Lambda SQS binary" {
			var resp struct{ BatchItemFailures []any }
			if err := json.Unmarshal(out, &resp); err != nil || len(resp.BatchItemFailures) != 0 {
				t.Errorf("%s: %s: answered %s", door, c.Name, out)
			}
		}
		switch {
		case got != nil && dlq.reason == "":
			c.Check(t, door, *got, nil)
		case got == nil && dlq.reason != "":
			c.Check(t, door, event.Event{}, errors.New(dlq.reason))
		default:
			t.Errorf("%s: %s: handled %v, dead-lettered with %q", door, c.Name, got, dlq.reason)
		}
	}
	for i, c := range ruletest.Cases() {
		if c.Structured != "" {
			invoke("Lambda SQS", c, sqsEvent(t, i, c.Structured, nil))
			if c.IsCloudEventDetail() {
				env := wire.Envelope{Version: "0", ID: fmt.Sprint("env-", i), DetailType: "test.rules", Source: "test/rules",
					Account: "123456789012", Time: time.Now(), Region: "eu-west-1", Resources: []string{}, Detail: []byte(c.Structured)}
				invoke("Lambda EventBridge", c, env.Encode())
			}
		}
		if b := c.Binary; b != nil {
			invoke("Lambda SQS binary", c, sqsEvent(t, i, b.Data, b.SQSAttributes()))
		}
	}
}

// sqsEvent is an SQS event of one record, as an event source mapping
// delivers it.
func sqsEvent(t *testing.T, i int, body string, attrs map[string]string) []byte {
	t.Helper()
	type attr struct {
		StringValue string `json:"stringValue"`
		DataType    string `json:"dataType"`
	}
	msgAttrs := map[string]attr{}
	for k, v := range attrs {
		msgAttrs[k] = attr{v, "String"}
	}
	payload, err := json.Marshal(map[string]any{"Records": []any{map[string]any{
		"messageId": fmt.Sprint("m-", i), "receiptHandle": "h", "body": body,
		"attributes": map[string]string{"ApproximateReceiveCount": "1"}, "messageAttributes": msgAttrs,
		"eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:events", "awsRegion": "eu-west-1"}}})
	if err != nil {
		t.Fatal(err)
	}
	return payload
}
