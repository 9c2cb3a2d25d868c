// Package command lists and runs the commands a service declares
// (runtime.Commander): it checks them, defines their flags from their Flags
// structs with the standard flag package, describes them, and runs one.
//
// It is apart from package runtime so that a service's binary links it —
// and the flag package — only when it is built with the build tag
// cwscommands, as `cws do` builds it: a binary deployed to Lambda carries
// no command machinery. Package runtime keeps only what a service's code
// names (Commander, Command, CommandEnv, Client). The front door
// (CWS_MODE=commands and CWS_MODE=command) and tests call List and Run.
package command

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/coworks-go/cws/runtime"
)

// Info describes a command: what `cws do DIR` lists, and the binary prints
// under CWS_MODE=commands.
type Info struct {
	// Name is the command's name, as cws do takes it.
	Name string `json:"name"`
	// Help is the command's help text; its first line is its summary.
	Help string `json:"help,omitempty"`
	// Flags are the command's flags, in the order of their fields.
	Flags []Flag `json:"flags"`
}

// Flag describes a flag of a command.
type Flag struct {
	// Name is the flag's name, without dashes.
	Name string `json:"name"`
	// Type is the kind of value it takes: bool (none), string, int, uint,
	// float, duration, strings (repeatable), or the lower-cased name of
	// the field's type.
	Type string `json:"type"`
	// Default is the default value as text, empty for the zero value.
	Default string `json:"default,omitempty"`
	// Usage says what the flag is for.
	Usage string `json:"usage,omitempty"`
}

// LineError is a command line a command cannot run: an unknown command, a
// flag it does not define, a value that does not parse. The binary exits 2
// on it (1 on a command's own error).
type LineError struct {
	// Command is the command's name, empty when there is none.
	Command string
	// Msg says what is wrong.
	Msg string
	// Usage is the command's usage, or the list of commands.
	Usage string
}

// Error implements error.
func (e *LineError) Error() string {
	msg := e.Msg
	if e.Command != "" {
		msg = e.Command + ": " + msg
	}
	if e.Usage != "" {
		msg += "\n\n" + strings.TrimRight(e.Usage, "\n")
	}
	return msg
}

// spec is a checked command: its flags registered on a flag set.
type spec struct {
	name  string
	cmd   runtime.Command
	set   *flag.FlagSet
	flags []Flag
}

// specs calls the service's Commands and checks every command (its name,
// its Run, each flag's tag and type); it returns them sorted by name, none
// when the service is not a runtime.Commander. Each call gets fresh flag
// values, the defaults.
func specs(app *runtime.App) ([]*spec, error) {
	c, ok := app.Service().(runtime.Commander)
	if !ok {
		return nil, nil
	}
	m := c.Commands()
	out := make([]*spec, 0, len(m))
	for name, cmd := range m {
		s, err := newSpec(name, cmd)
		if err != nil {
			return nil, fmt.Errorf("%T: command %q: %w", app.Service(), name, err)
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(x, y *spec) int { return strings.Compare(x.name, y.name) })
	return out, nil
}

// List describes the commands of app's service, sorted by name, once it has
// checked them all: a command declared wrong (a name, no Run, a flag's tag
// or type) is an error naming the command and the field. `cws do DIR` lists
// them, so it checks every command; a test of the service calling List
// checks them in `go test`.
func List(app *runtime.App) ([]Info, error) {
	ss, err := specs(app)
	if err != nil {
		return nil, err
	}
	out := make([]Info, len(ss))
	for i, s := range ss {
		out[i] = s.info()
	}
	return out, nil
}

// Run runs the command name of app's service with args — its flags, then
// its arguments (CommandEnv.Args) — reading stdin and writing its output
// to stdout, as `cws do DIR NAME ARGS` does in the service's binary. -h or
// --help among the flags writes the command's usage to stdout instead. The
// service's commands are checked first, as List checks them. An unknown
// command or flags the command refuses is a *LineError; otherwise Run
// returns the command's error, prefixed with its name.
func Run(ctx context.Context, app *runtime.App, name string, args []string, stdin io.Reader, stdout io.Writer) error {
	ss, err := specs(app)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(ss, func(s *spec) bool { return s.name == name })
	if i < 0 {
		msg := fmt.Sprintf("unknown command %q", name)
		if name == "" {
			msg = "name a command"
		}
		return &LineError{Msg: msg, Usage: list(app.Name(), ss)}
	}
	s := ss[i]
	if err := s.set.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			_, err := io.WriteString(stdout, s.info().Usage())
			return err
		}
		return &LineError{Command: name, Msg: err.Error(), Usage: s.info().Usage()}
	}
	env := &runtime.CommandEnv{Name: name, Args: s.set.Args(), Stage: app.Stage(), Client: app.Client(), Stdin: stdin, Stdout: stdout, Log: app.Logger()}
	if err := s.cmd.Run(ctx, env); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// list lists the commands, a line each.
func list(service string, ss []*spec) string {
	if len(ss) == 0 {
		return service + " has no commands (a Commands method)."
	}
	rows := make([][2]string, len(ss))
	for i, s := range ss {
		rows[i] = [2]string{s.name, firstLine(s.cmd.Help)}
	}
	return "The commands of " + service + ":\n" + columns(rows, 2)
}

// columns lays rows out in two columns, indented by two spaces, the second
// column gap spaces after the widest first cell.
func columns(rows [][2]string, gap int) string {
	width := 0
	for _, r := range rows {
		width = max(width, len(r[0]))
	}
	var b strings.Builder
	for _, r := range rows {
		b.WriteString("  " + r[0])
		if r[1] != "" {
			b.WriteString(strings.Repeat(" ", width-len(r[0])+gap) + r[1])
		}
		b.WriteString("\n")
	}
	return b.String()
}

// firstLine is the first line of s.
func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}

// Usage is the command's usage, as --help shows it: the command line, its
// help, its flags.
func (c Info) Usage() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: %s [flags] [args]\n", c.Name)
	if h := strings.TrimSpace(c.Help); h != "" {
		b.WriteString("\n" + h + "\n")
	}
	if len(c.Flags) > 0 {
		b.WriteString("\nFlags:\n")
		b.WriteString(c.FlagUsage())
	}
	return b.String()
}

// FlagUsage lists the command's flags, a line each:
// "  --name type   usage (default value)".
func (c Info) FlagUsage() string {
	rows := make([][2]string, len(c.Flags))
	for i, f := range c.Flags {
		name := "--" + f.Name
		if f.Type != "bool" {
			name += " " + f.Type
		}
		usage := f.Usage
		if f.Default != "" {
			usage += fmt.Sprintf(" (default %s)", f.Default)
		}
		rows[i] = [2]string{name, strings.TrimSpace(usage)}
	}
	return columns(rows, 3)
}

// info describes the command.
func (s *spec) info() Info {
	return Info{Name: s.name, Help: s.cmd.Help, Flags: s.flags}
}
