package bench

import (
	"context"
	"encoding/json"
	"os"
	"testing"
	"testing/fstest"

	"github.com/coworks-go/cws/services/templates"
)

// BenchmarkRender renders the Jinja corpus's invoice template with cws's
// Templates service (compiled once, as the service caches it); its peer,
// Jinja2 itself, is timed by jinja/render.py in the same run (make bench).
func BenchmarkRender(b *testing.B) {
	data, err := os.ReadFile("../services/templates/testdata/jinja-conformance.json")
	if err != nil {
		b.Fatal(err)
	}
	var cases []struct {
		Name      string            `json:"name"`
		Templates map[string]string `json:"templates"`
		Template  string            `json:"template"`
		Context   map[string]any    `json:"context"`
		Expect    struct {
			Output string `json:"output"`
		} `json:"expect"`
	}
	if err := json.Unmarshal(data, &cases); err != nil {
		b.Fatal(err)
	}
	for _, c := range cases {
		if c.Name != "invoice" {
			continue
		}
		fsys := fstest.MapFS{}
		for name, src := range c.Templates {
			fsys[name] = &fstest.MapFile{Data: []byte(src)}
		}
		svc := templates.New(templates.FS(fsys))
		ctx := context.Background()
		b.Run("impl=cws", func(b *testing.B) {
			out, err := svc.Render(ctx, c.Template, c.Context)
			if err != nil || out != c.Expect.Output {
				b.Fatalf("%q %v", out, err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := svc.Render(ctx, c.Template, c.Context); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
