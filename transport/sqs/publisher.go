package sqs

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/coworks-go/cws/events"
	"github.com/coworks-go/cws/events/wire"
)

// Publisher sends CloudEvents to an SQS queue with SendMessageBatch: up to
// 10 messages and 256 KiB a call. A FIFO queue (URL ending in .fifo) gets
// each event's cwsgroup extension (default: its source) as message group
// and a hash of its source and id as deduplication id.
type Publisher struct {
	client  API
	url     string
	fifo    bool
	retries int
}

// NewPublisher returns a publisher to the queue at url.
func NewPublisher(client API, url string) *Publisher {
	return &Publisher{client: client, url: url, fifo: strings.HasSuffix(url, ".fifo"), retries: 3}
}

// URL returns the URL of the queue the publisher sends to.
func (p *Publisher) URL() string { return p.url }

// Publish implements events.Publisher. Entries that fail for a reason of
// SQS's (not the sender's) are sent again, up to 3 times with backoff; an
// event over the limit fails before anything is sent.
func (p *Publisher) Publish(ctx context.Context, evs ...event.Event) error {
	entries := make([]types.SendMessageBatchRequestEntry, len(evs))
	for i, e := range evs {
		body, err := wire.EncodeSQS(e)
		if err != nil {
			return err
		}
		entries[i] = types.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(body)}
		if p.fifo {
			entries[i].MessageGroupId = aws.String(events.Group(e))
			entries[i].MessageDeduplicationId = aws.String(dedupID(events.Key(e)))
		}
	}
	failed := map[string]string{}
	for _, batch := range batches(entries) {
		if err := p.send(ctx, batch, evs, failed); err != nil {
			return err
		}
	}
	if len(failed) > 0 {
		return &events.PublishError{To: p.url, Failed: failed}
	}
	return nil
}

// batches splits entries into calls of at most 10 entries and
// wire.MaxSQSMessageSize bytes.
func batches(entries []types.SendMessageBatchRequestEntry) [][]types.SendMessageBatchRequestEntry {
	var out [][]types.SendMessageBatchRequestEntry
	var cur []types.SendMessageBatchRequestEntry
	size := 0
	for _, e := range entries {
		n := len(aws.ToString(e.MessageBody))
		if len(cur) == 10 || (len(cur) > 0 && size+n > wire.MaxSQSMessageSize) {
			out = append(out, cur)
			cur, size = nil, 0
		}
		cur = append(cur, e)
		size += n
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// send sends one batch, retrying SQS's own failures.
func (p *Publisher) send(ctx context.Context, batch []types.SendMessageBatchRequestEntry, evs []event.Event, failed map[string]string) error {
	for attempt := 0; len(batch) > 0; attempt++ {
		out, err := p.client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(p.url), Entries: batch})
		if err != nil {
			return fmt.Errorf("sending to %s: %w", p.url, err)
		}
		var retry []types.SendMessageBatchRequestEntry
		for _, f := range out.Failed {
			i, _ := strconv.Atoi(aws.ToString(f.Id))
			why := aws.ToString(f.Code) + ": " + aws.ToString(f.Message)
			if f.SenderFault || attempt >= p.retries {
				failed[evs[i].ID()] = why
				continue
			}
			for _, e := range batch {
				if aws.ToString(e.Id) == aws.ToString(f.Id) {
					retry = append(retry, e)
				}
			}
		}
		batch = retry
		if len(batch) > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Duration(100<<attempt) * time.Millisecond):
			}
		}
	}
	return nil
}
