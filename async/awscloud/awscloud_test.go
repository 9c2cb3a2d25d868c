package awscloud_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/coworks-go/cws/async/awscloud"
	cwseventbridge "github.com/coworks-go/cws/transport/eventbridge"
	cwssqs "github.com/coworks-go/cws/transport/sqs"
)

// Reply addresses resolve to the publisher of their kind, once each, with
// no call to AWS for a queue URL or a bus ARN.
func TestResolve(t *testing.T) {
	c := awscloud.New(awscloud.WithConfig(aws.Config{Region: "eu-west-1"}))
	ctx := context.Background()
	q, err := c.Resolve(ctx, "https://sqs.eu-west-1.amazonaws.com/123456789012/results")
	if p, ok := q.(*cwssqs.Publisher); err != nil || !ok || p.URL() != "https://sqs.eu-west-1.amazonaws.com/123456789012/results" {
		t.Errorf("a queue URL: %T %v", q, err)
	}
	if again, _ := c.Resolve(ctx, "https://sqs.eu-west-1.amazonaws.com/123456789012/results"); again != q {
		t.Error("a resolved address is not kept")
	}
	b, err := c.Resolve(ctx, "arn:aws:events:eu-west-1:123456789012:event-bus/orders")
	if _, ok := b.(*cwseventbridge.Publisher); err != nil || !ok {
		t.Errorf("a bus ARN: %T %v", b, err)
	}
	for _, bad := range []string{"sqs://results", "arn:aws:events:eu-west-1:123456789012:rule/x", "memory://cws-events"} {
		if _, err := c.Resolve(ctx, bad); err == nil || !strings.Contains(err.Error(), "not a reply address") {
			t.Errorf("%s: %v", bad, err)
		}
	}
}
