package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"go.yaml.in/yaml/v3"

	"github.com/coworks-go/cws/internal/testutil"
)

// TestOpenAPICommand writes the documents of the examples with `cws
// openapi`, for a service without the admin blueprint too.
func TestOpenAPICommand(t *testing.T) {
	out, errOut, code := runCws(t, repoRoot, nil, "openapi", "./examples/crud")
	if code != 0 {
		t.Fatalf("cws openapi: exit %d\n%s", code, errOut)
	}
	doc := loadDocument(t, []byte(out))
	if doc.OpenAPI != "3.1.0" || doc.Info.Title != "crud" || doc.Paths.Find("/{id}") == nil || doc.Paths.Find("/logo").Get.Security == nil {
		t.Errorf("examples/crud: %s %+v", doc.OpenAPI, doc.Info)
	}
	if post := doc.Paths.Find("/").Post; post == nil || post.Responses.Value("201") == nil || post.RequestBody.Value.Content.Get("application/json") == nil {
		t.Errorf("POST /: %+v", post)
	}

	// YAML, to a file; the developers' blueprints of examples/biz are in
	// stage dev, not in prod.
	dir := t.TempDir()
	file := filepath.Join(dir, "biz.yaml")
	if _, errOut, code := runCws(t, repoRoot, nil, "openapi", "./examples/biz", "--format", "yaml", "-o", file); code != 0 {
		t.Fatalf("cws openapi --format yaml -o: exit %d\n%s", code, errOut)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("components:")) {
		t.Errorf("not YAML: %.80s", b)
	}
	dev := loadDocument(t, b)
	if dev.Paths.Find("/admin/openapi.json") == nil || dev.Paths.Find("/profiler/profile") == nil || dev.Info.Version != "dev" {
		t.Error("stage dev: the admin and profiler blueprints are not in the document")
	}
	out, _, code = runCws(t, repoRoot, nil, "openapi", "./examples/biz", "--stage", "prod")
	prod := loadDocument(t, []byte(out))
	if code != 0 || prod.Paths.Find("/admin/openapi.json") != nil || prod.Paths.Find("/invoices") == nil || prod.Info.Version != "prod" {
		t.Errorf("stage prod: exit %d, /admin/openapi.json %v", code, prod.Paths.Find("/admin/openapi.json"))
	}

	_, errOut, code = runCws(t, repoRoot, nil, "openapi", "./examples/crud", "--format", "xml")
	if code != 2 || !strings.Contains(errOut, `--format "xml"`) {
		t.Errorf("--format xml: exit %d %s", code, errOut)
	}
	_, errOut, code = runCws(t, repoRoot, nil, "openapi", "./runtime")
	if code == 0 || !strings.Contains(errOut, "not a main package") {
		t.Errorf("openapi of a library: exit %d %s", code, errOut)
	}
}

// loadDocument loads and validates a document with kin-openapi.
func loadDocument(t *testing.T, b []byte) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(b)
	if err != nil {
		t.Fatalf("%v\n%.300s", err, b)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return doc
}

// schemathesisCommand finds schemathesis: $SCHEMATHESIS (make sets it to
// the one it installs in bin/), else on the PATH, else in bin/ of the
// repository. Without it the test fails, saying how to get it.
func schemathesisCommand(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("SCHEMATHESIS"); p != "" {
		return p
	}
	if p, err := exec.LookPath("schemathesis"); err == nil {
		return p
	}
	if ps, _ := filepath.Glob(filepath.Join(repoRoot, "bin", "schemathesis-*", "bin", "schemathesis")); len(ps) > 0 {
		return ps[len(ps)-1]
	}
	t.Fatal("no schemathesis: `make test` installs it into bin/ (from PyPI, in a venv), or set SCHEMATHESIS to its path")
	return ""
}

// schemathesis runs schemathesis on a document (a file or URL) against the
// service at base, with every check, and fails the test with its report
// when it finds anything.
func schemathesis(t *testing.T, location, base, token string) {
	t.Helper()
	st := schemathesisCommand(t)
	work := t.TempDir()
	cmd := exec.Command(st, "--config-file", filepath.Join(repoRoot, "cmd", "cws", "testdata", "schemathesis.toml"),
		"run", location, "--url", base, "-H", "Authorization: "+token,
		"--checks", "all", "--max-examples", "20", "--seed", "1", "--workers", "2",
		"--generation-database", "none", "--suppress-health-check", "all", "--request-timeout", "10", "--no-color")
	cmd.Dir = work
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	report := out.String()
	if err != nil || !strings.Contains(report, "passed") {
		t.Fatalf("schemathesis on %s: %v\n%s", location, err, report)
	}
	t.Logf("schemathesis on %s: %s", location, lastLine(report))
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// TestSchemathesis serves examples/crud and examples/biz with `cws run`
// and has schemathesis test them against their OpenAPI documents — crud's
// written by `cws openapi`, biz's served by its admin blueprint: no server
// error, no answer that contradicts the document, no valid request refused
// and no invalid one accepted. The one piece of test data it is given
// (testdata/schemathesis.toml) is the profiler's recording length.
func TestSchemathesis(t *testing.T) {
	schemathesisCommand(t)        // fail early without it
	const tok = testutil.DevToken // the examples' .env

	t.Run("crud", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "crud.json")
		if _, errOut, code := runCws(t, repoRoot, nil, "openapi", "./examples/crud", "-o", file); code != 0 {
			t.Fatalf("cws openapi: exit %d\n%s", code, errOut)
		}
		s := startRun(t, repoRoot, tok, "/service/test", "./examples/crud")
		schemathesis(t, file, s.base, tok)
		s.stop()
	})

	t.Run("biz", func(t *testing.T) {
		s := startRun(t, repoRoot, tok, "/admin/openapi.json", "./examples/biz")
		// The document the blueprint serves is the one cws openapi writes.
		status, served, _ := s.do("GET", "/admin/openapi.json", "", tok)
		written, errOut, code := runCws(t, repoRoot, nil, "openapi", "./examples/biz")
		if status != 200 || code != 0 {
			t.Fatalf("GET /admin/openapi.json %d; cws openapi exit %d %s", status, code, errOut)
		}
		if a, b := canonical(t, served), canonical(t, written); a != b {
			t.Errorf("the served document differs from the written one:\n%s\n%s", a, b)
		}
		status, y, h := s.do("GET", "/admin/openapi.yaml", "", tok)
		var fromYAML any
		if err := yaml.Unmarshal([]byte(y), &fromYAML); status != 200 || err != nil || h.Get("Content-Type") != "application/yaml" {
			t.Errorf("GET /admin/openapi.yaml: %d %s %v", status, h.Get("Content-Type"), err)
		}
		schemathesis(t, s.base+"/admin/openapi.json", s.base, tok)
		s.stop()
	})
}

// canonical re-encodes a JSON document with its keys sorted.
func canonical(t *testing.T, s string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("%v: %.200s", err, s)
	}
	b, _ := json.Marshal(v)
	return string(b)
}
