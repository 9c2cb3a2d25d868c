package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go/middleware"
	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/coworks-go/cws/events"
	"github.com/coworks-go/cws/localstack"
	"github.com/coworks-go/cws/transport/queue"
	cwssqs "github.com/coworks-go/cws/transport/sqs"
)

// sqsReceivers is how many receive loops both SQS consumers run; each
// receives up to 10 messages, so that at most 10×sqsReceivers messages are
// in flight in either.
const sqsReceivers = 4

// localStack is the LocalStack of the SQS benchmarks, started once (a
// running `cws localstack start` daemon or LOCALSTACK_ENDPOINT is reused).
var localStack = sync.OnceValues(func() (aws.Config, error) {
	inst, err := localstack.Start(context.Background(), localstack.WithServices("sqs", "stepfunctions"),
		localstack.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))), localstack.WithProgress(os.Stderr))
	if err != nil {
		return aws.Config{}, err
	}
	// The process ends with the benchmarks: a host process started here is
	// tied to it; a daemon or an endpoint from the environment stays.
	return inst.AWSConfig(), nil
})

// BenchmarkSQS consumes b.N CloudEvents from an SQS queue on LocalStack,
// end to end (receive, decode, handle, delete): cws's worker against a plain
// aws-sdk-go-v2 loop of ReceiveMessage, json.Unmarshal and
// DeleteMessageBatch, both with sqsReceivers receive loops and at most
// 10×sqsReceivers messages in flight. The queue is filled before the timer
// starts.
func BenchmarkSQS(b *testing.B) {
	cfg, err := localStack()
	if err != nil {
		b.Skipf("no LocalStack for the SQS benchmarks: %v", err)
	}
	// Each implementation's calls to SQS are counted: what a message costs
	// LocalStack (the machine's other user of the CPU) is most of the
	// difference between them.
	var calls sync.Map // operation name → *atomic.Int64
	client := awssqs.NewFromConfig(cfg, func(o *awssqs.Options) {
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			return st.Initialize.Add(middleware.InitializeMiddlewareFunc("countCalls",
				func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
					n, _ := calls.LoadOrStore(middleware.GetOperationName(ctx), new(atomic.Int64))
					n.(*atomic.Int64).Add(1)
					return next.HandleInitialize(ctx, in)
				}), middleware.After)
		})
	})
	for _, tc := range []struct {
		name    string
		consume func(ctx context.Context, b *testing.B, url string, handled *atomic.Int64)
	}{
		{"impl=cws-sqs", func(ctx context.Context, b *testing.B, url string, handled *atomic.Int64) {
			q, err := cwssqs.NewQueue(ctx, client, url)
			if err != nil {
				b.Fatal(err)
			}
			w := q.Consumer(queue.WithReceivers(sqsReceivers), queue.WithConcurrency(10*sqsReceivers),
				queue.WithWaitTime(time.Second), queue.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
			_ = w.Consume(ctx, events.HandlerFunc(func(_ context.Context, m *events.Message) error {
				if m.Event.ID() == "" {
					b.Error("an event without id")
				}
				handled.Add(1)
				return nil
			}))
		}},
		{"impl=sdk-loop", func(ctx context.Context, b *testing.B, url string, handled *atomic.Int64) {
			var wg sync.WaitGroup
			for range sqsReceivers {
				wg.Go(func() { plainLoop(ctx, b, client, url, handled) })
			}
			wg.Wait()
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			url := newBenchQueue(ctx, b, client)
			fill(ctx, b, client, url, b.N)
			var handled atomic.Int64
			done := make(chan struct{})
			calls.Clear()
			b.ResetTimer()
			start := time.Now()
			go func() { tc.consume(ctx, b, url, &handled); close(done) }()
			drainFor(b, &handled, b.N, 5*time.Minute)
			elapsed := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
			cancel()
			<-done
			calls.Range(func(op, n any) bool {
				switch op {
				case "ReceiveMessage":
					b.ReportMetric(float64(n.(*atomic.Int64).Load())/float64(b.N), "receives/msg")
				case "DeleteMessageBatch":
					b.ReportMetric(float64(n.(*atomic.Int64).Load())/float64(b.N), "deletes/msg")
				}
				return true
			})
		})
	}
}

// plainLoop is what a Go team writes without a framework: receive a batch,
// decode and handle each message, delete the batch.
func plainLoop(ctx context.Context, b *testing.B, client *awssqs.Client, url string, handled *atomic.Int64) {
	for ctx.Err() == nil {
		out, err := client.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10,
			WaitTimeSeconds: 1, VisibilityTimeout: 30})
		if err != nil {
			if ctx.Err() == nil {
				b.Error(err)
			}
			return
		}
		if len(out.Messages) == 0 {
			continue
		}
		entries := make([]types.DeleteMessageBatchRequestEntry, 0, len(out.Messages))
		for i, m := range out.Messages {
			var e event.Event
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &e); err != nil || e.ID() == "" {
				b.Errorf("not an event: %v", err)
				continue
			}
			handled.Add(1)
			entries = append(entries, types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle})
		}
		if _, err := client.DeleteMessageBatch(ctx, &awssqs.DeleteMessageBatchInput{QueueUrl: aws.String(url), Entries: entries}); err != nil && ctx.Err() == nil {
			b.Error(err)
		}
	}
}

var queueSeq atomic.Int64

// newBenchQueue creates a queue for one benchmark run and deletes it after.
func newBenchQueue(ctx context.Context, b *testing.B, client *awssqs.Client) string {
	name := fmt.Sprintf("cws-bench-%d-%d", os.Getpid(), queueSeq.Add(1))
	out, err := client.CreateQueue(ctx, &awssqs.CreateQueueInput{QueueName: aws.String(name)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_, _ = client.DeleteQueue(context.Background(), &awssqs.DeleteQueueInput{QueueUrl: out.QueueUrl})
	})
	return aws.ToString(out.QueueUrl)
}

// fill sends n events to the queue, 10 per call, several calls at once.
func fill(ctx context.Context, b *testing.B, client *awssqs.Client, url string, n int) {
	pub := cwssqs.NewPublisher(client, url)
	var wg sync.WaitGroup
	batches := make(chan []event.Event)
	for range 8 {
		wg.Go(func() {
			for batch := range batches {
				if err := pub.Publish(ctx, batch...); err != nil {
					b.Error(err)
				}
			}
		})
	}
	for i := 0; i < n; i += 10 {
		batch := make([]event.Event, 0, 10)
		for j := i; j < min(i+10, n); j++ {
			batch = append(batch, benchEvent(j))
		}
		batches <- batch
	}
	close(batches)
	wg.Wait()
}

// drainFor waits until handled reaches n.
func drainFor(b *testing.B, handled *atomic.Int64, n int, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for handled.Load() < int64(n) {
		if time.Now().After(deadline) {
			b.Fatalf("only %d of %d handled", handled.Load(), n)
		}
		time.Sleep(time.Millisecond)
	}
}
