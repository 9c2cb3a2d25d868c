package runtime

import (
	"context"
	"io"
	"log/slog"
)

// Commander is a service with commands: tasks run on demand with the
// service's own code and configuration, outside any request — seed data,
// migrations, exports, a documentation generator. `cws do DIR` lists them
// and `cws do DIR NAME [flags] [args]` runs one (the binary runs it under
// CWS_MODE=command).
//
// Package runtime holds what a service's code names; package
// github.com/coworks-go/cws/command checks, lists and runs the commands,
// and only binaries built by `cws do` link it. That package calls Commands
// once per listing or run, so that each run gets fresh flag values: Commands
// declares, it should not connect to anything or do work. New does not
// call it: a command declared wrong is an error when the commands are
// listed (`cws do DIR`) or run.
type Commander interface {
	Commands() map[string]Command
}

// Command is one command of a service. Its name is its key in the map
// Commands returns: lower-case letters, digits, '-', '_', ':' and '.',
// starting with a letter.
type Command struct {
	// Help says what the command does. Its first line is what the list of
	// commands shows; --help shows all of it.
	Help string
	// Flags is nil or a pointer to a struct whose exported fields are the
	// command's flags, parsed with the standard flag package (-name value,
	// --name=value; a bool flag takes no value). Every exported field
	// names its flag with a `flag:"name"` tag (`flag:"-"` skips it) and
	// says what it is for with a `usage:"..."` tag; the value the field
	// holds when Commands returns is the flag's default. A field is a
	// bool, string, int, int64, uint, uint64, float64, time.Duration (or a
	// type defined on one of these), a []string (the flag repeated), a
	// type whose pointer is a flag.Value, or one that implements
	// encoding.TextUnmarshaler and encoding.TextMarshaler (time.Time,
	// netip.Addr, slog.Level...).
	Flags any
	// Run runs the command; the flags are set in Flags when it is called.
	// An error fails the command: `cws do` prints it and exits 1.
	Run func(ctx context.Context, env *CommandEnv) error
}

// CommandEnv is what a running command is given. Its configuration is the
// service's: the process environment — which `cws do` fills with the
// stage's .env and .env.<stage> files, as `cws run` does — and whatever the
// service read from it when it was built.
type CommandEnv struct {
	// Name is the command's name.
	Name string
	// Args are the arguments after the flags.
	Args []string
	// Stage is the App's stage.
	Stage string
	// Client calls the service's entries in process, as the service itself
	// (the authorizer is not asked; see Client).
	Client *Client
	// Stdin is the input of `cws do`.
	Stdin io.Reader
	// Stdout is where the command writes what it produces.
	Stdout io.Writer
	// Log is the App's logger (standard error).
	Log *slog.Logger
}
