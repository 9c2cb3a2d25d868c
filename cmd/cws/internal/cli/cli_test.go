package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/coworks-go/cws/runtime"
)

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"run", "--bogus"},
		{"routes", "a", "b"},
		{"invoke"},
		{"new"},
		{"new", "Bad Name"},
		{"version", "extra"},
	} {
		var stdout, stderr bytes.Buffer
		code := Execute(context.Background(), args, strings.NewReader(""), &stdout, &stderr)
		if code != 2 || !strings.HasPrefix(stderr.String(), "cws: ") {
			t.Errorf("cws %s: exit %d, stderr %q", strings.Join(args, " "), code, stderr.String())
		}
	}
	var stdout, stderr bytes.Buffer
	if code := Execute(context.Background(), []string{"frobnicate"}, nil, &stdout, &stderr); code == 0 {
		t.Errorf("unknown command: exit 0")
	}
	if code := Execute(context.Background(), []string{"version"}, nil, &stdout, &stderr); code != 0 || !strings.HasPrefix(stdout.String(), "cws ") {
		t.Errorf("version: %d %q", code, stdout.String())
	}
}

func TestHelpOnEveryCommand(t *testing.T) {
	for _, c := range newRoot().Commands() {
		var stdout, stderr bytes.Buffer
		code := Execute(context.Background(), []string{c.Name(), "--help"}, nil, &stdout, &stderr)
		if code != 0 || !strings.Contains(stdout.String(), "Usage:") {
			t.Errorf("%s --help: %d %q", c.Name(), code, stdout.String())
		}
	}
}

func TestRouteTable(t *testing.T) {
	var b bytes.Buffer
	err := writeRouteTable(&b, &runtime.Description{Stage: "dev", Routes: []runtime.Route{
		{Method: "GET", Path: "/", Entry: "Get", Auth: true, Active: true},
		{Method: "GET", Path: "/admin/routes", Entry: "GetRoutes", Blueprint: "admin", Auth: true, Active: true},
		{Method: "GET", Path: "/debug", Entry: "GetDebug", Auth: true, Stages: []string{"prod", "test"}},
		{Method: "GET", Path: "/health", Entry: "GetHealth", Active: true},
	}})
	want := `METHOD  PATH           ENTRY            AUTH   STAGES
GET     /              Get              token  all
GET     /admin/routes  admin.GetRoutes  token  all
GET     /debug         GetDebug         token  prod,test (not in dev)
GET     /health        GetHealth        none   all

Routes marked (not in dev) do not exist in stage dev.
`
	if err != nil || b.String() != want {
		t.Errorf("table:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestStageEnv(t *testing.T) {
	dir := t.TempDir()
	_ = os.WriteFile(filepath.Join(dir, ".env"), []byte("TOKEN=dotenv-base-token-1a7c\nA=from-env\nB=from-env\n"), 0o644)
	_ = os.WriteFile(filepath.Join(dir, ".env.prod"), []byte("TOKEN=dotenv-prod-token-5f2e\nB=from-prod\n"), 0o644)
	t.Setenv("A", "from-process")
	t.Setenv("TOKEN", "")
	os.Unsetenv("TOKEN")
	t.Setenv("B", "")
	os.Unsetenv("B")

	lookup := func(env []string, k string) string {
		v := ""
		for _, kv := range env {
			if key, val, _ := strings.Cut(kv, "="); key == k {
				v = val // the last one wins, as with exec
			}
		}
		return v
	}
	env, err := stageEnv(dir, "prod")
	if err != nil {
		t.Fatal(err)
	}
	if lookup(env, "TOKEN") != "dotenv-prod-token-5f2e" || lookup(env, "A") != "from-process" || lookup(env, "B") != "from-prod" || lookup(env, "CWS_STAGE") != "prod" {
		t.Errorf("prod env: TOKEN=%s A=%s B=%s", lookup(env, "TOKEN"), lookup(env, "A"), lookup(env, "B"))
	}
	env, _ = stageEnv(dir, "dev")
	if lookup(env, "TOKEN") != "dotenv-base-token-1a7c" || lookup(env, "CWS_STAGE") != "dev" {
		t.Errorf("dev env: TOKEN=%s", lookup(env, "TOKEN"))
	}
	_ = os.WriteFile(filepath.Join(dir, ".env.bad"), []byte("=\"unterminated\n"), 0o644)
	if _, err := stageEnv(dir, "bad"); err == nil {
		t.Error("malformed .env: no error")
	}
}

func TestRelevant(t *testing.T) {
	for path, want := range map[string]bool{
		"/x/main.go": true, "/x/cws_gen.go": false, "/x/go.mod": true, "/x/go.sum": true, "/x/.env": true,
		"/x/.env.prod": true, "/x/workflows/invoicing.asl.yaml": true, "/x/templates/invoice.html": true, "/x/templates/.invoice.html.swp": false, "/x/README.md": false, "/x/.main.go.swp": false, "/x/.#main.go": false,
	} {
		if got := relevant(path); got != want {
			t.Errorf("relevant(%s) = %v", path, got)
		}
	}
}

func TestCwsDependency(t *testing.T) {
	req, rep, err := cwsDependency("")
	if err != nil || rep == "" || !strings.HasPrefix(req, "v0.0.0") {
		t.Fatalf("a source build: %q %q %v", req, rep, err)
	}
	if _, err := os.Stat(filepath.Join(rep, "runtime", "app.go")); err != nil {
		t.Errorf("replace points at %s: %v", rep, err)
	}
	if _, _, err := cwsDependency(t.TempDir()); err == nil {
		t.Error("--cws at a directory without go.mod: no error")
	}
}

func TestSplitLines(t *testing.T) {
	if got := splitLines(" a\n\nb \n"); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("splitLines = %q", got)
	}
}
