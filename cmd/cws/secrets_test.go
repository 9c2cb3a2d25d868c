package main

import (
	"strings"
	"testing"
	"time"

	"github.com/coworks-go/cws/internal/testutil"
)

// TestNoSecretsInLogs runs examples/biz under cws run at the debug level
// and calls it as clients do — the right token, a wrong one, none, events
// and invocations with the token, an invocation the entry refuses — then
// reads everything cws and the service printed: neither the service's
// token nor the wrong one a client sent may appear.
func TestNoSecretsInLogs(t *testing.T) {
	const tok, wrong = testutil.DevToken, testutil.WrongToken
	t.Setenv("CWS_LOG_LEVEL", "debug")
	s := startRun(t, repoRoot, tok, "/alerts", "./examples/biz")

	for _, c := range []struct{ method, path, body, token string }{
		{"GET", "/alerts", "", tok},
		{"GET", "/alerts", "", wrong},
		{"GET", "/alerts", "", ""},
		{"POST", "/alerts", `{"level":"info","message":"hello"}`, tok},
		{"POST", "/alerts", `{"level":"info"}`, tok},
		{"GET", "/admin/routes", "", wrong},
		{"GET", "/_cws/deadletters", "", wrong},
	} {
		s.do(c.method, c.path, c.body, c.token)
	}
	for _, event := range []string{
		`{"specversion":"1.0","id":"inv-ok","source":"shop","type":"cws.invoke","subject":"POST /alerts","datacontenttype":"application/json","data":{"level":"info","message":"from an event"}}`,
		`{"specversion":"1.0","id":"inv-refused","source":"shop","type":"cws.invoke","subject":"POST /alerts","datacontenttype":"application/json","data":{"level":"info"}}`,
		`{"specversion":"1.0","id":"order-9","source":"shop","type":"order.completed","datacontenttype":"application/json","data":{"order":"A-9","customer":"ann@example.com","total":1200}}`,
	} {
		status, body, _ := s.doType("POST", "/_cws/events", "application/cloudevents+json", event, tok)
		if status != 202 {
			t.Fatalf("posting %s: %d %s", event, status, body)
		}
		s.doType("POST", "/_cws/events", "application/cloudevents+json", event, wrong)
	}
	// The refused invocation is dead-lettered (logged with its reason), and
	// the order event, queued after it, handled.
	handled := func(logs string) bool {
		return strings.Contains(logs, "inv-refused") && strings.Contains(logs, "order-9")
	}
	deadline := time.Now().Add(30 * time.Second)
	for !handled(s.logs.String()) && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	logs := s.logs.String()
	if !handled(logs) {
		t.Fatalf("the logs do not show the events handled:\n%s", logs)
	}
	for _, secret := range []string{tok, wrong} {
		if strings.Contains(logs, secret) {
			for _, line := range strings.Split(logs, "\n") {
				if strings.Contains(line, secret) {
					t.Errorf("a log line holds %q: %s", secret, line)
				}
			}
		}
	}
}
