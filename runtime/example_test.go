package runtime_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/coworks-go/cws/runtime"
	"github.com/coworks-go/cws/runtime/cwsgen"
)

// Greeter is a service with two entries.
type Greeter struct{}

// GreetOptions holds the keyword parameters of GetHello_.
type GreetOptions struct {
	Shout bool `json:"shout"`
}

// GetHello_ answers GET /hello/{name}?shout=yes.
func (g *Greeter) GetHello_(ctx context.Context, name string, opts GreetOptions) string {
	if opts.Shout {
		return strings.ToUpper("hello " + name)
	}
	return "hello " + name
}

// PostGreeting answers POST /greeting with a 201.
func (g *Greeter) PostGreeting(ctx context.Context, in map[string]any) (map[string]any, error) {
	if in["to"] == nil {
		return nil, runtime.Unprocessable("to is required")
	}
	runtime.SetStatus(ctx, http.StatusCreated)
	return map[string]any{"greeting": fmt.Sprint("hello ", in["to"])}, nil
}

// ConfigureEntries lets anybody be greeted.
func (g *Greeter) ConfigureEntries(c *runtime.EntryConfig) {
	c.Entry((*Greeter).GetHello_, runtime.NoAuth())
}

func init() {
	// What `cws gen` writes for Greeter.
	cwsgen.Describe((*Greeter)(nil), cwsgen.TypeInfo{Methods: map[string]cwsgen.MethodInfo{
		"GetHello_":    {Params: []string{"name", "opts"}},
		"PostGreeting": {Params: []string{"in"}},
	}})
}

func ExampleNew() {
	app, err := runtime.New(&Greeter{}, runtime.WithAuthorizer(runtime.TokenAuthorizer("example-token-51c7")))
	if err != nil {
		panic(err)
	}
	for _, r := range app.Routes() {
		fmt.Println(r.Method, r.Path, r.Entry, "auth:", r.Auth)
	}
	resp := app.Serve(context.Background(), &runtime.Request{Method: "GET", Path: "/hello/gopher", RawQuery: "shout=yes"})
	fmt.Println(resp.Status, string(resp.Body))

	resp = app.Serve(context.Background(), &runtime.Request{
		Method: "POST", Path: "/greeting",
		Header: http.Header{"Authorization": {"example-token-51c7"}, "Content-Type": {"application/json"}},
		Body:   strings.NewReader(`{"to": "world"}`),
	})
	fmt.Println(resp.Status, string(resp.Body))

	resp = app.Serve(context.Background(), &runtime.Request{Method: "POST", Path: "/greeting"})
	fmt.Println(resp.Status, resp.ContentType)
	// Output:
	// POST /greeting PostGreeting auth: true
	// GET /hello/{name} GetHello_ auth: false
	// 200 HELLO GOPHER
	// 201 {"greeting":"hello world"}
	// 401 application/problem+json
}

func ExampleNotFound() {
	err := runtime.NotFound("no item %d", 7)
	fmt.Println(err.StatusCode(), err)
	// Output: 404 404 Not Found: no item 7
}

func ExampleParseEntryName() {
	for _, name := range []string{"GetServiceTest", "GetHTTPStatus", "Put_", "Getter"} {
		method, words, ok := runtime.ParseEntryName(name)
		fmt.Println(name, method, words, ok)
	}
	// Output:
	// GetServiceTest GET [service test] true
	// GetHTTPStatus GET [http status] true
	// Put_ PUT [] true
	// Getter  [] false
}

func ExampleURLFor() {
	app, err := runtime.New(&Greeter{}, runtime.WithAuthorizer(runtime.TokenAuthorizer("example-token-51c7")))
	if err != nil {
		panic(err)
	}
	// In an entry, runtime.URLFor(ctx, ...) adds the door's base path
	// (an API Gateway stage, say); the App builds the path alone.
	u, err := app.URLFor("GetHello_", "Ann & Bob", url.Values{"shout": {"yes"}})
	if err != nil {
		panic(err)
	}
	fmt.Println(u)
	resp := app.Serve(context.Background(), &runtime.Request{Method: "GET", Path: strings.Split(u, "?")[0], RawQuery: strings.Split(u, "?")[1]})
	fmt.Println(string(resp.Body))
	// Output:
	// /hello/Ann%20&%20Bob?shout=yes
	// HELLO ANN & BOB
}
