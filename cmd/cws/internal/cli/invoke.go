package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/coworks-go/cws/deploy"
	"github.com/coworks-go/cws/localstack/lambdaenv"
)

func newInvokeCmd() *cobra.Command {
	var events []string
	var stage string
	var onRuntime bool
	cmd := &cobra.Command{
		Use:   "invoke [PKG] --event FILE|-",
		Short: "Hand one Lambda event to a service and print the Lambda response",
		Long: `invoke builds the service in PKG (default: the current directory) and hands it
one Lambda event, as the Lambda runtime would: an API Gateway REST or HTTP API
event, a Function URL event or an authorizer event. It prints the response
payload (what sam local invoke does, without Docker). A handler error prints
Lambda's error payload and exits 1.

With --runtime it builds the service as Lambda runs it (-tags lambda.norpc,
stripped) and runs that binary under a Lambda Runtime API, as a
provided.al2023 execution environment does: the events (--event may be
repeated) go to one environment in turn, the first a cold start; after each
response it reports, on standard error, the init duration of a cold start
and the invocation's duration (REPORT lines, as Lambda logs them).`,
		Example: `  cws invoke ./examples/crud --event testdata/apigw-get.json
  echo '{"version":"2.0", ...}' | cws invoke --event -
  cws invoke ./examples/crud --runtime --event examples/crud/events/get-content.json --event examples/crud/events/get-content.json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(events) == 0 {
				return usageError(cmd, fmt.Errorf("--event FILE|- is required"))
			}
			if len(events) > 1 && !onRuntime {
				return usageError(cmd, fmt.Errorf("several events go with --runtime"))
			}
			var payloads [][]byte
			for _, event := range events {
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
				payloads = append(payloads, data)
			}
			if onRuntime {
				return invokeOnRuntime(cmd, pkgArg(args), stageOf(stage), payloads)
			}
			_, err := runMode(cmd, pkgArg(args), stageOf(stage), "invoke", bytes.NewReader(payloads[0]), cmd.OutOrStdout())
			return err
		},
	}
	cmd.Flags().StringArrayVar(&events, "event", nil, "file holding the event JSON, or - for standard input (required; repeated with --runtime)")
	cmd.Flags().StringVar(&stage, "stage", "", "stage (default $CWS_STAGE, else dev)")
	cmd.Flags().BoolVar(&onRuntime, "runtime", false, "run the Lambda binary under a Lambda Runtime API and report init and invoke durations")
	return cmd
}

// invokeOnRuntime builds pkg as Lambda runs it and hands it the payloads
// through a Lambda Runtime API (lambdaenv), one environment for all.
func invokeOnRuntime(cmd *cobra.Command, pkg, stage string, payloads [][]byte) error {
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	bin, cleanup, err := tempBin()
	if err != nil {
		return err
	}
	defer cleanup()
	info, err := listPackage(cmd.Context(), wd, pkg)
	if err != nil {
		return err
	}
	if err := compile(cmd.Context(), wd, info, bin, cmd.ErrOrStderr(), nil, deploy.BuildFlags...); err != nil {
		return err
	}
	env, err := stageEnv(info.Dir, stage)
	if err != nil {
		return err
	}
	name := filepath.Base(info.Dir)
	env = append(env, "AWS_LAMBDA_FUNCTION_NAME="+name, "AWS_LAMBDA_FUNCTION_VERSION=$LATEST", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128",
		"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/"+name, "AWS_LAMBDA_LOG_STREAM_NAME=local")
	e, err := lambdaenv.Start(lambdaenv.Config{Bootstrap: bin, Dir: info.Dir, Env: env, Timeout: 30 * time.Second,
		FunctionARN: "arn:aws:lambda:us-east-1:000000000000:function:" + name})
	if err != nil {
		return err
	}
	defer e.Close()
	failed := false
	for _, p := range payloads {
		res, err := e.Invoke(cmd.Context(), lambdaenv.Invocation{Payload: p})
		if err != nil {
			return err
		}
		fmt.Fprint(cmd.ErrOrStderr(), res.Logs)
		report := fmt.Sprintf("REPORT RequestId: %s\tDuration: %.2f ms", res.RequestID, float64(res.Duration.Microseconds())/1000)
		if res.Init > 0 {
			report += fmt.Sprintf("\tInit Duration: %.2f ms", float64(res.Init.Microseconds())/1000)
		}
		fmt.Fprintln(cmd.ErrOrStderr(), report)
		var pretty bytes.Buffer
		if json.Indent(&pretty, res.Payload, "", "  ") == nil {
			fmt.Fprintln(cmd.OutOrStdout(), pretty.String())
		} else {
			fmt.Fprintln(cmd.OutOrStdout(), string(res.Payload))
		}
		failed = failed || res.Error
	}
	if failed {
		return exitError{code: 1, msg: "the function failed"}
	}
	return nil
}
