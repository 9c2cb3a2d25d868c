//go:build cwscommands

package cws

import (
	"context"
	"errors"
	"io"

	"github.com/coworks-go/cws/command"
	"github.com/coworks-go/cws/runtime"
)

// writeCommands writes the service's commands as JSON, once checked:
// CWS_MODE=commands of a binary built with the build tag cwscommands,
// which `cws do` builds.
func writeCommands(app *runtime.App, w io.Writer) error {
	cmds, err := command.List(app)
	if err != nil {
		return err
	}
	return writeJSON(w, cmds)
}

// runCommand runs the command args name (args[0], then its flags and
// arguments) on stdin and stdout: CWS_MODE=command of a binary built with
// the build tag cwscommands.
func runCommand(ctx context.Context, app *runtime.App, args []string, stdin io.Reader, stdout io.Writer) error {
	name := ""
	if len(args) > 0 {
		name, args = args[0], args[1:]
	}
	return command.Run(ctx, app, name, args, stdin, stdout)
}

// isCommandLineError reports whether err is a command line a command
// refuses (a *command.LineError): the binary exits 2 on it.
func isCommandLineError(err error) bool {
	var le *command.LineError
	return errors.As(err, &le)
}
