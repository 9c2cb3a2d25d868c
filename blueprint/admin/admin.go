// Package admin is a blueprint that documents the service it is mounted in:
// an HTML page listing every route with its doc comment, and the same as
// JSON.
//
//	cws.Main(&CRUD{}, runtime.WithBlueprint("/admin", admin.New()))
package admin

import (
	"bytes"
	"context"
	_ "embed"
	"html/template"

	"github.com/coworks-go/cws/runtime"
)

//go:embed page.html
var pageSource string

var page = template.Must(template.New("admin").Parse(pageSource))

// Admin documents the service it is mounted in. Its entries are guarded by
// the service's authorizer like any other.
type Admin struct{}

// DevEndpoint makes it a developers' blueprint: served in stage dev, or
// where CWS_DEV_ENDPOINTS lists "admin" (runtime.DevEndpoint).
func (a *Admin) DevEndpoint() string { return "admin" }

// New returns the admin blueprint.
func New() *Admin { return &Admin{} }

// ConfigureEntries declares the HTML page's content type.
func (a *Admin) ConfigureEntries(c *runtime.EntryConfig) {
	c.Entry((*Admin).Get, runtime.ContentType("text/html; charset=utf-8"))
	a.configureOpenAPI(c)
}

// Get renders the routes of the service as an HTML page.
func (a *Admin) Get(ctx context.Context) (string, error) {
	var b bytes.Buffer
	if err := page.Execute(&b, runtime.AppFrom(ctx).Description()); err != nil {
		return "", err
	}
	return b.String(), nil
}

// GetRoutes answers the routes of the service as JSON.
func (a *Admin) GetRoutes(ctx context.Context) runtime.Description {
	return runtime.AppFrom(ctx).Description()
}
