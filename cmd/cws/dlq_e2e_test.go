package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coworks-go/cws/internal/testutil"
)

// deadLetterJSON is a dead letter as cws dlq list --json prints it.
type deadLetterJSON struct {
	ID       string          `json:"id"`
	Reason   string          `json:"reason"`
	Queue    string          `json:"queue"`
	EventID  string          `json:"event_id"`
	Type     string          `json:"event_type"`
	Subject  string          `json:"subject"`
	Redrives int             `json:"redrives"`
	Event    json.RawMessage `json:"event"`
}

// TestDLQLocal drives cws dlq against examples/biz under cws run: an
// invocation the entry refuses (422) is dead-lettered; list shows its
// reason and event, show prints the event, redrive sends it back (it runs
// again, is refused again, and comes back counted once), and a second
// redrive of the same id is exit 1 without sending anything.
func TestDLQLocal(t *testing.T) {
	const tok = testutil.DevToken
	s := startRun(t, repoRoot, tok, "/alerts", "./examples/biz")
	dlq := func(dir string, args ...string) (string, string, int) {
		t.Helper()
		return runCws(t, dir, nil, append([]string{"dlq"}, args...)...)
	}
	list := func() []deadLetterJSON {
		t.Helper()
		out, errOut, code := dlq(repoRoot, "list", "--json", "--url", s.base, "--token", tok)
		var got []deadLetterJSON
		if err := json.Unmarshal([]byte(out), &got); code != 0 || err != nil {
			t.Fatalf("dlq list --json: exit %d %v\n%s%s", code, err, out, errOut)
		}
		return got
	}
	// await polls the list until it has want dead letters, the last
	// redriven redrives times.
	await := func(want, redrives int) []deadLetterJSON {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			got := list()
			if len(got) == want && (want == 0 || got[want-1].Redrives == redrives) {
				return got
			}
			if time.Now().After(deadline) {
				t.Fatalf("dead letters %+v, want %d, the last redriven %d times\n%s", got, want, redrives, s.logs)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}

	if out, errOut, code := dlq(repoRoot, "list", "--url", s.base, "--token", tok); code != 0 || out != "no dead letters\n" {
		t.Fatalf("dlq list of none: exit %d %q %s", code, out, errOut)
	}
	addr := strings.TrimPrefix(s.base, "http://")
	if out, errOut, code := runCws(t, repoRoot, nil, "events", "put", "--addr", addr, "--token", tok,
		"--subject", "POST /alerts", "--data", `{"level":"info"}`, "--id", "no-message"); code != 0 {
		t.Fatalf("events put: %d %s %s", code, out, errOut)
	}
	d := await(1, 0)[0]
	if d.Reason != "POST /alerts answered 422: an alert needs a message" || d.EventID != "no-message" || d.Type != "cws.invoke" ||
		d.Subject != "POST /alerts" || d.Queue == "" || d.ID == "" {
		t.Errorf("the dead letter: %+v", d)
	}

	// The table, with the token of examples/biz/.env (no TOKEN in the
	// environment).
	out, errOut, code := dlq(filepath.Join(repoRoot, "examples", "biz"), "list", "--url", s.base)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 2 || !strings.HasPrefix(lines[0], "ID") || !strings.Contains(lines[0], "REASON") ||
		!strings.HasPrefix(lines[1], d.ID+" ") || !strings.Contains(lines[1], "cws.invoke POST /alerts") ||
		!strings.Contains(lines[1], "an alert needs a message") {
		t.Errorf("dlq list with the token of .env: exit %d\n%s%s", code, out, errOut)
	}
	if _, errOut, code := dlq(repoRoot, "list", "--url", s.base, "--token", testutil.WrongToken); code != 1 || !strings.Contains(errOut, "403") {
		t.Errorf("dlq list with a wrong token: exit %d %s", code, errOut)
	}

	// show: the original event.
	out, errOut, code = dlq(repoRoot, "show", d.ID, "--url", s.base, "--token", tok)
	var ev struct {
		ID, Subject string
		Data        map[string]string
	}
	if err := json.Unmarshal([]byte(out), &ev); code != 0 || err != nil || ev.ID != "no-message" || ev.Subject != "POST /alerts" || ev.Data["level"] != "info" {
		t.Errorf("dlq show: exit %d %v\n%s%s", code, err, out, errOut)
	}
	if _, errOut, code := dlq(repoRoot, "show", "nope", "--url", s.base, "--token", tok); code != 1 || !strings.Contains(errOut, "no dead letter nope") {
		t.Errorf("dlq show of an unknown id: exit %d %s", code, errOut)
	}

	// redrive: it runs again, is refused again, and comes back counted.
	if out, errOut, code := dlq(repoRoot, "redrive", d.ID, "--url", s.base, "--token", tok); code != 0 || out != d.ID+"\n" {
		t.Fatalf("dlq redrive: exit %d %q %s", code, out, errOut)
	}
	again := await(1, 1)[0]
	if again.ID == d.ID || again.EventID != "no-message" || again.Reason != d.Reason {
		t.Errorf("the redriven dead letter: %+v", again)
	}
	// The same id again: gone, nothing sent.
	if out, errOut, code := dlq(repoRoot, "redrive", d.ID, "--url", s.base, "--token", tok); code != 1 || out != "" ||
		!strings.Contains(errOut, "no dead letter "+d.ID) {
		t.Errorf("dlq redrive of a redriven id: exit %d %q %s", code, out, errOut)
	}
	time.Sleep(500 * time.Millisecond)
	if got := list(); len(got) != 1 || got[0].ID != again.ID || got[0].Redrives != 1 {
		t.Errorf("after the second redrive of the same id: %+v", got)
	}

	// --all, as JSON.
	out, errOut, code = dlq(repoRoot, "redrive", "--all", "--json", "--url", s.base, "--token", tok)
	var r struct{ Redriven []string }
	if err := json.Unmarshal([]byte(out), &r); code != 0 || err != nil || len(r.Redriven) != 1 || r.Redriven[0] != again.ID {
		t.Errorf("dlq redrive --all --json: exit %d %v %q %s", code, err, out, errOut)
	}
	await(1, 2)

	if _, errOut, code := dlq(repoRoot, "redrive", "--url", s.base); code != 2 || !strings.Contains(errOut, "--all") {
		t.Errorf("dlq redrive without ids: exit %d %s", code, errOut)
	}
	if _, errOut, code := dlq(repoRoot, "list", "--endpoint", "http://127.0.0.1:4566"); code != 2 || !strings.Contains(errOut, "--queue") {
		t.Errorf("dlq list --endpoint without --queue: exit %d %s", code, errOut)
	}
	s.stop()
}
