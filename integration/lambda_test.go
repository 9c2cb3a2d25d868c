//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/coworks-go/cws/deploy"
	"github.com/coworks-go/cws/events/invoke"
	"github.com/coworks-go/cws/internal/testutil"
	cwseventbridge "github.com/coworks-go/cws/transport/eventbridge"
	cwssqs "github.com/coworks-go/cws/transport/sqs"
)

// LocalStack runs these functions with cws's executor: the service's real
// bootstrap, built as Lambda runs it, behind the same Lambda API a deployed
// function has.

var (
	zipMu sync.Mutex
	zips  = map[string][]byte{}
)

// lambdaZip builds pkg (from the repository's root) for Linux on this
// machine's architecture, as Lambda runs a bootstrap, with extra ldflags,
// and returns it zipped as the function's code; built once per run.
func lambdaZip(t *testing.T, pkg, ldflags string) []byte {
	t.Helper()
	zipMu.Lock()
	defer zipMu.Unlock()
	key := pkg + " " + ldflags
	if z, ok := zips[key]; ok {
		return z
	}
	bin := filepath.Join(t.TempDir(), "bootstrap")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w "+ldflags, "-tags", "lambda.norpc", "-o", bin, pkg)
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), deploy.BuildEnv(string(architecture()))...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building %s: %v\n%s", pkg, err, out)
	}
	code, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	a, err := deploy.NewArtifact("it", code)
	if err != nil {
		t.Fatal(err)
	}
	zips[key] = a.Zip
	return a.Zip
}

func architecture() lambdatypes.Architecture {
	if runtime.GOARCH == "arm64" {
		return lambdatypes.ArchitectureArm64
	}
	return lambdatypes.ArchitectureX8664
}

// createFunction creates a provided.al2023 function of code and waits
// until it is Active; it is deleted after the test.
func createFunction(t *testing.T, lc *lambda.Client, name string, code []byte, env map[string]string, timeout int32) string {
	t.Helper()
	ctx := ctxFor(t, 2*time.Minute)
	started := time.Now()
	out, err := lc.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String(name), Runtime: lambdatypes.RuntimeProvidedal2023,
		Handler: aws.String("bootstrap"), Role: aws.String("arn:aws:iam::000000000000:role/cws-it"),
		Code: &lambdatypes.FunctionCode{ZipFile: code}, Timeout: aws.Int32(timeout), MemorySize: aws.Int32(128),
		Architectures: []lambdatypes.Architecture{architecture()}, Environment: &lambdatypes.Environment{Variables: env}})
	if err != nil {
		t.Fatalf("CreateFunction %s: %v", name, err)
	}
	t.Cleanup(func() {
		_, _ = lc.DeleteFunction(context.Background(), &lambda.DeleteFunctionInput{FunctionName: aws.String(name)})
	})
	if err := lambda.NewFunctionActiveV2Waiter(lc).Wait(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(name)}, time.Minute); err != nil {
		t.Fatalf("function %s is not Active: %v", name, err)
	}
	t.Logf("function %s Active in %v", name, time.Since(started).Round(time.Millisecond))
	return aws.ToString(out.FunctionArn)
}

// invokeFn invokes a function synchronously and returns its payload and
// FunctionError.
func invokeFn(t *testing.T, lc *lambda.Client, name string, payload []byte) ([]byte, string) {
	t.Helper()
	out, err := lc.Invoke(ctxFor(t, time.Minute), &lambda.InvokeInput{FunctionName: aws.String(name), Payload: payload})
	if err != nil {
		t.Fatalf("Invoke %s: %v", name, err)
	}
	return out.Payload, aws.ToString(out.FunctionError)
}

// restEvent is an API Gateway REST proxy event.
func restEvent(method, path, token, body string) []byte {
	headers := map[string]string{"Host": "abc.execute-api.us-east-1.amazonaws.com"}
	if token != "" {
		headers["Authorization"] = token
	}
	if body != "" {
		headers["Content-Type"] = "application/json"
	}
	multi := map[string][]string{}
	for k, v := range headers {
		multi[k] = []string{v}
	}
	var b any
	if body != "" {
		b = body
	}
	ev, _ := json.Marshal(map[string]any{"resource": "/{proxy+}", "path": path, "httpMethod": method, "headers": headers,
		"multiValueHeaders": multi, "queryStringParameters": nil, "body": b, "isBase64Encoded": false,
		"requestContext": map[string]any{"stage": "dev", "httpMethod": method, "path": "/dev" + path, "identity": map[string]string{"sourceIp": "198.51.100.1"}}})
	return ev
}

// answer is what an HTTP door answers: status, content type, body.
type answer struct {
	Status      int
	ContentType string
	Body        string
}

func proxyAnswer(t *testing.T, payload []byte) answer {
	t.Helper()
	var r struct {
		StatusCode        int                 `json:"statusCode"`
		Headers           map[string]string   `json:"headers"`
		MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
		Body              string              `json:"body"`
	}
	if err := json.Unmarshal(payload, &r); err != nil {
		t.Fatalf("not a proxy response: %s", payload)
	}
	ct := r.Headers["Content-Type"]
	if vs := r.MultiValueHeaders["Content-Type"]; ct == "" && len(vs) > 0 {
		ct = vs[0]
	}
	return answer{r.StatusCode, ct, r.Body}
}

// localCrud runs examples/crud's local server with token; do asks it.
func localCrud(t *testing.T, token string) func(method, path, tok, body string) answer {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "crud")
	build := exec.Command("go", "build", "-o", bin, "./examples/crud")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building examples/crud: %v\n%s", err, out)
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "CWS_ADDR="+addr, "TOKEN="+token)
	logs := &testutil.SyncBuffer{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() })
	do := func(method, path, tok, body string) answer {
		return httpAnswer("http://"+addr, method, path, tok, body)
	}
	deadline := time.Now().Add(30 * time.Second)
	for do("GET", "/service/test", "", "").Status != 200 {
		if time.Now().After(deadline) {
			t.Fatalf("the local crud did not start: %s", logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return do
}

// TestLambdaCrudAnswersLikeTheLocalServer runs examples/crud's bootstrap on
// LocalStack's Lambda and hands it API Gateway REST events: it answers as
// the local server does, request for request (refusals included). An Event
// invocation runs too.
func TestLambdaCrudAnswersLikeTheLocalServer(t *testing.T) {
	t.Parallel()
	cfg := need(t)
	lc := lambda.NewFromConfig(cfg)
	fn := name(t, "crud")
	createFunction(t, lc, fn, lambdaZip(t, "./examples/crud", ""), map[string]string{"TOKEN": "fn-token"}, 10)
	local := localCrud(t, "fn-token")
	for _, r := range []struct{ method, path, token, body string }{
		{"GET", "/service/test", "", ""},
		{"GET", "/", "", ""},
		{"GET", "/", testutil.WrongToken, ""},
		{"GET", "/not-a-number", "fn-token", ""},
		{"POST", "/", "fn-token", `{"name":"lamp","price":-1}`},
		{"POST", "/", "fn-token", `{"name":"lamp","price":20,"tags":["red"]}`},
		{"GET", "/1", "fn-token", ""},
		{"GET", "/content/a/b", "fn-token", ""},
		{"DELETE", "/42", "fn-token", ""},
	} {
		payload, fnErr := invokeFn(t, lc, fn, restEvent(r.method, r.path, r.token, r.body))
		got, want := proxyAnswer(t, payload), local(r.method, r.path, r.token, r.body)
		if fnErr != "" || got != want {
			t.Errorf("%s %s (token %q): Lambda %+v (%s), local server %+v", r.method, r.path, r.token, got, fnErr, want)
		}
	}

	// An Event invocation runs: its END line reaches the function's logs.
	out, err := lc.Invoke(ctxFor(t, time.Minute), &lambda.InvokeInput{FunctionName: aws.String(fn), InvocationType: lambdatypes.InvocationTypeEvent,
		Payload: restEvent("GET", "/service/test", "", "")})
	if err != nil || out.StatusCode != 202 {
		t.Fatalf("Event invoke: %v %v", out, err)
	}
	awaitLogs(t, cfg, fn, "END RequestId: ", 2)
}

// awaitLogs waits until the function's log group holds want, and returns
// its messages.
func awaitLogs(t *testing.T, cfg aws.Config, fn, want string, atLeast int) string {
	t.Helper()
	cl := cloudwatchlogs.NewFromConfig(cfg)
	deadline := time.Now().Add(60 * time.Second)
	var all string
	for {
		out, err := cl.FilterLogEvents(ctxFor(t, 30*time.Second), &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("/aws/lambda/" + fn)})
		if err == nil {
			var b strings.Builder
			for _, e := range out.Events {
				b.WriteString(aws.ToString(e.Message))
			}
			all = b.String()
			if strings.Count(all, want) >= atLeast {
				return all
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the logs of %s hold %d of %q (want %d):\n%s", fn, strings.Count(all, want), want, atLeast, all)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// TestLambdaFaults: a panic, a crash and a timeout of the function answer
// as Lambda does (FunctionError Unhandled, with Lambda's error), and the
// next invocation works; an update of the code takes effect; five
// concurrent invocations run in parallel environments.
func TestLambdaFaults(t *testing.T) {
	t.Parallel()
	lc := lambda.NewFromConfig(need(t))
	fn := name(t, "fn")
	createFunction(t, lc, fn, lambdaZip(t, "./localstack/lambdaenv/testdata/fn", ""), map[string]string{"FN_SETTING": "set"}, 2)
	for _, c := range []struct{ do, want string }{
		{"echo", `"echo":"x"`},
		{"panic", "boom"},
		{"echo", `"echo":"x"`},
		{"exit", "Runtime exited with error: exit status 3"},
		{"echo", `"echo":"x"`},
		{"sleep", "Task timed out after 2.00 seconds"},
		{"echo", `"echo":"x"`},
	} {
		payload, fnErr := invokeFn(t, lc, fn, []byte(fmt.Sprintf(`{"do":%q,"value":"x"}`, c.do)))
		if !strings.Contains(string(payload), c.want) || (c.do == "echo") != (fnErr == "") {
			t.Errorf("%s: %s (FunctionError %q), want %s", c.do, payload, fnErr, c.want)
		}
		if c.do != "echo" && fnErr != "Unhandled" {
			t.Errorf("%s: FunctionError %q, want Unhandled", c.do, fnErr)
		}
	}

	// Five at once run in five environments.
	start := time.Now()
	pids := make(chan string, 5)
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() {
			payload, fnErr := invokeFn(t, lc, fn, []byte(`{"do":"wait"}`))
			if fnErr != "" {
				t.Errorf("a concurrent invocation: %s %s", fnErr, payload)
			}
			pids <- string(payload)
		})
	}
	wg.Wait()
	close(pids)
	distinct := map[string]bool{}
	for p := range pids {
		distinct[p] = true
	}
	if elapsed := time.Since(start); len(distinct) != 5 || elapsed > 4500*time.Millisecond {
		t.Errorf("five invocations of a second each: %d environments, %v (in turn it takes 5s)", len(distinct), elapsed)
	}

	// A new version of the code.
	ctx := ctxFor(t, time.Minute)
	if _, err := lc.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String(fn),
		ZipFile: lambdaZip(t, "./localstack/lambdaenv/testdata/fn", "-X main.version=2")}); err != nil {
		t.Fatal(err)
	}
	if err := lambda.NewFunctionUpdatedV2Waiter(lc).Wait(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(fn)}, time.Minute); err != nil {
		t.Fatal(err)
	}
	if payload, _ := invokeFn(t, lc, fn, []byte(`{"do":"echo"}`)); !strings.Contains(string(payload), `"version":"2"`) {
		t.Errorf("after UpdateFunctionCode: %s", payload)
	}
}

// TestLambdaSQSEventSourceMapping: examples/biz's function behind an SQS
// event source mapping with ReportBatchItemFailures. An invocation runs and
// its result reaches the reply queue (sent by the function); a refused one
// is reported failed alone, retried, and dead-lettered by the queue's
// redrive policy; the good one is not run again.
func TestLambdaSQSEventSourceMapping(t *testing.T) {
	t.Parallel()
	cfg := need(t)
	lc, c := lambda.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	fn := name(t, "biz")
	createFunction(t, lc, fn, lambdaZip(t, "./examples/biz", ""), map[string]string{"TOKEN": "fn-token"}, 10)
	url, arn, dlqURL := queueWithDLQ(t, c, false)
	resultsURL, _ := createQueue(t, c, name(t, "results"), nil)
	ctx := ctxFor(t, 3*time.Minute)
	// A failed message comes back after the visibility timeout: 5 s.
	if _, err := c.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(url),
		Attributes: map[string]string{"VisibilityTimeout": "5"}}); err != nil {
		t.Fatal(err)
	}
	sqsMapping(t, lc, fn, arn)

	good, _ := invoke.New("cws/it", "POST", "/alerts", map[string]string{"level": "info", "message": "through the mapping"})
	good.SetExtension(invoke.ExtReplyTo, resultsURL)
	bad, _ := invoke.New("cws/it", "POST", "/mail/send", map[string]any{"to": []string{"nobody"}, "subject": "s", "text": "b"})
	if err := cwssqs.NewPublisher(c, url).Publish(ctx, good, bad); err != nil {
		t.Fatal(err)
	}
	status, data := awaitResult(t, c, resultsURL, good.ID())
	if status != 201 || !strings.Contains(data, "through the mapping") {
		t.Errorf("result %d %s", status, data)
	}
	var dead []string
	deadline := time.Now().Add(2 * time.Minute)
	for len(dead) == 0 && time.Now().Before(deadline) {
		dl, err := deadLetters(c, dlqURL)(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range dl {
			dead = append(dead, d.Body)
		}
	}
	if len(dead) != 1 || !strings.Contains(dead[0], bad.ID()) {
		t.Fatalf("dead letters %v, want the refused invocation", dead)
	}
	// Only the refused one was retried: the good one's result came once.
	if msgs := receive(t, c, resultsURL, 2); len(msgs) != 0 {
		t.Errorf("the good invocation ran again: %d more results", len(msgs))
	}
}

// sqsMapping makes the queue of arn feed function fn in batches of 10,
// reporting batch item failures; the mapping is deleted after the test.
func sqsMapping(t *testing.T, lc *lambda.Client, fn, arn string) {
	t.Helper()
	m, err := lc.CreateEventSourceMapping(ctxFor(t, time.Minute), &lambda.CreateEventSourceMappingInput{FunctionName: aws.String(fn), EventSourceArn: aws.String(arn),
		BatchSize: aws.Int32(10), FunctionResponseTypes: []lambdatypes.FunctionResponseType{lambdatypes.FunctionResponseTypeReportBatchItemFailures}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = lc.DeleteEventSourceMapping(context.Background(), &lambda.DeleteEventSourceMappingInput{UUID: m.UUID})
	})
}

// TestLambdaEventBridgeTarget: examples/biz's function as the target of an
// EventBridge rule: a notification reaches its reactors.
func TestLambdaEventBridgeTarget(t *testing.T) {
	t.Parallel()
	cfg := need(t)
	lc, eb := lambda.NewFromConfig(cfg), eventbridge.NewFromConfig(cfg)
	ctx := ctxFor(t, 2*time.Minute)
	bus := name(t, "bus")
	if _, err := eb.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String(bus)}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = eb.DeleteEventBus(context.Background(), &eventbridge.DeleteEventBusInput{Name: aws.String(bus)})
	})
	fn := name(t, "biz")
	fnARN := createFunction(t, lc, fn, lambdaZip(t, "./examples/biz", ""), map[string]string{"TOKEN": "fn-token", "CWS_EVENT_BUS": bus}, 10)
	rule := name(t, "orders")
	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String(rule), EventBusName: aws.String(bus),
		EventPattern: aws.String(`{"detail-type":["order.completed"]}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String(rule), EventBusName: aws.String(bus),
		Targets: []ebtypes.Target{{Id: aws.String("fn"), Arn: aws.String(fnARN)}}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = eb.RemoveTargets(context.Background(), &eventbridge.RemoveTargetsInput{Rule: aws.String(rule), EventBusName: aws.String(bus), Ids: []string{"fn"}})
		_, _ = eb.DeleteRule(context.Background(), &eventbridge.DeleteRuleInput{Name: aws.String(rule), EventBusName: aws.String(bus)})
	})
	order := event.New()
	order.SetID("order-" + runID)
	order.SetSource("shop")
	order.SetType("order.completed")
	order.SetTime(time.Now())
	_ = order.SetData(event.ApplicationJSON, map[string]any{"order": "L-1", "customer": "ann@example.com", "total": 1500})
	if err := cwseventbridge.NewPublisher(eb, bus).Publish(ctx, order); err != nil {
		t.Fatal(err)
	}
	// The invoicing workflow runs, through the large order's alert.
	logs := awaitLogs(t, cfg, fn, `"msg":"workflow done","workflow":"invoicing"`, 1)
	if !strings.Contains(logs, `"msg":"reacted","reactor":"invoicing"`) || !strings.Contains(logs, "IsLarge > AlertLargeOrder > MailInvoice > PublishSent") {
		t.Errorf("the logs lack the invoicing workflow's run:\n%s", logs)
	}
}

// TestLambdaBehindRESTAPI: a REST API with {proxy+} and root ANY methods
// integrated (AWS_PROXY) with examples/crud's function, reached through
// LocalStack's path-style URL: entries answer, the function's own token
// check guards them. The function also answers API Gateway's TOKEN
// authorizer events (allow, deny, missing token), handed to it on
// LocalStack's Lambda as API Gateway sends them: LocalStack's community
// edition does not run Lambda authorizers in front of an API itself.
func TestLambdaBehindRESTAPI(t *testing.T) {
	t.Parallel()
	cfg := need(t)
	lc, ag := lambda.NewFromConfig(cfg), apigateway.NewFromConfig(cfg)
	ctx := ctxFor(t, 2*time.Minute)
	fn := name(t, "crud")
	fnARN := createFunction(t, lc, fn, lambdaZip(t, "./examples/crud", ""), map[string]string{"TOKEN": "api-token"}, 10)
	uri := "arn:aws:apigateway:" + cfg.Region + ":lambda:path/2015-03-31/functions/" + fnARN + "/invocations"

	api, err := ag.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String(name(t, "api"))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = ag.DeleteRestApi(context.Background(), &apigateway.DeleteRestApiInput{RestApiId: api.Id})
	})
	res, err := ag.GetResources(ctx, &apigateway.GetResourcesInput{RestApiId: api.Id})
	if err != nil || len(res.Items) != 1 {
		t.Fatalf("resources: %v %v", res, err)
	}
	root := res.Items[0].Id
	proxy, err := ag.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: api.Id, ParentId: root, PathPart: aws.String("{proxy+}")})
	if err != nil {
		t.Fatal(err)
	}
	for _, resource := range []*string{root, proxy.Id} {
		if _, err := ag.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: api.Id, ResourceId: resource, HttpMethod: aws.String("ANY"),
			AuthorizationType: aws.String("NONE")}); err != nil {
			t.Fatal(err)
		}
		if _, err := ag.PutIntegration(ctx, &apigateway.PutIntegrationInput{RestApiId: api.Id, ResourceId: resource, HttpMethod: aws.String("ANY"),
			Type: "AWS_PROXY", IntegrationHttpMethod: aws.String("POST"), Uri: aws.String(uri)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ag.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: api.Id, StageName: aws.String("dev")}); err != nil {
		t.Fatal(err)
	}
	base := instance.Endpoint + "/_aws/execute-api/" + aws.ToString(api.Id) + "/dev"
	do := func(method, path, token, body string) answer { return httpAnswer(base, method, path, token, body) }
	if a := do("GET", "/service/test", "", ""); a.Status != 200 || a.Body != "service test" {
		t.Errorf("an open entry: %+v", a)
	}
	if a := do("POST", "/", "api-token", `{"name":"pen","price":2}`); a.Status != 201 || !strings.Contains(a.Body, `"name":"pen"`) {
		t.Errorf("POST / through the API: %+v", a)
	}
	if a := do("GET", "/", "api-token", ""); a.Status != 200 || !strings.Contains(a.Body, `"pen"`) {
		t.Errorf("GET / through the API: %+v", a)
	}
	if a := do("GET", "/not-a-number", "api-token", ""); a.Status != 422 || a.ContentType != "application/problem+json" {
		t.Errorf("a bad parameter: %+v", a)
	}
	if a := do("GET", "/", testutil.WrongToken, ""); a.Status != 403 || a.ContentType != "application/problem+json" {
		t.Errorf("a refused token: %+v", a)
	}
	if a := do("GET", "/", "", ""); a.Status != 401 {
		t.Errorf("no token: %+v", a)
	}

	// The same function as the API's TOKEN authorizer.
	authEvent := func(token string) []byte {
		b, _ := json.Marshal(map[string]string{"type": "TOKEN", "authorizationToken": token,
			"methodArn": "arn:aws:execute-api:" + cfg.Region + ":000000000000:" + aws.ToString(api.Id) + "/dev/GET/items"})
		return b
	}
	for token, want := range map[string]string{"api-token": `"Effect":"Allow"`, testutil.WrongToken: `"Effect":"Deny"`, "": "Unauthorized"} {
		payload, fnErr := invokeFn(t, lc, fn, authEvent(token))
		if !strings.Contains(string(payload), want) || (token == "") != (fnErr != "") {
			t.Errorf("authorizer, token %q: %s (FunctionError %q), want %s", token, payload, fnErr, want)
		}
	}
}
