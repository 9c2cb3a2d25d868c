package templates_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/coworks-go/cws/services/templates"
)

// jinjaCase is a case of testdata/jinja-conformance.json, rendered by
// Jinja2 3.1.6.
type jinjaCase struct {
	Name       string            `json:"name"`
	Templates  map[string]string `json:"templates"`
	Template   string            `json:"template"`
	Context    map[string]any    `json:"context"`
	Autoescape bool              `json:"autoescape"`
	Expect     struct {
		Output *string `json:"output"`
		Error  string  `json:"error"`
		Line   int     `json:"line"`
	} `json:"expect"`
}

// departures are the cases where gonja departs from Jinja2 in what its
// extension points cannot reach, each with the reason (docs/services.md
// lists them too).
var departures = map[string]string{
	"arith":                   "gonja's ** operator answers a float (1024.0) where Python's int ** int is an int (1024); operators are not an extension point",
	"filters-urlencode":       "a dict's pairs come in sorted key order: a JSON context decoded into Go maps keeps no insertion order",
	"nested-loops-loop-depth": "gonja's loop.depth counts the nesting of loops (2 inside a loop in a loop), where Jinja2's counts the recursion of a recursive loop (1); the for statement is gonja's core",
}

// TestJinjaConformance renders every case of the corpus with the service's
// environment, its templates in a directory (names with the case's
// extension decide autoescaping: the corpus's flag says which).
func TestJinjaConformance(t *testing.T) {
	data, err := os.ReadFile("testdata/jinja-conformance.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []jinjaCase
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	passed := 0
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			dir := t.TempDir()
			ext := ".txt"
			if c.Autoescape {
				ext = ".html"
			}
			for name, src := range c.Templates {
				if err := os.WriteFile(filepath.Join(dir, name+ext), []byte(src), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			// The templates name each other without the extension: the
			// corpus's names are kept as aliases.
			svc := templates.New(aliases{templates.Dir(dir), ext}, templates.WithAutoescape(func(string) bool { return c.Autoescape }))
			out, err := svc.Render(context.Background(), c.Template, c.Context)
			reason, departs := departures[c.Name]
			ok := false
			switch {
			case c.Expect.Output != nil:
				ok = err == nil && out == *c.Expect.Output
				if !ok && !departs {
					t.Errorf("rendered %q (%v), Jinja2 %q", out, err, *c.Expect.Output)
				}
			default:
				var se *templates.SyntaxError
				ok = errors.As(err, &se) && se.Line == c.Expect.Line
				if !ok && !departs {
					t.Errorf("error %v, Jinja2: a syntax error at line %d", err, c.Expect.Line)
				}
			}
			switch {
			case ok && departs:
				t.Errorf("the case passes: remove it from the departures (%s)", reason)
			case !ok && departs:
				t.Logf("departs from Jinja2, as listed: %s (rendered %q)", reason, out)
			case ok:
				passed++
			}
		})
	}
	t.Logf("Jinja2 corpus: %d of %d cases as Jinja2 renders them, %d departures listed", passed, len(cases), len(departures))
	if passed+len(departures) != len(cases) {
		t.Errorf("%d passed + %d listed departures != %d cases", passed, len(departures), len(cases))
	}
}

// aliases serves name as name+ext.
type aliases struct {
	templates.Source
	ext string
}

func (a aliases) Read(ctx context.Context, name string) ([]byte, string, error) {
	return a.Source.Read(ctx, name+a.ext)
}

func (a aliases) Version(ctx context.Context, name string) (string, error) {
	return a.Source.Version(ctx, name+a.ext)
}
