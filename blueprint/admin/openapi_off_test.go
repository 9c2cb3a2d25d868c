//go:build !cwsopenapi

package admin_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/coworks-go/cws/blueprint/admin"
	"github.com/coworks-go/cws/internal/testutil"
	"github.com/coworks-go/cws/runtime"
)

// TestOpenAPIEndpointsWithoutGenerator: a binary built without the
// generator (a deployed function) keeps the routes and says how to get the
// document.
func TestOpenAPIEndpointsWithoutGenerator(t *testing.T) {
	t.Setenv("TOKEN", testutil.Token)
	app, err := runtime.New(shop{}, runtime.WithBlueprint("/admin", admin.New()), runtime.WithStage("dev"),
		runtime.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/admin/openapi.json", "/admin/openapi.yaml"} {
		r := app.Serve(context.Background(), &runtime.Request{Method: "GET", Path: path, Header: http.Header{"Authorization": {testutil.Token}}})
		if r.Status != http.StatusNotImplemented || r.ContentType != runtime.ProblemContentType || !strings.Contains(string(r.Body), "cws openapi") {
			t.Errorf("%s: %d %s %s", path, r.Status, r.ContentType, r.Body)
		}
	}
}
