package runtime

import (
	"context"
	"encoding"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"time"
)

// Commander is a service with commands: tasks run on demand with the
// service's own code and configuration, outside any request — seed data,
// migrations, exports, a documentation generator. `cws do DIR` lists them
// and `cws do DIR NAME [flags] [args]` runs one (the binary runs it under
// CWS_MODE=command, see App.RunCommand).
//
// New calls Commands to check them, and RunCommand calls it once per run,
// so that each run gets fresh flag values: Commands declares, it should
// not connect to anything or do work.
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

// CommandInfo describes a command: what `cws do DIR` lists, and the
// binary prints under CWS_MODE=commands.
type CommandInfo struct {
	Name  string     `json:"name"`
	Help  string     `json:"help,omitempty"`
	Flags []FlagInfo `json:"flags"`
}

// FlagInfo describes a flag of a command.
type FlagInfo struct {
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

// CommandLineError is a command line a command cannot run: an unknown
// command, a flag it does not define, a value that does not parse. The
// binary exits 2 on it (1 on a command's own error).
type CommandLineError struct {
	// Command is the command's name, empty when there is none.
	Command string
	// Msg says what is wrong.
	Msg string
	// Usage is the command's usage, or the list of commands.
	Usage string
}

// Error implements error.
func (e *CommandLineError) Error() string {
	msg := e.Msg
	if e.Command != "" {
		msg = e.Command + ": " + msg
	}
	if e.Usage != "" {
		msg += "\n\n" + strings.TrimRight(e.Usage, "\n")
	}
	return msg
}

// commandSpec is a checked command: its flags registered on a flag set.
type commandSpec struct {
	name  string
	cmd   Command
	set   *flag.FlagSet
	flags []FlagInfo
}

// commands returns the service's commands, checked, sorted by name; none
// when the service is not a Commander.
func (a *App) commands() ([]*commandSpec, error) {
	c, ok := a.service.(Commander)
	if !ok {
		return nil, nil
	}
	m := c.Commands()
	specs := make([]*commandSpec, 0, len(m))
	for name, cmd := range m {
		s, err := newCommandSpec(name, cmd)
		if err != nil {
			return nil, fmt.Errorf("%T: command %q: %w", a.service, name, err)
		}
		specs = append(specs, s)
	}
	slices.SortFunc(specs, func(x, y *commandSpec) int { return strings.Compare(x.name, y.name) })
	return specs, nil
}

// Commands describes the service's commands, sorted by name.
func (a *App) Commands() []CommandInfo {
	specs, _ := a.commands() // New has checked them
	out := make([]CommandInfo, len(specs))
	for i, s := range specs {
		out[i] = s.info()
	}
	return out
}

// RunCommand runs the service's command name with args — its flags, then
// its arguments (env.Args) — reading stdin and writing its output to
// stdout. -h or --help among the flags writes the command's usage to
// stdout instead. An unknown command or flags the command refuses is a
// *CommandLineError; otherwise RunCommand returns the command's error,
// prefixed with its name.
func (a *App) RunCommand(ctx context.Context, name string, args []string, stdin io.Reader, stdout io.Writer) error {
	specs, err := a.commands()
	if err != nil {
		return err
	}
	i := slices.IndexFunc(specs, func(s *commandSpec) bool { return s.name == name })
	if i < 0 {
		msg := fmt.Sprintf("unknown command %q", name)
		if name == "" {
			msg = "name a command"
		}
		return &CommandLineError{Msg: msg, Usage: commandList(a.name, specs)}
	}
	s := specs[i]
	if err := s.set.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			_, err := io.WriteString(stdout, s.info().Usage())
			return err
		}
		return &CommandLineError{Command: name, Msg: err.Error(), Usage: s.info().Usage()}
	}
	env := &CommandEnv{Name: name, Args: s.set.Args(), Stage: a.stage, Client: a.Client(), Stdin: stdin, Stdout: stdout, Log: a.log}
	if err := s.cmd.Run(ctx, env); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// commandList lists the commands, a line each.
func commandList(service string, specs []*commandSpec) string {
	if len(specs) == 0 {
		return service + " has no commands (a Commands method)."
	}
	rows := make([][2]string, len(specs))
	for i, s := range specs {
		rows[i] = [2]string{s.name, firstLine(s.cmd.Help)}
	}
	return "The commands of " + service + ":\n" + columns(rows, 2)
}

// columns lays rows out in two columns, indented by two spaces, the second
// column gap spaces after the widest first cell (no text/tabwriter: every
// binary links this).
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
func (c CommandInfo) Usage() string {
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
func (c CommandInfo) FlagUsage() string {
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
func (s *commandSpec) info() CommandInfo {
	return CommandInfo{Name: s.name, Help: s.cmd.Help, Flags: s.flags}
}

// newCommandSpec checks cmd and registers its flags.
func newCommandSpec(name string, cmd Command) (*commandSpec, error) {
	if !validCommandName(name) {
		return nil, errors.New("a command's name is lower-case letters, digits, '-', '_', ':' and '.', starting with a letter")
	}
	if cmd.Run == nil {
		return nil, errors.New("no Run function")
	}
	s := &commandSpec{name: name, cmd: cmd, set: flag.NewFlagSet(name, flag.ContinueOnError), flags: []FlagInfo{}}
	s.set.SetOutput(io.Discard)
	s.set.Usage = func() {}
	if cmd.Flags == nil {
		return s, nil
	}
	pv := reflect.ValueOf(cmd.Flags)
	if pv.Kind() != reflect.Pointer || pv.IsNil() || pv.Elem().Kind() != reflect.Struct {
		return nil, fmt.Errorf("its Flags are a %T, not a pointer to a struct", cmd.Flags)
	}
	sv := pv.Elem()
	for i := range sv.NumField() {
		sf := sv.Type().Field(i)
		if !sf.IsExported() {
			continue
		}
		tag, tagged := sf.Tag.Lookup("flag")
		switch {
		case !tagged:
			return nil, fmt.Errorf("field %s has no flag tag: name its flag (`flag:\"name\"`) or skip it (`flag:\"-\"`)", sf.Name)
		case tag == "-":
			continue
		case !validFlagName(tag):
			return nil, fmt.Errorf("field %s: flag name %q: use letters, digits, '-' and '_', starting with a letter", sf.Name, tag)
		case tag == "h" || tag == "help":
			return nil, fmt.Errorf("field %s: the flag %s is -h/--help, which shows the command's usage", sf.Name, tag)
		case s.set.Lookup(tag) != nil:
			return nil, fmt.Errorf("field %s: flag %q is defined twice", sf.Name, tag)
		}
		usage := sf.Tag.Get("usage")
		typ, err := defineFlag(s.set, sv.Field(i), tag, usage)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", sf.Name, err)
		}
		def := ""
		if !sv.Field(i).IsZero() {
			def = s.set.Lookup(tag).DefValue
		}
		s.flags = append(s.flags, FlagInfo{Name: tag, Type: typ, Default: def, Usage: usage})
	}
	return s, nil
}

func validCommandName(name string) bool {
	if name == "" || name[0] < 'a' || name[0] > 'z' {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune("-_:.", r)) {
			return false
		}
	}
	return true
}

func validFlagName(name string) bool {
	if name == "" || !(name[0] >= 'a' && name[0] <= 'z' || name[0] >= 'A' && name[0] <= 'Z') {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

var (
	durationType      = reflect.TypeFor[time.Duration]()
	flagValueType     = reflect.TypeFor[flag.Value]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
)

// defineFlag registers the field fv as the flag name of set, its current
// value the default, and returns the flag's type name.
func defineFlag(set *flag.FlagSet, fv reflect.Value, name, usage string) (string, error) {
	p := fv.Addr()
	t := fv.Type()
	switch {
	case p.Type().Implements(flagValueType):
		set.Var(p.Interface().(flag.Value), name, usage)
		return flagTypeName(t), nil
	case p.Type().Implements(textUnmarshalerType) && p.Type().Implements(textMarshalerType):
		def := reflect.New(t)
		def.Elem().Set(fv)
		set.TextVar(p.Interface().(encoding.TextUnmarshaler), name, def.Interface().(encoding.TextMarshaler), usage)
		return flagTypeName(t), nil
	case t == durationType:
		set.DurationVar(p.Interface().(*time.Duration), name, fv.Interface().(time.Duration), usage)
		return "duration", nil
	case t.Kind() == reflect.Slice && t.Elem() == reflect.TypeFor[string]():
		set.Var(&stringsFlag{p: p.Convert(reflect.TypeFor[*[]string]()).Interface().(*[]string)}, name, usage)
		return "strings", nil
	}
	// A type defined on a basic kind is set through a pointer to that kind.
	switch t.Kind() {
	case reflect.Bool:
		set.BoolVar(convert[bool](p), name, fv.Bool(), usage)
		return "bool", nil
	case reflect.String:
		set.StringVar(convert[string](p), name, fv.String(), usage)
		return "string", nil
	case reflect.Int:
		set.IntVar(convert[int](p), name, int(fv.Int()), usage)
		return "int", nil
	case reflect.Int64:
		set.Int64Var(convert[int64](p), name, fv.Int(), usage)
		return "int", nil
	case reflect.Uint:
		set.UintVar(convert[uint](p), name, uint(fv.Uint()), usage)
		return "uint", nil
	case reflect.Uint64:
		set.Uint64Var(convert[uint64](p), name, fv.Uint(), usage)
		return "uint", nil
	case reflect.Float64:
		set.Float64Var(convert[float64](p), name, fv.Float(), usage)
		return "float", nil
	}
	return "", fmt.Errorf("a flag cannot be a %s: use bool, string, int, int64, uint, uint64, float64, time.Duration, []string, a flag.Value or an encoding.TextUnmarshaler", t)
}

// convert returns p, a pointer to a type whose underlying type is T, as a *T.
func convert[T any](p reflect.Value) *T {
	return p.Convert(reflect.TypeFor[*T]()).Interface().(*T)
}

// flagTypeName names a flag's type after the field's type.
func flagTypeName(t reflect.Type) string {
	if t.Name() == "" {
		return "value"
	}
	return strings.ToLower(t.Name())
}

// stringsFlag is a []string flag: each use of the flag adds a value; the
// first replaces the default.
type stringsFlag struct {
	p   *[]string
	set bool
}

func (f *stringsFlag) String() string {
	if f == nil || f.p == nil {
		return ""
	}
	return strings.Join(*f.p, ",")
}

func (f *stringsFlag) Set(v string) error {
	if !f.set {
		*f.p, f.set = nil, true
	}
	*f.p = append(*f.p, v)
	return nil
}
