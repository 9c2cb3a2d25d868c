package localstack

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// fakeLocalStack answers /_localstack/health with the given statuses after
// notReady failed checks.
func fakeLocalStack(t *testing.T, notReady int32, services map[string]string) *httptest.Server {
	t.Helper()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/_localstack/health" {
			http.NotFound(w, r)
			return
		}
		if calls.Add(1) <= notReady {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, `{"services":{`)
		i := 0
		for k, v := range services {
			if i > 0 {
				fmt.Fprint(w, ",")
			}
			fmt.Fprintf(w, "%q:%q", k, v)
			i++
		}
		fmt.Fprint(w, `},"version":"4.14.0"}`)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// testOptions builds options with a fake environment and Docker check.
func testOptions(env map[string]string, docker error) []Option {
	return []Option{
		func(o *options) {
			o.env = func(k string) string { return env[k] }
			o.docker = func(context.Context) error { return docker }
		},
		WithStartTimeout(3 * time.Second),
	}
}

func TestStartFromEnvironment(t *testing.T) {
	all := map[string]string{}
	for _, svc := range DefaultServices {
		all[svc] = "available"
	}
	all["sqs"] = "running"
	srv := fakeLocalStack(t, 2, all)
	for _, v := range []string{"LOCALSTACK_ENDPOINT", "AWS_ENDPOINT_URL"} {
		inst, err := Start(context.Background(), testOptions(map[string]string{v: srv.URL + "/"}, errors.New("unused"))...)
		if err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		if inst.Endpoint != srv.URL || inst.Source != FromEnvironment || inst.Detail != v {
			t.Errorf("%s: %+v", v, inst)
		}
		if err := inst.Stop(context.Background()); err != nil {
			t.Errorf("Stop of an endpoint it did not start: %v", err)
		}
		if !strings.Contains(inst.String(), "(environment): "+v) {
			t.Errorf("String() = %s", inst)
		}
	}
	// LOCALSTACK_ENDPOINT wins over AWS_ENDPOINT_URL.
	inst, err := Start(context.Background(), testOptions(map[string]string{"LOCALSTACK_ENDPOINT": srv.URL, "AWS_ENDPOINT_URL": "http://127.0.0.1:1"}, nil)...)
	if err != nil || inst.Detail != "LOCALSTACK_ENDPOINT" {
		t.Errorf("both set: %+v %v", inst, err)
	}
}

func TestStartFromEnvironmentNotReady(t *testing.T) {
	srv := fakeLocalStack(t, 0, map[string]string{"sqs": "running", "events": "disabled"})
	_, err := Start(context.Background(), testOptions(map[string]string{"LOCALSTACK_ENDPOINT": srv.URL}, nil)...)
	if err == nil || !strings.Contains(err.Error(), "LOCALSTACK_ENDPOINT="+srv.URL) || !strings.Contains(err.Error(), "events=disabled") {
		t.Errorf("unready endpoint: %v", err)
	}
	_, err = Start(context.Background(), append(testOptions(map[string]string{"LOCALSTACK_ENDPOINT": srv.URL}, nil), WithServices("sqs"))...)
	if err != nil {
		t.Errorf("only sqs requested: %v", err)
	}
}

func TestStartUnavailable(t *testing.T) {
	opts := append(testOptions(nil, errors.New("no Docker socket")), WithCacheDir(t.TempDir()), WithPython("/nonexistent/python3"))
	_, err := Start(context.Background(), opts...)
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Start = %v, want ErrUnavailable", err)
	}
	for _, want := range []string{"Docker: no Docker socket", "host process: installing LocalStack: finding Python >= 3.13 failed",
		"LOCALSTACK_ENDPOINT", "make localstack", Image} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %q: %v", want, err)
		}
	}
}

// fakePython writes a script that answers --version like Python ver.
func fakePython(t *testing.T, ver string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "python3")
	if err := os.WriteFile(p, []byte("#!/bin/sh\necho Python "+ver+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestFindPython(t *testing.T) {
	ctx := context.Background()
	old := fakePython(t, "3.12.1")
	if _, err := findPython(ctx, newOptions([]Option{WithPython(old)})); err == nil || !strings.Contains(err.Error(), "needs 3.13 or later") {
		t.Errorf("Python 3.12: %v", err)
	}
	good := fakePython(t, "3.13.0")
	if p, err := findPython(ctx, newOptions([]Option{WithPython(good)})); err != nil || p != good {
		t.Errorf("Python 3.13: %s %v", p, err)
	}
	env := map[string]string{"CWS_PYTHON": fakePython(t, "3.14.2")}
	o := newOptions([]Option{func(o *options) { o.env = func(k string) string { return env[k] } }})
	if p, err := findPython(ctx, o); err != nil || p != env["CWS_PYTHON"] {
		t.Errorf("CWS_PYTHON: %s %v", p, err)
	}
}

func TestStepError(t *testing.T) {
	o := newOptions(nil)
	err := run(context.Background(), o, "pip install x", "sh", "-c", "echo Collecting x; echo ERROR: no matching distribution; exit 3")
	var se *StepError
	if !errors.As(err, &se) || se.Step != "pip install x" || !strings.Contains(se.Output, "no matching distribution") ||
		!strings.Contains(err.Error(), "installing LocalStack: pip install x failed: exit status 3") {
		t.Errorf("step error: %v", err)
	}
}

func TestInstallReusesAMarkedVenv(t *testing.T) {
	dir := t.TempDir()
	o := newOptions([]Option{WithCacheDir(dir), WithPython("/nonexistent/python3")})
	venvPython := filepath.Join(installDir(o), "venv", "bin", "python")
	if err := os.MkdirAll(filepath.Dir(venvPython), 0o755); err != nil {
		t.Fatal(err)
	}
	_ = os.WriteFile(venvPython, nil, 0o755)
	_ = os.WriteFile(filepath.Join(installDir(o), "installed"), []byte(markerContent()), 0o644)
	var progress strings.Builder
	o.progress = &progress
	p, err := install(context.Background(), o)
	if err != nil || p != venvPython || !strings.Contains(progress.String(), "reusing") {
		t.Errorf("install with a marked venv: %s %v %q", p, err, progress.String())
	}
	// A different pin (stale marker) installs again: here it fails at once
	// for want of Python, showing it did not reuse.
	_ = os.WriteFile(filepath.Join(installDir(o), "installed"), []byte("localstack-core==0.1 x\n"), 0o644)
	if _, err := install(context.Background(), o); err == nil || !strings.Contains(err.Error(), "finding Python") {
		t.Errorf("stale marker: %v", err)
	}
}

func TestHostEnv(t *testing.T) {
	t.Setenv("SERVICES", "s3")
	t.Setenv("GATEWAY_LISTEN", "0.0.0.0:4566")
	t.Setenv("LAMBDA_RUNTIME_EXECUTOR", "docker")
	env := hostEnv(4599, "/tmp/x", []string{"sqs", "events"}, "/tmp/plugin", "/usr/local/bin/cws")
	get := func(k string) []string {
		var vs []string
		for _, kv := range env {
			if key, v, _ := strings.Cut(kv, "="); key == k {
				vs = append(vs, v)
			}
		}
		return vs
	}
	for k, want := range map[string]string{
		"GATEWAY_LISTEN": "127.0.0.1:4599", "LOCALSTACK_HOST": "localhost:4599", "SQS_ENDPOINT_STRATEGY": "path",
		"DNS_ADDRESS": "0", "SERVICES": "sqs,events", "OVERRIDE_IN_DOCKER": "0", "FILESYSTEM_ROOT": "/tmp/x",
		"PYTHONPATH": "/tmp/plugin", "CFN_IGNORE_UNSUPPORTED_RESOURCE_TYPES": "0", "LAMBDA_RUNTIME_EXECUTOR": "cws",
		EnvExecutorBinary: "/usr/local/bin/cws",
	} {
		if got := get(k); !slices.Equal(got, []string{want}) {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
}

// The plugin is written once per content into the cache directory, as
// LocalStack finds it: a package with its entry points.
func TestInstallPlugin(t *testing.T) {
	o := newOptions([]Option{WithCacheDir(t.TempDir())})
	dir, err := installPlugin(o)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"cws_localstack/__init__.py", "cws_localstack-1.0.dist-info/METADATA", "cws_localstack-1.0.dist-info/entry_points.txt"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	ep, _ := os.ReadFile(filepath.Join(dir, "cws_localstack-1.0.dist-info/entry_points.txt"))
	if !strings.Contains(string(ep), "[localstack.lambda.runtime_executor]\ncws = cws_localstack:CwsRuntimeExecutorPlugin") {
		t.Errorf("entry points: %s", ep)
	}
	if again, err := installPlugin(o); err != nil || again != dir {
		t.Errorf("second install: %s %v", again, err)
	}
}

func TestAWSConfig(t *testing.T) {
	t.Setenv("AWS_PROFILE", "does-not-exist")
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_ENDPOINT_URL_SQS", "http://elsewhere")
	cfg := AWSConfig("http://127.0.0.1:4566")
	creds, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil || creds.AccessKeyID != "test" || cfg.Region != DefaultRegion || cfg.BaseEndpoint == nil || *cfg.BaseEndpoint != "http://127.0.0.1:4566" {
		t.Errorf("config: region %s endpoint %v creds %+v %v", cfg.Region, cfg.BaseEndpoint, creds, err)
	}
	t.Setenv("AWS_REGION", "eu-west-1")
	if cfg = AWSConfig("http://x"); cfg.Region != "eu-west-1" {
		t.Errorf("AWS_REGION: %s", cfg.Region)
	}
}

// TestAWSConfigRoutesClients: an SQS client built from AWSConfig calls the
// endpoint, whatever the environment says.
func TestAWSConfigRoutesClients(t *testing.T) {
	t.Setenv("AWS_ENDPOINT_URL_SQS", "http://127.0.0.1:1")
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
	var got atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Store(r.Header.Get("X-Amz-Target") + " " + r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		fmt.Fprint(w, `{"QueueUrls":["http://localhost/queue/q"]}`)
	}))
	defer srv.Close()
	out, err := sqs.NewFromConfig(AWSConfig(srv.URL)).ListQueues(context.Background(), &sqs.ListQueuesInput{})
	if err != nil || len(out.QueueUrls) != 1 {
		t.Fatalf("ListQueues: %v %v", out, err)
	}
	if s, _ := got.Load().(string); !strings.HasPrefix(s, "AmazonSQS.ListQueues AWS4-HMAC-SHA256 Credential=test/") {
		t.Errorf("request: %q", s)
	}
}
