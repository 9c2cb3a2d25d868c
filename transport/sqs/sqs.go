// Package sqs is the SQS binding of cws: a Queue that the shared worker
// (transport/queue) consumes, and a Publisher that sends CloudEvents in
// batches. Messages are sent in structured mode (the CloudEvent as the JSON
// body); binary mode and EventBridge events are accepted on the way in (see
// wire.DecodeSQS).
package sqs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/coworks-go/cws/events/wire"
	"github.com/coworks-go/cws/transport/queue"
)

// API is the part of the SQS client the binding uses (*sqs.Client has it).
type API interface {
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessage(ctx context.Context, in *sqs.DeleteMessageInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error)
	DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
	ChangeMessageVisibility(ctx context.Context, in *sqs.ChangeMessageVisibilityInput, optFns ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
	SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
	GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, optFns ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
	GetQueueUrl(ctx context.Context, in *sqs.GetQueueUrlInput, optFns ...func(*sqs.Options)) (*sqs.GetQueueUrlOutput, error)
}

// Queue is an SQS queue as the worker consumes it.
type Queue struct {
	client API
	url    string
	fifo   bool
	dlqURL string
}

// QueueOption configures a Queue.
type QueueOption func(*Queue)

// WithDeadLetterQueue sets the queue explicit dead letters go to (default:
// the redrive policy's dead-letter target).
func WithDeadLetterQueue(url string) QueueOption { return func(q *Queue) { q.dlqURL = url } }

// NewQueue returns the queue at url. It reads the queue's attributes: FIFO
// or not, and the dead-letter queue of its redrive policy.
func NewQueue(ctx context.Context, client API, url string, opts ...QueueOption) (*Queue, error) {
	q := &Queue{client: client, url: url}
	for _, opt := range opts {
		opt(q)
	}
	out, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameFifoQueue, types.QueueAttributeNameRedrivePolicy}})
	if err != nil {
		return nil, fmt.Errorf("queue %s: %w", url, err)
	}
	q.fifo = out.Attributes[string(types.QueueAttributeNameFifoQueue)] == "true"
	if q.dlqURL == "" {
		if rp := out.Attributes[string(types.QueueAttributeNameRedrivePolicy)]; rp != "" {
			var policy struct {
				DeadLetterTargetArn string `json:"deadLetterTargetArn"`
			}
			if err := json.Unmarshal([]byte(rp), &policy); err != nil {
				return nil, fmt.Errorf("queue %s: redrive policy %q: %w", url, rp, err)
			}
			if q.dlqURL, err = URLOf(ctx, client, policy.DeadLetterTargetArn); err != nil {
				return nil, fmt.Errorf("queue %s: its dead-letter queue: %w", url, err)
			}
		}
	}
	return q, nil
}

// URLOf returns the URL of a queue given by URL, ARN or name.
func URLOf(ctx context.Context, client API, queue string) (string, error) {
	if strings.HasPrefix(queue, "http://") || strings.HasPrefix(queue, "https://") {
		return queue, nil
	}
	in := &sqs.GetQueueUrlInput{QueueName: aws.String(queue)}
	if strings.HasPrefix(queue, "arn:") {
		parts := strings.Split(queue, ":")
		if len(parts) != 6 || parts[2] != "sqs" {
			return "", fmt.Errorf("%q is not an SQS queue ARN", queue)
		}
		in = &sqs.GetQueueUrlInput{QueueName: aws.String(parts[5]), QueueOwnerAWSAccountId: aws.String(parts[4])}
	}
	out, err := client.GetQueueUrl(ctx, in)
	if err != nil {
		return "", fmt.Errorf("queue %s: %w", queue, err)
	}
	return aws.ToString(out.QueueUrl), nil
}

// URL returns the queue's URL.
func (q *Queue) URL() string { return q.url }

// FIFO reports whether the queue is a FIFO queue.
func (q *Queue) FIFO() bool { return q.fifo }

// DeadLetterURL returns the URL of the queue's dead-letter queue, or "".
func (q *Queue) DeadLetterURL() string { return q.dlqURL }

// seconds rounds a duration up to whole seconds, between 0 and limit.
func seconds(d time.Duration, limit int32) int32 {
	s := int32(math.Ceil(d.Seconds()))
	return min(max(s, 0), limit)
}

// Receive implements queue.Queue.
func (q *Queue) Receive(ctx context.Context, max int, wait, visibility time.Duration) ([]queue.Delivery, error) {
	out, err := q.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl:              aws.String(q.url),
		MaxNumberOfMessages:   int32(min(max, 10)),
		WaitTimeSeconds:       seconds(wait, 20),
		VisibilityTimeout:     seconds(visibility, 43200),
		MessageAttributeNames: []string{"All"},
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{
			types.MessageSystemAttributeNameApproximateReceiveCount, types.MessageSystemAttributeNameMessageGroupId,
		},
	})
	if err != nil {
		return nil, err
	}
	ds := make([]queue.Delivery, len(out.Messages))
	for i, m := range out.Messages {
		n, _ := strconv.Atoi(m.Attributes[string(types.MessageSystemAttributeNameApproximateReceiveCount)])
		var attrs map[string]string
		if len(m.MessageAttributes) > 0 {
			attrs = make(map[string]string, len(m.MessageAttributes))
			for k, v := range m.MessageAttributes {
				if v.StringValue != nil {
					attrs[k] = *v.StringValue
				}
			}
		}
		ds[i] = queue.Delivery{ID: aws.ToString(m.MessageId), Handle: aws.ToString(m.ReceiptHandle), Body: aws.ToString(m.Body),
			Attributes: attrs, ReceiveCount: n, GroupID: m.Attributes[string(types.MessageSystemAttributeNameMessageGroupId)]}
	}
	return ds, nil
}

// Delete implements queue.Queue, in batches of MaxBatch.
func (q *Queue) Delete(ctx context.Context, ds []queue.Delivery) error {
	return inBatches(ds, func(chunk []queue.Delivery) ([]types.BatchResultErrorEntry, error) {
		entries := make([]types.DeleteMessageBatchRequestEntry, len(chunk))
		for j, d := range chunk {
			entries[j] = types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(j)), ReceiptHandle: aws.String(d.Handle)}
		}
		out, err := q.client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(q.url), Entries: entries})
		if err != nil {
			return nil, fmt.Errorf("deleting messages: %w", err)
		}
		return out.Failed, nil
	})
}

// VisibilityAPI is the part of the SQS client Release uses (*sqs.Client
// has it).
type VisibilityAPI interface {
	ChangeMessageVisibilityBatch(ctx context.Context, in *sqs.ChangeMessageVisibilityBatchInput, optFns ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error)
}

// Release makes received messages of the queue at url visible again at
// once, by their receipt handles, in batches of MaxBatch: what a reader
// that only looked at them (cws dlq list) gives back.
func Release(ctx context.Context, c VisibilityAPI, url string, handles []string) error {
	return inBatches(handles, func(chunk []string) ([]types.BatchResultErrorEntry, error) {
		entries := make([]types.ChangeMessageVisibilityBatchRequestEntry, len(chunk))
		for j, h := range chunk {
			entries[j] = types.ChangeMessageVisibilityBatchRequestEntry{Id: aws.String(strconv.Itoa(j)), ReceiptHandle: aws.String(h)}
		}
		out, err := c.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(url), Entries: entries})
		if err != nil {
			return nil, fmt.Errorf("releasing messages: %w", err)
		}
		return out.Failed, nil
	})
}

// MaxBatch is the most entries an SQS batch call takes.
const MaxBatch = 10

// inBatches calls send with items in chunks of at most MaxBatch and joins
// the errors of the calls and of the entries they report failed (each
// named by its index in items).
func inBatches[T any](items []T, send func(chunk []T) ([]types.BatchResultErrorEntry, error)) error {
	var errs []error
	for i := 0; i < len(items); i += MaxBatch {
		failed, err := send(items[i:min(i+MaxBatch, len(items))])
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, f := range failed {
			j, _ := strconv.Atoi(aws.ToString(f.Id))
			errs = append(errs, fmt.Errorf("message %d of %d: %s %s", i+j+1, len(items), aws.ToString(f.Code), aws.ToString(f.Message)))
		}
	}
	return errors.Join(errs...)
}

// ChangeVisibility implements queue.Queue.
func (q *Queue) ChangeVisibility(ctx context.Context, d queue.Delivery, timeout time.Duration) error {
	_, err := q.client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(q.url),
		ReceiptHandle: aws.String(d.Handle), VisibilityTimeout: seconds(timeout, 43200)})
	return err
}

// maxReasonLen bounds the reason attached to a dead letter.
const maxReasonLen = 4096

// DeadLetter implements queue.Queue: it sends the message to the
// dead-letter queue with the reason (see SendDeadLetter), then deletes it.
func (q *Queue) DeadLetter(ctx context.Context, d queue.Delivery, reason string) error {
	if q.dlqURL == "" {
		return queue.ErrNoDeadLetterQueue
	}
	if err := SendDeadLetter(ctx, q.client, q.dlqURL, q.url, d, reason); err != nil {
		return err
	}
	if _, err := q.client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(q.url), ReceiptHandle: aws.String(d.Handle)}); err != nil {
		return fmt.Errorf("deleting the dead-lettered message: %w", err)
	}
	return nil
}

// SendDeadLetter sends a message, its attributes and the reason
// (attributes cws-dead-letter-reason and cws-dead-letter-source) to the
// dead-letter queue dlqURL. SQS carries 10 attributes: the reason always
// goes, the source when there is room, and original attributes are dropped
// (the last by name) only to make room for the reason.
func SendDeadLetter(ctx context.Context, client API, dlqURL, source string, d queue.Delivery, reason string) error {
	if len(reason) > maxReasonLen {
		reason = reason[:maxReasonLen] + "…"
	}
	names := make([]string, 0, len(d.Attributes))
	for k := range d.Attributes {
		if k != wire.AttrDeadLetterReason && k != wire.AttrDeadLetterSource {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	if len(names) > wire.MaxSQSAttributes-1 {
		names = names[:wire.MaxSQSAttributes-1]
	}
	attrs := make(map[string]types.MessageAttributeValue, len(names)+2)
	for _, k := range names {
		attrs[k] = stringAttr(d.Attributes[k])
	}
	attrs[wire.AttrDeadLetterReason] = stringAttr(reason)
	if len(attrs) < wire.MaxSQSAttributes {
		attrs[wire.AttrDeadLetterSource] = stringAttr(source)
	}
	in := &sqs.SendMessageInput{QueueUrl: aws.String(dlqURL), MessageBody: aws.String(d.Body), MessageAttributes: attrs}
	if strings.HasSuffix(dlqURL, ".fifo") {
		group := d.GroupID
		if group == "" {
			group = "dead-letters"
		}
		in.MessageGroupId = aws.String(group)
		in.MessageDeduplicationId = aws.String(dedupID(d.ID))
	}
	if _, err := client.SendMessage(ctx, in); err != nil {
		return fmt.Errorf("sending to the dead-letter queue %s: %w", dlqURL, err)
	}
	return nil
}

func stringAttr(v string) types.MessageAttributeValue {
	return types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
}

// dedupID makes a FIFO deduplication id (at most 128 characters).
func dedupID(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// Consumer returns a worker of the queue (FIFO queues get FIFO handling;
// its receivers wait up to queue.DefaultSQSBatchFill for full batches).
func (q *Queue) Consumer(opts ...queue.Option) *queue.Worker {
	// Each receive is a request: wait a moment for a full batch.
	opts = append([]queue.Option{queue.WithBatchFill(queue.DefaultSQSBatchFill)}, opts...)
	if q.fifo {
		opts = append([]queue.Option{queue.WithFIFO()}, opts...)
	}
	return queue.New(q, queue.DecodeSQS, "sqs", opts...)
}
