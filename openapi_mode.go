//go:build cwsopenapi

package cws

import (
	"context"
	"io"

	"github.com/coworks-go/cws/openapi"
	"github.com/coworks-go/cws/runtime"
)

// writeOpenAPI writes the App's OpenAPI document as JSON: CWS_MODE=openapi
// of a binary built with the build tag cwsopenapi, which `cws openapi`
// builds.
func writeOpenAPI(ctx context.Context, app *runtime.App, w io.Writer) error {
	doc, err := openapi.Document(ctx, app)
	if err != nil {
		return err
	}
	b, err := openapi.JSON(doc)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}
