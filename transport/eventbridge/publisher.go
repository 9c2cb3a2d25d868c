// Package eventbridge publishes CloudEvents to an EventBridge bus. An event
// becomes a PutEvents entry with Source the event's source, DetailType its
// type and Detail the whole event as JSON; rules deliver it to their targets
// wrapped in EventBridge's envelope, which wire.DecodeSQS and the Lambda
// door unwrap. Consuming is done from a rule's SQS target (transport/sqs) or
// by a Lambda target (transport/lambda).
package eventbridge

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/coworks-go/cws/events"
	"github.com/coworks-go/cws/events/wire"
)

// API is the part of the EventBridge client the publisher uses.
type API interface {
	PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, optFns ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

// Publisher sends CloudEvents to an event bus.
type Publisher struct {
	client  API
	bus     string
	retries int
}

// NewPublisher returns a publisher to the bus (a name or an ARN; "default"
// for the account's default bus).
func NewPublisher(client API, bus string) *Publisher {
	return &Publisher{client: client, bus: bus, retries: 3}
}

// retryable are the error codes of entries worth sending again.
var retryable = map[string]bool{"InternalFailure": true, "ThrottlingException": true, "InternalException": true}

// Publish implements events.Publisher: PutEvents calls of at most 10 entries
// and 256 KB; entries EventBridge failed for a reason of its own are sent
// again up to 3 times with backoff. An entry over the limit fails before
// anything is sent.
func (p *Publisher) Publish(ctx context.Context, evs ...event.Event) error {
	entries := make([]types.PutEventsRequestEntry, len(evs))
	sizes := make([]int, len(evs))
	for i, e := range evs {
		detail, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("encoding event %s: %w", e.ID(), err)
		}
		if err := wire.CheckEntry(e.Source(), e.Type(), string(detail), nil); err != nil {
			return fmt.Errorf("event %s: %w", e.ID(), err)
		}
		entries[i] = types.PutEventsRequestEntry{EventBusName: aws.String(p.bus), Source: aws.String(e.Source()),
			DetailType: aws.String(e.Type()), Detail: aws.String(string(detail))}
		if t := e.Time(); !t.IsZero() {
			entries[i].Time = aws.Time(t)
		}
		sizes[i] = wire.PutEventsEntrySize(e.Source(), e.Type(), string(detail), nil, true)
	}
	failed := map[string]string{}
	start := 0
	for start < len(entries) {
		end, size := start, 0
		for end < len(entries) && end-start < 10 && size+sizes[end] <= wire.MaxPutEventsEntrySize {
			size += sizes[end]
			end++
		}
		if err := p.put(ctx, entries[start:end], evs[start:end], failed); err != nil {
			return err
		}
		start = end
	}
	if len(failed) > 0 {
		return &events.PublishError{To: "EventBridge bus " + p.bus, Failed: failed}
	}
	return nil
}

// put sends one batch; the ith entry is evs[i].
func (p *Publisher) put(ctx context.Context, entries []types.PutEventsRequestEntry, evs []event.Event, failed map[string]string) error {
	for attempt := 0; len(entries) > 0; attempt++ {
		out, err := p.client.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: entries})
		if err != nil {
			return fmt.Errorf("PutEvents to %s: %w", p.bus, err)
		}
		if out.FailedEntryCount == 0 {
			return nil
		}
		var retryEntries []types.PutEventsRequestEntry
		var retryEvents []event.Event
		for i, r := range out.Entries {
			if r.ErrorCode == nil || i >= len(entries) {
				continue
			}
			code := aws.ToString(r.ErrorCode)
			if retryable[code] && attempt < p.retries {
				retryEntries = append(retryEntries, entries[i])
				retryEvents = append(retryEvents, evs[i])
				continue
			}
			failed[evs[i].ID()] = code + ": " + aws.ToString(r.ErrorMessage)
		}
		entries, evs = retryEntries, retryEvents
		if len(entries) > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Duration(100<<attempt) * time.Millisecond):
			}
		}
	}
	return nil
}
