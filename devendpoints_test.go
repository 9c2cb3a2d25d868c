package cws_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/coworks-go/cws/blueprint/admin"
	"github.com/coworks-go/cws/blueprint/profiler"
	"github.com/coworks-go/cws/runtime"
	cwshttp "github.com/coworks-go/cws/transport/http"
	cwslambda "github.com/coworks-go/cws/transport/lambda"
)

type office struct{}

func (office) GetHello(context.Context) string { return "hello" }

// The developers' endpoints (the admin dashboard and its routes, the
// profiler and pprof) do not exist outside the stages that turn them on,
// through every door: the local server, API Gateway REST and HTTP API
// events, Function URLs, and the invocations of the CloudEvents doors
// (App.Serve as the service itself). In stage dev, or where
// CWS_DEV_ENDPOINTS lists them, they do.
func TestDevEndpointsOffOnEveryDoor(t *testing.T) {
	const tok = "dev-token"
	paths := map[string]string{"/admin": "admin", "/admin/routes": "admin", "/profiler/timings": "profiler",
		"/profiler/invocations": "profiler", "/profiler/heap": "profiler"}
	for _, tc := range []struct {
		stage string
		list  *string // CWS_DEV_ENDPOINTS; nil: unset
		on    map[string]bool
	}{
		{"prod", nil, nil},
		{"prod", ptr(""), nil},
		{"prod", ptr("profiler"), map[string]bool{"profiler": true}},
		{"dev", nil, map[string]bool{"admin": true, "profiler": true}},
		{"dev", ptr("admin"), map[string]bool{"admin": true}},
	} {
		t.Setenv(runtime.EnvDevEndpoints, "")
		if tc.list == nil {
			os.Unsetenv(runtime.EnvDevEndpoints)
		} else {
			os.Setenv(runtime.EnvDevEndpoints, *tc.list)
		}
		app, err := runtime.New(office{}, runtime.WithStage(tc.stage), runtime.WithAuthorizer(runtime.TokenAuthorizer(tok)),
			runtime.WithBlueprint("/admin", admin.New()), runtime.WithBlueprint("/profiler", profiler.New()),
			runtime.WithLogger(slog.New(slog.DiscardHandler)))
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(cwshttp.NewHandler(app))
		lambda := cwslambda.NewHandler(app, cwslambda.WithLogger(slog.New(slog.DiscardHandler)))
		doors := map[string]func(path string) int{
			"local server": func(path string) int {
				req, _ := http.NewRequest("GET", srv.URL+path, nil)
				req.Header.Set("Authorization", tok)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				return resp.StatusCode
			},
			"API Gateway REST": lambdaDoor(t, lambda, func(path string) string {
				return `{"resource":"/{proxy+}","path":"` + path + `","httpMethod":"GET","headers":{"Authorization":"` + tok + `"},` +
					`"requestContext":{"stage":"prod","path":"/prod` + path + `","requestId":"r1","identity":{"sourceIp":"198.51.100.7"}}}`
			}),
			"HTTP API": lambdaDoor(t, lambda, func(path string) string {
				return `{"version":"2.0","routeKey":"$default","rawPath":"` + path + `","headers":{"authorization":"` + tok + `"},` +
					`"requestContext":{"stage":"$default","domainName":"api.example.com","requestId":"r2","http":{"method":"GET","path":"` + path + `","sourceIp":"198.51.100.7"}}}`
			}),
			"Function URL": lambdaDoor(t, lambda, func(path string) string {
				return `{"version":"2.0","routeKey":"$default","rawPath":"` + path + `","headers":{"authorization":"` + tok + `"},` +
					`"requestContext":{"stage":"$default","domainName":"abc.lambda-url.eu-west-1.on.aws","requestId":"r3","http":{"method":"GET","path":"` + path + `","sourceIp":"198.51.100.7"}}}`
			}),
			"invocation": func(path string) int {
				return app.Serve(context.Background(), runtime.NewAuthorizedRequest("GET", path, "", nil)).Status
			},
		}
		for door, get := range doors {
			for path, bp := range paths {
				status, on := get(path), tc.on[bp]
				if on && status != 200 || !on && status != 404 {
					t.Errorf("stage %s (CWS_DEV_ENDPOINTS %v), %s: GET %s answered %d", tc.stage, tc.list, door, path, status)
				}
			}
			if status := get("/hello"); status != 200 {
				t.Errorf("stage %s, %s: GET /hello answered %d", tc.stage, door, status)
			}
		}
		srv.Close()
	}
}

// lambdaDoor hands the event of a path to the Lambda handler and returns
// the answer's status.
func lambdaDoor(t *testing.T, h *cwslambda.Handler, event func(path string) string) func(string) int {
	return func(path string) int {
		t.Helper()
		out, err := h.Invoke(context.Background(), []byte(event(path)))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		var resp struct {
			StatusCode int `json:"statusCode"`
		}
		if err := json.Unmarshal(out, &resp); err != nil {
			t.Fatalf("%s: %s: %v", path, out, err)
		}
		return resp.StatusCode
	}
}

func ptr(s string) *string { return &s }
