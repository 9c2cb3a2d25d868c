//go:build integration

package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// createStack creates a stack of template and waits until it settles; it
// returns the stack's final status and the reasons of its failed
// resources. The stack is deleted after the test.
func createStack(t *testing.T, cf *cloudformation.Client, stack string, template map[string]any) (cfntypes.StackStatus, string, error) {
	t.Helper()
	ctx := ctxFor(t, 3*time.Minute)
	body, _ := json.Marshal(template)
	_, err := cf.CreateStack(ctx, &cloudformation.CreateStackInput{StackName: aws.String(stack), TemplateBody: aws.String(string(body)),
		Capabilities: []cfntypes.Capability{cfntypes.CapabilityCapabilityIam}})
	if err != nil {
		return "", "", err
	}
	t.Cleanup(func() {
		_, _ = cf.DeleteStack(context.Background(), &cloudformation.DeleteStackInput{StackName: aws.String(stack)})
	})
	for {
		out, err := cf.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(stack)})
		if err != nil {
			t.Fatal(err)
		}
		st := out.Stacks[0].StackStatus
		if !strings.HasSuffix(string(st), "_IN_PROGRESS") {
			var reasons []string
			evs, _ := cf.DescribeStackEvents(ctx, &cloudformation.DescribeStackEventsInput{StackName: aws.String(stack)})
			if evs != nil {
				for _, e := range evs.StackEvents {
					if strings.HasSuffix(string(e.ResourceStatus), "_FAILED") {
						reasons = append(reasons, aws.ToString(e.LogicalResourceId)+": "+aws.ToString(e.ResourceStatusReason))
					}
				}
			}
			return st, strings.Join(reasons, "; ") + " " + aws.ToString(out.Stacks[0].StackStatusReason), nil
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// TestCloudFormationRefusesWhatItCannotCreate: with cws's catalog plugin and
// CFN_IGNORE_UNSUPPORTED_RESOURCE_TYPES=0, a type LocalStack can create is
// created, and one it cannot (API Gateway v2, not in the community edition)
// is refused loudly instead of skipped as if created.
func TestCloudFormationRefusesWhatItCannotCreate(t *testing.T) {
	t.Parallel()
	cf := cloudformation.NewFromConfig(need(t))
	st, reason, err := createStack(t, cf, name(t, "queue"), map[string]any{"Resources": map[string]any{
		"Queue": map[string]any{"Type": "AWS::SQS::Queue"}}})
	if err != nil || st != cfntypes.StackStatusCreateComplete {
		t.Errorf("a stack with a queue: %s %s %v", st, reason, err)
	}
	st, reason, err = createStack(t, cf, name(t, "httpapi"), map[string]any{"Resources": map[string]any{
		"Api": map[string]any{"Type": "AWS::ApiGatewayV2::Api", "Properties": map[string]any{"Name": "x", "ProtocolType": "HTTP"}}}})
	refused := err != nil || st == cfntypes.StackStatusCreateFailed || st == cfntypes.StackStatusRollbackComplete || st == cfntypes.StackStatusRollbackFailed
	msg := reason
	if err != nil {
		msg = err.Error()
	}
	if !refused || !strings.Contains(msg, "AWS::ApiGatewayV2::Api") {
		t.Errorf("a stack with an API Gateway v2 API: %s, %q; want it refused, naming the type", st, msg)
	}
}

// TestCloudFormationStackWithFunction: a stack holding a role and a Go
// function (its code in S3) is created, and the function runs.
func TestCloudFormationStackWithFunction(t *testing.T) {
	t.Parallel()
	cfg := need(t)
	cf, s3c, lc := cloudformation.NewFromConfig(cfg), s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }), lambda.NewFromConfig(cfg)
	ctx := ctxFor(t, 3*time.Minute)
	bucket := name(t, "code")
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = s3c.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String("crud.zip")})
		_, _ = s3c.DeleteBucket(context.Background(), &s3.DeleteBucketInput{Bucket: aws.String(bucket)})
	})
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("crud.zip"),
		Body: bytes.NewReader(lambdaZip(t, "./examples/crud", ""))}); err != nil {
		t.Fatal(err)
	}
	fn := name(t, "fn")
	st, reason, err := createStack(t, cf, name(t, "stack"), map[string]any{"Resources": map[string]any{
		"Role": map[string]any{"Type": "AWS::IAM::Role", "Properties": map[string]any{
			"AssumeRolePolicyDocument": map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{
				"Effect": "Allow", "Principal": map[string]any{"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}}}}},
		"Function": map[string]any{"Type": "AWS::Lambda::Function", "Properties": map[string]any{
			"FunctionName": fn, "Runtime": "provided.al2023", "Handler": "bootstrap", "Architectures": []string{string(architecture())},
			"Role": map[string]any{"Fn::GetAtt": []string{"Role", "Arn"}}, "Timeout": 10,
			"Code":        map[string]any{"S3Bucket": bucket, "S3Key": "crud.zip"},
			"Environment": map[string]any{"Variables": map[string]string{"TOKEN": "stack-token"}}}},
	}})
	if err != nil || st != cfntypes.StackStatusCreateComplete {
		t.Fatalf("the stack: %s %s %v", st, reason, err)
	}
	if err := lambda.NewFunctionActiveV2Waiter(lc).Wait(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(fn)}, time.Minute); err != nil {
		t.Fatal(err)
	}
	payload, fnErr := invokeFn(t, lc, fn, restEvent("POST", "/", "stack-token", `{"name":"from the stack","price":1}`))
	if a := proxyAnswer(t, payload); fnErr != "" || a.Status != 201 || !strings.Contains(a.Body, "from the stack") {
		t.Errorf("the stack's function: %+v %s", a, fnErr)
	}
}
