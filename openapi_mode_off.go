//go:build !cwsopenapi

package cws

import (
	"context"
	"errors"
	"io"

	"github.com/coworks-go/cws/runtime"
)

// writeOpenAPI refuses: a service's binary links the OpenAPI generator
// only when built with the build tag cwsopenapi, as `cws openapi` builds
// it.
func writeOpenAPI(context.Context, *runtime.App, io.Writer) error {
	return errors.New("CWS_MODE=openapi needs the binary built with -tags cwsopenapi: run `cws openapi`")
}
