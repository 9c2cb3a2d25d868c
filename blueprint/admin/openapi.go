package admin

import (
	"context"
	"encoding/json"

	"github.com/coworks-go/cws/openapi"
	"github.com/coworks-go/cws/runtime"
)

// configureOpenAPI gives the document's entries their paths and content
// types.
func (a *Admin) configureOpenAPI(c *runtime.EntryConfig) {
	c.Entry((*Admin).GetOpenAPIJSON, runtime.Path("/openapi.json"))
	c.Entry((*Admin).GetOpenAPIYAML, runtime.Path("/openapi.yaml"), runtime.ContentType("application/yaml"))
}

// GetOpenAPIJSON answers the OpenAPI 3.1 document of the service's entries
// in its stage (docs/openapi.md), as JSON: what `cws openapi` writes.
func (a *Admin) GetOpenAPIJSON(ctx context.Context) (json.RawMessage, error) {
	doc, err := openapi.Document(ctx, runtime.AppFrom(ctx))
	if err != nil {
		return nil, err
	}
	return openapi.JSON(doc)
}

// GetOpenAPIYAML answers the OpenAPI document as YAML.
func (a *Admin) GetOpenAPIYAML(ctx context.Context) (string, error) {
	doc, err := openapi.Document(ctx, runtime.AppFrom(ctx))
	if err != nil {
		return "", err
	}
	b, err := openapi.YAML(doc)
	return string(b), err
}
