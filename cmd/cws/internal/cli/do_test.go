package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/coworks-go/cws/command"
)

func TestCommandList(t *testing.T) {
	var b bytes.Buffer
	if err := writeCommandList(&b, ".", nil); err != nil || b.String() != "no commands (a service declares them with a Commands method)\n" {
		t.Errorf("none: %v %q", err, b.String())
	}
	b.Reset()
	err := writeCommandList(&b, "./svc", []command.Info{
		{Name: "db:migrate", Help: "Migrate the database.\nMore for --help.", Flags: []command.Flag{
			{Name: "dry-run", Type: "bool", Usage: "change nothing"},
			{Name: "to", Type: "int", Default: "7", Usage: "the version"},
		}},
		{Name: "export"},
	})
	want := `db:migrate  Migrate the database.
              --dry-run   change nothing
              --to int    the version (default 7)
export

Run 'cws do ./svc NAME --help' for a command's usage.
`
	if err != nil || b.String() != want {
		t.Errorf("list:\n%s\nwant\n%s", b.String(), want)
	}
}

func TestDoUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"do"}, {"do", "--bogus", "."}, {"do", ".", "--bogus"}, {"do", ".", "--stage"}} {
		var stdout, stderr bytes.Buffer
		if code := Execute(context.Background(), args, nil, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), "Run 'cws do --help' for usage.") {
			t.Errorf("cws %q: exit %d %q", args, code, stderr.String())
		}
	}
	var stdout, stderr bytes.Buffer
	if code := Execute(context.Background(), []string{"do", ".", "--help"}, nil, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "everything after NAME is the command's") {
		t.Errorf("cws do . --help: exit %d %q %q", code, stdout.String(), stderr.String())
	}
}
