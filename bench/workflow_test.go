package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/coworks-go/cws/biz/asl"
)

// pureWorkflow is a workflow of pure states: 20 Pass and Choice states in a
// row, then a Map over the input's 100 items, each through a Pass state.
func pureWorkflow() []byte {
	states := map[string]any{}
	for i := range 20 {
		name, next := fmt.Sprintf("S%02d", i), fmt.Sprintf("S%02d", i+1)
		if i == 19 {
			next = "Each"
		}
		if i%4 == 3 {
			states[name] = map[string]any{"Type": "Choice", "Choices": []any{map[string]any{
				"Variable": "$.n", "NumericGreaterThanEquals": i, "Next": next}}, "Default": next}
			continue
		}
		states[name] = map[string]any{"Type": "Pass", "Parameters": map[string]any{"n.$": "States.MathAdd($.n, 1)", "items.$": "$.items"},
			"Next": next}
	}
	states["Each"] = map[string]any{"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 10,
		"ItemSelector": map[string]any{"i.$": "$$.Map.Item.Index", "v.$": "$$.Map.Item.Value"},
		"ItemProcessor": map[string]any{"StartAt": "Double", "States": map[string]any{
			"Double": map[string]any{"Type": "Pass", "Parameters": map[string]any{"i.$": "$.i", "d.$": "States.MathAdd($.v, $.v)"}, "End": true}}},
		"ResultSelector": map[string]any{"count.$": "States.ArrayLength($)"}, "End": true}
	def, _ := json.Marshal(map[string]any{"Comment": "cws benchmark: pure states", "StartAt": "S00", "States": states})
	return def
}

func pureInput() string {
	items := make([]int, 100)
	for i := range items {
		items[i] = i
	}
	b, _ := json.Marshal(map[string]any{"n": 0, "items": items})
	return string(b)
}

// pureTransitions is how many states an execution of pureWorkflow enters:
// the 20, the Map and its 100 iterations' Pass.
const pureTransitions = 20 + 1 + 100

// BenchmarkWorkflow runs one execution of the same pure-state workflow per
// op on cws's embedded engine (biz/asl) and on LocalStack's Step Functions
// (StartExecution, then DescribeExecution until it ends), and reports state
// transitions per second and, for the embedded engine, allocations per
// transition.
func BenchmarkWorkflow(b *testing.B) {
	def, input := pureWorkflow(), pureInput()
	b.Run("impl=embedded", func(b *testing.B) {
		m, err := asl.Parse(def)
		if err != nil {
			b.Fatal(err)
		}
		in, _ := asl.DecodeJSON([]byte(input))
		ctx := context.Background()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			e := m.Run(ctx, in)
			if status, _, errName, cause := e.Status(); status != asl.StatusSucceeded {
				b.Fatalf("%s %s %s", status, errName, cause)
			}
		}
		b.StopTimer()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(pureTransitions*b.N)/b.Elapsed().Seconds(), "transitions/s")
		b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(pureTransitions*b.N), "allocs/transition")
	})
	b.Run("impl=stepfunctions", func(b *testing.B) {
		cfg, err := localStack()
		if err != nil {
			b.Skipf("no LocalStack for the Step Functions benchmark: %v", err)
		}
		c := sfn.NewFromConfig(cfg)
		ctx := context.Background()
		sm, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String(fmt.Sprintf("cws-bench-%d", time.Now().UnixNano())),
			Definition: aws.String(string(def)), RoleArn: aws.String("arn:aws:iam::000000000000:role/cws-bench")})
		if err != nil {
			b.Fatal(err)
		}
		defer c.DeleteStateMachine(ctx, &sfn.DeleteStateMachineInput{StateMachineArn: sm.StateMachineArn})
		b.ResetTimer()
		for b.Loop() {
			start, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn, Input: aws.String(input)})
			if err != nil {
				b.Fatal(err)
			}
			for {
				d, err := c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: start.ExecutionArn})
				if err != nil {
					b.Fatal(err)
				}
				if d.Status == sfntypes.ExecutionStatusSucceeded {
					break
				}
				if d.Status != sfntypes.ExecutionStatusRunning {
					b.Fatalf("%s %s %s", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
				}
				time.Sleep(5 * time.Millisecond)
			}
		}
		b.StopTimer()
		b.ReportMetric(float64(pureTransitions*b.N)/b.Elapsed().Seconds(), "transitions/s")
	})
}
