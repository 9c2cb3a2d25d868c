package cli

import (
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/coworks-go/cws/localstack"
)

func newLocalStackCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "localstack",
		Short: "Install, start and stop a LocalStack host process",
		Long: `localstack manages the LocalStack ` + localstack.Version + ` host process that integration tests
(and you) can use without Docker: a Python virtual environment installed once
in the cache directory ($CWS_CACHE_DIR, else the user cache directory /cws),
and a process left running in the background, on port 4566 when it is free.
Integration tests reuse a running one; otherwise they start their own.`,
	}
	var services string
	servicesList := func() []string {
		var out []string
		for _, s := range strings.Split(services, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	install := &cobra.Command{
		Use:   "install",
		Short: "Install LocalStack into the cache directory (once; reused after)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			python, err := localstack.Install(cmd.Context(), localstack.WithProgress(cmd.ErrOrStderr()))
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), python)
			return nil
		},
	}
	start := &cobra.Command{
		Use:   "start",
		Short: "Start a LocalStack host process in the background (installing it first if needed)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			self, err := os.Executable()
			if err != nil {
				return err
			}
			inst, err := localstack.StartDaemon(cmd.Context(), localstack.WithProgress(cmd.ErrOrStderr()),
				localstack.WithServices(servicesList()...), localstack.WithLambdaExecutor(self))
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "cws: %s\n", inst)
			fmt.Fprintf(cmd.ErrOrStderr(), "cws: stop it with `cws localstack stop` (make localstack-stop)\n")
			fmt.Fprintln(cmd.OutOrStdout(), inst.Endpoint)
			return nil
		},
	}
	start.Flags().StringVar(&services, "services", strings.Join(localstack.DefaultServices, ","), "services to start, comma-separated")
	stop := &cobra.Command{
		Use:   "stop",
		Short: "Stop the LocalStack host process started by `cws localstack start`",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			was, err := localstack.StopDaemon(cmd.Context())
			if err != nil {
				return err
			}
			if was {
				fmt.Fprintln(cmd.ErrOrStderr(), "cws: LocalStack stopped")
			} else {
				fmt.Fprintln(cmd.ErrOrStderr(), "cws: no LocalStack was running")
			}
			return nil
		},
	}
	status := &cobra.Command{
		Use:   "status",
		Short: "Print the endpoint of the running LocalStack host process (exit 1 if none)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			inst, ok := localstack.RunningDaemon(cmd.Context())
			if !ok {
				return exitError{code: 1, msg: "no LocalStack host process is running (cws localstack start)"}
			}
			fmt.Fprintln(cmd.OutOrStdout(), inst.Endpoint)
			return nil
		},
	}
	var listen, code string
	lambdaEnv := &cobra.Command{
		Use:    "lambda-env --listen ADDR --code DIR",
		Short:  "One execution environment of LocalStack's cws Lambda executor (LocalStack runs it)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			dieWithParent()
			return localstack.ServeExecutor(ctx, localstack.ExecutorConfig{Listen: listen, Code: code, Env: os.Environ(), Log: cmd.ErrOrStderr()})
		},
	}
	lambdaEnv.Flags().StringVar(&listen, "listen", "127.0.0.1:9563", "where LocalStack sends invocations")
	lambdaEnv.Flags().StringVar(&code, "code", ".", "the function's code directory, with its bootstrap")
	cmd.AddCommand(install, start, stop, status, lambdaEnv)
	return cmd
}
