//go:build !cwsopenapi

package admin

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/coworks-go/cws/runtime"
)

// errNoOpenAPI answers the document's entries of a binary built without the
// generator.
func errNoOpenAPI() error {
	return runtime.NewProblem(http.StatusNotImplemented,
		"this binary is built without the OpenAPI generator (build tag cwsopenapi): `cws run` serves the document, `cws openapi` writes it")
}

func openAPIJSON(context.Context, *runtime.App) (json.RawMessage, error) { return nil, errNoOpenAPI() }

func openAPIYAML(context.Context, *runtime.App) ([]byte, error) { return nil, errNoOpenAPI() }
