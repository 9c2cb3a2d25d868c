package runtime_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coworks-go/cws/runtime"
)

type linked struct{}

func (linked) GetContent__(ctx context.Context, value, other string) string {
	return value + "|" + other
}
func (linked) GetDay_(ctx context.Context, day time.Time) string { return day.Format(time.DateOnly) }
func (linked) GetLinks(ctx context.Context) ([]string, error) {
	var out []string
	for _, l := range []struct {
		name   string
		params []any
	}{
		{"GetContent__", []any{"a b", "x/y?#"}},
		{"manager.GetDashboard_", []any{42, url.Values{"tab": {"last week"}}}},
		{"GetDay_", []any{time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)}},
		{"GetContent__", []any{"..", "."}},
	} {
		u, err := runtime.URLFor(ctx, l.name, l.params...)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, nil
}

type manager struct{}

func (manager) GetDashboard_(ctx context.Context, id int) int { return id }

func TestURLFor(t *testing.T) {
	app, _ := newApp(t, linked{}, runtime.WithBlueprint("/manager", manager{}))

	// Built in an entry: escaped, through the door's base path.
	r := do(t, app, call{method: "GET", target: "/links"})
	want := `["/content/a%20b/x%2Fy%3F%23","/manager/dashboard/42?tab=last+week","/day/2026-11-30T00:00:00Z","/content/%2E%2E/%2E"]`
	if r.status != 200 || strings.TrimSpace(r.text()) != want {
		t.Fatalf("links: %d %s, want %s", r.status, r.body, want)
	}
	ctx := context.Background()
	req := &runtime.Request{Method: "GET", Path: "/links", BasePath: "/dev", Header: map[string][]string{"Authorization": {testToken}}}
	if resp := app.Serve(ctx, req); !strings.Contains(string(resp.Body), `"/dev/content/a%20b/x%2Fy%3F%23"`) {
		t.Errorf("behind a stage: %s", resp.Body)
	}

	// Each link leads back to its entry, with the same values.
	for target, body := range map[string]string{
		"/content/a%20b/x%2Fy%3F%23": `a b|x/y?#`,
		"/manager/dashboard/42":      `42`,
		"/day/2026-11-30T00:00:00Z":  `2026-11-30`,
	} {
		expect(t, app, call{method: "GET", target: target}, 200, body)
	}

	// Mistakes are errors that say what is wrong.
	for _, c := range []struct {
		name   string
		params []any
		err    string
	}{
		{"GetNothing", nil, `no entry "GetNothing"`},
		{"GetDashboard_", []any{1}, `no entry`},
		{"GetContent__", []any{"a"}, "/content/{arg1}/{arg2} takes 2 path parameters, got 1"},
		{"GetContent__", []any{"a", ""}, "parameter arg2: empty"},
		{"manager.GetDashboard_", []any{[]int{1}}, "[]int is not a path value"},
	} {
		_, err := app.URLFor(c.name, c.params...)
		if err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("URLFor(%s, %v): %v, want %q", c.name, c.params, err, c.err)
		}
	}
	if _, err := runtime.URLFor(ctx, "GetLinks"); err == nil {
		t.Error("URLFor outside an entry: no error")
	}
}
