//go:build cwsopenapi

package admin

import (
	"context"
	"encoding/json"

	"github.com/coworks-go/cws/openapi"
	"github.com/coworks-go/cws/runtime"
)

// The OpenAPI generator (kin-openapi and its JSON Schema validator, whose
// init alone costs milliseconds of a cold start) is linked only into the
// binaries of the tools that serve or write the document.

func openAPIJSON(ctx context.Context, app *runtime.App) (json.RawMessage, error) {
	doc, err := openapi.Document(ctx, app)
	if err != nil {
		return nil, err
	}
	return openapi.JSON(doc)
}

func openAPIYAML(ctx context.Context, app *runtime.App) ([]byte, error) {
	doc, err := openapi.Document(ctx, app)
	if err != nil {
		return nil, err
	}
	return openapi.YAML(doc)
}
