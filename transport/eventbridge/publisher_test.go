package eventbridge

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/coworks-go/cws/events"
	"github.com/coworks-go/cws/events/wire"
)

type fakeEB struct {
	calls [][]types.PutEventsRequestEntry
	fail  func(call int, detail string) string
}

func (f *fakeEB) PutEvents(_ context.Context, in *eventbridge.PutEventsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	f.calls = append(f.calls, in.Entries)
	out := &eventbridge.PutEventsOutput{}
	for _, e := range in.Entries {
		r := types.PutEventsResultEntry{EventId: aws.String("eb-id")}
		if f.fail != nil {
			if code := f.fail(len(f.calls), aws.ToString(e.Detail)); code != "" {
				r = types.PutEventsResultEntry{ErrorCode: aws.String(code), ErrorMessage: aws.String("no")}
				out.FailedEntryCount++
			}
		}
		out.Entries = append(out.Entries, r)
	}
	return out, nil
}

func testEvent(id, data string) event.Event {
	e := event.New()
	e.SetID(id)
	e.SetSource("cws/test")
	e.SetType("order.completed")
	_ = e.SetData(event.ApplicationJSON, map[string]string{"d": data})
	return e
}

func TestPublishMapping(t *testing.T) {
	f := &fakeEB{}
	e := testEvent("1", "x")
	if err := NewPublisher(f, "orders").Publish(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	got := f.calls[0][0]
	var detail event.Event
	if err := json.Unmarshal([]byte(aws.ToString(got.Detail)), &detail); err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.Source) != "cws/test" || aws.ToString(got.DetailType) != "order.completed" ||
		aws.ToString(got.EventBusName) != "orders" || detail.ID() != "1" {
		t.Errorf("entry %+v", got)
	}
}

func TestPublishBatchesAndFailures(t *testing.T) {
	f := &fakeEB{fail: func(call int, detail string) string {
		switch {
		case strings.Contains(detail, "throttled") && call == 1:
			return "ThrottlingException"
		case strings.Contains(detail, "bad"):
			return "MalformedDetail"
		}
		return ""
	}}
	evs := []event.Event{testEvent("t", "throttled")}
	for i := range 12 {
		evs = append(evs, testEvent(strings.Repeat("i", i+1), "fine"))
	}
	evs = append(evs, testEvent("b", "bad"))
	err := NewPublisher(f, "orders").Publish(context.Background(), evs...)
	var pe *events.PublishError
	if !errors.As(err, &pe) || len(pe.Failed) != 1 || !strings.HasPrefix(pe.Failed["b"], "MalformedDetail") {
		t.Fatalf("partial failure: %v", err)
	}
	if len(f.calls) != 3 || len(f.calls[0]) != 10 || len(f.calls[1]) != 1 || len(f.calls[2]) != 4 {
		t.Errorf("calls: %d", len(f.calls))
	}
	big := testEvent("big", strings.Repeat("x", wire.MaxPutEventsEntrySize))
	if err := NewPublisher(f, "orders").Publish(context.Background(), big); !errors.Is(err, events.ErrTooLarge) {
		t.Errorf("oversize: %v", err)
	}
}
