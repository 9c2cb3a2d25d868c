package cwsgen

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestInvokeGenUpToDate fails when invoke_gen.go differs from what
// internal/invokegen writes: run go generate in runtime/cwsgen.
func TestInvokeGenUpToDate(t *testing.T) {
	out := filepath.Join(t.TempDir(), "invoke_gen.go")
	if b, err := exec.Command("go", "run", "./internal/invokegen", out).CombinedOutput(); err != nil {
		t.Fatalf("invokegen: %v\n%s", err, b)
	}
	want, _ := os.ReadFile(out)
	got, _ := os.ReadFile("invoke_gen.go")
	if string(got) != string(want) {
		t.Error("invoke_gen.go is stale: run go generate ./runtime/cwsgen")
	}
}
