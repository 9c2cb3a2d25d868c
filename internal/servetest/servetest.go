// Package servetest serves blueprints over HTTP for the tests of the
// predefined services.
package servetest

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/coworks-go/cws/internal/testutil"
	"github.com/coworks-go/cws/runtime"
	cwshttp "github.com/coworks-go/cws/transport/http"
)

// Blueprint serves bp mounted under prefix in an otherwise empty
// service, over HTTP, with the token testutil.Token; do sends a request with it (a
// JSON body when body is not empty) and returns the status, the content
// type and the body of the answer.
func Blueprint(t *testing.T, prefix string, bp any) (do func(method, path, body string) (int, string, []byte)) {
	t.Helper()
	t.Setenv("TOKEN", testutil.Token)
	app, err := runtime.New(&struct{}{}, runtime.WithBlueprint(prefix, bp), runtime.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(cwshttp.NewHandler(app))
	t.Cleanup(srv.Close)
	return func(method, path, body string) (int, string, []byte) {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", testutil.Token)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), b
	}
}
