package sqs

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/coworks-go/cws/transport/queue"
)

// batchRecorder records the handles of each batch call, fails the entries
// whose handle it names, and fails a whole call with callErr.
type batchRecorder struct {
	API
	calls   [][]string
	failing map[string]bool
	callErr map[int]error // by call, from 1
}

func (b *batchRecorder) record(handles []string) ([]types.BatchResultErrorEntry, error) {
	b.calls = append(b.calls, handles)
	if err := b.callErr[len(b.calls)]; err != nil {
		return nil, err
	}
	var failed []types.BatchResultErrorEntry
	for j, h := range handles {
		if b.failing[h] {
			failed = append(failed, types.BatchResultErrorEntry{Id: aws.String(strconv.Itoa(j)), Code: aws.String("ReceiptHandleIsInvalid"), Message: aws.String(h)})
		}
	}
	return failed, nil
}

func (b *batchRecorder) DeleteMessageBatch(_ context.Context, in *sqs.DeleteMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error) {
	var hs []string
	for _, e := range in.Entries {
		hs = append(hs, aws.ToString(e.ReceiptHandle))
	}
	failed, err := b.record(hs)
	if err != nil {
		return nil, err
	}
	return &sqs.DeleteMessageBatchOutput{Failed: failed}, nil
}

func (b *batchRecorder) ChangeMessageVisibilityBatch(_ context.Context, in *sqs.ChangeMessageVisibilityBatchInput, _ ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error) {
	var hs []string
	for _, e := range in.Entries {
		hs = append(hs, aws.ToString(e.ReceiptHandle))
	}
	failed, err := b.record(hs)
	if err != nil {
		return nil, err
	}
	return &sqs.ChangeMessageVisibilityBatchOutput{Failed: failed}, nil
}

// Delete and Release send batches of at most 10, every handle once, and
// report each failed entry by its place among all, and a failed call,
// without stopping at it.
func TestBatchCalls(t *testing.T) {
	var handles []string
	var ds []queue.Delivery
	for i := range 23 {
		handles = append(handles, "h"+strconv.Itoa(i))
		ds = append(ds, queue.Delivery{Handle: handles[i]})
	}
	for name, call := range map[string]func(b *batchRecorder) error{
		"Delete": func(b *batchRecorder) error {
			return (&Queue{client: b, url: "http://q"}).Delete(context.Background(), ds)
		},
		"Release": func(b *batchRecorder) error { return Release(context.Background(), b, "http://q", handles) },
	} {
		b := &batchRecorder{failing: map[string]bool{"h11": true}, callErr: map[int]error{3: errors.New("throttled")}}
		err := call(b)
		if len(b.calls) != 3 || len(b.calls[0]) != 10 || len(b.calls[1]) != 10 || len(b.calls[2]) != 3 ||
			strings.Join(append(append(b.calls[0], b.calls[1]...), b.calls[2]...), ",") != strings.Join(handles, ",") {
			t.Errorf("%s: calls %v", name, b.calls)
		}
		if err == nil || !strings.Contains(err.Error(), "message 12 of 23: ReceiptHandleIsInvalid h11") || !strings.Contains(err.Error(), "throttled") {
			t.Errorf("%s: %v", name, err)
		}
		b = &batchRecorder{}
		if err := call(b); err != nil || len(b.calls) != 3 {
			t.Errorf("%s without failures: %v, %d calls", name, err, len(b.calls))
		}
	}
}
