package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// run executes cws with args and returns its exit code, stdout and stderr.
func run(args []string, stdin string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := Execute(context.Background(), args, strings.NewReader(stdin), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestTestPattern(t *testing.T) {
	dir := t.TempDir()
	patternFile := filepath.Join(dir, "p.json")
	if err := os.WriteFile(patternFile, []byte(`{"detail":{"total":[{"numeric":[">",100]}]}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args   []string
		stdin  string
		code   int
		stdout string
		stderr string
	}{
		{[]string{"--pattern", "@" + patternFile, "--event", `{"detail":{"total":250}}`}, "", 0, "true\n", ""},
		{[]string{"--pattern", "@" + patternFile, "--event", "-"}, `{"detail":{"total":5}}`, 0, "false\n", ""},
		{[]string{"--pattern", `{"source":[{"prefix":"sh"}],"detail-type":[{"anything-but":"x"}]}`, "--event", `{"source":"shop","detail-type":"y"}`}, "", 0, "true\n", ""},
		{[]string{"--pattern", `{"source":"shop"}`, "--event", `{}`}, "", 2, "", `Event pattern is not valid. Reason: "source" must be an object or an array`},
		{[]string{"--pattern", `{"source":["a"]}`, "--event", `{"source":`}, "", 2, "", "Parameter Event is not valid"},
		{[]string{"--pattern", `{"source":["a"]}`}, "", 2, "", "--pattern and --event are required"},
	} {
		code, stdout, stderr := run(append([]string{"events", "test-pattern"}, tc.args...), tc.stdin)
		if code != tc.code || stdout != tc.stdout || !strings.Contains(stderr, tc.stderr) {
			t.Errorf("test-pattern %q: exit %d, stdout %q, stderr %q", tc.args, code, stdout, stderr)
		}
	}
}

func TestScheduleNext(t *testing.T) {
	code, stdout, stderr := run([]string{"schedule", "next", "cron(0 9 ? * MON-FRI *)", "--from", "2026-11-20T09:00:00Z", "-n", "3"}, "")
	if code != 0 || stdout != "2026-11-23T09:00:00Z\n2026-11-24T09:00:00Z\n2026-11-25T09:00:00Z\n" {
		t.Errorf("cron: exit %d, %q %q", code, stdout, stderr)
	}
	code, stdout, _ = run([]string{"schedule", "next", "rate(1 hour)", "--from", "2026-11-20T09:30:00+01:00", "-n", "2"}, "")
	if code != 0 || stdout != "2026-11-20T09:30:00Z\n2026-11-20T10:30:00Z\n" {
		t.Errorf("rate: exit %d, %q", code, stdout)
	}
	code, stdout, _ = run([]string{"schedule", "next", "cron(0 0 1 1 ? 2027)", "--from", "2026-01-01T00:00:00Z", "-n", "3"}, "")
	if code != 0 || stdout != "2027-01-01T00:00:00Z\n" {
		t.Errorf("a schedule that ends: exit %d, %q", code, stdout)
	}
	for _, args := range [][]string{
		{"schedule", "next", "cron(0 9 * * * *)"},
		{"schedule", "next", "rate(1 hours)"},
	} {
		if code, _, stderr := run(args, ""); code != 2 || !strings.Contains(stderr, "Parameter ScheduleExpression is not valid. Reason: ") {
			t.Errorf("%q: exit %d, %q", args, code, stderr)
		}
	}
	for _, args := range [][]string{
		{"schedule", "next"},
		{"schedule", "next", "rate(1 hour)", "--from", "yesterday"},
		{"schedule", "next", "rate(1 hour)", "-n", "0"},
	} {
		if code, _, _ := run(args, ""); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
}
