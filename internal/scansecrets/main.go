// Command scansecrets scans what the test suite printed for the secrets
// the tests give services (testutil.Secrets): `make test` runs it last, on
// the directory where the runs of `go test -json` (through gotestsum) and
// every test binary's buffered logs (testutil.EnvOutputDir) were written.
// A secret found anywhere fails it, naming the file, the test and the line.
//
//	go run ./internal/scansecrets DIR
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/coworks-go/cws/internal/testutil"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: scansecrets DIR")
		os.Exit(2)
	}
	found, stats, err := scan(os.Args[1], testutil.Secrets)
	if err != nil {
		fmt.Fprintln(os.Stderr, "scansecrets:", err)
		os.Exit(2)
	}
	for _, f := range found {
		fmt.Println(f)
	}
	fmt.Printf("scansecrets: %d files, %d lines, %d tests' output scanned for %d secrets: %d found\n",
		stats.files, stats.lines, len(stats.tests), len(testutil.Secrets), len(found))
	if len(found) > 0 {
		os.Exit(1)
	}
}

// finding is a secret seen in the output.
type finding struct {
	file, test, secret, line string
}

func (f finding) String() string {
	where := f.file
	if f.test != "" {
		where += " (" + f.test + ")"
	}
	return fmt.Sprintf("%s: the secret %q in: %s", where, f.secret, strings.TrimSpace(f.line))
}

type stats struct {
	files, lines int
	tests        map[string]bool
}

// event is a line of `go test -json` (test2json).
type event struct {
	Action, Package, Test, Output string
}

// scan reads every file of dir: the JSON events of go test (their output
// lines) and plain logs; it fails when dir holds nothing to scan.
func scan(dir string, secrets []string) ([]finding, stats, error) {
	st := stats{tests: map[string]bool{}}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, st, err
	}
	var found []finding
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, st, err
		}
		fs, err := scanFile(f, e.Name(), secrets, &st)
		f.Close()
		if err != nil {
			return nil, st, fmt.Errorf("%s: %w", e.Name(), err)
		}
		found = append(found, fs...)
		st.files++
	}
	if st.lines == 0 {
		return nil, st, errors.New(dir + " holds no output to scan")
	}
	sort.Slice(found, func(i, j int) bool { return found[i].String() < found[j].String() })
	return found, st, nil
}

func scanFile(r io.Reader, name string, secrets []string, st *stats) ([]finding, error) {
	var found []finding
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	isJSON := strings.HasSuffix(name, ".json")
	for s.Scan() {
		line, test := s.Text(), ""
		var ev event
		if isJSON && json.Unmarshal(s.Bytes(), &ev) == nil && ev.Action != "" {
			if ev.Action != "output" {
				continue
			}
			line, test = ev.Output, strings.TrimSpace(ev.Package+" "+ev.Test)
			if ev.Test != "" {
				st.tests[test] = true
			}
		}
		st.lines++
		for _, secret := range secrets {
			if strings.Contains(line, secret) {
				found = append(found, finding{file: name, test: test, secret: secret, line: line})
			}
		}
	}
	return found, s.Err()
}
