//go:build integration

package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/coworks-go/cws/events/invoke"
	"github.com/coworks-go/cws/internal/testutil"
	cwseventbridge "github.com/coworks-go/cws/transport/eventbridge"
	cwssqs "github.com/coworks-go/cws/transport/sqs"
)

// The proofs of cws deploy: examples/crud and examples/biz deployed to
// LocalStack (CloudFormation refusing what it cannot create) by the cws
// command, as a user runs it, then used through what the stack made.

// deployStage returns this run's stage and a project file naming the
// examples and setting the stage: this machine's architecture (LocalStack
// runs the bootstrap as a host process), short timeouts, the reminder's
// schedule every minute, replies allowed to replyTo. LocalStack's community
// edition cannot create API Gateway authorizers: the stage goes without,
// the function checking the token itself.
func deployStage(t *testing.T, replyTo ...string) (project, stage string) {
	t.Helper()
	root, _ := filepath.Abs("..")
	arch := string(architecture())
	stage = "it" + runID + strings.ToLower(strings.TrimPrefix(t.Name(), "TestDeploy"))[:1]
	replies := ""
	for _, a := range replyTo {
		replies += "\n      - " + a
	}
	if replies != "" {
		replies = "\n    reply_to:" + replies
	}
	yaml := fmt.Sprintf(`# cws deploy's integration tests
services:
  crud: %s
  office: %s
stages:
  %s:
    architecture: %s
    memory: 128
    timeout: 10
    log_retention: 1
    api_authorizer: false
    queue:
      visibility_timeout: 5
      max_receives: 2
    environment:
      REMINDER_SCHEDULE: rate(1 minute)
    tags:
      team: platform%s
`, filepath.Join(root, "examples/crud"), filepath.Join(root, "examples/biz"), stage, arch, replies)
	project = filepath.Join(t.TempDir(), "cws.yaml")
	if err := os.WriteFile(project, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return project, stage
}

// cwsResult is what a cws command printed.
type cwsResult struct{ stdout, stderr string }

// runCWSEnv runs the cws command of this run against LocalStack, from the
// repository's root, with env added to its environment.
func runCWSEnv(t *testing.T, env []string, args ...string) (cwsResult, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, cwsBin, args...)
	cmd.Dir = ".."
	cmd.Env = append(append(os.Environ(), "AWS_ENDPOINT_URL="+instance.Endpoint, "AWS_REGION="+awsCfg.Region,
		"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_PROFILE=", "CWS_STAGE="), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return cwsResult{stdout.String(), stderr.String()}, err
}

// runCWS is runCWSEnv with its output and errors together.
func runCWS(t *testing.T, args ...string) (string, error) {
	t.Helper()
	res, err := runCWSEnv(t, nil, args...)
	return res.stdout + res.stderr, err
}

// deployed deploys service to stage with cws deploy, destroys it after the
// test, and returns the stack's outputs and how long the deploy took.
func deployed(t *testing.T, project, stage, service string) (map[string]string, time.Duration) {
	t.Helper()
	t.Cleanup(func() {
		if out, err := runCWS(t, "destroy", service, "--project", project, "--stage", stage, "--yes"); err != nil {
			t.Errorf("cws destroy: %v\n%s", err, out)
		}
	})
	start := time.Now()
	out, err := runCWS(t, "deploy", service, "--project", project, "--stage", stage, "--yes")
	took := time.Since(start)
	if err != nil || !strings.Contains(out, "CREATE_COMPLETE") {
		t.Fatalf("cws deploy %s: %v\n%s", service, err, out)
	}
	t.Logf("first deploy of %s: %v", service, took.Round(time.Millisecond))
	return info(t, project, stage, service), took
}

// info is cws info --json's outputs.
func info(t *testing.T, project, stage, service string) map[string]string {
	t.Helper()
	out, err := runCWS(t, "info", service, "--project", project, "--stage", stage, "--json")
	if err != nil {
		t.Fatalf("cws info: %v\n%s", err, out)
	}
	var i struct {
		Stack, Status string
		Outputs       map[string]string
	}
	if err := json.Unmarshal([]byte(out), &i); err != nil || i.Stack != service+"-"+stage || !strings.HasSuffix(i.Status, "_COMPLETE") {
		t.Fatalf("cws info --json: %v\n%s", err, out)
	}
	return i.Outputs
}

// planLines are the change lines of a deploy's plan.
var planLine = regexp.MustCompile(`(?m)^  ([+~-]) (\S+)\s+(\S+)`)

// TestDeployCrud deploys examples/crud: its API answers through API
// Gateway as the local server does; a second deploy changes nothing; a
// changed dotenv value changes only the function; destroy leaves nothing.
func TestDeployCrud(t *testing.T) {
	t.Parallel()
	cfg := need(t)
	project, stage := deployStage(t)
	dotenv := filepath.Join("..", "examples", "crud", ".env."+stage)
	// The token is a secret: read from SSM Parameter Store by
	// CloudFormation, in neither the template nor the zip.
	param := "/cws/" + runID + "/crud-token"
	if _, err := ssm.NewFromConfig(cfg).PutParameter(ctxFor(t, 30*time.Second), &ssm.PutParameterInput{Name: aws.String(param),
		Value: aws.String("deploy-token"), Type: ssmtypes.ParameterTypeString}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = ssm.NewFromConfig(cfg).DeleteParameter(context.Background(), &ssm.DeleteParameterInput{Name: aws.String(param)})
	})
	writeEnv := func(greeting string) {
		if err := os.WriteFile(dotenv, []byte("TOKEN=ssm:"+param+"\nGREETING="+greeting+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeEnv("hello")
	t.Cleanup(func() { os.Remove(dotenv) })
	stack := "crud-" + stage

	// Without --yes and without a terminal to ask on, the plan is shown
	// and nothing is deployed: not even an empty stack is left.
	out, err := runCWS(t, "deploy", "crud", "--project", project, "--stage", stage)
	if err == nil || !strings.Contains(out, "plan: create stack "+stack) || !strings.Contains(out, "pass --yes") {
		t.Fatalf("a deploy without --yes nor a terminal: %v\n%s", err, out)
	}
	if out, err := runCWS(t, "info", "crud", "--project", project, "--stage", stage); err == nil || !strings.Contains(out, "does not exist") {
		t.Errorf("an unconfirmed create left a stack: %v\n%s", err, out)
	}

	outputs, _ := deployed(t, project, stage, "crud")
	for _, k := range []string{"ApiId", "ApiUrl", "FunctionName"} {
		if outputs[k] == "" {
			t.Errorf("output %s missing: %v", k, outputs)
		}
	}
	if outputs["QueueUrl"] != "" {
		t.Errorf("an HTTP-only service got a queue: %v", outputs)
	}
	tpl, err := cloudformation.NewFromConfig(cfg).GetTemplate(ctxFor(t, 30*time.Second), &cloudformation.GetTemplateInput{StackName: aws.String(stack)})
	if err != nil || strings.Contains(aws.ToString(tpl.TemplateBody), "deploy-token") || !strings.Contains(aws.ToString(tpl.TemplateBody), "{{resolve:ssm:"+param+"}}") {
		t.Errorf("the template holds the secret, or not its reference: %v", err)
	}

	// The API answers as the local server does, request for request.
	base := instance.Endpoint + "/_aws/execute-api/" + outputs["ApiId"] + "/" + stage
	local := localCrud(t, "deploy-token")
	for _, r := range []struct{ method, path, token, body string }{
		{"GET", "/service/test", "", ""},
		{"GET", "/", "", ""},
		{"GET", "/", testutil.WrongToken, ""},
		{"GET", "/not-a-number", "deploy-token", ""},
		{"POST", "/", "deploy-token", `{"name":"lamp","price":-1}`},
		{"POST", "/", "deploy-token", `{"name":"lamp","price":20,"tags":["red"]}`},
		{"GET", "/1", "deploy-token", ""},
		{"GET", "/42", "deploy-token", ""},
		{"GET", "/no/such/route/here", "deploy-token", ""},
		{"GET", "/content/a/b", "deploy-token", ""},
		{"GET", "/typed?flag=yes&ids=1&ids=2&n=3", "deploy-token", ""},
	} {
		got, want := httpAnswer(base, r.method, r.path, r.token, r.body), local(r.method, r.path, r.token, r.body)
		if got != want {
			t.Errorf("%s %s (token %q): through API Gateway %+v, local server %+v", r.method, r.path, r.token, got, want)
		}
	}
	// A binary response, to a client that accepts it (as a browser
	// fetching an image does): the same bytes.
	got, want := httpAnswer(base, "GET", "/logo", "", "", "Accept", "image/png"), local("GET", "/logo", "", "")
	if got != want || !strings.HasPrefix(got.Body, "\x89PNG\r\n\x1a\n") {
		t.Errorf("the binary response: through API Gateway %q %q, local server %q %q", got.ContentType, got.Body, want.ContentType, want.Body)
	}

	// A browser's preflight carries no token: API Gateway lets it through
	// to the service, which answers its CORS policy; the call that follows
	// gets its Access-Control-Allow-Origin.
	const origin = "http://localhost:5173"
	for _, r := range []struct{ method, token string }{{"OPTIONS", ""}, {"GET", "deploy-token"}} {
		req, _ := http.NewRequest(r.method, base+"/1", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "GET")
		if r.token != "" {
			req.Header.Set("Authorization", r.token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode >= 300 || resp.Header.Get("Access-Control-Allow-Origin") != origin {
			t.Errorf("%s /1 from %s through API Gateway: %d %v", r.method, origin, resp.StatusCode, resp.Header)
		}
	}

	// A second deploy changes nothing.
	cf := cloudformation.NewFromConfig(cfg)
	before := describeStack(t, cf, stack)
	start := time.Now()
	out, err = runCWS(t, "deploy", "crud", "--project", project, "--stage", stage, "--yes")
	took := time.Since(start)
	if err != nil || !strings.Contains(out, "no changes") || planLine.MatchString(out) {
		t.Fatalf("a second deploy: %v\n%s", err, out)
	}
	t.Logf("no-op deploy: %v", took.Round(time.Millisecond))
	if after := describeStack(t, cf, stack); !aws.ToTime(after.LastUpdatedTime).Equal(aws.ToTime(before.LastUpdatedTime)) {
		t.Errorf("a no-op deploy updated the stack: %v → %v", before.LastUpdatedTime, after.LastUpdatedTime)
	}

	// A changed dotenv value changes the function, and only it.
	writeEnv("bonjour")
	out, err = runCWS(t, "deploy", "crud", "--project", project, "--stage", stage, "--yes")
	if err != nil || !strings.Contains(out, "UPDATE_COMPLETE") {
		t.Fatalf("deploying a changed dotenv: %v\n%s", err, out)
	}
	changes := planLine.FindAllStringSubmatch(out, -1)
	if len(changes) != 1 || changes[0][1] != "~" || changes[0][2] != "Function" {
		t.Errorf("the plan of a changed dotenv value: %q, want only ~ Function\n%s", changes, out)
	}
	lc := lambda.NewFromConfig(cfg)
	fc, err := lc.GetFunctionConfiguration(ctxFor(t, 30*time.Second), &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(stack)})
	if err != nil || fc.Environment.Variables["GREETING"] != "bonjour" || fc.Environment.Variables["CWS_STAGE"] != stage {
		t.Errorf("the function's environment: %v %v", fc, err)
	}
	if a := httpAnswer(base, "GET", "/content/x", "deploy-token", ""); a.Status != 200 {
		t.Errorf("after the update: %+v", a)
	}

	// cws destroy leaves nothing behind.
	if out, err := runCWS(t, "destroy", "crud", "--project", project, "--stage", stage, "--yes"); err != nil || !strings.Contains(out, "deleted") {
		t.Fatalf("cws destroy: %v\n%s", err, out)
	}
	assertGone(t, cfg, stack)
	if _, err := apigateway.NewFromConfig(cfg).GetRestApi(ctxFor(t, 30*time.Second), &apigateway.GetRestApiInput{RestApiId: aws.String(outputs["ApiId"])}); err == nil {
		t.Errorf("the API %s is still there", outputs["ApiId"])
	}
	if out, err := runCWS(t, "info", "crud", "--project", project, "--stage", stage); err == nil || !strings.Contains(out, "does not exist") {
		t.Errorf("cws info after destroy: %v\n%s", err, out)
	}
}

// TestDeployBiz deploys examples/biz: a CloudEvent sent to its queue runs
// its entry and the result reaches a reply queue; a refused one ends in the
// dead-letter queue with its reason; the reminder's rate(1 minute) rule
// fires; an order.completed event on the service's bus starts the invoicing
// workflow (through the large order's alert); destroy leaves no queue, rule
// or bus.
func TestDeployBiz(t *testing.T) {
	t.Parallel()
	cfg := need(t)
	c := sqs.NewFromConfig(cfg)
	resultsURL, resultsARN := createQueue(t, c, name(t, "results"), nil)
	project, stage := deployStage(t, resultsARN)
	outputs, _ := deployed(t, project, stage, "office")
	deployedAt := time.Now()
	stack := "office-" + stage
	for _, k := range []string{"ApiId", "ApiUrl", "FunctionName", "QueueUrl", "DeadLetterQueueUrl", "BusName"} {
		if outputs[k] == "" {
			t.Errorf("output %s missing: %v", k, outputs)
		}
	}
	ctx := ctxFor(t, 5*time.Minute)

	// A CloudEvent sent to the queue: its result on the reply queue; a
	// refused one in the dead-letter queue, with its reason.
	good, _ := invoke.New("cws/it", "POST", "/alerts", map[string]string{"level": "info", "message": "deployed"})
	good.SetExtension(invoke.ExtReplyTo, resultsURL)
	bad, _ := invoke.New("cws/it", "POST", "/mail/send", map[string]any{"to": []string{"nobody"}, "subject": "s", "text": "b"})
	if err := cwssqs.NewPublisher(c, outputs["QueueUrl"]).Publish(ctx, good, bad); err != nil {
		t.Fatal(err)
	}
	if status, data := awaitResult(t, c, resultsURL, good.ID()); status != 201 || !strings.Contains(data, "deployed") {
		t.Errorf("the result: %d %s", status, data)
	}
	var dead []string
	for deadline := time.Now().Add(time.Minute); len(dead) == 0 && time.Now().Before(deadline); {
		dl, err := deadLetters(c, outputs["DeadLetterQueueUrl"])(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range dl {
			dead = append(dead, d.Reason+" | "+d.Body)
			if d.Reason == "" {
				t.Errorf("a dead letter without its reason: %s", d.Body)
			}
		}
	}
	if len(dead) != 1 || !strings.Contains(dead[0], bad.ID()) || !strings.Contains(dead[0], "422") {
		t.Errorf("dead letters %q, want the refused invocation with its 422", dead)
	}

	// An order.completed event on the service's bus starts the invoicing workflow.
	order := event.New()
	order.SetID("order-" + runID)
	order.SetSource("shop")
	order.SetType("order.completed")
	order.SetTime(time.Now())
	_ = order.SetData(event.ApplicationJSON, map[string]any{"order": "D-1", "customer": "ann@example.com", "total": 1500})
	eb := eventbridge.NewFromConfig(cfg)
	if err := cwseventbridge.NewPublisher(eb, outputs["BusName"]).Publish(ctx, order); err != nil {
		t.Fatal(err)
	}
	logs := awaitLogs(t, cfg, stack, `"msg":"workflow done","workflow":"invoicing","execution":"completed-orders-order-`+runID+`"`, 1)
	if !strings.Contains(logs, "IsLarge > AlertLargeOrder > MailInvoice > PublishSent") {
		t.Errorf("the invoicing workflow did not take the large order's path:\n%s", logs)
	}

	// The reminder's rate(1 minute) rule fires within 70 s of the deploy.
	cl := cloudwatchlogs.NewFromConfig(cfg)
	for fired := false; !fired; {
		out, err := cl.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("/aws/lambda/" + stack)})
		for _, e := range out.Events {
			if err == nil && strings.Contains(aws.ToString(e.Message), `"msg":"reacted","reactor":"reminder"`) {
				t.Logf("the reminder fired %v after the deploy", time.Since(deployedAt).Round(time.Second))
				fired = true
			}
		}
		if !fired && time.Since(deployedAt) > 70*time.Second {
			t.Fatalf("the reminder did not fire within 70 s: %v", err)
		}
		time.Sleep(time.Second)
	}

	// cws destroy leaves no queue, rule or bus.
	if out, err := runCWS(t, "destroy", "office", "--project", project, "--stage", stage, "--yes"); err != nil {
		t.Fatalf("cws destroy: %v\n%s", err, out)
	}
	assertGone(t, cfg, stack)
	for _, q := range []string{stack, stack + "-dlq"} {
		if _, err := c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(q)}); err == nil {
			t.Errorf("queue %s is still there", q)
		}
	}
	if _, err := eb.DescribeEventBus(ctx, &eventbridge.DescribeEventBusInput{Name: aws.String(stack)}); err == nil {
		t.Errorf("bus %s is still there", stack)
	}
	rules, err := eb.ListRules(ctx, &eventbridge.ListRulesInput{NamePrefix: aws.String(stack)})
	if err != nil || len(rules.Rules) != 0 {
		t.Errorf("rules left on the default bus: %v %v", rules, err)
	}
}

// httpAnswer asks base+path over HTTP.
func httpAnswer(base, method, path, token, body string, headers ...string) answer {
	req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return answer{Body: err.Error()}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header.Get("Content-Type"), string(b)}
}

func describeStack(t *testing.T, cf *cloudformation.Client, stack string) *cfntypes.Stack {
	t.Helper()
	out, err := cf.DescribeStacks(ctxFor(t, 30*time.Second), &cloudformation.DescribeStacksInput{StackName: aws.String(stack)})
	if err != nil || len(out.Stacks) != 1 {
		t.Fatalf("DescribeStacks %s: %v", stack, err)
	}
	return &out.Stacks[0]
}

// assertGone checks that a destroyed stack left no stack, function, log
// group or role behind.
func assertGone(t *testing.T, cfg aws.Config, stack string) {
	t.Helper()
	ctx := ctxFor(t, time.Minute)
	out, err := cloudformation.NewFromConfig(cfg).DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(stack)})
	if err == nil && len(out.Stacks) > 0 && out.Stacks[0].StackStatus != "DELETE_COMPLETE" {
		t.Errorf("stack %s is still there: %s", stack, out.Stacks[0].StackStatus)
	}
	if _, err := lambda.NewFromConfig(cfg).GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(stack)}); err == nil {
		t.Errorf("function %s is still there", stack)
	}
	roles, err := iam.NewFromConfig(cfg).ListRoles(ctx, &iam.ListRolesInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range roles.Roles {
		if strings.HasPrefix(aws.ToString(r.RoleName), stack+"-") {
			t.Errorf("role %s is still there", aws.ToString(r.RoleName))
		}
	}
	groups, err := cloudwatchlogs.NewFromConfig(cfg).DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/aws/lambda/" + stack)})
	if err != nil || len(groups.LogGroups) != 0 {
		t.Errorf("log groups left: %v %v", groups, err)
	}
}

// TestDeployFailures: a first create that fails (the function's log group
// exists already, as after running the function by hand) exits 1 naming the
// resource and the reason, and leaves the stack ROLLBACK_COMPLETE; the next
// deploy deletes it and creates it again. An update that fails (an
// environment over Lambda's 4 KB) exits 1 naming the function.
// LocalStack cannot prove the rollback of a failed update: it ends it
// ROLLBACK_COMPLETE where AWS restores the previous stack
// (UPDATE_ROLLBACK_COMPLETE).
func TestDeployFailures(t *testing.T) {
	t.Parallel()
	cfg := need(t)
	project, stage := deployStage(t)
	stack := "crud-" + stage
	cl := cloudwatchlogs.NewFromConfig(cfg)
	ctx := ctxFor(t, 5*time.Minute)
	group := aws.String("/aws/lambda/" + stack)
	if _, err := cl.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: group}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = cl.DeleteLogGroup(context.Background(), &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: group})
		if out, err := runCWS(t, "destroy", "crud", "--project", project, "--stage", stage, "--yes"); err != nil {
			t.Errorf("cws destroy: %v\n%s", err, out)
		}
	})
	out, err := runCWS(t, "deploy", "crud", "--project", project, "--stage", stage, "--yes")
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(out, "LogGroup (AWS::Logs::LogGroup) CREATE_FAILED") ||
		!strings.Contains(out, "already exists") {
		t.Fatalf("a failed create: %v\n%s", err, out)
	}
	if out, err := runCWS(t, "info", "crud", "--project", project, "--stage", stage); err != nil || !strings.Contains(out, "ROLLBACK_COMPLETE") {
		t.Errorf("cws info after the failed create: %v\n%s", err, out)
	}
	if _, err := cl.DeleteLogGroup(ctx, &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: group}); err != nil {
		t.Fatal(err)
	}
	out, err = runCWS(t, "deploy", "crud", "--project", project, "--stage", stage, "--yes")
	if err != nil || !strings.Contains(out, "deleting it to create it again") || !strings.Contains(out, "CREATE_COMPLETE") {
		t.Fatalf("deploying after a failed create: %v\n%s", err, out)
	}

	dotenv := filepath.Join("..", "examples", "crud", ".env."+stage)
	if err := os.WriteFile(dotenv, []byte("TOKEN="+testutil.Token+"\nBIG="+strings.Repeat("x", 5000)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(dotenv) })
	out, err = runCWS(t, "deploy", "crud", "--project", project, "--stage", stage, "--yes")
	if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(out, "Function (AWS::Lambda::Function) UPDATE_FAILED") {
		t.Fatalf("a failed update: %v\n%s", err, out)
	}
}
