package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
)

func newInvokeCmd() *cobra.Command {
	var event, stage string
	cmd := &cobra.Command{
		Use:   "invoke [PKG] --event FILE|-",
		Short: "Hand one Lambda event to a service and print the Lambda response",
		Long: `invoke builds the service in PKG (default: the current directory) and hands it
one Lambda event, as the Lambda runtime would: an API Gateway REST or HTTP API
event, a Function URL event or an authorizer event. It prints the response
payload (what sam local invoke does, without Docker). A handler error prints
Lambda's error payload and exits 1.`,
		Example: `  cws invoke ./examples/crud --event testdata/apigw-get.json
  echo '{"version":"2.0", ...}' | cws invoke --event -`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if event == "" {
				return usageError(cmd, fmt.Errorf("--event FILE|- is required"))
			}
			var data []byte
			var err error
			if event == "-" {
				data, err = io.ReadAll(cmd.InOrStdin())
			} else {
				data, err = os.ReadFile(event)
			}
			if err != nil {
				return fmt.Errorf("reading the event: %w", err)
			}
			if !json.Valid(data) {
				return exitError{code: 2, msg: fmt.Sprintf("the event in %s is not JSON", event)}
			}
			_, err = runMode(cmd, pkgArg(args), stageOf(stage), "invoke", bytes.NewReader(data), cmd.OutOrStdout())
			return err
		},
	}
	cmd.Flags().StringVar(&event, "event", "", "file holding the event JSON, or - for standard input (required)")
	cmd.Flags().StringVar(&stage, "stage", "", "stage (default $CWS_STAGE, else dev)")
	return cmd
}
