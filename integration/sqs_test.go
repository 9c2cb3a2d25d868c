//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// createQueue creates a queue deleted at the end of the test and returns
// its URL and ARN.
func createQueue(t *testing.T, c *sqs.Client, name string, attrs map[string]string) (string, string) {
	t.Helper()
	ctx := ctxFor(t, 30*time.Second)
	out, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		t.Fatalf("CreateQueue %s: %v", name, err)
	}
	url := aws.ToString(out.QueueUrl)
	t.Cleanup(func() {
		if _, err := c.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: aws.String(url)}); err != nil {
			t.Errorf("DeleteQueue %s: %v", name, err)
		}
	})
	a, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatalf("GetQueueAttributes %s: %v", name, err)
	}
	return url, a.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]
}

// receive long-polls once for up to wait seconds.
func receive(t *testing.T, c *sqs.Client, url string, wait int32) []sqstypes.Message {
	t.Helper()
	out, err := c.ReceiveMessage(ctxFor(t, time.Duration(wait+10)*time.Second), &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(url), WaitTimeSeconds: wait, MaxNumberOfMessages: 10,
		MessageAttributeNames:       []string{"All"},
		MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
	})
	if err != nil {
		t.Fatalf("ReceiveMessage: %v", err)
	}
	return out.Messages
}

func TestSQSSendReceiveDelete(t *testing.T) {
	t.Parallel()
	c := sqs.NewFromConfig(need(t))
	url, _ := createQueue(t, c, name(t, "q"), nil)
	ctx := ctxFor(t, 30*time.Second)

	_, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("hello"),
		MessageAttributes: map[string]sqstypes.MessageAttributeValue{
			"ce-type": {DataType: aws.String("String"), StringValue: aws.String("cws.invoke")},
		}})
	if err != nil {
		t.Fatal(err)
	}
	msgs := receive(t, c, url, 5)
	if len(msgs) != 1 || aws.ToString(msgs[0].Body) != "hello" ||
		aws.ToString(msgs[0].MessageAttributes["ce-type"].StringValue) != "cws.invoke" {
		t.Fatalf("received %+v", msgs)
	}
	if _, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: msgs[0].ReceiptHandle}); err != nil {
		t.Fatal(err)
	}
	if msgs := receive(t, c, url, 2); len(msgs) != 0 {
		t.Errorf("a deleted message came back: %+v", msgs)
	}
}

// TestSQSDeadLetterRedrive: a message received maxReceiveCount times
// without being deleted moves to the dead-letter queue.
func TestSQSDeadLetterRedrive(t *testing.T) {
	t.Parallel()
	c := sqs.NewFromConfig(need(t))
	dlqURL, dlqARN := createQueue(t, c, name(t, "dlq"), nil)
	policy, _ := json.Marshal(map[string]string{"deadLetterTargetArn": dlqARN, "maxReceiveCount": "2"})
	url, _ := createQueue(t, c, name(t, "q"), map[string]string{
		"RedrivePolicy":     string(policy),
		"VisibilityTimeout": "1",
	})
	ctx := ctxFor(t, 60*time.Second)
	got, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameRedrivePolicy}})
	if err != nil || got.Attributes["RedrivePolicy"] == "" {
		t.Fatalf("redrive policy: %v %v", got, err)
	}
	if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("poison")}); err != nil {
		t.Fatal(err)
	}
	// Receive it twice without deleting it (a failing handler).
	for i := 1; i <= 2; i++ {
		msgs := receive(t, c, url, 5)
		if len(msgs) != 1 || aws.ToString(msgs[0].Body) != "poison" {
			t.Fatalf("receive %d: %+v", i, msgs)
		}
		if n := msgs[0].Attributes["ApproximateReceiveCount"]; n != fmt.Sprint(i) {
			t.Errorf("receive %d: ApproximateReceiveCount %s", i, n)
		}
		time.Sleep(1500 * time.Millisecond) // the visibility timeout passes
	}
	if msgs := receive(t, c, url, 2); len(msgs) != 0 {
		t.Fatalf("after maxReceiveCount the message is still on the queue: %+v", msgs)
	}
	msgs := receive(t, c, dlqURL, 5)
	if len(msgs) != 1 || aws.ToString(msgs[0].Body) != "poison" {
		t.Fatalf("dead-letter queue: %+v", msgs)
	}
}
