package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDoCrud lists and runs the commands of examples/crud with cws do: the
// list, a command's usage, a run whose effect the entries answer, the
// stage, an unknown command, a refused flag and a failing command.
func TestDoCrud(t *testing.T) {
	out, errOut, code := runCws(t, repoRoot, nil, "do", "./examples/crud")
	want := `seed  Create items through POST / and print what the entry answered.
        --count int     how many items to create (default 3)
        --name string   the items' names, numbered (default item)
        --price float   the price of each item (default 1.5)
        --tag strings   a tag of every item (repeat the flag for more)

Run 'cws do ./examples/crud NAME --help' for a command's usage.
`
	if code != 0 || out != want {
		t.Errorf("cws do ./examples/crud: exit %d\n%s\nwant\n%s\nstderr: %s", code, out, want, errOut)
	}

	out, _, code = runCws(t, repoRoot, nil, "do", "./examples/crud", "--json")
	var cmds []struct {
		Name  string
		Flags []struct{ Name, Type, Default string }
	}
	if err := json.Unmarshal([]byte(out), &cmds); err != nil || code != 0 || len(cmds) != 1 || cmds[0].Name != "seed" || len(cmds[0].Flags) != 4 ||
		cmds[0].Flags[0].Name != "count" || cmds[0].Flags[0].Type != "int" || cmds[0].Flags[0].Default != "3" {
		t.Errorf("--json: exit %d %v\n%s", code, err, out)
	}

	// The items are created through POST / (their ids are the store's),
	// then counted through GET /: no token needed.
	out, errOut, code = runCws(t, repoRoot, nil, "do", "./examples/crud", "seed", "--count", "3", "--tag", "demo", "--price=2")
	want = `created {"id":1,"name":"item 1","price":2,"tags":["demo"]}
created {"id":2,"name":"item 2","price":2,"tags":["demo"]}
created {"id":3,"name":"item 3","price":2,"tags":["demo"]}
GET / answered 3 item(s) in stage dev
`
	if code != 0 || out != want {
		t.Errorf("seed --count 3: exit %d\n%s\nwant\n%s\nstderr: %s", code, out, want, errOut)
	}

	// do's flags come before NAME, on either side of DIR.
	for _, args := range [][]string{{"do", "--stage", "prod", "./examples/crud", "seed", "--count", "1"}, {"do", "./examples/crud", "--stage=prod", "seed", "--count", "1"}} {
		out, errOut, code = runCws(t, repoRoot, nil, args...)
		if code != 0 || !strings.HasSuffix(out, "GET / answered 1 item(s) in stage prod\n") {
			t.Errorf("%q: exit %d\n%s\nstderr: %s", args, code, out, errOut)
		}
	}

	out, errOut, code = runCws(t, repoRoot, nil, "do", "./examples/crud", "seed", "--help")
	if code != 0 || !strings.HasPrefix(out, "Usage: seed [flags] [args]\n\nCreate items through POST / and print what the entry answered.\nEach item is named") ||
		!strings.Contains(out, "\n  --count int     how many items to create (default 3)\n") || strings.Contains(out, "created") {
		t.Errorf("seed --help: exit %d\n%s\nstderr: %s", code, out, errOut)
	}

	out, errOut, code = runCws(t, repoRoot, nil, "do", "./examples/crud", "nonesuch")
	if code != 2 || out != "" || !strings.Contains(errOut, `unknown command "nonesuch"`) || !strings.Contains(errOut, "The commands of crud:\n  seed  Create items") {
		t.Errorf("unknown command: exit %d\n%s\nstderr: %s", code, out, errOut)
	}
	_, errOut, code = runCws(t, repoRoot, nil, "do", "./examples/crud", "seed", "--count", "many")
	if code != 2 || !strings.Contains(errOut, `seed: invalid value "many" for flag -count`) || !strings.Contains(errOut, "Usage: seed") {
		t.Errorf("refused flag: exit %d\nstderr: %s", code, errOut)
	}

	// The entry refuses the item: the command fails with its problem.
	out, errOut, code = runCws(t, repoRoot, nil, "do", "./examples/crud", "seed", "--price", "-1")
	if code != 1 || out != "" || !strings.Contains(errOut, "seed: POST /: 422 Unprocessable Entity: price must not be negative\n") || strings.Contains(errOut, "level=ERROR") {
		t.Errorf("failing command: exit %d\n%s\nstderr: %s", code, out, errOut)
	}

	_, errOut, code = runCws(t, repoRoot, nil, "do")
	if code != 2 || !strings.Contains(errOut, "cws do --help") {
		t.Errorf("cws do without DIR: exit %d %s", code, errOut)
	}
	_, errOut, code = runCws(t, repoRoot, nil, "do", "./nonesuch", "seed")
	if code != 1 || !strings.Contains(errOut, "nonesuch") {
		t.Errorf("cws do of a missing directory: exit %d %s", code, errOut)
	}
}

// TestDoBiz: examples/biz's invoice command renders an invoice through the
// office's entry and the Templates service it mounts, as the workflow does.
func TestDoBiz(t *testing.T) {
	out, errOut, code := runCws(t, repoRoot, nil, "do", "./examples/biz", "invoice", "--order", "A-7", "--total", "1200", "--format", "txt")
	want := "INVOICE 1\norder: A-7\ncustomer: ann@example.com\ntotal: 1200.00\n\nThank you for this large order.\n"
	if code != 0 || out != want {
		t.Errorf("invoice --format txt: exit %d\n%q\nwant\n%q\nstderr: %s", code, out, want, errOut)
	}
	out, errOut, code = runCws(t, repoRoot, nil, "do", "./examples/biz", "invoice", "--order", "A-8", "--customer", "bob@example.com", "--total", "50")
	if code != 0 || !strings.HasPrefix(out, "<!doctype html>") || !strings.Contains(out, "<tr><th>Order</th><td>A-8</td></tr>") || !strings.Contains(out, "<td>bob@example.com</td>") {
		t.Errorf("invoice: exit %d\n%s\nstderr: %s", code, out, errOut)
	}
	_, errOut, code = runCws(t, repoRoot, nil, "do", "./examples/biz", "invoice", "--order", "A-9", "--customer", "")
	if code != 1 || !strings.Contains(errOut, "invoice: POST /invoices: 422 Unprocessable Entity: order and customer are required") {
		t.Errorf("invoice without customer: exit %d\nstderr: %s", code, errOut)
	}
}

// TestNewDo: the service cws new makes has a command, listed and run by
// cws do; a command reads the stage's configuration from .env and
// .env.<stage>, where the process environment wins.
func TestNewDo(t *testing.T) {
	work := t.TempDir()
	if _, errOut, code := runCws(t, work, nil, "new", "greeter"); code != 0 {
		t.Fatalf("cws new: exit %d\n%s", code, errOut)
	}
	dir := filepath.Join(work, "greeter")
	test := exec.Command("go", "test", "./...")
	test.Dir = dir
	test.Env = cleanEnv()
	if out, err := test.CombinedOutput(); err != nil {
		t.Fatalf("go test in the new service: %v\n%s", err, out)
	}

	out, errOut, code := runCws(t, dir, nil, "do", ".")
	if code != 0 || !strings.HasPrefix(out, "hello  Greet each NAME through GET /hello/{name}") || !strings.Contains(out, "--shout   greet in capitals") {
		t.Errorf("cws do .: exit %d\n%s\nstderr: %s", code, out, errOut)
	}
	// GET /hello/{name} needs the token: the command calls it as the
	// service itself.
	out, errOut, code = runCws(t, dir, nil, "do", ".", "hello", "--shout", "ann", "the gopher")
	if code != 0 || out != "HELLO ANN\nHELLO THE GOPHER\n" {
		t.Errorf("hello --shout: exit %d\n%s\nstderr: %s", code, out, errOut)
	}
	out, errOut, code = runCws(t, dir, nil, "do", ".", "hello")
	if code != 1 || out != "" || !strings.Contains(errOut, "hello: name someone to greet") {
		t.Errorf("hello without a name: exit %d\n%s\nstderr: %s", code, out, errOut)
	}

	// A command of our own reads the configuration of the stage.
	main := filepath.Join(dir, "main.go")
	src, err := os.ReadFile(main)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(src), `		"hello": {`, `		"config": {
			Help: "Print GREETING.",
			Run: func(ctx context.Context, env *runtime.CommandEnv) error {
				fmt.Fprintln(env.Stdout, env.Stage, os.Getenv("GREETING"))
				return nil
			},
		},
		"hello": {`, 1)
	edited = strings.Replace(edited, `	"net/url"`, `	"net/url"
	"os"`, 1)
	if err := os.WriteFile(main, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	appendFile(t, filepath.Join(dir, ".env"), "GREETING=from .env\n")
	appendFile(t, filepath.Join(dir, ".env.prod"), "GREETING=from .env.prod\n")
	for _, tc := range []struct {
		args []string
		env  string
		want string
	}{
		{[]string{"do", ".", "config"}, "", "dev from .env\n"},
		{[]string{"do", "--stage", "staging", ".", "config"}, "", "staging from .env\n"},
		{[]string{"do", "--stage", "prod", ".", "config"}, "", "prod from .env.prod\n"},
		{[]string{"do", ".", "config"}, "CWS_STAGE=prod", "prod from .env.prod\n"},
		{[]string{"do", "--stage", "prod", ".", "config"}, "GREETING=from the process", "prod from the process\n"},
	} {
		cmd := exec.Command(cwsCommand(t), tc.args...)
		cmd.Dir = dir
		cmd.Env = cleanEnv()
		if tc.env != "" {
			cmd.Env = append(cmd.Env, tc.env)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil || string(out) != tc.want {
			t.Errorf("%s cws %q: %v %q, want %q\nstderr: %s", tc.env, tc.args, err, out, tc.want, stderr.String())
		}
	}
}

// appendFile appends text to the file at path, creating it.
func appendFile(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
}
