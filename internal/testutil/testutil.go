// Package testutil holds helpers shared by the tests of several packages.
package testutil

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
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

// Write appends p.
func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
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
