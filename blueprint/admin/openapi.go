package admin

import (
	"context"
	"encoding/json"

	"github.com/coworks-go/cws/runtime"
)

// configureOpenAPI gives the document's entries their paths and content
// types.
func (a *Admin) configureOpenAPI(c *runtime.EntryConfig) {
	c.Entry((*Admin).GetOpenAPIJSON, runtime.Path("/openapi.json"))
	c.Entry((*Admin).GetOpenAPIYAML, runtime.Path("/openapi.yaml"), runtime.ContentType("application/yaml"))
}

// GetOpenAPIJSON answers the OpenAPI 3.1 document of the service's entries
// in its stage (docs/openapi.md), as JSON: what `cws openapi` writes. The
// generator is linked into binaries built with the build tag cwsopenapi,
// as `cws run` and `cws openapi` build them; elsewhere (a deployed
// function) it answers 501.
func (a *Admin) GetOpenAPIJSON(ctx context.Context) (json.RawMessage, error) {
	return openAPIJSON(ctx, runtime.AppFrom(ctx))
}

// GetOpenAPIYAML answers the OpenAPI document as YAML.
func (a *Admin) GetOpenAPIYAML(ctx context.Context) (string, error) {
	b, err := openAPIYAML(ctx, runtime.AppFrom(ctx))
	return string(b), err
}
