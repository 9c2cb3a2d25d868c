// Command templates runs cws's Templates service standalone: POST
// /render/{name} and POST /render (see package templates), its templates
// from TEMPLATES_DIR or TEMPLATES_S3_URI.
//
//	TEMPLATES_DIR=./examples/biz/templates cws run ./services/templates/cmd
package main

//go:generate go run github.com/coworks-go/cws/cmd/cws gen

import (
	"context"
	"fmt"
	"os"

	"github.com/coworks-go/cws"
	"github.com/coworks-go/cws/services/templates"
)

func main() {
	var svc *templates.Service
	svc, err := templates.FromEnv(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "templates:", err)
		os.Exit(1)
	}
	cws.Main(svc)
}
