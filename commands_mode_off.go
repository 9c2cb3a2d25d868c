//go:build !cwscommands

package cws

import (
	"context"
	"errors"
	"io"

	"github.com/coworks-go/cws/runtime"
)

// errNoCommands is the answer to CWS_MODE=commands and command: a service's
// binary links the command machinery (package command, the flag package)
// only when built with the build tag cwscommands, as `cws do` builds it.
var errNoCommands = errors.New("CWS_MODE=commands and CWS_MODE=command need the binary built with -tags cwscommands: run `cws do`")

// writeCommands refuses: see errNoCommands.
func writeCommands(*runtime.App, io.Writer) error { return errNoCommands }

// runCommand refuses: see errNoCommands.
func runCommand(context.Context, *runtime.App, []string, io.Reader, io.Writer) error {
	return errNoCommands
}

// isCommandLineError is false: no command runs in this binary.
func isCommandLineError(error) bool { return false }
