package sqs

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/coworks-go/cws/events"
)

// fakeSQS records SendMessageBatch calls and fails entries on demand.
type fakeSQS struct {
	API
	mu    sync.Mutex
	calls [][]types.SendMessageBatchRequestEntry
	// fail says how an entry fails at a call: "" succeeds.
	fail func(call int, body string) (code string, senderFault bool)
}

func (f *fakeSQS) SendMessageBatch(_ context.Context, in *sqs.SendMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, in.Entries)
	out := &sqs.SendMessageBatchOutput{}
	for _, e := range in.Entries {
		if f.fail != nil {
			if code, sender := f.fail(len(f.calls), aws.ToString(e.MessageBody)); code != "" {
				out.Failed = append(out.Failed, types.BatchResultErrorEntry{Id: e.Id, Code: aws.String(code), SenderFault: sender, Message: aws.String("no")})
				continue
			}
		}
		out.Successful = append(out.Successful, types.SendMessageBatchResultEntry{Id: e.Id})
	}
	return out, nil
}

func testEvent(id, data string) event.Event {
	e := event.New()
	e.SetID(id)
	e.SetSource("cws/test")
	e.SetType("cws.test")
	e.SetExtension(events.ExtGroup, "g1")
	_ = e.SetData(event.ApplicationJSON, map[string]string{"d": data})
	return e
}

func TestPublisherBatches(t *testing.T) {
	f := &fakeSQS{}
	var evs []event.Event
	for i := range 23 {
		evs = append(evs, testEvent(strings.Repeat("x", i+1), "small"))
	}
	if err := NewPublisher(f, "http://q").Publish(context.Background(), evs...); err != nil {
		t.Fatal(err)
	}
	if len(f.calls) != 3 || len(f.calls[0]) != 10 || len(f.calls[2]) != 3 {
		t.Errorf("calls of %d, %d, ... entries", len(f.calls[0]), len(f.calls[1]))
	}
	// Large events split calls by size too.
	f = &fakeSQS{}
	big := strings.Repeat("b", 100*1024)
	if err := NewPublisher(f, "http://q").Publish(context.Background(), testEvent("1", big), testEvent("2", big), testEvent("3", big)); err != nil {
		t.Fatal(err)
	}
	if len(f.calls) != 2 {
		t.Errorf("3 events of 100 KiB went in %d calls, want 2 (256 KiB a call)", len(f.calls))
	}
	if err := NewPublisher(f, "http://q").Publish(context.Background(), testEvent("huge", strings.Repeat("h", 300*1024))); !errors.Is(err, events.ErrTooLarge) {
		t.Errorf("oversize: %v", err)
	}
}

func TestPublisherPartialFailure(t *testing.T) {
	f := &fakeSQS{fail: func(call int, body string) (string, bool) {
		switch {
		case strings.Contains(body, "throttled") && call == 1:
			return "ServiceUnavailable", false // SQS's fault: sent again
		case strings.Contains(body, "refused"):
			return "InvalidMessageContents", true // the sender's fault
		}
		return "", false
	}}
	err := NewPublisher(f, "http://q").Publish(context.Background(), testEvent("a", "ok"), testEvent("b", "throttled"), testEvent("c", "refused"))
	var pe *events.PublishError
	if !errors.As(err, &pe) || len(pe.Failed) != 1 || !strings.HasPrefix(pe.Failed["c"], "InvalidMessageContents") {
		t.Fatalf("partial failure: %v", err)
	}
	if len(f.calls) != 2 || len(f.calls[1]) != 1 || !strings.Contains(aws.ToString(f.calls[1][0].MessageBody), "throttled") {
		t.Errorf("retries: %d calls", len(f.calls))
	}
}

func TestPublisherFIFO(t *testing.T) {
	f := &fakeSQS{}
	e := testEvent("1", "x")
	if err := NewPublisher(f, "http://q/orders.fifo").Publish(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	got := f.calls[0][0]
	if aws.ToString(got.MessageGroupId) != "g1" || aws.ToString(got.MessageDeduplicationId) != dedupID(events.Key(e)) {
		t.Errorf("FIFO entry %+v", got)
	}
}
