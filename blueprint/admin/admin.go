// Package admin is a blueprint that documents the service it is mounted in:
// a dashboard (its routes with a form to try each, the last invocations
// and timings, the reactors, the workflows, the dead letters; see
// docs/admin.md), and the routes as JSON.
//
//	cws.Main(&CRUD{}, runtime.WithBlueprint("/admin", admin.New()))
package admin

import (
	"context"

	"github.com/coworks-go/cws/runtime"
)

// Admin documents the service it is mounted in. Its entries are guarded by
// the service's authorizer like any other, but the dashboard's page, which
// holds no data.
type Admin struct{}

// DevEndpoint makes it a developers' blueprint: served in stage dev, or
// where CWS_DEV_ENDPOINTS lists "admin" (runtime.DevEndpoint).
func (a *Admin) DevEndpoint() string { return "admin" }

// New returns the admin blueprint.
func New() *Admin { return &Admin{} }

// ConfigureEntries declares the HTML page's content type; the page needs
// no token (it holds no data).
func (a *Admin) ConfigureEntries(c *runtime.EntryConfig) {
	c.Entry((*Admin).Get, runtime.ContentType("text/html; charset=utf-8"), runtime.NoAuth())
	a.configureOpenAPI(c)
}

// GetRoutes answers the routes of the service as JSON.
func (a *Admin) GetRoutes(ctx context.Context) runtime.Description {
	return runtime.AppFrom(ctx).Description()
}
