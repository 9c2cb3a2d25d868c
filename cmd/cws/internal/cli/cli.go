// Package cli is the `cws` command line: new, gen, run, routes, invoke.
package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// Execute runs the command line with args and returns the process exit
// code.
func Execute(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRoot()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if err := root.ExecuteContext(ctx); err != nil {
		if ee, ok := err.(exitError); ok {
			if ee.msg != "" {
				fmt.Fprintln(stderr, "cws:", ee.msg)
			}
			return ee.code
		}
		fmt.Fprintln(stderr, "cws:", err)
		return 1
	}
	return 0
}

// exitError ends the command with a given exit code.
type exitError struct {
	code int
	msg  string
}

func (e exitError) Error() string { return e.msg }

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "cws",
		Short: "CoWorks for Go: serverless microservices on AWS",
		Long: `cws builds, runs and inspects cws services: Go structs whose methods are
HTTP entries, served locally and on AWS Lambda by the same binary.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       versionLine(),
	}
	root.SetVersionTemplate("cws {{.Version}}\n")
	root.AddCommand(newGenCmd(), newRunCmd(), newRoutesCmd(), newInvokeCmd(), newNewCmd(), newEventsCmd(), newScheduleCmd(), newReactorsCmd(), newLocalStackCmd(), newWorkflowsCmd(), newTemplatesCmd(), newDeployCmd(), newDestroyCmd(), newInfoCmd(), newPackageCmd(), newOpenAPICmd(), newDLQCmd(), newVersionCmd())
	root.AddCommand(newDoCmd())
	root.SetFlagErrorFunc(usageError)
	var all []*cobra.Command
	for _, c := range root.Commands() {
		all = append(all, c)
		all = append(all, c.Commands()...)
	}
	for _, c := range all {
		c.SetFlagErrorFunc(usageError)
		if c.Args != nil {
			check := c.Args
			c.Args = func(cmd *cobra.Command, args []string) error {
				if err := check(cmd, args); err != nil {
					return usageError(cmd, err)
				}
				return nil
			}
		}
	}
	return root
}

// usageError is a bad command line: exit status 2 and a pointer to --help.
func usageError(cmd *cobra.Command, err error) error {
	return exitError{code: 2, msg: fmt.Sprintf("%v\nRun '%s --help' for usage.", err, cmd.CommandPath())}
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of cws",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintln(cmd.OutOrStdout(), "cws", versionLine())
			return nil
		},
	}
}
