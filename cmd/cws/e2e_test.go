package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coworks-go/cws/internal/testutil"
)

// These tests build the cws command and drive it as a user would, on the
// examples/crud service and on a service made by `cws new`.

var (
	buildOnce sync.Once
	cwsBin    string
	buildErr  error
)

// repoRoot is the module root, two levels up from cmd/cws.
var repoRoot, _ = filepath.Abs(filepath.Join("..", ".."))

func cwsCommand(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "cws-e2e-")
		if err != nil {
			buildErr = err
			return
		}
		cwsBin = filepath.Join(dir, "cws")
		out, err := exec.Command("go", "build", "-o", cwsBin, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("building cws: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return cwsBin
}

// cleanEnv is the test's environment without the variables the service's
// .env must provide.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k != "TOKEN" && k != "CWS_STAGE" && k != "CWS_ADDR" {
			env = append(env, kv)
		}
	}
	return env
}

// runCws runs cws to completion in dir.
func runCws(t *testing.T, dir string, stdin io.Reader, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(cwsCommand(t), args...)
	cmd.Dir = dir
	cmd.Env = cleanEnv()
	cmd.Stdin = stdin
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}

func TestRoutesCommand(t *testing.T) {
	out, errOut, code := runCws(t, repoRoot, nil, "routes", "./examples/crud")
	want := `METHOD  PATH                      ENTRY           AUTH   STAGES
GET     /                         Get             token  all
POST    /                         Post            token  all
GET     /content                  GetContent      token  all
GET     /content/{value}          GetContent_     token  all
GET     /content/{value}/{other}  GetContent__    token  all
GET     /kwargs                   GetKwargs       token  all
GET     /logo                     GetLogo         none   all
GET     /service/test             GetServiceTest  none   all
GET     /typed                    GetTyped        token  all
GET     /{id}                     Get_            token  all
PUT     /{id}                     Put_            token  all
DELETE  /{id}                     Delete_         token  all
`
	if code != 0 || out != want {
		t.Errorf("cws routes: exit %d\n%s\nwant\n%s\nstderr: %s", code, out, want, errOut)
	}

	out, _, code = runCws(t, repoRoot, nil, "routes", "./examples/crud", "--json", "--stage", "prod")
	var desc struct {
		Service, Stage string
		Routes         []struct{ Path, Doc string }
	}
	if err := json.Unmarshal([]byte(out), &desc); err != nil || code != 0 {
		t.Fatalf("--json: %v %s", err, out)
	}
	if desc.Service != "crud" || desc.Stage != "prod" || len(desc.Routes) != 12 || desc.Routes[0].Doc != "Get lists the items, by id." {
		t.Errorf("--json: %+v", desc)
	}

	_, errOut, code = runCws(t, repoRoot, nil, "routes", "./runtime")
	if code == 0 || !strings.Contains(errOut, "not a main package") {
		t.Errorf("routes of a library: exit %d, %s", code, errOut)
	}
	_, errOut, code = runCws(t, repoRoot, nil, "routes", "./nonesuch")
	if code == 0 || !strings.Contains(errOut, "nonesuch") {
		t.Errorf("routes of a missing package: exit %d, %s", code, errOut)
	}
}

func TestReactorsCommand(t *testing.T) {
	out, errOut, code := runCws(t, repoRoot, nil, "reactors", "./examples/biz")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 3 || !strings.HasPrefix(lines[0], "REACTOR") {
		t.Fatalf("cws reactors: exit %d\n%s\nstderr: %s", code, out, errOut)
	}
	for i, want := range []string{
		`invoicing  completed-orders  invoicing-completed-orders  {"detail-type":["order.completed"]}`,
		`reminder   standup           reminder-standup            cron(0 9 ? * MON-FRI *)  next `,
	} {
		if !strings.HasPrefix(lines[i+1], want) {
			t.Errorf("line %d: %q, want %q…", i+1, lines[i+1], want)
		}
	}
	next, err := time.Parse(time.RFC3339, lines[2][strings.LastIndex(lines[2], " ")+1:])
	if err != nil || next.Hour() != 9 || next.Weekday() == time.Saturday || next.Weekday() == time.Sunday || !next.After(time.Now()) {
		t.Errorf("next fire time %v %v", next, err)
	}
	out, _, code = runCws(t, repoRoot, nil, "reactors", "./examples/crud")
	if code != 0 || out != "no reactors\n" {
		t.Errorf("a service without reactors: exit %d %q", code, out)
	}
}

func TestInvokeCommand(t *testing.T) {
	invoke := func(event string) (map[string]any, string, int) {
		t.Helper()
		out, errOut, code := runCws(t, repoRoot, nil, "invoke", "./examples/crud", "--event", "examples/crud/events/"+event)
		var resp map[string]any
		if code == 0 {
			if err := json.Unmarshal([]byte(out), &resp); err != nil {
				t.Fatalf("%s: %v\n%s", event, err, out)
			}
		}
		return resp, errOut, code
	}
	for _, tc := range []struct {
		event  string
		status float64
		body   string
	}{
		{"service-test.json", 200, "service test"},
		{"get-content.json", 200, "get content with hello and world"},
		{"typed.json", 200, `{"flag":true,"ids":[1,2],"n":3}`},
		{"post-item.json", 201, `{"id":1,"name":"pen","price":1.5,"tags":["office"]}`},
		{"no-token.json", 401, ""},
	} {
		resp, errOut, code := invoke(tc.event)
		if code != 0 || resp["statusCode"] != tc.status || (tc.body != "" && resp["body"] != tc.body) {
			t.Errorf("%s: exit %d %v\n%s", tc.event, code, resp, errOut)
		}
	}
	resp, _, _ := invoke("authorizer.json")
	if doc, _ := resp["policyDocument"].(map[string]any); doc == nil || !strings.Contains(fmt.Sprint(doc), "Allow") {
		t.Errorf("authorizer: %v", resp)
	}

	out, errOut, code := runCws(t, repoRoot, strings.NewReader(`{"Records":[{"eventSource":"aws:s3"}]}`), "invoke", "./examples/crud", "--event", "-")
	if code != 1 || !strings.Contains(out, `"errorMessage"`) || !strings.Contains(errOut, "unsupported Lambda event") {
		t.Errorf("unsupported event: exit %d\n%s\n%s", code, out, errOut)
	}
	_, errOut, code = runCws(t, repoRoot, strings.NewReader(`not json`), "invoke", "./examples/crud", "--event", "-")
	if code != 2 || !strings.Contains(errOut, "not JSON") {
		t.Errorf("invalid event: exit %d %s", code, errOut)
	}
	_, errOut, code = runCws(t, repoRoot, nil, "invoke", "./examples/crud", "--event", "nonesuch.json")
	if code == 0 || !strings.Contains(errOut, "nonesuch.json") {
		t.Errorf("missing event file: exit %d %s", code, errOut)
	}
}

// server is a running `cws run`.
type server struct {
	t     *testing.T
	token string // sent by waitFor
	cmd   *exec.Cmd
	base  string
	logs  *testutil.SyncBuffer
	done  chan error
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startRun starts `cws run` in dir and waits until probe answers 200 to
// a request with token.
func startRun(t *testing.T, dir, token, probe string, args ...string) *server {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(cwsCommand(t), append([]string{"run", "--addr", addr}, args...)...)
	cmd.Dir = dir
	cmd.Env = cleanEnv()
	s := &server{t: t, token: token, cmd: cmd, base: "http://" + addr, logs: &testutil.SyncBuffer{}, done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = s.logs, s.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
		}
	})
	s.waitFor(probe, "", 90*time.Second)
	return s
}

// waitFor polls GET path (with the server's token) until it answers 200,
// and body when body is set.
func (s *server) waitFor(path, body string, timeout time.Duration) {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	last := ""
	for time.Now().Before(deadline) {
		status, got, _ := s.do("GET", path, "", s.token)
		if status == 200 && (body == "" || got == body) {
			return
		}
		last = fmt.Sprintf("%d %q", status, got)
		select {
		case err := <-s.done:
			s.t.Fatalf("cws run exited: %v\n%s", err, s.logs)
		case <-time.After(200 * time.Millisecond):
		}
	}
	s.t.Fatalf("GET %s: no 200 %q within %v (last: %s)\n%s", path, body, timeout, last, s.logs)
}

func (s *server) do(method, path, body, token string) (int, string, http.Header) {
	return s.doType(method, path, "application/json", body, token)
}

// doType is do with the body's content type.
func (s *server) doType(method, path, contentType, body, token string) (int, string, http.Header) {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, s.base+path, r)
	if body != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error(), nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// stop sends SIGTERM and expects a clean exit.
func (s *server) stop() {
	s.t.Helper()
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		if err != nil {
			s.t.Errorf("cws run after SIGTERM: %v\n%s", err, s.logs)
		}
	case <-time.After(20 * time.Second):
		s.t.Errorf("cws run did not stop on SIGTERM\n%s", s.logs)
	}
}

// TestRunCrud serves examples/crud with `cws run` and checks every route of
// the table over HTTP.
func TestRunCrud(t *testing.T) {
	const tok = testutil.DevToken // from examples/crud/.env
	s := startRun(t, repoRoot, tok, "/service/test", "./examples/crud")
	type check struct {
		method, path, body, token string
		status                    int
		want                      string
	}
	for _, c := range []check{
		{"GET", "/service/test", "", "", 200, "service test"},
		{"GET", "/", "", "", 401, ""},
		{"GET", "/", "", testutil.WrongToken, 403, ""},
		{"GET", "/", "", tok, 200, "[]"},
		{"POST", "/", `{"name":"pen","price":1.5,"tags":["office"]}`, tok, 201, `{"id":1,"name":"pen","price":1.5,"tags":["office"]}`},
		{"POST", "/", `{"name":"mug","price":4}`, tok, 201, `{"id":2,"name":"mug","price":4,"tags":[]}`},
		{"POST", "/", `{"price":4}`, tok, 422, ""},
		{"POST", "/", `{"name":"x","colour":"red"}`, tok, 422, ""},
		{"POST", "/", `{"name":`, tok, 400, ""},
		{"GET", "/", "", tok, 200, `[{"id":1,"name":"pen","price":1.5,"tags":["office"]},{"id":2,"name":"mug","price":4,"tags":[]}]`},
		{"GET", "/1", "", tok, 200, `{"id":1,"name":"pen","price":1.5,"tags":["office"]}`},
		{"GET", "/9", "", tok, 404, ""},
		{"GET", "/abc", "", tok, 422, ""},
		{"PUT", "/1", `{"name":"pencil","price":0.5,"tags":["a","b"]}`, tok, 200, `{"id":1,"name":"pencil","price":0.5,"tags":["a","b"]}`},
		{"PUT", "/9", `{"name":"x"}`, tok, 404, ""},
		{"DELETE", "/2", "", tok, 204, ""},
		{"DELETE", "/2", "", tok, 404, ""},
		{"GET", "/", "", tok, 200, `[{"id":1,"name":"pencil","price":0.5,"tags":["a","b"]}]`},
		{"PATCH", "/1", "", tok, 405, ""},
		{"GET", "/content", "", tok, 200, "get content"},
		{"GET", "/content/abc", "", tok, 200, "get content with abc"},
		{"GET", "/content/a%20b/c", "", tok, 200, "get content with a b and c"},
		{"GET", "/typed?flag=yes&ids=1&ids=2&n=3", "", tok, 200, `{"flag":true,"ids":[1,2],"n":3}`},
		{"GET", "/typed?flag=0&ids=7", "", tok, 200, `{"flag":false,"ids":[7],"n":0}`},
		{"GET", "/typed", "", tok, 200, `{"flag":false,"ids":[],"n":0}`},
		{"GET", "/typed?n=x", "", tok, 422, ""},
		{"GET", "/typed?other=1", "", tok, 422, ""},
		{"GET", "/kwargs?a=1&b=x&b=y", "", tok, 200, `{"a":"1","b":["x","y"]}`},
		{"GET", "/nowhere/at/all", "", tok, 404, ""},
	} {
		status, body, h := s.do(c.method, c.path, c.body, c.token)
		if status != c.status || (c.want != "" && body != c.want) {
			t.Errorf("%s %s: %d %s\nwant %d %s", c.method, c.path, status, body, c.status, c.want)
		}
		if status >= 400 && h.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s %s: error Content-Type %q", c.method, c.path, h.Get("Content-Type"))
		}
		if c.method == "POST" && status == 201 && !strings.HasPrefix(h.Get("Location"), "/") {
			t.Errorf("POST: Location %q", h.Get("Location"))
		}
	}
	s.stop()
	if logs := s.logs.String(); !strings.Contains(logs, "running crud (github.com/coworks-go/cws/examples/crud, stage dev)") {
		t.Errorf("logs:\n%s", logs)
	}
}

// TestNewRunRebuild scaffolds a service with `cws new`, tests it, serves it
// with `cws run` and edits it while it runs.
func TestNewRunRebuild(t *testing.T) {
	work := t.TempDir()
	_, errOut, code := runCws(t, work, nil, "new", "hello")
	if code != 0 {
		t.Fatalf("cws new: exit %d\n%s", code, errOut)
	}
	dir := filepath.Join(work, "hello")
	for _, f := range []string{"main.go", "main_test.go", ".env", "cws.yaml", "README.md", "go.mod", "go.sum", "cws_gen.go"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("cws new did not write %s: %v", f, err)
		}
	}
	if _, errOut, code = runCws(t, work, nil, "new", "hello"); code != 2 || !strings.Contains(errOut, "not empty") {
		t.Errorf("cws new over a service: exit %d %s", code, errOut)
	}

	test := exec.Command("go", "test", "./...")
	test.Dir = dir
	test.Env = cleanEnv()
	if out, err := test.CombinedOutput(); err != nil {
		t.Fatalf("go test in the new service: %v\n%s", err, out)
	}
	out, _, code := runCws(t, dir, nil, "routes")
	if code != 0 || !strings.Contains(out, "/hello/{name}") {
		t.Errorf("cws routes in the new service: %d\n%s", code, out)
	}
	// Its project file deploys it: package what deploy would.
	out, errOut, code = runCws(t, dir, nil, "package", "--stage", "prod", "-o", filepath.Join(work, "pkg"))
	tpl, _ := os.ReadFile(filepath.Join(work, "pkg", "template.json"))
	if code != 0 || !strings.Contains(out, "stack hello-prod") || !strings.Contains(string(tpl), `"MemorySize": 512`) {
		t.Errorf("cws package in the new service: %d\n%s%s", code, out, errOut)
	}

	env, _ := os.ReadFile(filepath.Join(dir, ".env"))
	token := strings.TrimSpace(strings.TrimPrefix(strings.Split(string(env), "\n")[1], "TOKEN="))
	s := startRun(t, dir, token, "/")
	if status, body, _ := s.do("GET", "/hello/gopher?shout=yes", "", token); status != 200 || body != "HELLO GOPHER" {
		t.Errorf("new service: %d %s", status, body)
	}

	// Edit the service while it runs: a new entry appears.
	main := filepath.Join(dir, "main.go")
	src, _ := os.ReadFile(main)
	edited := strings.Replace(string(src), "func main() {", "// GetAdded answers after a rebuild.\nfunc (s *Service) GetAdded(ctx context.Context) string { return \"rebuilt\" }\n\nfunc main() {", 1)
	if err := os.WriteFile(main, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	s.waitFor("/added", "rebuilt", 90*time.Second)

	// An edit that builds but does not start leaves the running service
	// alone, and says why.
	if err := os.WriteFile(main, []byte(strings.Replace(edited, "func main() {", "func main() {\n\tpanic(\"misconfigured on purpose\")", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(90 * time.Second)
	for !strings.Contains(s.logs.String(), "the new build does not start, the running one is kept") || !strings.Contains(s.logs.String(), "misconfigured on purpose") {
		if time.Now().After(deadline) {
			t.Fatalf("no start-up failure reported\n%s", s.logs)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if status, body, _ := s.do("GET", "/added", "", token); status != 200 || body != "rebuilt" {
		t.Errorf("after an edit that does not start: %d %s", status, body)
	}
	if !strings.Contains(s.logs.String(), "running hello (") {
		t.Errorf("cws run does not name the service as the service does:\n%s", s.logs)
	}

	// A broken edit leaves the running service alone.
	if err := os.WriteFile(main, []byte(edited+"\nfunc broken( {\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(60 * time.Second)
	for !strings.Contains(s.logs.String(), "build failed") {
		if time.Now().After(deadline) {
			t.Fatalf("no build failure reported\n%s", s.logs)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if status, body, _ := s.do("GET", "/added", "", token); status != 200 || body != "rebuilt" {
		t.Errorf("after a broken edit: %d %s", status, body)
	}
	s.stop()
}

func TestMain(m *testing.M) {
	code := m.Run()
	if cwsBin != "" {
		os.RemoveAll(filepath.Dir(cwsBin))
	}
	os.Exit(code)
}

// TestEventsPutLocal sends an invocation to examples/biz (a service with
// the CloudEvents doors) under cws run with cws events put.
func TestEventsPutLocal(t *testing.T) {
	const tok = testutil.DevToken
	s := startRun(t, repoRoot, tok, "/alerts", "./examples/biz")
	addr := strings.TrimPrefix(s.base, "http://")
	out, errOut, code := runCws(t, repoRoot, nil, "events", "put", "--addr", addr, "--token", tok,
		"--subject", "POST /alerts", "--data", `{"level":"info","message":"via-cli"}`, "--id", "cli-1")
	if code != 0 || strings.TrimSpace(out) != "cli-1" {
		t.Fatalf("events put: %d %q %s", code, out, errOut)
	}
	s.token = tok
	s.waitFor("/alerts", `[{"level":"info","message":"via-cli"}]`, 30*time.Second)

	_, errOut, code = runCws(t, repoRoot, nil, "events", "put", "--addr", addr, "--token", testutil.WrongToken, "--subject", "GET /alerts")
	if code != 1 || !strings.Contains(errOut, "403") {
		t.Errorf("a refused token: %d %s", code, errOut)
	}
	_, errOut, code = runCws(t, repoRoot, nil, "events", "put", "--addr", addr, "--token", tok, "--subject", "POST /alerts", "--data", "{")
	if code != 2 || !strings.Contains(errOut, "not JSON") {
		t.Errorf("invalid data: %d %s", code, errOut)
	}
	_, errOut, code = runCws(t, repoRoot, nil, "events", "put", "--to", "elsewhere", "--subject", "GET /alerts")
	if code != 2 || !strings.Contains(errOut, "--to") {
		t.Errorf("unknown target: %d %s", code, errOut)
	}
	s.stop()

	// examples/crud has the HTTP doors only: no events endpoint.
	c := startRun(t, repoRoot, tok, "/service/test", "./examples/crud")
	_, errOut, code = runCws(t, repoRoot, nil, "events", "put", "--addr", strings.TrimPrefix(c.base, "http://"), "--token", tok, "--subject", "GET /")
	if code != 1 || !strings.Contains(errOut, "404") {
		t.Errorf("events put to a service without CloudEvents doors: %d %s", code, errOut)
	}
	c.stop()
}

// TestInvokeOnRuntime runs examples/crud's Lambda binary under a Lambda
// Runtime API: two events to one environment, the first a cold start.
func TestInvokeOnRuntime(t *testing.T) {
	ev := "examples/crud/events/get-content.json"
	out, errOut, code := runCws(t, repoRoot, nil, "invoke", "./examples/crud", "--runtime", "--event", ev, "--event", ev)
	if code != 0 || strings.Count(out, `"body": "get content with hello and world"`) != 2 {
		t.Fatalf("invoke --runtime: exit %d\n%s\n%s", code, out, errOut)
	}
	var reports []string
	for _, l := range strings.Split(errOut, "\n") {
		if strings.HasPrefix(l, "REPORT RequestId: ") {
			reports = append(reports, l)
		}
	}
	if len(reports) != 2 || !strings.Contains(reports[0], "Init Duration: ") || strings.Contains(reports[1], "Init Duration") {
		t.Errorf("reports: %q", reports)
	}
	_, errOut, code = runCws(t, repoRoot, nil, "invoke", "./examples/crud", "--event", ev, "--event", ev)
	if code != 2 || !strings.Contains(errOut, "--runtime") {
		t.Errorf("several events without --runtime: exit %d %s", code, errOut)
	}
}

// TestPackageCommand: cws package writes the stack's template and the
// code's zip of examples/crud (arm64, the default) and examples/biz
// (x86_64) without AWS; the same source gives the same bytes; the
// templates pass cfn-lint; a stage the project file lacks and a mistake in
// it are errors naming them.
func TestPackageCommand(t *testing.T) {
	dir := t.TempDir()
	project := filepath.Join(dir, "cws.yaml")
	_ = os.WriteFile(project, []byte(fmt.Sprintf(`services:
  crud: %s
  office: %s
stages:
  prod:
    tags: {team: platform}
  intel:
    architecture: x86_64
`, filepath.Join(repoRoot, "examples/crud"), filepath.Join(repoRoot, "examples/biz"))), 0o644)
	pack := func(service, stage, out string) {
		t.Helper()
		stdout, stderr, code := runCws(t, repoRoot, nil, "package", service, "--project", project, "--stage", stage, "-o", out)
		if code != 0 || !strings.Contains(stdout, "stack "+map[string]string{"crud": "crud", "office": "office"}[service]+"-"+stage) {
			t.Fatalf("cws package %s: exit %d\n%s%s", service, code, stdout, stderr)
		}
	}
	lint := os.Getenv("CFN_LINT")
	if lint == "" {
		lint, _ = exec.LookPath("cfn-lint")
	}
	for _, c := range []struct{ service, stage, arch, zipKind string }{
		{"crud", "prod", "arm64", "ARM aarch64"}, {"office", "intel", "x86_64", "x86-64"},
	} {
		a, b := filepath.Join(dir, c.service+"-a"), filepath.Join(dir, c.service+"-b")
		pack(c.service, c.stage, a)
		pack(c.service, c.stage, b)
		zips, _ := filepath.Glob(filepath.Join(a, c.service, "*.zip"))
		if len(zips) != 1 {
			t.Fatalf("%s: zips %v", c.service, zips)
		}
		for _, f := range []string{"template.json", "parameters.json", "tags.json", strings.TrimPrefix(zips[0], a+"/")} {
			x, errA := os.ReadFile(filepath.Join(a, f))
			y, errB := os.ReadFile(filepath.Join(b, f))
			if errA != nil || errB != nil || !bytes.Equal(x, y) {
				t.Errorf("%s: two packages of the same source differ in %s (%v %v)", c.service, f, errA, errB)
			}
		}
		tpl, _ := os.ReadFile(filepath.Join(a, "template.json"))
		if !strings.Contains(string(tpl), `"`+c.arch+`"`) {
			t.Errorf("%s: the template's architecture is not %s", c.service, c.arch)
		}
		params, _ := os.ReadFile(filepath.Join(a, "parameters.json"))
		if !strings.Contains(string(params), strings.TrimPrefix(zips[0], a+"/")) {
			t.Errorf("%s: parameters.json does not name the zip: %s", c.service, params)
		}
		// The bootstrap is built for Lambda's Linux on the architecture.
		if out, err := unzipBootstrap(zips[0]); err != nil {
			t.Errorf("%s: %v", c.service, err)
		} else {
			if len(out) < 20 || string(out[1:4]) != "ELF" {
				t.Errorf("%s: the bootstrap is not an ELF executable", c.service)
			}
			machine := map[string]uint16{"arm64": 183, "x86_64": 62}[c.arch]
			if got := uint16(out[18]) | uint16(out[19])<<8; got != machine {
				t.Errorf("%s: the bootstrap's machine is %d, want %d (%s)", c.service, got, machine, c.zipKind)
			}
		}
		if lint != "" {
			if out, err := exec.Command(lint, filepath.Join(a, "template.json")).CombinedOutput(); err != nil {
				t.Errorf("cfn-lint %s: %v\n%s", c.service, err, out)
			}
		} else if os.Getenv("CI") != "" {
			t.Error("cfn-lint is missing in CI")
		}
	}
	crud, _ := os.ReadFile(filepath.Join(dir, "crud-a", "template.json"))
	office, _ := os.ReadFile(filepath.Join(dir, "office-a", "template.json"))
	if !strings.Contains(string(crud), `"image/png"`) || !strings.Contains(string(crud), `"ApiOpenGetLogo"`) || strings.Contains(string(crud), "AWS::SQS::Queue") {
		t.Error("crud's template lacks its open binary entry, or has a queue")
	}
	if strings.Count(string(office), `"AWS::Events::Rule"`) != 3 || !strings.Contains(string(office), `"office-intel-reminder-standup"`) ||
		!strings.Contains(string(office), `"office-intel-invoicing-completed-orders"`) {
		t.Error("office's template lacks its rules")
	}

	_, stderr, code := runCws(t, repoRoot, nil, "package", "crud", "--project", project, "--stage", "staging", "-o", dir)
	if code != 1 || !strings.Contains(stderr, "stage staging: "+project+" has no such stage") {
		t.Errorf("an unknown stage: exit %d %s", code, stderr)
	}
	_ = os.WriteFile(project, []byte("stages:\n  prod:\n    memory: lots\n"), 0o644)
	_, stderr, code = runCws(t, repoRoot, nil, "package", "./examples/crud", "--project", project, "--stage", "prod", "-o", dir)
	if code != 1 || !strings.Contains(stderr, project+`:3: stages.prod.memory: "lots" is not a whole number`) {
		t.Errorf("a bad project file: exit %d %s", code, stderr)
	}
	_, stderr, code = runCws(t, repoRoot, nil, "package", "./examples/crud")
	if code != 2 || !strings.Contains(stderr, "-o OUT is required") {
		t.Errorf("no -o: exit %d %s", code, stderr)
	}
}

// unzipBootstrap reads the bootstrap of a function's zip.
func unzipBootstrap(path string) ([]byte, error) {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	f, err := zr.Open("bootstrap")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// TestWorkflowsCommand: cws workflows lists examples/biz's workflow; run
// runs a pure workflow file (output, exit 0), a failing one ({"error",
// "cause"}, exit 1), an invalid one (InvalidDefinition, exit 2), and the
// invoicing workflow against examples/biz's entries (--service); graph
// draws it as Mermaid and as SVG.
func TestWorkflowsCommand(t *testing.T) {
	out, errOut, code := runCws(t, repoRoot, nil, "workflows", "./examples/biz")
	if code != 0 || !strings.Contains(out, "invoicing  workflows/invoicing.asl.yaml  8       invoicing-completed-orders {\"detail-type\":[\"order.completed\"]}") {
		t.Errorf("cws workflows: exit %d\n%s%s", code, out, errOut)
	}
	dir := t.TempDir()
	write := func(name, def string) string {
		p := filepath.Join(dir, name)
		_ = os.WriteFile(p, []byte(def), 0o644)
		return p
	}
	pure := write("pure.asl.yaml", `StartAt: Greet
States:
  Greet:
    Type: Pass
    Parameters:
      text.$: States.Format('Hello, {}', $.name)
    Next: Check
  Check:
    Type: Choice
    Choices:
      - Variable: $.text
        StringEquals: Hello, nobody
        Next: Refuse
    Default: Done
  Refuse:
    Type: Fail
    Error: Nobody
    Cause: nobody to greet
  Done:
    Type: Succeed
`)
	out, _, code = runCws(t, repoRoot, nil, "workflows", "run", pure, "--input", `{"name":"Ann"}`)
	if code != 0 || strings.TrimSpace(out) != "{\n  \"text\": \"Hello, Ann\"\n}" {
		t.Errorf("a pure workflow: exit %d %s", code, out)
	}
	out, _, code = runCws(t, repoRoot, strings.NewReader(`{"name":"nobody"}`), "workflows", "run", pure, "--input", "-")
	if code != 1 || !strings.Contains(out, `"error": "Nobody"`) || !strings.Contains(out, `"cause": "nobody to greet"`) {
		t.Errorf("a failing workflow: exit %d %s", code, out)
	}
	bad := write("bad.asl.json", `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"Nowhere"}}}`)
	_, errOut, code = runCws(t, repoRoot, nil, "workflows", "run", bad)
	if code != 2 || !strings.Contains(errOut, "InvalidDefinition") || !strings.Contains(errOut, "MISSING_TRANSITION_TARGET: Missing 'Next' target: Nowhere at /States/A/Next") {
		t.Errorf("an invalid workflow: exit %d %s", code, errOut)
	}
	// A task without a service fails, saying why.
	input := `{"detail-type":"order.completed","source":"shop","detail":{"data":{"order":"W-1","customer":"ann@example.com","total":1500}}}`
	out, _, code = runCws(t, repoRoot, nil, "workflows", "run", filepath.Join(repoRoot, "examples/biz/workflows/invoicing.asl.yaml"), "--input", input)
	if code != 1 || !strings.Contains(out, "States.TaskFailed") || !strings.Contains(out, "--service") {
		t.Errorf("a task without a service: exit %d %s", code, out)
	}
	// With examples/biz's entries, in process.
	out, errOut, code = runCws(t, repoRoot, nil, "workflows", "run", "examples/biz/workflows/invoicing.asl.yaml",
		"--service", "./examples/biz", "--input", input, "--history")
	if code != 0 || !strings.Contains(out, `"order": "W-1"`) || !strings.Contains(out, `"id": 1`) ||
		!strings.Contains(errOut, `"type":"TaskSucceeded"`) || !strings.Contains(errOut, `"name":"AlertLargeOrder"`) ||
		!strings.Contains(errOut, `published`) {
		t.Errorf("invoicing with --service: exit %d\n%s\n%s", code, out, errOut)
	}

	out, _, code = runCws(t, repoRoot, nil, "workflows", "graph", "examples/biz/workflows/invoicing.asl.yaml", "--format", "mermaid")
	for _, want := range []string{"flowchart TD", `s2{"IsLarge"}`, `s2 -->|"$.invoice.total ≥ 1000"| s3`, `s4 -.->|"on States.ALL"| s6`, "class s7 fail"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("mermaid lacks %q (exit %d):\n%s", want, code, out)
		}
	}
	svg := filepath.Join(dir, "invoicing.svg")
	if _, errOut, code = runCws(t, repoRoot, nil, "workflows", "graph", "examples/biz/workflows/invoicing.asl.yaml", "-o", svg); code != 0 {
		t.Fatalf("graph -o: %s", errOut)
	}
	data, _ := os.ReadFile(svg)
	var doc struct {
		XMLName xml.Name
		Texts   []string `xml:"text"`
	}
	if err := xml.Unmarshal(data, &doc); err != nil || doc.XMLName.Local != "svg" {
		t.Fatalf("not an SVG: %v", err)
	}
	texts := strings.Join(doc.Texts, "|")
	for _, want := range []string{"CreateInvoice", "POST /invoices", "IsLarge", "retries cws.Status.5xx ×3", "NotMailed", "otherwise", "on States.ALL"} {
		if !strings.Contains(texts, want) {
			t.Errorf("the SVG lacks %q: %s", want, texts)
		}
	}
	_, errOut, code = runCws(t, repoRoot, nil, "workflows", "graph", pure, "--format", "png")
	if code != 2 || !strings.Contains(errOut, "--format is svg or mermaid") {
		t.Errorf("a bad format: exit %d %s", code, errOut)
	}
}

// TestTemplatesRender: cws templates render prints exactly what the
// template renders (autoescaped by its name, or as asked); a syntax error
// exits 2 naming the line; a missing template exits 1.
func TestTemplatesRender(t *testing.T) {
	dir := t.TempDir()
	_ = os.WriteFile(filepath.Join(dir, "card.html"), []byte("{% for i in items %}<li>{{ i }}</li>{% endfor %}\n"), 0o644)
	_ = os.WriteFile(filepath.Join(dir, "bad.txt"), []byte("ok\n{{ x | }}"), 0o644)
	out, errOut, code := runCws(t, repoRoot, nil, "templates", "render", "card.html", "--dir", dir, "--context", `{"items":["a&b","c"]}`)
	if code != 0 || out != "<li>a&amp;b</li><li>c</li>" {
		t.Errorf("render: exit %d %q %s", code, out, errOut)
	}
	out, _, code = runCws(t, repoRoot, strings.NewReader(`{"items":["a&b"]}`), "templates", "render", "card.html", "--dir", dir, "--context", "-", "--no-autoescape")
	if code != 0 || out != "<li>a&b</li>" {
		t.Errorf("--no-autoescape: exit %d %q", code, out)
	}
	_, errOut, code = runCws(t, repoRoot, nil, "templates", "render", "bad.txt", "--dir", dir)
	if code != 2 || !strings.Contains(errOut, "template bad.txt, line 2") {
		t.Errorf("a syntax error: exit %d %s", code, errOut)
	}
	_, errOut, code = runCws(t, repoRoot, nil, "templates", "render", "nope.txt", "--dir", dir)
	if code != 1 || !strings.Contains(errOut, "no template nope.txt") {
		t.Errorf("a missing template: exit %d %s", code, errOut)
	}
}

// TestRunPapercuts: cws run of a directory that does not exist, or outside
// a Go module, exits at once saying so.
func TestRunPapercuts(t *testing.T) {
	_, errOut, code := runCws(t, repoRoot, nil, "run", "./nope")
	if code != 1 || !strings.Contains(errOut, "./nope: no such package directory") {
		t.Errorf("run ./nope: exit %d %s", code, errOut)
	}
	_, errOut, code = runCws(t, t.TempDir(), nil, "run", ".")
	if code != 1 || !strings.Contains(errOut, "is not in a Go module") {
		t.Errorf("run outside a module: exit %d %s", code, errOut)
	}
	out, _, code := runCws(t, repoRoot, nil, "--version")
	if code != 0 || !strings.HasPrefix(out, "cws ") {
		t.Errorf("--version: exit %d %q", code, out)
	}
}
