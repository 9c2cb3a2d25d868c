package deploy

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLoadProject(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	writeFile(t, path, `# a project
services:
  shop: services/shop
  office: /abs/office
stages:
  dev: {}
  prod:
    region: eu-west-3
    profile: acme-prod
    architecture: x86_64
    memory: 512
    timeout: 30
    reserved_concurrency: 20
    log_retention: 90
    queue:
      visibility_timeout: 200
      max_receives: 3
      batch_size: 100
      batch_window: 5
      maximum_concurrency: 50
    artifact_bucket: acme-artifacts
    tags: {team: shop, cost-center: "42"}
    dev_endpoints: [admin]
    api_authorizer: true
    authorizer_ttl: 0
    environment: {LEVEL: warn}
    idempotency: dynamodb
    reply_to: [arn:aws:sqs:eu-west-3:123456789012:results]
`)
	p, err := LoadProject(path)
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := p.ServiceDir("shop"); d != filepath.Join(dir, "services/shop") {
		t.Errorf("shop's directory: %s", d)
	}
	if d, _ := p.ServiceDir("office"); d != "/abs/office" {
		t.Errorf("an absolute directory: %s", d)
	}
	if name, ok := p.ServiceName(filepath.Join(dir, "services", "shop")); !ok || name != "shop" {
		t.Errorf("ServiceName: %q %v", name, ok)
	}
	if _, ok := p.ServiceName(dir); ok {
		t.Error("ServiceName of a directory the project does not name")
	}

	prod := p.Stage("prod")
	want := Stage{Region: "eu-west-3", Profile: "acme-prod", Architecture: "x86_64", Memory: 512, Timeout: 30,
		ReservedConcurrency: 20, LogRetention: 90,
		Queue:          QueueSettings{VisibilityTimeout: 200, MaxReceives: 3, BatchSize: 100, BatchWindow: 5, MaximumConcurrency: 50},
		ArtifactBucket: "acme-artifacts", Tags: map[string]string{"team": "shop", "cost-center": "42"},
		DevEndpoints: []string{"admin"}, APIAuthorizer: true, AuthorizerTTL: 0,
		Environment: map[string]string{"LEVEL": "warn"}, Idempotency: IdempotencyDynamoDB,
		ReplyTo: []string{"arn:aws:sqs:eu-west-3:123456789012:results"}, ttlSet: true, apiAuthSet: true}
	if !reflect.DeepEqual(prod, want) {
		t.Errorf("prod:\n got %+v\nwant %+v", prod, want)
	}

	// The defaults: dev exposes the developers' endpoints, other stages
	// none; the visibility timeout follows the function's timeout.
	dev := p.Stage("dev")
	if dev.Architecture != "arm64" || dev.Memory != 256 || dev.Timeout != 15 || dev.LogRetention != 14 ||
		dev.Queue.VisibilityTimeout != 90 || dev.Queue.MaxReceives != 5 || dev.Queue.BatchSize != 10 ||
		!dev.APIAuthorizer || dev.AuthorizerTTL != 300 || dev.Idempotency != IdempotencyMemory || !reflect.DeepEqual(dev.DevEndpoints, []string{"admin", "profiler"}) {
		t.Errorf("dev's defaults: %+v", dev)
	}
	if other := p.Stage("staging"); other.DevEndpoints != nil || other.Memory != 256 {
		t.Errorf("an unnamed stage: %+v", other)
	}
}

func TestLoadProjectErrorsNameKeyAndLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	writeFile(t, path, `services:
  Shop: shop
stages:
  prod:
    memroy: 512
    timeout: 2000
    architecture: sparc
    log_retention: 2
    queue:
      batch_size: many
    dev_endpoints: [admin, shell]
    api_authorizer: maybe
    reply_to: [results]
    idempotency: redis
unknown: 1
`)
	_, err := LoadProject(path)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		path + ":2: services.Shop: a service name is lower case",
		path + `:5: stages.prod: unknown key "memroy" (known: `,
		path + ":6: stages.prod.timeout: 2000 is not between 1 and 900",
		path + `:7: stages.prod.architecture: "sparc" is neither arm64 nor x86_64`,
		path + ":8: stages.prod.log_retention: 2 days is not one CloudWatch Logs keeps",
		path + `:10: stages.prod.queue.batch_size: "many" is not a whole number`,
		path + `:11: stages.prod.dev_endpoints: "shell" is neither admin nor profiler`,
		path + `:12: stages.prod.api_authorizer: "maybe" is neither true nor false`,
		path + `:13: stages.prod.reply_to: "results" is not an ARN`,
		path + `:14: stages.prod.idempotency: "redis" is neither memory nor dynamodb`,
		path + `:15: the top level: unknown key "unknown" (known: services, stages)`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error lacks %q:\n%v", want, err)
		}
	}
	var le *LineError
	if !errors.As(err, &le) {
		t.Errorf("not a LineError: %T", err)
	}

	writeFile(t, path, "stages: [dev, prod]\n")
	if _, err := LoadProject(path); err == nil || !strings.Contains(err.Error(), ":1: stages: want a mapping") {
		t.Errorf("a list of stages: %v", err)
	}
	writeFile(t, path, "stages:\n  dev: {memory: 1\n")
	if _, err := LoadProject(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("bad YAML: %v", err)
	}
}

func TestFindProject(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, FileName), "services:\n  api: svc/api\n")
	deep := filepath.Join(root, "svc", "api")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	p, err := FindProject(deep)
	if err != nil || p.Path != filepath.Join(root, FileName) {
		t.Fatalf("FindProject from below: %+v %v", p, err)
	}
	if name, ok := p.ServiceName(deep); !ok || name != "api" {
		t.Errorf("the service found: %q", name)
	}
	// Without a project file up to the repository's root: the defaults,
	// whatever lies above.
	lone := t.TempDir()
	writeFile(t, filepath.Join(lone, FileName), "stages: {prod: {memory: 1024}}\n")
	repo := filepath.Join(lone, "repo")
	writeFile(t, filepath.Join(repo, ".git", "HEAD"), "ref: refs/heads/main\n")
	p, err = FindProject(filepath.Join(repo))
	if err != nil || p.Path != "" || p.Stage("prod").Memory != DefaultMemory {
		t.Errorf("no project file: %+v %v", p, err)
	}
}

func TestEnv(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	writeFile(t, path, "stages:\n  prod:\n    environment: {FROM_PROJECT: p, B: project}\n")
	p, err := LoadProject(path)
	if err != nil {
		t.Fatal(err)
	}
	svc := filepath.Join(dir, "svc")
	writeFile(t, filepath.Join(svc, ".env"), "A=base\nB=base\nC=base\n")
	writeFile(t, filepath.Join(svc, ".env.prod"), "B=prod\nC=prod\nSECRET=ssm:/shop/prod/secret\n")
	t.Setenv("A", "from the process: not deployed")
	env, err := p.Env(svc, "prod")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"A": "base", "B": "project", "C": "prod", "SECRET": "ssm:/shop/prod/secret", "FROM_PROJECT": "p"}
	if !reflect.DeepEqual(env, want) {
		t.Errorf("env %v, want %v", env, want)
	}
	if env, err := p.Env(svc, "dev"); err != nil || env["B"] != "base" || len(env) != 3 {
		t.Errorf("dev: %v %v", env, err)
	}
	writeFile(t, filepath.Join(svc, ".env.bad"), "=\"unterminated\n")
	if _, err := p.Env(svc, "bad"); err == nil || !strings.Contains(err.Error(), ".env.bad") {
		t.Errorf("a malformed dotenv: %v", err)
	}
}

func TestNameOf(t *testing.T) {
	for in, want := range map[string]string{"office": "office", "CRUD": "crud", "My Shop_API": "my-shop-api", "--x--": "x"} {
		if got := NameOf(in); got != want {
			t.Errorf("NameOf(%q) = %q, want %q", in, got, want)
		}
	}
}
