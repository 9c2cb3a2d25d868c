package lambda_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"

	awsevents "github.com/aws/aws-lambda-go/events"

	"github.com/coworks-go/cws/async"
	"github.com/coworks-go/cws/biz"
	"github.com/coworks-go/cws/internal/testutil"
	"github.com/coworks-go/cws/runtime"
	cwslambda "github.com/coworks-go/cws/transport/lambda"
)

// bellTower is the service behind the SQS and EventBridge samples: an entry
// an SQS message invokes, and a reactor on a schedule, on a custom event and
// on an AWS service's event.
type bellTower struct {
	mu    sync.Mutex
	rung  int      // POST /rings
	fired []string // the reactor's triggers: subscription and event id
}

func (b *bellTower) PostRings(ctx context.Context) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.rung++
	return "ding"
}

func (b *bellTower) Reactors() map[string]biz.Reactor {
	return map[string]biz.Reactor{"bell": bellReactor{b}}
}

func (b *bellTower) triggers() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.fired...)
}

type bellReactor struct{ tower *bellTower }

func (bellReactor) Subscriptions() []biz.Subscription {
	return []biz.Subscription{
		biz.Every("tick", "rate(1 hour)"),
		biz.On("orders", `{"source":["com.example.orders"],"detail-type":["order.completed"]}`),
		biz.On("pushes", `{"source":["aws.ecr"],"detail-type":["ECR Image Action"],"detail":{"action-type":["PUSH"]}}`),
	}
}

func (r bellReactor) React(ctx context.Context, tr *biz.Trigger) error {
	r.tower.mu.Lock()
	defer r.tower.mu.Unlock()
	r.tower.fired = append(r.tower.fired, tr.Subscription+" "+tr.Event.ID())
	return nil
}

// bellDoor is the Lambda door of a bell tower with the CloudEvents doors,
// as cws.Main builds it on Lambda; its log goes to the returned buffer.
func bellDoor(t *testing.T) (*cwslambda.Handler, *bellTower, *testutil.SyncBuffer) {
	t.Helper()
	t.Setenv(async.EnvRulePrefix, "")
	log := &testutil.SyncBuffer{}
	logger := slog.New(slog.NewTextHandler(log, nil))
	tower := &bellTower{}
	app, err := runtime.New(tower, runtime.WithAuthorizer(runtime.TokenAuthorizer(token)), runtime.WithLogger(logger))
	if err != nil {
		t.Fatal(err)
	}
	events, err := async.Doors().Lambda(context.Background(), app)
	if err != nil {
		t.Fatal(err)
	}
	return cwslambda.NewHandler(app, cwslambda.WithEvents(events), cwslambda.WithLogger(logger)), tower, log
}

// sqsAnswer is the partial batch response of an SQS event.
func sqsAnswer(t *testing.T, out []byte, err error) awsevents.SQSEventResponse {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	var resp awsevents.SQSEventResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("answer %s: %v", out, err)
	}
	return resp
}

// The aws-lambda-go module's SQS event reaches the CloudEvents door: as
// shipped its body ("Message Body") is no CloudEvent, a batch item failure
// whose reason is logged; with a CloudEvent invoking an entry for body, the
// entry runs and nothing fails.
func TestAWSSampleSQS(t *testing.T) {
	sample := awsSample(t, "sqs-event.json")
	t.Run("as-shipped", func(t *testing.T) {
		h, tower, log := bellDoor(t)
		out, err := h.Invoke(context.Background(), sample)
		resp := sqsAnswer(t, out, err)
		if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "MessageID_1" {
			t.Fatalf("batch item failures %+v, want MessageID_1", resp.BatchItemFailures)
		}
		if !strings.Contains(log.String(), "MessageID_1") || !strings.Contains(log.String(), "malformed message") {
			t.Errorf("the log does not say why MessageID_1 failed:\n%s", log)
		}
		if tower.rung != 0 {
			t.Errorf("rung %d times", tower.rung)
		}
	})
	t.Run("rewritten", func(t *testing.T) {
		h, tower, _ := bellDoor(t)
		payload := rewrite(t, sample, func(e map[string]any) {
			record := e["Records"].([]any)[0].(map[string]any)
			record["body"] = `{"specversion":"1.0","id":"ring-1","source":"cws/test","type":"cws.invoke","subject":"POST /rings"}`
		})
		out, err := h.Invoke(context.Background(), payload)
		if resp := sqsAnswer(t, out, err); len(resp.BatchItemFailures) != 0 {
			t.Fatalf("batch item failures %+v", resp.BatchItemFailures)
		}
		if tower.rung != 1 {
			t.Errorf("rung %d times, want 1", tower.rung)
		}
	})
}

// EventBridge events reach the reactors: the Scheduled Event of the
// reactor's rule, a custom event and an AWS service's event its patterns
// match. An event no reactor subscribes to fails the invocation, for
// EventBridge to retry it and then dead-letter it.
func TestAWSSampleEventBridge(t *testing.T) {
	read := func(t *testing.T, name string) []byte {
		t.Helper()
		payload, err := os.ReadFile("testdata/aws/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return payload
	}
	for _, tc := range []struct {
		name    string
		payload func(t *testing.T) []byte
		fired   string // the trigger; "" wants the invocation to fail
		err     string
	}{
		{"scheduled", func(t *testing.T) []byte { return read(t, "eventbridge-scheduled.json") },
			"tick 53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa", ""},
		{"scheduled/another-rule", func(t *testing.T) []byte {
			return rewrite(t, read(t, "eventbridge-scheduled.json"), func(e map[string]any) {
				e["resources"] = []string{"arn:aws:events:us-east-1:123456789012:rule/my-scheduled-rule"}
			})
		}, "", `no reactor subscribes to the schedule of rule "arn:aws:events:us-east-1:123456789012:rule/my-scheduled-rule"`},
		{"custom", func(t *testing.T) []byte { return read(t, "eventbridge-custom.json") },
			"orders 6a7e8feb-b491-4cf7-a9f1-bf3703467718", ""},
		{"ecr-image-push-event", func(t *testing.T) []byte { return awsSample(t, "ecr-image-push-event.json") },
			"pushes 13cde686-328b-6117-af20-0e5566167482", ""},
		{"codepipeline-execution-state-change-event", func(t *testing.T) []byte {
			return awsSample(t, "codepipeline-execution-state-change-event.json")
		}, "", `no reactor subscribes to events of type "CodePipeline Pipeline Execution State Change" from "aws.codepipeline"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, tower, _ := bellDoor(t)
			payload := tc.payload(t)
			if shape, err := cwslambda.ShapeOf(payload); err != nil || shape != "EventBridge" {
				t.Fatalf("shape %q (%v)", shape, err)
			}
			out, err := h.Invoke(context.Background(), payload)
			if tc.fired == "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v (answer %s), want one saying %q", err, out, tc.err)
				}
				if fired := tower.triggers(); len(fired) != 0 {
					t.Errorf("fired %q", fired)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if fired := tower.triggers(); len(fired) != 1 || fired[0] != tc.fired {
				t.Errorf("fired %q, want %q", fired, tc.fired)
			}
		})
	}
}
