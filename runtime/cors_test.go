package runtime_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coworks-go/cws/runtime"
)

// corsShop has entries under the service's policy, one with its own and
// one kept out of CORS.
type corsShop struct{}

type corsItem struct {
	Name string `json:"name"`
}

func (corsShop) GetItems(ctx context.Context) []string              { return []string{"a"} }
func (corsShop) PostItems(ctx context.Context, it corsItem) string  { return it.Name }
func (corsShop) GetItems_(ctx context.Context, id int) (int, error) { return id, nil }
func (corsShop) GetPublic(ctx context.Context) string               { return "public" }
func (corsShop) GetInternal(ctx context.Context) string             { return "internal" }
func (corsShop) GetFail(ctx context.Context) (string, error) {
	return "", runtime.NotFound("no such thing")
}

// DeleteItems is kept out of CORS: no page of another origin may send it.
func (corsShop) DeleteItems(ctx context.Context) string { return "deleted" }

func (corsShop) ConfigureEntries(c *runtime.EntryConfig) {
	c.Entry((corsShop).DeleteItems, runtime.NoCORS())
	c.Entry((corsShop).GetPublic, runtime.NoAuth(), runtime.EntryCORS(runtime.CORS{AllowOrigins: []string{"*"}}))
	c.Entry((corsShop).GetInternal, runtime.NoCORS())
}

var shopCORS = runtime.CORS{
	AllowOrigins:     []string{"https://app.example.com", "https://*.example.org"},
	ExposeHeaders:    []string{"Location"},
	AllowCredentials: true,
	MaxAge:           10 * time.Minute,
}

func preflight(path, origin, method string) call {
	h := http.Header{}
	h.Set("Origin", origin)
	h.Set("Access-Control-Request-Method", method)
	return call{method: http.MethodOptions, target: path, token: "-", header: h}
}

func withOrigin(c call, origin string) call {
	c.header = http.Header{"Origin": {origin}}
	return c
}

func TestCORSPreflight(t *testing.T) {
	app, _ := newApp(t, corsShop{}, runtime.WithCORS(shopCORS))

	// An allowed origin: 204 with the policy, without the authorizer.
	r := expect(t, app, preflight("/items", "https://app.example.com", "POST"), http.StatusNoContent, "")
	for k, want := range map[string]string{
		"Access-Control-Allow-Origin":      "https://app.example.com",
		"Access-Control-Allow-Methods":     "GET, HEAD, POST",
		"Access-Control-Allow-Headers":     "Authorization, Content-Type",
		"Access-Control-Allow-Credentials": "true",
		"Access-Control-Max-Age":           "600",
		"Vary":                             "Origin",
	} {
		if got := r.header.Get(k); got != want {
			t.Errorf("preflight %s = %q, want %q", k, got, want)
		}
	}

	// A wildcard subdomain, any depth, not the bare domain nor a lookalike.
	for origin, allowed := range map[string]bool{
		"https://shop.example.org":     true,
		"https://a.b.example.org":      true,
		"https://example.org":          false,
		"https://evilexample.org":      false,
		"http://shop.example.org":      false,
		"https://app.example.com.evil": false,
		"https://APP.example.com":      true,
	} {
		r := do(t, app, preflight("/items/7", origin, "GET"))
		got := r.header.Get("Access-Control-Allow-Origin")
		if allowed && got != origin || !allowed && got != "" {
			t.Errorf("origin %s: Allow-Origin %q (allowed %v)", origin, got, allowed)
		}
		if !allowed && (r.header.Get("Access-Control-Allow-Methods") != "" || r.status >= 500) {
			t.Errorf("origin %s refused: status %d, headers %v", origin, r.status, r.header)
		}
	}

	// DELETE /items is kept out: a preflight of GET does not list it (the
	// browser would cache it, and send DELETE unasked).
	r = expect(t, app, preflight("/items", "https://app.example.com", "GET"), http.StatusNoContent, "")
	if got := r.header.Get("Access-Control-Allow-Methods"); got != "GET, HEAD, POST" {
		t.Errorf("Allow-Methods %q, want the CORS entries' methods only", got)
	}
	if got := r.header.Get("Allow"); got != "DELETE, GET, HEAD, POST" {
		t.Errorf("Allow %q", got)
	}

	// A method the path does not serve, an entry kept out: no CORS headers.
	for _, c := range []call{
		preflight("/items/7", "https://app.example.com", "DELETE"),
		preflight("/items", "https://app.example.com", "DELETE"),
		preflight("/internal", "https://app.example.com", "GET"),
	} {
		if r := do(t, app, c); r.header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("%s %s: CORS headers %v", c.method, c.target, r.header)
		}
	}

	// An entry with its own policy: any origin, "*".
	r = expect(t, app, preflight("/public", "https://anyone.test", "GET"), http.StatusNoContent, "")
	if got := r.header.Get("Access-Control-Allow-Origin"); got != "*" {
		t.Errorf("public preflight Allow-Origin %q, want *", got)
	}
	if r.header.Get("Access-Control-Allow-Credentials") != "" {
		t.Errorf("public preflight allows credentials")
	}

	// An OPTIONS that is no preflight is an ordinary request: its Allow,
	// no CORS headers.
	r = expect(t, app, call{method: http.MethodOptions, target: "/items"}, http.StatusNoContent, "")
	if r.header.Get("Access-Control-Allow-Origin") != "" || r.header.Get("Allow") == "" {
		t.Errorf("OPTIONS without Origin: headers %v", r.header)
	}
}

func TestCORSActualRequests(t *testing.T) {
	app, _ := newApp(t, corsShop{}, runtime.WithCORS(shopCORS))
	const origin = "https://app.example.com"

	cases := []struct {
		c      call
		status int
		allow  string
	}{
		{withOrigin(call{method: "GET", target: "/items"}, origin), 200, origin},
		{withOrigin(call{method: "POST", target: "/items", body: `{"name":"x"}`}, origin), 200, origin},
		// Errors carry the headers too: the page can read the problem.
		{withOrigin(call{method: "GET", target: "/fail"}, origin), 404, origin},
		{withOrigin(call{method: "GET", target: "/items/notanint"}, origin), 422, origin},
		// No entry serves it: the service's policy.
		{withOrigin(call{method: "GET", target: "/nope"}, origin), 404, origin},
		{withOrigin(call{method: "PUT", target: "/items"}, origin), 405, origin},
		{withOrigin(call{method: "DELETE", target: "/items"}, origin), 200, ""},
		{withOrigin(call{method: "GET", target: "/items", token: "-"}, origin), 401, origin},
		{withOrigin(call{method: "GET", target: "/items"}, "https://evil.test"), 200, ""},
		{withOrigin(call{method: "GET", target: "/internal"}, origin), 200, ""},
		{call{method: "GET", target: "/items"}, 200, ""},
		{withOrigin(call{method: "GET", target: "/public", token: "-"}, "https://anyone.test"), 200, "*"},
	}
	for _, tc := range cases {
		r := expect(t, app, tc.c, tc.status, "")
		if got := r.header.Get("Access-Control-Allow-Origin"); got != tc.allow {
			t.Errorf("%s %s from %q: Allow-Origin %q, want %q", tc.c.method, tc.c.target, tc.c.header.Get("Origin"), got, tc.allow)
		}
		wantExpose := ""
		if tc.allow == origin {
			wantExpose = "Location"
		}
		if got := r.header.Get("Access-Control-Expose-Headers"); got != wantExpose {
			t.Errorf("%s %s: Expose-Headers %q, want %q", tc.c.method, tc.c.target, got, wantExpose)
		}
	}

	// The routes say which entries answer cross-origin requests.
	for _, rt := range app.Routes() {
		if want := rt.Entry != "GetInternal" && rt.Entry != "DeleteItems"; rt.CORS != want {
			t.Errorf("route %s %s: CORS %v, want %v", rt.Method, rt.Path, rt.CORS, want)
		}
	}
}

func TestCORSWithoutPolicy(t *testing.T) {
	type plain struct{ corsShop }
	app, _ := newApp(t, &plain{})
	r := do(t, app, preflight("/items", "https://app.example.com", "GET"))
	if r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight without a policy: headers %v", r.header)
	}
	// GetPublic keeps its own policy.
	r = expect(t, app, preflight("/public", "https://anyone.test", "GET"), http.StatusNoContent, "")
	if r.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("entry policy without a service policy: %v", r.header)
	}
}

func TestCORSRefusedPolicies(t *testing.T) {
	t.Setenv("TOKEN", testToken)
	for _, c := range []runtime.CORS{
		{},
		{AllowOrigins: []string{"*"}, AllowCredentials: true},
		{AllowOrigins: []string{"app.example.com"}},
		{AllowOrigins: []string{"https://*.*.example.com"}},
		{AllowOrigins: []string{"https://app*.example.com"}},
		{AllowOrigins: []string{"https://app.example.com/"}},
		{AllowOrigins: []string{"https://app.example.com/path"}},
		{AllowOrigins: []string{"https://user@app.example.com"}},
		{AllowOrigins: []string{"ftp://app.example.com"}},
	} {
		_, err := runtime.New(corsShop{}, runtime.WithCORS(c))
		if err == nil || !strings.Contains(err.Error(), "CORS") {
			t.Errorf("WithCORS(%+v): err %v, want a CORS error", c, err)
		}
	}
}
