package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/coworks-go/cws/command"
)

// commandsTag is the build tag that links the command machinery (package
// command, the flag package) into a service's binary (CWS_MODE=commands
// and command): no service links it otherwise.
const commandsTag = "cwscommands"

// commandsBuild are the go build flags of the binary `cws do` runs.
var commandsBuild = []string{"-tags", commandsTag}

// newDoCmd is `cws do`: the service's own commands (runtime.Commander).
// The verb is do, not run (cws run serves the service) nor exec (which
// reads as a process started inside the running service, as docker and
// kubectl exec are): the command runs in a process of its own, with the
// service's code and the stage's configuration.
func newDoCmd() *cobra.Command {
	var stage string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "do DIR [NAME [FLAGS] [ARGS]]",
		Short: "List or run the commands a service declares",
		Long: `do builds the service in DIR and lists the commands it declares (its
Commands method): name, help and flags. With NAME it runs that command in
the service's binary (CWS_MODE=command), with the service's code and the
environment of the stage (--stage, default $CWS_STAGE, else dev): .env then
.env.<stage> in DIR, as cws run loads them (the process environment wins).
The command calls the service's entries in process, as the service itself
(no token needed); it does not reach a running cws run.

The flags of do come before NAME; everything after NAME is the command's:
its flags (--help shows them), then its arguments. An unknown command or a
flag the command refuses exits 2, a failing command 1, with the reason.

The service's binary is built with the build tag cwscommands, which links
the command machinery (package command, the flag package) into it for this
run only: a binary built otherwise, as deployed, carries none.

  cws do ./examples/crud                      # list the commands
  cws do ./examples/crud seed --help          # the flags of seed
  cws do --stage prod . migrate --dry-run     # run migrate in stage prod`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := args[0]
			// The flags between DIR and NAME are do's too: parse them,
			// stopping at NAME (interspersed flags are off).
			if err := cmd.Flags().Parse(args[1:]); err != nil {
				return usageError(cmd, err)
			}
			if help, _ := cmd.Flags().GetBool("help"); help {
				return cmd.Help()
			}
			rest := cmd.Flags().Args()
			if len(rest) == 0 {
				return listCommands(cmd, dir, stageOf(stage), asJSON)
			}
			_, err := runModeArgs(cmd, dir, stageOf(stage), "command", commandsBuild, rest, cmd.InOrStdin(), cmd.OutOrStdout())
			var ee exitError
			if errors.As(err, &ee) {
				// The binary has said why on standard error.
				return exitError{code: ee.code}
			}
			return err
		},
	}
	cmd.Flags().SetInterspersed(false)
	cmd.Flags().StringVar(&stage, "stage", "", "stage whose .env files configure the service (default $CWS_STAGE, else dev)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "list the commands as JSON")
	return cmd
}

// listCommands prints the commands of the service in dir.
func listCommands(cmd *cobra.Command, dir, stage string, asJSON bool) error {
	out, err := runModeArgs(cmd, dir, stage, "commands", commandsBuild, nil, nil, nil)
	if err != nil {
		return err
	}
	var cmds []command.Info
	if err := json.Unmarshal(out, &cmds); err != nil {
		return fmt.Errorf("reading the commands of %s: %w", dir, err)
	}
	if asJSON {
		enc := json.NewEncoder(cmd.OutOrStdout())
		enc.SetIndent("", "  ")
		return enc.Encode(cmds)
	}
	return writeCommandList(cmd.OutOrStdout(), dir, cmds)
}

// writeCommandList prints each command's name and first line of help, its
// flags under it.
func writeCommandList(w io.Writer, dir string, cmds []command.Info) error {
	if len(cmds) == 0 {
		_, err := fmt.Fprintln(w, "no commands (a service declares them with a Commands method)")
		return err
	}
	width := 0
	for _, c := range cmds {
		width = max(width, len(c.Name))
	}
	pad := strings.Repeat(" ", width+2)
	for _, c := range cmds {
		help, _, _ := strings.Cut(strings.TrimSpace(c.Help), "\n")
		fmt.Fprintln(w, strings.TrimRight(fmt.Sprintf("%-*s%s", width+2, c.Name, help), " "))
		for _, line := range splitLines(c.FlagUsage()) {
			fmt.Fprintf(w, "%s  %s\n", pad, line)
		}
	}
	_, err := fmt.Fprintf(w, "\nRun 'cws do %s NAME --help' for a command's usage.\n", dir)
	return err
}
