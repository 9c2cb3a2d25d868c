package asl_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/coworks-go/cws/biz/asl"
)

// conformanceCase is a case of testdata/conformance.json: recorded from
// LocalStack 4.14.0's Step Functions, or from the AWS documentation where
// LocalStack departs from AWS (its source says which).
type conformanceCase struct {
	Name       string          `json:"name"`
	Definition json.RawMessage `json:"definition"`
	Input      json.RawMessage `json:"input"`
	Expect     struct {
		Status  string          `json:"status"`
		Output  json.RawMessage `json:"output"`
		Error   string          `json:"error"`
		Cause   *string         `json:"cause"`
		Invalid string          `json:"invalid"`
	} `json:"expect"`
	Source string `json:"source"`
}

// TestConformance runs every case of the Amazon States Language corpus on
// the embedded engine: outputs compared as JSON values, errors by name
// (and by cause when the case gives one), invalid definitions refused.
func TestConformance(t *testing.T) {
	data, err := os.ReadFile("testdata/conformance.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []conformanceCase
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 43 {
		t.Fatalf("%d cases, want the corpus's 43", len(cases))
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			m, err := asl.Parse(c.Definition)
			if c.Expect.Invalid != "" {
				var inv *asl.InvalidDefinition
				if !errors.As(err, &inv) || inv.Code() != c.Expect.Invalid {
					t.Fatalf("want %s, got %v (%s)", c.Expect.Invalid, err, c.Source)
				}
				t.Logf("refused: %v", err)
				return
			}
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			input, err := asl.DecodeJSON(c.Input)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			e := m.Run(ctx, input, asl.WithClock(instant{}))
			status, output, errName, cause := e.Status()
			if status != c.Expect.Status {
				t.Fatalf("status %s (%s: %s), want %s (%s)", status, errName, cause, c.Expect.Status, c.Source)
			}
			if status == asl.StatusSucceeded {
				want, _ := asl.DecodeJSON(c.Expect.Output)
				if !equalJSON(output, want) {
					t.Errorf("output %s, want %s", mustJSON(output), c.Expect.Output)
				}
				return
			}
			if errName != c.Expect.Error || (c.Expect.Cause != nil && cause != *c.Expect.Cause) {
				t.Errorf("error %s (%s), want %s (%v)", errName, cause, c.Expect.Error, c.Expect.Cause)
			}
		})
	}
}

// instant is a clock that never sleeps: it advances at once.
type instant struct{}

func (instant) Now() time.Time                                   { return time.Now() }
func (instant) Sleep(ctx context.Context, _ time.Duration) error { return ctx.Err() }

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	var xa, ya any
	_ = json.Unmarshal(x, &xa)
	_ = json.Unmarshal(y, &ya)
	return mustJSON(xa) == mustJSON(ya)
}
