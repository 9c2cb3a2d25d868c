// Package testutil holds helpers shared by the tests of several packages.
package testutil

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// SyncBuffer is an io.Writer safe for a writer goroutine (a logger, a child
// process's output) and a reading test.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p (and to the suite's output file under EnvOutputDir).
func (s *SyncBuffer) Write(p []byte) (int, error) {
	tee(p)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// EnvOutputDir names a directory where every SyncBuffer of a test binary
// also appends what it is given, in one file per binary: the logs of the
// services, loggers and child processes that the tests keep in buffers and
// print only when they fail. `make test` sets it and scans the directory,
// with the tests' own output, for the suite's secrets (internal/scansecrets).
const EnvOutputDir = "CWS_TEST_OUTPUT"

var (
	teeOnce sync.Once
	teeMu   sync.Mutex
	teeFile *os.File
)

// tee appends p to this binary's file under EnvOutputDir, when set.
func tee(p []byte) {
	teeOnce.Do(func() {
		dir := os.Getenv(EnvOutputDir)
		if dir == "" {
			return
		}
		name := fmt.Sprintf("buffers-%s-%d.log", strings.TrimSuffix(filepath.Base(os.Args[0]), ".test"), os.Getpid())
		f, err := os.OpenFile(filepath.Join(dir, name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			fmt.Fprintf(os.Stderr, "testutil: %s: %v\n", EnvOutputDir, err)
			return
		}
		teeFile = f
	})
	if teeFile != nil {
		teeMu.Lock()
		_, _ = teeFile.Write(p)
		teeMu.Unlock()
	}
}

// String returns what was written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Update is -update: tests that compare with golden files rewrite them.
var Update = flag.Bool("update", false, "rewrite the golden files")

// GoldenEvents hands each event of dir/*.json (a Lambda payload) to invoke
// and compares its answer — or its error, as {"error": ...} — indented,
// with dir/NAME.golden (rewritten under -update).
func GoldenEvents(t *testing.T, dir string, invoke func(ctx context.Context, payload []byte) ([]byte, error)) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) == 0 {
		t.Fatalf("no events in %s", dir)
	}
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".json")
		t.Run(name, func(t *testing.T) {
			payload, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			out, err := invoke(context.Background(), payload)
			if err != nil {
				out, _ = json.Marshal(map[string]string{"error": err.Error()})
			}
			var got bytes.Buffer
			if err := json.Indent(&got, out, "", "  "); err != nil {
				t.Fatalf("response is not JSON: %s", out)
			}
			got.WriteByte('\n')
			golden := filepath.Join(dir, name+".golden")
			if *Update {
				if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("response differs from %s:\n%s\nwant\n%s", golden, got.Bytes(), want)
			}
		})
	}
}
