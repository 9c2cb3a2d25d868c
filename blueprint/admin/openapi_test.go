//go:build cwsopenapi

package admin_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"go.yaml.in/yaml/v3"

	"github.com/coworks-go/cws/blueprint/admin"
	"github.com/coworks-go/cws/internal/testutil"
	"github.com/coworks-go/cws/runtime"
)

// TestOpenAPIEndpoints: the blueprint answers the document of the service
// it is mounted in, as JSON and as YAML, in the App's stage.
func TestOpenAPIEndpoints(t *testing.T) {
	t.Setenv("TOKEN", testutil.Token)
	app, err := runtime.New(shop{}, runtime.WithBlueprint("/admin", admin.New()), runtime.WithStage("dev"),
		runtime.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}
	get := func(path, token string) *runtime.Response {
		h := http.Header{}
		if token != "" {
			h.Set("Authorization", token)
		}
		return app.Serve(context.Background(), &runtime.Request{Method: "GET", Path: path, Header: h})
	}
	if r := get("/admin/openapi.json", ""); r.Status != 401 {
		t.Errorf("without the token: %d", r.Status)
	}
	r := get("/admin/openapi.json", testutil.Token)
	if r.Status != 200 || r.ContentType != "application/json" {
		t.Fatalf("openapi.json: %d %s %s", r.Status, r.ContentType, r.Body)
	}
	doc, err := openapi3.NewLoader().LoadFromData(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the served document is not valid: %v", err)
	}
	if doc.OpenAPI != "3.1.0" || doc.Info.Title != "shop" || doc.Info.Description != "shop sells things." {
		t.Errorf("info: %s %+v", doc.OpenAPI, doc.Info)
	}
	items := doc.Paths.Find("/items/{id}")
	if items == nil || items.Get == nil || items.Get.Summary != "Returns <one> item." || items.Get.Tags[0] != "shop" {
		t.Fatalf("GET /items/{id}: %+v", items)
	}
	// The prod-only entry is not in stage dev; the admin's own are, tagged.
	if doc.Paths.Find("/secret") != nil {
		t.Error("GET /secret of stage prod is in the document of stage dev")
	}
	self := doc.Paths.Find("/admin/openapi.yaml")
	if self == nil || self.Get == nil || self.Get.Tags[0] != "admin" || self.Get.Responses.Value("200").Value.Content.Get("application/yaml") == nil {
		t.Errorf("GET /admin/openapi.yaml: %+v", self)
	}

	y := get("/admin/openapi.yaml", testutil.Token)
	if y.Status != 200 || y.ContentType != "application/yaml" {
		t.Fatalf("openapi.yaml: %d %s %s", y.Status, y.ContentType, y.Body)
	}
	var fromYAML, fromJSON any
	if err := yaml.Unmarshal(y.Body, &fromYAML); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(r.Body, &fromJSON); err != nil {
		t.Fatal(err)
	}
	a, _ := yaml.Marshal(fromYAML)
	b, _ := yaml.Marshal(fromJSON)
	if string(a) != string(b) {
		t.Errorf("the YAML document differs from the JSON one:\n%s\nvs\n%s", a, b)
	}
}
