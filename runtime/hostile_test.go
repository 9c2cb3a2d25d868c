package runtime_test

import (
	"strings"
	"testing"
)

// TestHostileJSONBodies sends JSON bodies built to break the decoder or to
// be changed by it without a word: each is a 4xx problem, never a 200 with
// altered data, a 500 or a panic.
func TestHostileJSONBodies(t *testing.T) {
	app, logs := newApp(t, svc{})
	deep := strings.Repeat("[", 10_001) + strings.Repeat("]", 10_001)
	for _, tc := range []struct {
		name, target, body string
		status             int
		detail             string
	}{
		{"invalid UTF-8 in a string", "/params", "{\"name\":\"caf\xe9\"}", 400, "invalid UTF-8 at byte 12"},
		{"invalid UTF-8 in a keyword map", "/kw", "{\"a\":\"\xff\xfe\"}", 400, "invalid UTF-8 at byte 6"},
		{"invalid UTF-8 in a name", "/kw", "{\"\xc3\x28\":1}", 400, "invalid UTF-8 at byte 2"},
		{"lone high surrogate", "/params", `{"name":"\ud800"}`, 400, `\ud800 at byte 9 is a lone UTF-16 surrogate`},
		{"lone low surrogate", "/kw", `{"a":"x\udc00y"}`, 400, `\udc00 at byte 7 is a lone UTF-16 surrogate`},
		{"high surrogate then a letter", "/params", `{"name":"\uD83D\u0041"}`, 400, "lone UTF-16 surrogate"},
		{"10,001-deep arrays", "/kw", deep, 400, "exceeded max depth"},
		{"10,001-deep arrays in a field", "/params", `{"raw":` + deep + `}`, 400, "exceeded max depth"},
		{"1e999 into a float64", "/params", `{"ratio":1e999}`, 422, "ratio"},
		{"a 10,000-digit integer", "/params", `{"n":` + strings.Repeat("9", 10_000) + `}`, 422, "n"},
		{"a 300 into a uint8", "/params", `{"u8":300}`, 422, "u8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, app, call{method: "POST", target: tc.target, body: tc.body, contentType: "application/json"})
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if p := r.problem(t); !strings.Contains(string(r.body), tc.detail) {
				t.Fatalf("problem %+v does not say %q", p, tc.detail)
			}
		})
	}
	// What the decoder must keep: a valid surrogate pair and escaped
	// backslashes before a u are text, not escapes.
	for body, want := range map[string]string{
		`{"name":"\ud83d\ude00"}`: `"name":"😀"`,
		`{"name":"\\ud800"}`:      `"name":"\\ud800"`,
		`{"name":"é\\\\u"}`:       `"name":"é\\\\u"`,
	} {
		r := do(t, app, call{method: "POST", target: "/params", body: body, contentType: "application/json"})
		if r.status != 200 || !strings.Contains(r.text(), want) {
			t.Errorf("%s: %d %s, want %s", body, r.status, r.body, want)
		}
	}
	// JSON given as a query value is held to the same rule.
	for target, want := range map[string]string{
		"/params?nested=%7B%22b%22:%22caf%E9%22%7D":           "invalid UTF-8 at byte 9",
		"/params?nested=%7B%22b%22:%22%5Cud800%22%7D":         `\\ud800 at byte 6 is a lone UTF-16 surrogate`,
		"/params?labels=%7B%22a%22:%22%5Cud83d%5Cude00%22%7D": "",
	} {
		r := do(t, app, call{method: "GET", target: target})
		if want == "" {
			if r.status != 200 || !strings.Contains(r.text(), "😀") {
				t.Errorf("%s: %d %s, want 200 with the emoji", target, r.status, r.body)
			}
			continue
		}
		if r.status != 422 || !strings.Contains(r.text(), want) {
			t.Errorf("%s: %d %s, want 422 saying %s", target, r.status, r.body, want)
		}
	}
	if strings.Contains(logs.String(), "panic") {
		t.Fatalf("a panic was logged:\n%s", logs)
	}
}
