package runtime_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coworks-go/cws/runtime"
	"github.com/coworks-go/cws/runtime/cwsgen"
)

type noContext struct{}

func (noContext) GetThing(id int) string { return "" }

type badResult struct{}

func (badResult) GetThing(ctx context.Context) (string, int) { return "", 0 }

type threeResults struct{}

func (threeResults) GetThing(ctx context.Context) (string, int, error) { return "", 0, nil }

type keywordFirst struct{}

func (keywordFirst) GetThing(ctx context.Context, kw map[string]any, id int) string { return "" }

type badParam struct{}

func (badParam) GetThing_(ctx context.Context, ch chan int) string { return "" }

type badKeywordMap struct{}

func (badKeywordMap) GetThing(ctx context.Context, kw map[string]int) string { return "" }

type badField struct{}

type withChan struct{ C chan int }

func (badField) GetThing(ctx context.Context, kw withChan) string { return "" }

type variadic struct{}

func (variadic) GetThing(ctx context.Context, parts ...string) string { return "" }

type duplicate struct{}

func (duplicate) GetContent_(ctx context.Context, a string) string  { return "" }
func (duplicate) GetContent__(ctx context.Context, b string) string { return "" }

type unknownOption struct{}

func (unknownOption) GetThing(ctx context.Context) string { return "" }
func (unknownOption) Helper() string                      { return "" }
func (unknownOption) ConfigureEntries(c *runtime.EntryConfig) {
	c.Entry(unknownOption.Helper, runtime.NoAuth())
}

type badPathOption struct{}

func (badPathOption) GetThing_(ctx context.Context, id int) string { return "" }
func (badPathOption) ConfigureEntries(c *runtime.EntryConfig) {
	c.Entry(badPathOption.GetThing_, runtime.Path("/thing/{a}/{b}"))
}

type notAFunc struct{}

func (notAFunc) GetThing(ctx context.Context) string { return "" }
func (notAFunc) ConfigureEntries(c *runtime.EntryConfig) {
	c.Entry(42, runtime.NoAuth())
}

type pointerEntries struct{}

func (*pointerEntries) GetThing(ctx context.Context) string { return "" }

type noEntries struct{}

func (noEntries) Helper() {}

type stale struct{}

func (stale) GetThing_(ctx context.Context, a, b int) string { return "" }

func init() {
	cwsgen.Describe((*stale)(nil), cwsgen.TypeInfo{Methods: map[string]cwsgen.MethodInfo{
		"GetThing_": {Params: []string{"a"}},
	}})
}

func TestStartupErrors(t *testing.T) {
	t.Setenv("TOKEN", testToken)
	for _, tc := range []struct {
		svc  any
		opts []runtime.Option
		want string
	}{
		{noContext{}, nil, "runtime_test.noContext.GetThing: an entry takes context.Context as its first parameter"},
		{badResult{}, nil, "badResult.GetThing: the second result must be error, not int"},
		{threeResults{}, nil, "an entry returns at most (value, error)"},
		{keywordFirst{}, nil, "is a keyword parameter and must come last"},
		{badParam{}, nil, "badParam.GetThing_: parameter 1: unsupported type chan int"},
		{badKeywordMap{}, nil, "a keyword map is map[string]any"},
		{badField{}, nil, "field C: unsupported type chan int"},
		{variadic{}, nil, "variadic parameters are not supported"},
		{duplicate{}, nil, "duplicate route GET /content/{arg1}: runtime_test.duplicate.GetContent_ and runtime_test.duplicate.GetContent__"},
		{unknownOption{}, nil, "Helper is not an entry of runtime_test.unknownOption"},
		{badPathOption{}, nil, `option Path "/thing/{a}/{b}" has 2 parameters but the method takes 1`},
		{notAFunc{}, nil, "want a method expression, method value or name, not int"},
		{pointerEntries{}, nil, "has entry GetThing on its pointer: pass a pointer"},
		{noEntries{}, nil, "has no entries"},
		{stale{}, nil, "names 1 parameters but the method has 2: rerun `cws gen`"},
		{nil, nil, "nil service"},
		{&pointerEntries{}, []runtime.Option{runtime.WithBlueprint("admin", &pointerEntries{})}, `prefix "admin" must start with /`},
		{&pointerEntries{}, []runtime.Option{runtime.WithBlueprint("/", &pointerEntries{})}, "duplicate route GET /thing"},
	} {
		_, err := runtime.New(tc.svc, tc.opts...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%T): %v\nwant an error containing %q", tc.svc, err, tc.want)
		}
	}
	if _, err := runtime.New(&pointerEntries{}); err != nil {
		t.Errorf("pointer receiver: %v", err)
	}
}

// admin is a blueprint with middleware.
type admin struct{ seen []string }

func (a *admin) GetRoutes(ctx context.Context) []string {
	var out []string
	for _, r := range runtime.AppFrom(ctx).Routes() {
		out = append(out, r.Blueprint+":"+r.Method+" "+r.Path)
	}
	return out
}

func (a *admin) Get(ctx context.Context) string { return "admin home" }

func (a *admin) Middleware(next runtime.Handler) runtime.Handler {
	return runtime.HandlerFunc(func(ctx context.Context, req *runtime.Request) *runtime.Response {
		name := "unrouted"
		if req.Route != nil {
			name = req.Route.Entry
		}
		a.seen = append(a.seen, name)
		return next.Serve(ctx, req)
	})
}

func TestBlueprintsAndMiddleware(t *testing.T) {
	bp := &admin{}
	var order []string
	mw := func(tag string) runtime.Middleware {
		return func(next runtime.Handler) runtime.Handler {
			return runtime.HandlerFunc(func(ctx context.Context, req *runtime.Request) *runtime.Response {
				order = append(order, tag)
				resp := next.Serve(ctx, req)
				resp.Header.Set("X-"+tag, "1")
				return resp
			})
		}
	}
	app, _ := newApp(t, &pointerEntries{}, runtime.WithBlueprint("/admin/", bp), runtime.WithMiddleware(mw("Outer"), mw("Inner")))
	expect(t, app, call{method: "GET", target: "/admin"}, 200, "admin home")
	r := expect(t, app, call{method: "GET", target: "/admin/routes"}, 200,
		`["admin:GET /admin","admin:GET /admin/routes",":GET /thing"]`)
	if r.header.Get("X-Outer") != "1" || r.header.Get("X-Inner") != "1" {
		t.Errorf("middleware headers %v", r.header)
	}
	expect(t, app, call{method: "GET", target: "/nowhere"}, 404, "")
	if got := strings.Join(order, ","); got != "Outer,Inner,Outer,Inner,Outer,Inner" {
		t.Errorf("middleware order %s", got)
	}
	if got := strings.Join(bp.seen, ","); got != "Get,GetRoutes,unrouted" {
		t.Errorf("blueprint middleware saw %s", got)
	}
}

// slow sleeps; it shows that an entry's context is the request's.
type slow struct{}

func (slow) GetWait(ctx context.Context) (string, error) {
	select {
	case <-ctx.Done():
		return "", ctx.Err()
	case <-time.After(5 * time.Second):
		return "waited", nil
	}
}

func TestContextCancellation(t *testing.T) {
	app, _ := newApp(t, slow{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	resp := app.Serve(ctx, &runtime.Request{Method: "GET", Path: "/wait", Header: map[string][]string{"Authorization": {testToken}}})
	if resp.Status != 499 {
		t.Errorf("cancelled: %d %s", resp.Status, resp.Body)
	}
	ctx, cancel = context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	resp = app.Serve(ctx, &runtime.Request{Method: "GET", Path: "/wait", Header: map[string][]string{"Authorization": {testToken}}})
	if resp.Status != 504 {
		t.Errorf("deadline: %d %s", resp.Status, resp.Body)
	}
}

func TestContextHelpersOutsideEntries(t *testing.T) {
	ctx := context.Background()
	runtime.SetStatus(ctx, 201)
	runtime.ResponseHeader(ctx).Set("X", "y")
	if runtime.RequestFrom(ctx) != nil || runtime.AppFrom(ctx) != nil {
		t.Error("request or app outside an entry")
	}
}

// mismatched is described with invokers that do not fit it.
type mismatched struct{}

func (mismatched) GetThing_(ctx context.Context, a int) string { return "" }

// Helper had GetThing_'s name and signature when the description was made.
func (mismatched) Helper(ctx context.Context, a string) string { return "" }

type wrongReceiver struct{}

func (wrongReceiver) GetThing_(ctx context.Context, a int) string { return "" }

func init() {
	cwsgen.Describe((*mismatched)(nil), cwsgen.TypeInfo{Methods: map[string]cwsgen.MethodInfo{
		"GetThing_": {Params: []string{"a"}, Invoke: cwsgen.Invoke1V((*mismatched).Helper)},
	}})
	cwsgen.Describe((*wrongReceiver)(nil), cwsgen.TypeInfo{Methods: map[string]cwsgen.MethodInfo{
		"GetThing_": {Params: []string{"a"}, Invoke: cwsgen.Invoke1V((*mismatched).GetThing_)},
	}})
}

func TestStaleInvokers(t *testing.T) {
	t.Setenv("TOKEN", testToken)
	for _, tc := range []struct {
		svc  any
		want string
	}{
		{mismatched{}, "the invoker's parameter 1 is string, the method's int: rerun `cws gen`"},
		{wrongReceiver{}, "the invoker's receiver is *runtime_test.mismatched, the service is runtime_test.wrongReceiver"},
	} {
		if _, err := runtime.New(tc.svc); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%T) = %v, want %q", tc.svc, err, tc.want)
		}
	}
}

// TestInvokersSpareReflection shows that the generated invokers are used:
// a call through them allocates less than one through reflect.Value.Call.
func TestInvokersSpareReflection(t *testing.T) {
	allocs := func(s any) float64 {
		app, _ := newApp(t, s)
		req := &runtime.Request{Method: "GET", Path: "/path/1/yes/1.5/1,2/2024-01-01T00:00:00Z/3",
			Header: map[string][]string{"Authorization": {testToken}}}
		return testing.AllocsPerRun(100, func() {
			if r := app.Serve(context.Background(), req); r.Status != 200 {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
		})
	}
	fast, slow := allocs(svc{}), allocs(reflected{})
	if fast >= slow {
		t.Errorf("allocations per call: %v through invokers, %v through reflection", fast, slow)
	}
}

// pointerSvc has pointer receivers and state.
type pointerSvc struct{ calls int }

func (p *pointerSvc) GetCount(ctx context.Context) int { p.calls++; return p.calls }

func init() {
	cwsgen.Describe((*pointerSvc)(nil), cwsgen.TypeInfo{Methods: map[string]cwsgen.MethodInfo{
		"GetCount": {Invoke: cwsgen.Invoke0V((*pointerSvc).GetCount)},
	}})
}

func TestInvokerKeepsTheReceiver(t *testing.T) {
	s := &pointerSvc{}
	app, _ := newApp(t, s)
	for want := 1; want <= 3; want++ {
		expect(t, app, call{method: "GET", target: "/count"}, 200, fmt.Sprint(want))
	}
	if s.calls != 3 {
		t.Errorf("the service saw %d calls", s.calls)
	}
}

// devTool is a developers' blueprint of service devSvc.
type devTool struct{}

type devSvc struct{}

func (devSvc) GetHome(ctx context.Context) string { return "home" }

func (devTool) DevEndpoint() string { return "tool" }

func (devTool) GetInfo(ctx context.Context) string { return "info" }

func TestDevEndpoints(t *testing.T) {
	t.Setenv("TOKEN", testToken)
	serves := func(t *testing.T, stage string) bool {
		t.Helper()
		app, err := runtime.New(devSvc{}, runtime.WithStage(stage), runtime.WithBlueprint("/tool", devTool{}),
			runtime.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
		if err != nil {
			t.Fatal(err)
		}
		resp := app.Serve(context.Background(), &runtime.Request{Method: "GET", Path: "/tool/info", Header: http.Header{"Authorization": {testToken}}})
		return resp.Status == 200
	}
	if !serves(t, "dev") || serves(t, "prod") {
		t.Error("without CWS_DEV_ENDPOINTS a developers' blueprint is served in dev only")
	}
	t.Setenv(runtime.EnvDevEndpoints, "admin,tool")
	if !serves(t, "prod") {
		t.Error("listed in CWS_DEV_ENDPOINTS: not served")
	}
	t.Setenv(runtime.EnvDevEndpoints, "none")
	if serves(t, "dev") {
		t.Error(`CWS_DEV_ENDPOINTS=none: served`)
	}
}
