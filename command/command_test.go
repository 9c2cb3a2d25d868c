package command_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/coworks-go/cws/command"
	"github.com/coworks-go/cws/runtime"
)

const testToken = "test-token"

// level is a flag.Value: "low" or "high".
type level int

func (l *level) String() string {
	if l == nil || *l == 0 {
		return "low"
	}
	return "high"
}

func (l *level) Set(s string) error {
	switch s {
	case "low":
		*l = 0
	case "high":
		*l = 1
	default:
		return fmt.Errorf("%q is neither low nor high", s)
	}
	return nil
}

// count is a type defined on int.
type count int

// allFlags has a field of every kind of flag.
type allFlags struct {
	Dry     bool          `flag:"dry-run" usage:"change nothing"`
	Name    string        `flag:"name" usage:"who"`
	N       int           `flag:"n"`
	Big     int64         `flag:"big"`
	U       uint          `flag:"u"`
	U64     uint64        `flag:"u64"`
	Ratio   float64       `flag:"ratio"`
	Wait    time.Duration `flag:"wait"`
	Tags    []string      `flag:"tag" usage:"a tag (repeatable)"`
	Count   count         `flag:"count"`
	Level   level         `flag:"level"`
	Since   time.Time     `flag:"since"`
	Addr    netip.Addr    `flag:"addr"`
	Skipped string        `flag:"-"`
	// unexported fields are no flags.
	private int //lint:ignore U1000 present to show it is no flag
}

// tool is a service with commands; ran records what its commands saw.
type tool struct {
	ran []string
}

func (s *tool) Get(ctx context.Context) string { return "tool" }

func (s *tool) Commands() map[string]runtime.Command {
	all := &allFlags{Name: "world", N: 3, Ratio: 0.5, Wait: time.Second, Tags: []string{"default"}, Count: 2, Level: 1, Skipped: "kept"}
	return map[string]runtime.Command{
		"all": {
			Help:  "Show every flag.\nA second line, for --help.",
			Flags: all,
			Run: func(ctx context.Context, env *runtime.CommandEnv) error {
				s.ran = append(s.ran, fmt.Sprintf("%+v args=%q", *all, env.Args))
				return nil
			},
		},
		"env": {
			Help: "Show the environment of a command.",
			Run: func(ctx context.Context, env *runtime.CommandEnv) error {
				in, err := io.ReadAll(env.Stdin)
				if err != nil {
					return err
				}
				fmt.Fprintf(env.Stdout, "%s in %s, stdin %q, args %q\n", env.Name, env.Stage, in, env.Args)
				env.Log.Info("logged")
				return nil
			},
		},
		"fail": {
			Run: func(ctx context.Context, env *runtime.CommandEnv) error {
				return fmt.Errorf("cannot: %w", io.ErrUnexpectedEOF)
			},
		},
	}
}

func newTool(t *testing.T, opts ...runtime.Option) (*tool, *runtime.App) {
	t.Helper()
	s := &tool{}
	app, err := runtime.New(s, append([]runtime.Option{runtime.WithAuthorizer(runtime.TokenAuthorizer(testToken)), runtime.WithStage("test"), runtime.WithLogger(slog.New(slog.DiscardHandler))}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return s, app
}

func TestCommandFlags(t *testing.T) {
	s, app := newTool(t)
	var out bytes.Buffer
	err := command.Run(context.Background(), app, "all", []string{
		"--dry-run", "-name", "ann", "--n=7", "--big", "-9000000000", "--u", "4", "--u64", "18446744073709551615",
		"--ratio", "2.5", "--wait", "1m30s", "--tag", "a", "--tag", "b", "--count", "5", "--level", "low",
		"--since", "2026-01-02T03:04:05Z", "--addr", "10.0.0.1", "rest", "--name", "x",
	}, nil, &out)
	if err != nil {
		t.Fatal(err)
	}
	since := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	want := fmt.Sprintf("%+v args=%q", allFlags{Dry: true, Name: "ann", N: 7, Big: -9000000000, U: 4, U64: 1<<64 - 1, Ratio: 2.5,
		Wait: 90 * time.Second, Tags: []string{"a", "b"}, Count: 5, Level: 0, Since: since, Addr: netip.MustParseAddr("10.0.0.1"), Skipped: "kept"},
		[]string{"rest", "--name", "x"})
	if len(s.ran) != 1 || s.ran[0] != want {
		t.Errorf("ran %q\nwant %q", s.ran, want)
	}

	// Each run starts from the defaults, not from the last run's values.
	if err := command.Run(context.Background(), app, "all", nil, nil, &out); err != nil {
		t.Fatal(err)
	}
	def := fmt.Sprintf("%+v args=%q", allFlags{Name: "world", N: 3, Ratio: 0.5, Wait: time.Second, Tags: []string{"default"}, Count: 2, Level: 1, Skipped: "kept"}, []string{})
	if len(s.ran) != 2 || s.ran[1] != def {
		t.Errorf("second run %q\nwant %q", s.ran[1:], def)
	}
	if out.Len() != 0 {
		t.Errorf("output %q", out.String())
	}
}

func TestCommandsDescribed(t *testing.T) {
	_, app := newTool(t)
	cmds, err := command.List(app)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range cmds {
		names = append(names, c.Name)
	}
	if !reflect.DeepEqual(names, []string{"all", "env", "fail"}) {
		t.Fatalf("commands %q", names)
	}
	want := []command.Flag{
		{Name: "dry-run", Type: "bool", Usage: "change nothing"},
		{Name: "name", Type: "string", Default: "world", Usage: "who"},
		{Name: "n", Type: "int", Default: "3"},
		{Name: "big", Type: "int"},
		{Name: "u", Type: "uint"},
		{Name: "u64", Type: "uint"},
		{Name: "ratio", Type: "float", Default: "0.5"},
		{Name: "wait", Type: "duration", Default: "1s"},
		{Name: "tag", Type: "strings", Default: "default", Usage: "a tag (repeatable)"},
		{Name: "count", Type: "int", Default: "2"},
		{Name: "level", Type: "level", Default: "high"},
		{Name: "since", Type: "time"},
		{Name: "addr", Type: "addr"},
	}
	if !reflect.DeepEqual(cmds[0].Flags, want) {
		t.Errorf("flags of all:\n%+v\nwant\n%+v", cmds[0].Flags, want)
	}
	if len(cmds[1].Flags) != 0 || cmds[1].Help != "Show the environment of a command." {
		t.Errorf("env: %+v", cmds[1])
	}
}

func TestCommandHelp(t *testing.T) {
	s, app := newTool(t)
	for _, arg := range []string{"-h", "--help", "-help"} {
		var out bytes.Buffer
		if err := command.Run(context.Background(), app, "all", []string{"--n", "1", arg}, nil, &out); err != nil {
			t.Fatalf("%s: %v", arg, err)
		}
		want := `Usage: all [flags] [args]

Show every flag.
A second line, for --help.

Flags:
  --dry-run         change nothing
  --name string     who (default world)
  --n int           (default 3)
  --big int
  --u uint
  --u64 uint
  --ratio float     (default 0.5)
  --wait duration   (default 1s)
  --tag strings     a tag (repeatable) (default default)
  --count int       (default 2)
  --level level     (default high)
  --since time
  --addr addr
`
		if out.String() != want {
			t.Errorf("%s:\n%s\nwant\n%s", arg, out.String(), want)
		}
	}
	if len(s.ran) != 0 {
		t.Errorf("--help ran the command: %q", s.ran)
	}
}

func TestCommandLineErrors(t *testing.T) {
	s, app := newTool(t)
	for _, tc := range []struct {
		name string
		args []string
		want []string // in the error's text
	}{
		{"nonesuch", nil, []string{`unknown command "nonesuch"`, "The commands of tool:\n  all   Show every flag.\n  env   Show the environment of a command.\n  fail"}},
		{"", nil, []string{"name a command", "  all   Show every flag."}},
		{"all", []string{"--bogus"}, []string{"all: flag provided but not defined: -bogus", "Usage: all [flags]", "--name string"}},
		{"all", []string{"--n", "x"}, []string{`all: invalid value "x" for flag -n: parse error`}},
		{"all", []string{"--level", "mid"}, []string{`"mid" is neither low nor high`}},
		{"all", []string{"--since", "yesterday"}, []string{`invalid value "yesterday" for flag -since`}},
		{"all", []string{"--n"}, []string{"flag needs an argument: -n"}},
	} {
		err := command.Run(context.Background(), app, tc.name, tc.args, nil, io.Discard)
		var cle *command.LineError
		if !errors.As(err, &cle) {
			t.Errorf("%s %q: %v, want a *LineError", tc.name, tc.args, err)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s %q: %q lacks %q", tc.name, tc.args, err, w)
			}
		}
	}
	if len(s.ran) != 0 {
		t.Errorf("a refused command line ran: %q", s.ran)
	}

	// A service without commands says so.
	plain, err := runtime.New(&commandless{})
	if err != nil {
		t.Fatal(err)
	}
	err = command.Run(context.Background(), plain, "seed", nil, nil, io.Discard)
	if cmds, lerr := command.List(plain); !strings.Contains(fmt.Sprint(err), "commandless has no commands (a Commands method)") || lerr != nil || len(cmds) != 0 {
		t.Errorf("no commands: %v; listed %v %v", err, cmds, lerr)
	}
}

func TestCommandEnvAndErrors(t *testing.T) {
	var logs bytes.Buffer
	_, app := newTool(t, runtime.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	var out bytes.Buffer
	if err := command.Run(context.Background(), app, "env", []string{"a", "b"}, strings.NewReader("input"), &out); err != nil {
		t.Fatal(err)
	}
	if want := "env in test, stdin \"input\", args [\"a\" \"b\"]\n"; out.String() != want {
		t.Errorf("output %q, want %q", out.String(), want)
	}
	if !strings.Contains(logs.String(), "msg=logged") {
		t.Errorf("logs %q", logs.String())
	}

	err := command.Run(context.Background(), app, "fail", nil, nil, io.Discard)
	var cle *command.LineError
	if err == nil || err.Error() != "fail: cannot: unexpected EOF" || !errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &cle) {
		t.Errorf("failing command: %v", err)
	}
}

// commandless is a service without commands.
type commandless struct{}

func (s *commandless) Get(ctx context.Context) string { return "" }

// badCommands is a service whose commands are declared wrong; calls counts
// the calls of Commands.
type badCommands struct {
	cmds  map[string]runtime.Command
	calls int
}

func (s *badCommands) Get(ctx context.Context) string { return "" }

func (s *badCommands) Commands() map[string]runtime.Command {
	s.calls++
	return s.cmds
}

func TestCommandsChecked(t *testing.T) {
	run := func(context.Context, *runtime.CommandEnv) error { return nil }
	type untagged struct {
		Count int
	}
	type unsupported struct {
		Small int32 `flag:"small"`
	}
	type twice struct {
		A string `flag:"x"`
		B string `flag:"x"`
	}
	type help struct {
		H bool `flag:"help"`
	}
	type badName struct {
		N int `flag:"-n"`
	}
	type ints struct {
		IDs []int `flag:"id"`
	}
	for _, tc := range []struct {
		name string
		cmd  runtime.Command
		want string
	}{
		{"Seed", runtime.Command{Run: run}, `command "Seed": a command's name is lower-case letters`},
		{"1st", runtime.Command{Run: run}, `command "1st": a command's name`},
		{"seed data", runtime.Command{Run: run}, `command "seed data": a command's name`},
		{"seed", runtime.Command{}, `command "seed": no Run function`},
		{"seed", runtime.Command{Run: run, Flags: untagged{}}, `its Flags are a command_test.untagged, not a pointer to a struct`},
		{"seed", runtime.Command{Run: run, Flags: (*untagged)(nil)}, `not a pointer to a struct`},
		{"seed", runtime.Command{Run: run, Flags: new(int)}, `not a pointer to a struct`},
		{"seed", runtime.Command{Run: run, Flags: &untagged{}}, "field Count has no flag tag"},
		{"seed", runtime.Command{Run: run, Flags: &unsupported{}}, "field Small: a flag cannot be a int32"},
		{"seed", runtime.Command{Run: run, Flags: &twice{}}, `field B: flag "x" is defined twice`},
		{"seed", runtime.Command{Run: run, Flags: &help{}}, "field H: the flag help is -h/--help"},
		{"seed", runtime.Command{Run: run, Flags: &badName{}}, `field N: flag name "-n"`},
		{"seed", runtime.Command{Run: run, Flags: &ints{}}, "field IDs: a flag cannot be a []int"},
	} {
		// runtime.New neither calls Commands nor checks them: listing
		// them checks them all, and so does running any of them.
		svc := &badCommands{cmds: map[string]runtime.Command{tc.name: tc.cmd, "good": {Run: run}}}
		app, err := runtime.New(svc)
		if err != nil || svc.calls != 0 {
			t.Fatalf("New: %v, %d calls of Commands", err, svc.calls)
		}
		cmds, err := command.List(app)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "*command_test.badCommands") || cmds != nil {
			t.Errorf("List %s %+v: %v, want %q", tc.name, tc.cmd, err, tc.want)
		}
		ran := command.Run(context.Background(), app, "good", nil, nil, io.Discard)
		var le *command.LineError
		if ran == nil || ran.Error() != err.Error() || errors.As(ran, &le) {
			t.Errorf("Run good beside %s %+v: %v, want %v", tc.name, tc.cmd, ran, err)
		}
	}
	for _, name := range []string{"seed", "db:migrate", "export-csv", "v2.report", "a_b"} {
		app, err := runtime.New(&badCommands{cmds: map[string]runtime.Command{name: {Run: run}}})
		if err != nil {
			t.Fatal(err)
		}
		if cmds, err := command.List(app); err != nil || len(cmds) != 1 || cmds[0].Name != name {
			t.Errorf("%s: %v %v", name, cmds, err)
		}
	}
}
