package templates_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coworks-go/cws/internal/servetest"
	"github.com/coworks-go/cws/services/templates"
)

func write(t *testing.T, dir, name, src string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
}

// serve mounts the service under /templates, over HTTP.
func serve(t *testing.T, svc *templates.Service) func(method, path, body string) (int, string, string) {
	t.Helper()
	do := servetest.Blueprint(t, "/templates", svc)
	return func(method, path, body string) (int, string, string) {
		status, ct, b := do(method, path, body)
		return status, ct, string(b)
	}
}

func TestRenderEntries(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "layout.html", `<html><title>{% block title %}{% endblock %}</title>{% block body %}{% endblock %}</html>`)
	write(t, dir, "macros.html", `{% macro money(v) %}{{ '%.2f'|format(v) }} €{% endmacro %}`)
	write(t, dir, "invoice.html", `{% extends "layout.html" %}{% block title %}Invoice {{ id }}{% endblock %}`+
		`{% block body %}{% import "macros.html" as m %}<p>{{ customer }}</p>{% include "parts/footer.html" %}<b>{{ m.money(total) }}</b>{% endblock %}`)
	write(t, dir, "parts/footer.html", `<footer>{{ customer|upper }}</footer>`)
	write(t, dir, "invoice.txt", "INVOICE {{ id }} for {{ customer }}\n")
	write(t, dir, "broken.html", "line one\n{% frobnicate %}\n")
	do := serve(t, templates.New(templates.Dir(dir)))

	status, ct, body := do("POST", "/templates/render/invoice.html", `{"id":7,"customer":"<Ann & Co>","total":12.5}`)
	want := `<html><title>Invoice 7</title><p>&lt;Ann &amp; Co&gt;</p><footer>&lt;ANN &amp; CO&gt;</footer><b>12.50 €</b></html>`
	if status != 200 || ct != "text/html; charset=utf-8" || body != want {
		t.Errorf("an HTML template: %d %s\n got %s\nwant %s", status, ct, body, want)
	}
	status, ct, body = do("POST", "/templates/render/invoice.txt", `{"id":7,"customer":"<Ann & Co>"}`)
	if status != 200 || ct != "text/plain; charset=utf-8" || body != "INVOICE 7 for <Ann & Co>" {
		t.Errorf("a text template (not escaped): %d %s %q", status, ct, body)
	}
	status, ct, body = do("POST", "/templates/render/broken.html", `{}`)
	if status != 422 || ct != "application/problem+json" || !strings.Contains(body, "template broken.html, line 2") {
		t.Errorf("a syntax error: %d %s %s", status, ct, body)
	}
	if status, _, body := do("POST", "/templates/render/nope.html", `{}`); status != 404 || !strings.Contains(body, "no template nope.html") {
		t.Errorf("a missing template: %d %s", status, body)
	}
	status, ct, body = do("POST", "/templates/render", `{"template":"{% extends \"layout.html\" %}{% block body %}{{ x }}{% endblock %}","name":"inline.html","context":{"x":"<i>"}}`)
	if status != 200 || ct != "text/html; charset=utf-8" || body != "<html><title></title>&lt;i&gt;</html>" {
		t.Errorf("an inline template: %d %s %s", status, ct, body)
	}
	if status, _, body := do("POST", "/templates/render", `{"context":{}}`); status != 422 || !strings.Contains(body, "template is required") {
		t.Errorf("an inline template without a template: %d %s", status, body)
	}
	if status, _, body := do("POST", "/templates/render", `{"template":"{{ x "}`); status != 422 || !strings.Contains(body, "line 1") {
		t.Errorf("an inline syntax error: %d %s", status, body)
	}
}

// TestReload: a compiled template is compiled again when it, or a file it
// extends, changes.
func TestReload(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "base.txt", "[{% block b %}{% endblock %}]")
	write(t, dir, "page.txt", `{% extends "base.txt" %}{% block b %}one{% endblock %}`)
	svc := templates.New(templates.Dir(dir))
	ctx := context.Background()
	render := func() string {
		out, err := svc.Render(ctx, "page.txt", nil)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	if got := render(); got != "[one]" {
		t.Fatalf("%q", got)
	}
	later := time.Now().Add(2 * time.Second)
	write(t, dir, "page.txt", `{% extends "base.txt" %}{% block b %}two{% endblock %}`)
	_ = os.Chtimes(filepath.Join(dir, "page.txt"), later, later)
	if got := render(); got != "[two]" {
		t.Errorf("after the page changed: %q", got)
	}
	write(t, dir, "base.txt", "<{% block b %}{% endblock %}>")
	_ = os.Chtimes(filepath.Join(dir, "base.txt"), later, later)
	if got := render(); got != "<two>" {
		t.Errorf("after the base changed: %q", got)
	}
	_ = os.Remove(filepath.Join(dir, "page.txt"))
	var nf *templates.NotFoundError
	if _, err := svc.Render(ctx, "page.txt", nil); !errors.As(err, &nf) {
		t.Errorf("after the page went: %v", err)
	}
	if _, err := svc.Render(ctx, "../etc/passwd", nil); !errors.As(err, &nf) {
		t.Errorf("a name out of the directory: %v", err)
	}
}

func TestContentTypeAndAutoescape(t *testing.T) {
	for name, want := range map[string]string{"a.html": "text/html; charset=utf-8", "a.html.j2": "text/html; charset=utf-8",
		"a.json": "application/json", "a.csv": "text/csv; charset=utf-8", "a": "text/plain; charset=utf-8"} {
		if got := templates.ContentType(name); got != want {
			t.Errorf("ContentType(%s) = %s, want %s", name, got, want)
		}
	}
	if !templates.Autoescaped("x.xml") || !templates.Autoescaped("x.HTML") || templates.Autoescaped("x.txt") {
		t.Error("Autoescaped")
	}
}

func ExampleService_Render() {
	dir, _ := os.MkdirTemp("", "templates")
	defer os.RemoveAll(dir)
	_ = os.WriteFile(filepath.Join(dir, "greeting.txt"), []byte("Hello {{ name|title }}! {{ items|join(', ') }}"), 0o644)
	svc := templates.New(templates.Dir(dir))
	out, _ := svc.Render(context.Background(), "greeting.txt", map[string]any{"name": "ann lee", "items": []any{"pen", "ink"}})
	fmt.Println(out)
	// Output: Hello Ann Lee! pen, ink
}

// TestJinjaFilters: the filters cws makes Jinja2's.
func TestJinjaFilters(t *testing.T) {
	dir := t.TempDir()
	svc := templates.New(templates.Dir(dir))
	for src, want := range map[string]string{
		`{{ '%.2f'|format(1200) }}`:                                       "1200.00",
		`{{ '%5d|%-4s|%x'|format(3.7, 'ab', 255) }}`:                      "    3|ab  |ff",
		`{{ '%s and %s'|format(2.5, true) }}`:                             "2.5 and True",
		`{{ 2.675|round(2) }} {{ 3.5|round }} {{ 2.1|round(0, 'ceil') }}`: "2.67 4.0 3.0",
		`{{ {'b': 'é<', 'a': [1, 2.5, none]}|tojson }}`:                   `{"a": [1, 2.5, null], "b": "\u00e9\u003c"}`,
		`{{ 'a b&c/d'|urlencode }} {{ [('k', 'v w')]|urlencode }}`:        "a%20b%26c/d k=v+w",
	} {
		write(t, dir, "t.txt", src)
		out, err := svc.RenderString(context.Background(), src, "t.txt", nil)
		if err != nil || out != want {
			t.Errorf("%s = %q (%v), want %q", src, out, err, want)
		}
	}
	write(t, dir, "x.txt", "")
	if _, err := svc.RenderString(context.Background(), `{{ '%d %d'|format(1) }}`, "x.txt", nil); err == nil {
		t.Error("too few arguments: no error")
	}
}
