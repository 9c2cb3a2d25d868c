package awscloud

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/coworks-go/cws/biz"
)

// RulesAPI is the part of the EventBridge client PutRules uses.
type RulesAPI interface {
	PutRule(ctx context.Context, in *eventbridge.PutRuleInput, opts ...func(*eventbridge.Options)) (*eventbridge.PutRuleOutput, error)
	PutTargets(ctx context.Context, in *eventbridge.PutTargetsInput, opts ...func(*eventbridge.Options)) (*eventbridge.PutTargetsOutput, error)
}

// Target is where deployed rules send what they match: the ARN of the
// service's SQS queue (whose policy must let events.amazonaws.com send to
// it) or of its Lambda function; MessageGroupID is required for a FIFO
// queue.
type Target struct {
	ARN            string
	MessageGroupID string
}

// PutRules creates (or updates) the EventBridge rule of each of the
// reactors' subscriptions (biz.Engine.Rules, named with the engine's
// prefix) — a schedule rule on the default bus, a pattern rule on bus (""
// or "default" for the default bus) — each targeting target. It returns the
// rules' ARNs.
func PutRules(ctx context.Context, api RulesAPI, rules []biz.Rule, bus string, target Target) ([]string, error) {
	var arns []string
	for _, r := range rules {
		if n := len(r.Name); n > 64 {
			return arns, fmt.Errorf("rule name %s is %d characters, over EventBridge's 64", r.Name, n)
		}
		in := &eventbridge.PutRuleInput{Name: aws.String(r.Name), State: types.RuleStateEnabled,
			Description: aws.String(fmt.Sprintf("cws reactor %s, subscription %s", r.Reactor, r.Subscription))}
		if r.Schedule != "" {
			in.ScheduleExpression = aws.String(r.Schedule)
		} else {
			in.EventPattern = aws.String(r.Pattern)
			if bus != "" && bus != "default" {
				in.EventBusName = aws.String(bus)
			}
		}
		out, err := api.PutRule(ctx, in)
		if err != nil {
			return arns, fmt.Errorf("rule %s: %w", *in.Name, err)
		}
		arns = append(arns, aws.ToString(out.RuleArn))
		t := types.Target{Id: aws.String("cws"), Arn: aws.String(target.ARN)}
		if target.MessageGroupID != "" {
			t.SqsParameters = &types.SqsParameters{MessageGroupId: aws.String(target.MessageGroupID)}
		}
		res, err := api.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: in.Name, EventBusName: in.EventBusName, Targets: []types.Target{t}})
		if err != nil {
			return arns, fmt.Errorf("target of rule %s: %w", *in.Name, err)
		}
		if res.FailedEntryCount > 0 {
			return arns, fmt.Errorf("target of rule %s: %s", *in.Name, aws.ToString(res.FailedEntries[0].ErrorMessage))
		}
	}
	return arns, nil
}
