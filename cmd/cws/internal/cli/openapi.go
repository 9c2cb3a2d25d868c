package cli

import (
	"fmt"
	"os"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/spf13/cobra"

	"github.com/coworks-go/cws"
	"github.com/coworks-go/cws/openapi"
)

// openAPITag is the build tag that links the OpenAPI generator into a
// service's binary (CWS_MODE=openapi): no service links it otherwise.
const openAPITag = "cwsopenapi"

func newOpenAPICmd() *cobra.Command {
	var stage, format, output string
	cmd := &cobra.Command{
		Use:   "openapi [PKG]",
		Short: "Write the OpenAPI 3.1 document of a service",
		Long: `openapi builds the service in PKG (default: the current directory) and writes
its OpenAPI 3.1 document: its entries in --stage (default $CWS_STAGE, else
dev) with the JSON Schemas of their parameters and results, the problems
they answer, and the token as a security scheme. The document is checked by
kin-openapi's validator before it is written.

The service's binary is built with the build tag cwsopenapi, which links the
generator into it for this run only; it describes itself under
CWS_MODE=openapi, whether or not it mounts the admin blueprint (which serves
the same document at /admin/openapi.json and /admin/openapi.yaml).`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "json" && format != "yaml" {
				return usageError(cmd, fmt.Errorf("--format %q: want json or yaml", format))
			}
			doc, err := openAPIOf(cmd, pkgArg(args), stageOf(stage))
			if err != nil {
				return err
			}
			out := doc
			if format == "yaml" {
				if out, err = openapi.JSONToYAML(doc); err != nil {
					return err
				}
			}
			if output == "" || output == "-" {
				_, err = cmd.OutOrStdout().Write(out)
				return err
			}
			return os.WriteFile(output, out, 0o644)
		},
	}
	cmd.Flags().StringVar(&stage, "stage", "", "stage to describe (default $CWS_STAGE, else dev)")
	cmd.Flags().StringVar(&format, "format", "json", "json or yaml")
	cmd.Flags().StringVarP(&output, "output", "o", "", "file to write (default: standard output)")
	return cmd
}

// openAPIOf builds pkg with the generator linked in and returns the JSON
// document it writes under CWS_MODE=openapi, once checked.
func openAPIOf(cmd *cobra.Command, pkg, stage string) ([]byte, error) {
	out, err := runModeArgs(cmd, pkg, stage, "openapi", []string{"-tags", openAPITag}, nil, nil, nil, cws.EnvLogLevel+"=error")
	if err != nil {
		return nil, err
	}
	// The service checked its document; check what arrived.
	doc, err := openapi3.NewLoader().LoadFromData(out)
	if err == nil {
		err = doc.Validate(cmd.Context())
	}
	if err != nil {
		return nil, fmt.Errorf("the OpenAPI document of %s: %w", pkg, err)
	}
	return out, nil
}
