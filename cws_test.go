package cws_test

import (
	"context"
	"encoding/json"
	"errors"
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

	"github.com/coworks-go/cws"
	"github.com/coworks-go/cws/biz"
	"github.com/coworks-go/cws/internal/testutil"
)

// runtimeAPI is a minimal Lambda Runtime API (the endpoints a custom runtime
// calls): it hands out the queued events and collects the answers.
type runtimeAPI struct {
	events  chan string
	answers chan answer
}

type answer struct {
	id      string
	kind    string // "response", "error" or "init-error"
	payload []byte
}

func (rt *runtimeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	const prefix = "/2018-06-01/runtime/"
	path := strings.TrimPrefix(r.URL.Path, prefix)
	switch {
	case r.Method == "GET" && path == "invocation/next":
		select {
		case ev := <-rt.events:
			id, event, _ := strings.Cut(ev, " ")
			w.Header().Set("Lambda-Runtime-Aws-Request-Id", id)
			w.Header().Set("Lambda-Runtime-Deadline-Ms", fmt.Sprint(time.Now().Add(30*time.Second).UnixMilli()))
			w.Header().Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:eu-west-1:123456789012:function:crud")
			w.Header().Set("Lambda-Runtime-Trace-Id", "Root=1-6740f0a0-0123456789abcdef01234567;Sampled=0")
			_, _ = io.WriteString(w, event)
		case <-r.Context().Done():
		}
	case r.Method == "POST" && path == "init/error":
		b, _ := io.ReadAll(r.Body)
		rt.answers <- answer{kind: "init-error", payload: b}
		w.WriteHeader(http.StatusAccepted)
	case r.Method == "POST" && strings.HasPrefix(path, "invocation/"):
		rest := strings.TrimPrefix(path, "invocation/")
		id, kind, _ := strings.Cut(rest, "/")
		b, _ := io.ReadAll(r.Body)
		rt.answers <- answer{id: id, kind: kind, payload: b}
		w.WriteHeader(http.StatusAccepted)
	default:
		http.NotFound(w, r)
	}
}

// TestLambdaRuntimeLoop builds examples/crud as Lambda would run it and
// drives it through the Lambda Runtime API: the same binary as `make run`,
// answering API Gateway and authorizer events.
func TestLambdaRuntimeLoop(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "bootstrap")
	build := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", bin, "./examples/crud")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the example for Lambda: %v\n%s", err, out)
	}

	rt := &runtimeAPI{events: make(chan string, 8), answers: make(chan answer, 8)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: rt}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "AWS_LAMBDA_RUNTIME_API="+ln.Addr().String(), "TOKEN=lambda-token",
		"AWS_LAMBDA_FUNCTION_NAME=crud", "AWS_LAMBDA_FUNCTION_VERSION=$LATEST", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128")
	logs := &testutil.SyncBuffer{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()

	invoke := func(id, event string) answer {
		t.Helper()
		rt.events <- id + " " + event
		select {
		case a := <-rt.answers:
			if a.id != id {
				t.Fatalf("answer for %q, want %q: %s", a.id, id, a.payload)
			}
			return a
		case <-time.After(30 * time.Second):
			t.Fatalf("no answer to %s\n%s", id, logs.String())
		}
		return answer{}
	}
	v2 := func(method, path, token, body string) string {
		ev := map[string]any{
			"version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": "",
			"headers": map[string]string{"authorization": token, "content-type": "application/json"},
			"requestContext": map[string]any{"http": map[string]string{"method": method, "path": path, "sourceIp": "198.51.100.7"},
				"domainName": "abc.execute-api.eu-west-1.amazonaws.com", "stage": "$default", "requestId": "r"},
			"body": body, "isBase64Encoded": false,
		}
		b, _ := json.Marshal(ev)
		return string(b)
	}
	type proxyResponse struct {
		StatusCode int               `json:"statusCode"`
		Headers    map[string]string `json:"headers"`
		Body       string            `json:"body"`
	}
	for _, tc := range []struct {
		id, event string
		status    int
		body      string
	}{
		{"req-1", v2("GET", "/service/test", "", ""), 200, "service test"},
		{"req-2", v2("POST", "/", "lambda-token", `{"name":"lamp","price":20}`), 201, `{"id":1,"name":"lamp","price":20,"tags":[]}`},
		{"req-3", v2("GET", "/", "lambda-token", ""), 200, `[{"id":1,"name":"lamp","price":20,"tags":[]}]`},
		{"req-4", v2("GET", "/", testutil.WrongToken, ""), 403, ""},
		{"req-5", v2("GET", "/content/a b/c", "lambda-token", ""), 200, "get content with a b and c"}, // HTTP APIs deliver the path decoded
	} {
		a := invoke(tc.id, tc.event)
		var resp proxyResponse
		if err := json.Unmarshal(a.payload, &resp); err != nil || a.kind != "response" {
			t.Fatalf("%s: %s %s (%v)", tc.id, a.kind, a.payload, err)
		}
		if resp.StatusCode != tc.status || (tc.body != "" && resp.Body != tc.body) {
			t.Errorf("%s: %d %s, want %d %s", tc.id, resp.StatusCode, resp.Body, tc.status, tc.body)
		}
	}

	a := invoke("auth-1", `{"type":"TOKEN","authorizationToken":"lambda-token","methodArn":"arn:aws:execute-api:eu-west-1:123456789012:abc/prod/GET/"}`)
	if a.kind != "response" || !strings.Contains(string(a.payload), `"Effect":"Allow"`) {
		t.Errorf("authorizer: %s %s", a.kind, a.payload)
	}
	a = invoke("bad-1", `{"Records":[{"eventSource":"aws:s3"}]}`)
	if a.kind != "error" || !strings.Contains(string(a.payload), "unsupported Lambda event") {
		t.Errorf("unsupported event: %s %s", a.kind, a.payload)
	}
	// The function keeps serving after an error.
	if a = invoke("req-6", v2("GET", "/service/test", "", "")); a.kind != "response" {
		t.Errorf("after an error: %s %s", a.kind, a.payload)
	}
	if l := logs.String(); !strings.Contains(l, `"level"`) {
		t.Errorf("logs on Lambda are not JSON: %s", l)
	}
}

// TestRunModes runs the example in the modes the command line uses.
func TestRunModes(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "crud")
	if out, err := exec.Command("go", "build", "-o", bin, "./examples/crud").CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	run := func(env ...string) (string, string, error) {
		cmd := exec.Command(bin)
		cmd.Env = append(os.Environ(), env...)
		var o, e strings.Builder
		cmd.Stdout, cmd.Stderr = &o, &e
		err := cmd.Run()
		return o.String(), e.String(), err
	}
	out, _, err := run("CWS_MODE=routes", "CWS_STAGE=test")
	var desc struct {
		Service, Stage string
		Routes         []json.RawMessage
	}
	if err != nil || json.Unmarshal([]byte(out), &desc) != nil || desc.Service != "crud" || desc.Stage != "test" || len(desc.Routes) != 12 {
		t.Errorf("routes mode: %v %s", err, out)
	}
	_, errOut, err := run("CWS_MODE=frobnicate")
	if err == nil || !strings.Contains(errOut, "unknown CWS_MODE") || !strings.Contains(errOut, "frobnicate") {
		t.Errorf("unknown mode: %v %s", err, errOut)
	}
	// Built without -tags cwscommands, the binary has no command machinery.
	for _, mode := range []string{"commands", "command"} {
		out, errOut, err := run("CWS_MODE=" + mode)
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 || out != "" || !strings.Contains(errOut, "need the binary built with -tags cwscommands: run `cws do`") {
			t.Errorf("CWS_MODE=%s without the tag: %v %q %s", mode, err, out, errOut)
		}
	}

	// The local server stops cleanly on SIGTERM.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "CWS_ADDR="+addr)
	logs := &testutil.SyncBuffer{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/service/test")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server did not start: %s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = cmd.Process.Signal(os.Interrupt)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exit after SIGINT: %v\n%s", err, logs.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("no exit after SIGINT")
	}
	if !strings.Contains(logs.String(), "msg=stopped") {
		t.Errorf("logs: %s", logs.String())
	}
}

// localService builds and starts the example in pkg on a free port with
// the token local-token; do calls it with the token, logs holds its logs.
func localService(t *testing.T, pkg string) (do func(method, path, contentType, body string) (int, string), logs *testutil.SyncBuffer) {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "svc")
	if out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "CWS_ADDR="+addr, "TOKEN=local-token")
	logs = &testutil.SyncBuffer{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() })
	base := "http://" + addr
	do = func(method, path, contentType, body string) (int, string) {
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "local-token")
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if conn, err := net.Dial("tcp", addr); err == nil {
			conn.Close()
			return do, logs
		}
		if time.Now().After(deadline) {
			t.Fatalf("the service did not start: %s", logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitFor polls until the logs contain every string.
func waitFor(t *testing.T, logs *testutil.SyncBuffer, deadline time.Time, want ...string) {
	t.Helper()
	for _, s := range want {
		for !strings.Contains(logs.String(), s) {
			if time.Now().After(deadline) {
				t.Fatalf("the logs lack %q:\n%s", s, logs)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// examples/biz under the embedded default: a notification posted to the
// local events endpoint starts the invoicing workflow (an alert for the
// large order, the invoices mailed); an invoice that cannot be mailed
// raises an alert and fails its execution, shown at /_cws/executions.
func TestBizThroughLocalRuntime(t *testing.T) {
	do, logs := localService(t, "./examples/biz")
	deadline := time.Now().Add(20 * time.Second)
	order := func(id, customer string, total int) string {
		return fmt.Sprintf(`{"specversion":"1.0","id":%q,"source":"shop","type":"order.completed","datacontenttype":"application/json",`+
			`"data":{"order":%q,"customer":%q,"total":%d}}`, id, id, customer, total)
	}
	for _, e := range []string{order("A-1", "ann@example.com", 1200), order("A-2", "bob@example.com", 50)} {
		if status, body := do("POST", "/_cws/events", "application/cloudevents+json", e); status != 202 {
			t.Fatalf("posting %s: %d %s", e, status, body)
		}
	}
	poll := func(path, want string) {
		for {
			status, body := do("GET", path, "", "")
			if status == 200 && body == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("GET %s = %d %s, want %s\n%s", path, status, body, want, logs)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	poll("/alerts", `[{"level":"warning","message":"large order A-1 of 1200"}]`)
	for {
		_, body := do("GET", "/mail/outbox", "", "")
		if strings.Contains(body, `"recipients":["ann@example.com"]`) && strings.Contains(body, `"recipients":["bob@example.com"]`) {
			if !strings.Contains(body, `INVOICE`) {
				t.Errorf("the mail does not carry the rendered invoice: %s", body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("mails: %s\n%s", body, logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// An invoice that cannot be mailed: the workflow's Catch raises an
	// alert, and the execution fails as its definition says.
	if status, body := do("POST", "/_cws/events", "application/cloudevents+json", order("A-3", "nobody", 10)); status != 202 {
		t.Fatalf("posting the bad order: %d %s", status, body)
	}
	poll("/alerts", `[{"level":"warning","message":"large order A-1 of 1200"},{"level":"error","message":"invoice 3 was not mailed to nobody (cws.Status.422)"}]`)
	waitFor(t, logs, deadline, `msg="workflow failed" workflow=invoicing execution=completed-orders-A-3 status=FAILED`, "error=InvoiceNotMailed")
	for {
		status, body := do("GET", "/_cws/executions/completed-orders-A-3", "", "")
		if status == 200 && strings.Contains(body, `"status": "FAILED"`) {
			if !strings.Contains(body, `"error": "InvoiceNotMailed"`) || !strings.Contains(body, `"type": "FailStateEntered"`) {
				t.Errorf("the failed execution: %s", body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET the execution: %d %s\n%s", status, body, logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	_, invoices := do("GET", "/invoices", "", "")
	if strings.Count(invoices, `"order":`) != 3 {
		t.Errorf("invoices: %s", invoices)
	}
	_, list := do("GET", "/_cws/executions", "", "")
	if strings.Count(list, `"executionArn"`) != 3 {
		t.Errorf("executions: %s", list)
	}
}

// reactive has reactors but is run without the CloudEvents doors.
type reactive struct{}

func (reactive) GetText(context.Context) string { return "text" }

func (reactive) Reactors() map[string]biz.Reactor { return nil }

func TestReactorsNeedTheDoors(t *testing.T) {
	err := cws.Run(context.Background(), reactive{})
	if err == nil || !strings.Contains(err.Error(), "reactors") || !strings.Contains(err.Error(), "async.Doors()") {
		t.Errorf("Run of a service with reactors and no doors: %v", err)
	}
}

// The examples' binaries link what their doors need: the HTTP-only crud
// none of the event machinery nor AWS's SDK, the biz example both.
func TestExamplesLinkTheirDoors(t *testing.T) {
	deps := func(pkg string, tags ...string) string {
		out, err := exec.Command("go", "list", "-deps", "-tags", strings.Join(append([]string{"lambda.norpc"}, tags...), ","), pkg).Output()
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}
	crud := deps("./examples/crud")
	for _, p := range []string{"github.com/aws/aws-sdk-go-v2", "github.com/cloudevents/sdk-go", "go.uber.org/zap",
		"github.com/coworks-go/cws/events", "github.com/coworks-go/cws/async", "github.com/spf13/cobra", "github.com/testcontainers",
		"github.com/coworks-go/cws/openapi", "github.com/getkin/kin-openapi"} {
		if strings.Contains(crud, p) {
			t.Errorf("examples/crud links %s", p)
		}
	}
	// The OpenAPI generator only in the binary cws openapi builds, the
	// command machinery (and the flag package) only in the one cws do
	// builds.
	if described := deps("./examples/crud", "cwsopenapi"); !strings.Contains(described, "github.com/coworks-go/cws/openapi\n") {
		t.Error("examples/crud built with -tags cwsopenapi does not link the generator")
	}
	for _, p := range []string{"github.com/coworks-go/cws/command\n", "\nflag\n"} {
		if strings.Contains(crud, p) {
			t.Errorf("examples/crud links %s", strings.TrimSpace(p))
		}
	}
	withCommands := deps("./examples/crud", "cwscommands")
	for _, p := range []string{"github.com/coworks-go/cws/command\n", "\nflag\n"} {
		if !strings.Contains(withCommands, p) {
			t.Errorf("examples/crud built with -tags cwscommands does not link %s", strings.TrimSpace(p))
		}
	}
	biz := deps("./examples/biz")
	for _, p := range []string{"github.com/aws/aws-sdk-go-v2/service/sqs", "github.com/coworks-go/cws/async", "github.com/coworks-go/cws/biz"} {
		if !strings.Contains(biz, p) {
			t.Errorf("examples/biz does not link %s", p)
		}
	}
	// biz mounts the admin blueprint: its deployed binary still links no
	// OpenAPI generator (kin-openapi's JSON Schema package alone spends
	// about 4 ms of a cold start in init), the one cws run builds does.
	for _, p := range []string{"go.uber.org/zap", "github.com/spf13/cobra", "github.com/testcontainers",
		"github.com/coworks-go/cws/openapi", "github.com/getkin/kin-openapi", "github.com/santhosh-tekuri/jsonschema",
		// nor the DynamoDB store it does not import (2.4 MB)
		"github.com/coworks-go/cws/events/dynamostore", "github.com/aws/aws-sdk-go-v2/service/dynamodb"} {
		if strings.Contains(biz, p) {
			t.Errorf("examples/biz links %s", p)
		}
	}
}
