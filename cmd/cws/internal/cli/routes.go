package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/coworks-go/cws"
	"github.com/coworks-go/cws/runtime"
)

func newRoutesCmd() *cobra.Command {
	var stage string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "routes [PKG]",
		Short: "List the routes of a service",
		Long: `routes builds the service in PKG (default: the current directory) and lists
its routes: method, path, entry, whether the authorizer guards it, and the
stages it is limited to. Entries of other stages than --stage are marked.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			desc, err := describe(cmd, pkgArg(args), stageOf(stage))
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(desc)
			}
			return writeRouteTable(cmd.OutOrStdout(), desc)
		},
	}
	cmd.Flags().StringVar(&stage, "stage", "", "stage to describe (default $CWS_STAGE, else dev)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of a table")
	return cmd
}

func pkgArg(args []string) string {
	if len(args) == 0 {
		return "."
	}
	return args[0]
}

// describe builds the service and runs it in routes mode.
func describe(cmd *cobra.Command, pkg, stage string) (*runtime.Description, error) {
	out, err := runMode(cmd, pkg, stage, "routes", nil, nil)
	if err != nil {
		return nil, err
	}
	var desc runtime.Description
	if err := json.Unmarshal(out, &desc); err != nil {
		return nil, fmt.Errorf("reading the routes of %s: %w", pkg, err)
	}
	return &desc, nil
}

// runMode builds pkg and runs it once in a CWS_MODE, with extraEnv added
// to its environment, returning its stdout (or streaming it to out when out
// is set).
func runMode(cmd *cobra.Command, pkg, stage, mode string, stdin io.Reader, out io.Writer, extraEnv ...string) ([]byte, error) {
	return runModeArgs(cmd, pkg, stage, mode, nil, nil, stdin, out, extraEnv...)
}

// runModeArgs is runMode with buildFlags given to go build (`cws do`
// builds with -tags cwscommands) and args to the binary (CWS_MODE=command
// takes the command's name, flags and arguments).
func runModeArgs(cmd *cobra.Command, pkg, stage, mode string, buildFlags, args []string, stdin io.Reader, out io.Writer, extraEnv ...string) ([]byte, error) {
	wd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	bin, cleanup, err := tempBin()
	if err != nil {
		return nil, err
	}
	defer cleanup()
	info, err := build(cmd.Context(), wd, pkg, bin, cmd.ErrOrStderr(), buildFlags...)
	if err != nil {
		return nil, err
	}
	env, err := stageEnv(info.Dir, stage)
	if err != nil {
		return nil, err
	}
	c := exec.CommandContext(cmd.Context(), bin, args...)
	c.Env = append(append(env, extraEnv...), cws.EnvMode+"="+mode)
	// Interrupted, the binary gets SIGTERM and time to stop cleanly (a
	// command ending its step) before it is killed.
	c.Cancel = func() error { return c.Process.Signal(syscall.SIGTERM) }
	c.WaitDelay = 10 * time.Second
	c.Stdin = stdin
	c.Stderr = cmd.ErrOrStderr()
	var buf bytes.Buffer
	c.Stdout = &buf
	if out != nil {
		c.Stdout = out
	}
	if err := c.Run(); err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return nil, exitError{code: ee.ExitCode(), msg: fmt.Sprintf("%s exited with status %d", info.ImportPath, ee.ExitCode())}
		}
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeRouteTable prints the routes as an aligned table.
func writeRouteTable(w io.Writer, desc *runtime.Description) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "METHOD\tPATH\tENTRY\tAUTH\tSTAGES\n")
	inactive := false
	for _, r := range desc.Routes {
		entry := r.Entry
		if r.Blueprint != "" {
			entry = r.Blueprint + "." + entry
		}
		auth := "token"
		if !r.Auth {
			auth = "none"
		}
		stages := strings.Join(r.Stages, ",")
		if stages == "" {
			stages = "all"
		}
		if !r.Active {
			stages += " (not in " + desc.Stage + ")"
			inactive = true
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Method, r.Path, entry, auth, stages)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if inactive {
		fmt.Fprintf(w, "\nRoutes marked (not in %s) do not exist in stage %s.\n", desc.Stage, desc.Stage)
	}
	return nil
}

func splitLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}
