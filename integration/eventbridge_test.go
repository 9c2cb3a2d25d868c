//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// allowEvents lets EventBridge send to the queue, as AWS requires.
func allowEvents(t *testing.T, c *sqs.Client, url, arn string) {
	t.Helper()
	policy, _ := json.Marshal(map[string]any{
		"Version": "2012-10-17",
		"Statement": []map[string]any{{
			"Effect": "Allow", "Principal": map[string]string{"Service": "events.amazonaws.com"},
			"Action": "sqs:SendMessage", "Resource": arn,
		}},
	})
	if _, err := c.SetQueueAttributes(ctxFor(t, 30*time.Second), &sqs.SetQueueAttributesInput{
		QueueUrl: aws.String(url), Attributes: map[string]string{"Policy": string(policy)}}); err != nil {
		t.Fatalf("SetQueueAttributes Policy: %v", err)
	}
}

// ruleToQueue creates a rule on bus (pattern or schedule) targeting the
// queue, removed at the end of the test; it returns the rule's ARN.
func ruleToQueue(t *testing.T, eb *eventbridge.Client, bus, rule, pattern, schedule, queueARN string) string {
	t.Helper()
	ctx := ctxFor(t, 30*time.Second)
	in := &eventbridge.PutRuleInput{Name: aws.String(rule), EventBusName: aws.String(bus), State: ebtypes.RuleStateEnabled}
	if pattern != "" {
		in.EventPattern = aws.String(pattern)
	}
	if schedule != "" {
		in.ScheduleExpression = aws.String(schedule)
	}
	out, err := eb.PutRule(ctx, in)
	if err != nil {
		t.Fatalf("PutRule %s: %v", rule, err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		if _, err := eb.RemoveTargets(ctx, &eventbridge.RemoveTargetsInput{Rule: aws.String(rule), EventBusName: aws.String(bus), Ids: []string{"queue"}}); err != nil {
			t.Errorf("RemoveTargets: %v", err)
		}
		if _, err := eb.DeleteRule(ctx, &eventbridge.DeleteRuleInput{Name: aws.String(rule), EventBusName: aws.String(bus)}); err != nil {
			t.Errorf("DeleteRule: %v", err)
		}
	})
	tout, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String(rule), EventBusName: aws.String(bus),
		Targets: []ebtypes.Target{{Id: aws.String("queue"), Arn: aws.String(queueARN)}}})
	if err != nil || tout.FailedEntryCount != 0 {
		t.Fatalf("PutTargets: %v %+v", err, tout)
	}
	return aws.ToString(out.RuleArn)
}

// envelope is the EventBridge event as an SQS target receives it.
type envelope struct {
	Version    string          `json:"version"`
	ID         string          `json:"id"`
	DetailType string          `json:"detail-type"`
	Source     string          `json:"source"`
	Account    string          `json:"account"`
	Time       string          `json:"time"`
	Region     string          `json:"region"`
	Resources  []string        `json:"resources"`
	Detail     json.RawMessage `json:"detail"`
}

// TestEventBridgePatternRuleToSQS: a PutEvents that matches the rule's
// pattern arrives on the queue, one that does not never does.
func TestEventBridgePatternRuleToSQS(t *testing.T) {
	t.Parallel()
	cfg := need(t)
	eb, q := eventbridge.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	ctx := ctxFor(t, 90*time.Second)

	bus := name(t, "bus")
	if _, err := eb.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String(bus)}); err != nil {
		t.Fatalf("CreateEventBus: %v", err)
	}
	t.Cleanup(func() {
		if _, err := eb.DeleteEventBus(context.Background(), &eventbridge.DeleteEventBusInput{Name: aws.String(bus)}); err != nil {
			t.Errorf("DeleteEventBus: %v", err)
		}
	})
	url, arn := createQueue(t, q, name(t, "q"), nil)
	allowEvents(t, q, url, arn)
	pattern := `{"source":["cws.it"],"detail-type":["order.completed"],"detail":{"total":[{"numeric":[">",100]}]}}`
	ruleToQueue(t, eb, bus, name(t, "rule"), pattern, "", arn)

	put := func(source, detailType string, detail any) {
		b, _ := json.Marshal(detail)
		out, err := eb.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{
			EventBusName: aws.String(bus), Source: aws.String(source), DetailType: aws.String(detailType), Detail: aws.String(string(b)),
		}}})
		if err != nil || out.FailedEntryCount != 0 {
			t.Fatalf("PutEvents: %v %+v", err, out)
		}
	}
	put("cws.it", "order.completed", map[string]any{"id": "small", "total": 50})
	put("other.source", "order.completed", map[string]any{"id": "other", "total": 500})
	put("cws.it", "order.cancelled", map[string]any{"id": "cancelled", "total": 500})
	put("cws.it", "order.completed", map[string]any{"id": "big", "total": 150})

	var got []envelope
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) && len(got) == 0 {
		for _, m := range receive(t, q, url, 5) {
			var e envelope
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &e); err != nil {
				t.Fatalf("not an EventBridge event: %s", aws.ToString(m.Body))
			}
			got = append(got, e)
		}
	}
	// Give a wrongly matched event the time to arrive too.
	for _, m := range receive(t, q, url, 3) {
		var e envelope
		_ = json.Unmarshal([]byte(aws.ToString(m.Body)), &e)
		got = append(got, e)
	}
	if len(got) != 1 {
		t.Fatalf("received %d events, want the one matching: %+v", len(got), got)
	}
	e := got[0]
	var detail struct {
		ID    string  `json:"id"`
		Total float64 `json:"total"`
	}
	_ = json.Unmarshal(e.Detail, &detail)
	if e.Source != "cws.it" || e.DetailType != "order.completed" || detail.ID != "big" || detail.Total != 150 || e.ID == "" || e.Time == "" {
		t.Errorf("event %+v detail %s", e, e.Detail)
	}
}

// TestScheduledRuleToSQS: a rate(1 minute) rule delivers a Scheduled Event
// to its queue within 90 s (LocalStack checks schedules about once a
// minute).
func TestScheduledRuleToSQS(t *testing.T) {
	t.Parallel()
	cfg := need(t)
	eb, q := eventbridge.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	url, arn := createQueue(t, q, name(t, "q"), nil)
	allowEvents(t, q, url, arn)
	ruleARN := ruleToQueue(t, eb, "default", name(t, "rule"), "", "rate(1 minute)", arn)

	start := time.Now()
	for time.Since(start) < 100*time.Second {
		msgs := receive(t, q, url, 20)
		if len(msgs) > 0 {
			m := msgs[0]
			var e envelope
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &e); err != nil {
				t.Fatalf("not an EventBridge event: %s", aws.ToString(m.Body))
			}
			if e.DetailType != "Scheduled Event" || e.Source != "aws.events" || !slices.Contains(e.Resources, ruleARN) {
				t.Fatalf("scheduled event %+v, want one from %s", e, ruleARN)
			}
			if string(e.Detail) != "{}" {
				t.Errorf("scheduled event detail %s, want {}", e.Detail)
			}
			t.Logf("Scheduled Event after %v", time.Since(start).Round(time.Second))
			return
		}
	}
	t.Fatalf("no Scheduled Event within %v", time.Since(start).Round(time.Second))
}
