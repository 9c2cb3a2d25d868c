package pattern_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tailscale/hujson"

	"github.com/coworks-go/cws/events/pattern"
)

const corpus = "../testdata/eventbridge-patterns"

type patternCase struct {
	Event        json.RawMessage
	EventPattern json.RawMessage
}

func loadCase(t *testing.T, path string) patternCase {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	std, err := hujson.Standardize(b)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var c patternCase
	if err := json.Unmarshal(std, &c); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return c
}

// TestConformance runs every AWS-validated case: the pattern matches, does
// not match (_NEG), or is invalid with AWS's message (_EXC).
func TestConformance(t *testing.T) {
	var awsErrors map[string]struct{ Code, Message string }
	b, err := os.ReadFile(filepath.Join(corpus, "aws-errors.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &awsErrors); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(corpus, "*.json5"))
	if len(files) < 150 {
		t.Fatalf("only %d cases found", len(files))
	}
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".json5")
		t.Run(name, func(t *testing.T) {
			c := loadCase(t, path)
			p, err := pattern.Compile(c.EventPattern)
			if strings.HasSuffix(name, "_EXC") {
				var ie *pattern.InvalidError
				if !errors.As(err, &ie) {
					t.Fatalf("compiled %s, want InvalidEventPatternException", c.EventPattern)
				}
				if want := awsErrors[name].Message; err.Error() != want {
					t.Errorf("error\n  %s\nAWS says\n  %s", err, want)
				}
				return
			}
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			got, err := p.Match(c.Event)
			if err != nil {
				t.Fatal(err)
			}
			if want := !strings.HasSuffix(name, "_NEG"); got != want {
				t.Errorf("match = %v, AWS answered %v\npattern %s", got, want, c.EventPattern)
			}
		})
	}
	t.Run("complex_multi_key_event", func(t *testing.T) {
		ev, _ := os.ReadFile(filepath.Join(corpus, "complex_multi_key_event.json"))
		pat, _ := os.ReadFile(filepath.Join(corpus, "complex_multi_key_event_pattern.json"))
		p, err := pattern.Compile(pat)
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := p.Match(ev); !ok || err != nil {
			t.Errorf("match = %v, %v; AWS answered true", ok, err)
		}
	})
}
