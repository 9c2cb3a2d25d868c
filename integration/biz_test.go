//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/coworks-go/cws"
	"github.com/coworks-go/cws/async"
	"github.com/coworks-go/cws/async/awscloud"
	"github.com/coworks-go/cws/biz"
	"github.com/coworks-go/cws/internal/testutil"
)

// TestBizOnLocalStack deploys examples/biz's subscriptions (its reminder
// reactor's and its invoicing workflow's) as EventBridge rules
// (awscloud.PutRules) targeting a queue on LocalStack, runs the service
// consuming that queue, and checks them: the scheduled rule fires the
// reminder; PutEvents start the invoicing workflow, which raises the alert
// for the large order only and mails both; an invoice that cannot be mailed
// raises an alert and fails its execution, as the workflow says.
func TestBizOnLocalStack(t *testing.T) {
	t.Parallel()
	cfg := need(t)
	c, eb := sqs.NewFromConfig(cfg), eventbridge.NewFromConfig(cfg)
	ctx := ctxFor(t, 4*time.Minute)
	url, arn, _ := queueWithDLQ(t, c, false)
	allowEvents(t, c, url, arn)

	bin := filepath.Join(t.TempDir(), "office")
	if out, err := exec.Command("go", "build", "-o", bin, "../examples/biz").CombinedOutput(); err != nil {
		t.Fatalf("building examples/biz: %v\n%s", err, out)
	}
	prefix := name(t, "") // unique to the run
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	env := append(os.Environ(), "CWS_ADDR="+addr, "TOKEN=it-token", async.EnvQueueURL+"="+url, async.EnvRulePrefix+"="+prefix,
		"REMINDER_SCHEDULE=rate(1 minute)", "AWS_ENDPOINT_URL="+instance.Endpoint, "AWS_ACCESS_KEY_ID=test",
		"AWS_SECRET_ACCESS_KEY=test", "AWS_REGION=us-east-1")

	// The rules, as the binary lists them, deployed with biz's own helper.
	list := exec.Command(bin)
	list.Env = append(env, cws.EnvMode+"=reactors")
	out, err := list.Output()
	if err != nil {
		t.Fatalf("listing the reactors: %v", err)
	}
	var rules []biz.Rule
	if err := json.Unmarshal(out, &rules); err != nil || len(rules) != 2 {
		t.Fatalf("reactors: %v %s", err, out)
	}
	for _, r := range rules {
		if !strings.HasPrefix(r.Name, prefix) {
			t.Fatalf("rule %s lacks the prefix %s", r.Name, prefix)
		}
	}
	arns, err := awscloud.PutRules(ctx, eb, rules, "", awscloud.Target{ARN: arn})
	if err != nil || len(arns) != 2 {
		t.Fatalf("PutRules: %v %v", arns, err)
	}
	t.Cleanup(func() {
		for _, r := range rules {
			_, _ = eb.RemoveTargets(context.Background(), &eventbridge.RemoveTargetsInput{Rule: aws.String(r.Name), Ids: []string{"cws"}})
			_, _ = eb.DeleteRule(context.Background(), &eventbridge.DeleteRuleInput{Name: aws.String(r.Name)})
		}
	})
	started := time.Now()

	run := exec.Command(bin)
	run.Env = env
	logs := &testutil.SyncBuffer{}
	run.Stderr = logs
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = run.Process.Signal(os.Interrupt); _ = run.Wait() })
	get := func(path string) string {
		req, _ := http.NewRequest("GET", "http://"+addr+path, nil)
		req.Header.Set("Authorization", "it-token")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	until := func(what string, limit time.Duration, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(limit)
		for !ok() {
			if time.Now().After(deadline) || ctx.Err() != nil {
				t.Fatalf("%s: not within %v\n%s", what, limit, logs)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}

	source := prefix + "shop"
	put := func(order, customer string, total int) {
		detail, _ := json.Marshal(map[string]any{"specversion": "1.0", "id": order, "source": source, "type": "order.completed",
			"datacontenttype": "application/json", "data": map[string]any{"order": order, "customer": customer, "total": total}})
		out, err := eb.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{
			Source: aws.String(source), DetailType: aws.String("order.completed"), Detail: aws.String(string(detail))}}})
		if err != nil || out.FailedEntryCount != 0 {
			t.Fatalf("PutEvents: %v %+v", err, out)
		}
	}
	put("B-1", "ann@example.com", 1500)
	put("B-2", "bob@example.com", 20)
	until("both orders invoiced and mailed", time.Minute, func() bool {
		mails := get("/mail/outbox")
		return strings.Contains(mails, "ann@example.com") && strings.Contains(mails, "bob@example.com")
	})
	if alerts := get("/alerts"); alerts != `[{"level":"warning","message":"large order B-1 of 1500"}]` {
		t.Errorf("alerts: the large order only, got %s", alerts)
	}

	put("B-3", "nobody", 5)
	until("the invoice that cannot be mailed alerted, its execution failed", time.Minute, func() bool {
		return strings.Contains(get("/alerts"), `"message":"invoice 3 was not mailed to nobody (cws.Status.422)"`) &&
			strings.Contains(get("/_cws/executions/completed-orders-B-3"), `"error": "InvoiceNotMailed"`)
	})

	until("the scheduled rule fires the reminder", 100*time.Second, func() bool {
		return strings.Contains(get("/reminders"), "Time for the stand-up")
	})
	t.Logf("reminder after %v", time.Since(started).Round(time.Second))
	if s := get("/reminders"); !strings.Contains(s, fmt.Sprint(time.Now().UTC().Year())) {
		t.Errorf("reminders %s", s)
	}
}
