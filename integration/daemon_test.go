//go:build integration

package integration

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/coworks-go/cws/localstack"
)

// TestDaemonLifecycle exercises what make localstack and make
// localstack-stop do. When this run already uses a daemon (make localstack
// first), the test checks that it is found and answers, and leaves it
// running.
func TestDaemonLifecycle(t *testing.T) {
	need(t)
	if instance.Source != localstack.FromHost && instance.Source != localstack.FromDaemon {
		t.Skipf("this run's LocalStack comes from %s: the host process is not what this machine uses", instance.Source)
	}
	ctx := ctxFor(t, 3*time.Minute)
	if instance.Source == localstack.FromDaemon {
		d, ok := localstack.RunningDaemon(ctx)
		if !ok || d.Endpoint != instance.Endpoint {
			t.Fatalf("RunningDaemon = %v %v, want %s", d, ok, instance.Endpoint)
		}
		return
	}
	if d, ok := localstack.RunningDaemon(ctx); ok {
		t.Fatalf("a daemon runs at %s although this run did not find it", d.Endpoint)
	}
	d, err := localstack.StartDaemon(ctx)
	if err != nil {
		t.Fatalf("StartDaemon: %v", err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_, _ = localstack.StopDaemon(context.Background())
		}
	})
	if d.Source != localstack.FromDaemon || d.Endpoint == instance.Endpoint {
		t.Errorf("daemon %+v", d)
	}
	again, err := localstack.StartDaemon(ctx)
	if err != nil || again.Endpoint != d.Endpoint {
		t.Errorf("a second StartDaemon does not reuse the first: %v %v", again, err)
	}
	if running, ok := localstack.RunningDaemon(ctx); !ok || running.Endpoint != d.Endpoint {
		t.Errorf("RunningDaemon = %v %v", running, ok)
	}
	if _, err := sqs.NewFromConfig(d.AWSConfig()).ListQueues(ctx, &sqs.ListQueuesInput{}); err != nil {
		t.Errorf("the daemon does not serve SQS: %v", err)
	}
	was, err := localstack.StopDaemon(ctx)
	stopped = true
	if err != nil || !was {
		t.Fatalf("StopDaemon = %v %v", was, err)
	}
	if _, ok := localstack.RunningDaemon(ctx); ok {
		t.Error("the daemon still runs after StopDaemon")
	}
	if was, err := localstack.StopDaemon(ctx); was || err != nil {
		t.Errorf("a second StopDaemon = %v %v", was, err)
	}
}
