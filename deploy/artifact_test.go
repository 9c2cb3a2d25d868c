package deploy

import (
	"archive/zip"
	"bytes"
	"io"
	"strings"
	"testing"
)

func TestArtifactIsDeterministic(t *testing.T) {
	code := bytes.Repeat([]byte("\x7fELF a bootstrap "), 1000)
	a, err := NewArtifact("shop", code)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewArtifact("shop", code)
	if !bytes.Equal(a.Zip, b.Zip) || a.Key != b.Key {
		t.Error("the same bootstrap gave two zips")
	}
	if !strings.HasPrefix(a.Key, "shop/") || !strings.HasSuffix(a.Key, ".zip") || len(a.Key) != len("shop/")+64+len(".zip") {
		t.Errorf("key %s", a.Key)
	}
	c, _ := NewArtifact("shop", append(code, '!'))
	if c.Key == a.Key {
		t.Error("another bootstrap, the same key")
	}
	// The zip holds the executable bootstrap, as provided.al2023 runs it.
	zr, err := zip.NewReader(bytes.NewReader(a.Zip), int64(len(a.Zip)))
	if err != nil || len(zr.File) != 1 {
		t.Fatalf("zip: %v", err)
	}
	f := zr.File[0]
	if f.Name != "bootstrap" || f.Mode().Perm() != 0o755 || !f.Modified.Equal(zipTime) {
		t.Errorf("the zip's file: %s %v %v", f.Name, f.Mode(), f.Modified)
	}
	rc, _ := f.Open()
	got, _ := io.ReadAll(rc)
	if !bytes.Equal(got, code) {
		t.Error("the zip does not hold the bootstrap")
	}
}

func TestGOARCH(t *testing.T) {
	if GOARCH("x86_64") != "amd64" || GOARCH("arm64") != "arm64" {
		t.Error(GOARCH("x86_64"), GOARCH("arm64"))
	}
	if env := strings.Join(BuildEnv("arm64"), " "); env != "GOOS=linux GOARCH=arm64 CGO_ENABLED=0" {
		t.Error(env)
	}
}

func TestPlanString(t *testing.T) {
	p := &Plan{Stack: "shop-prod", Changes: []Change{
		{Action: "Add", LogicalID: "Queue", Type: "AWS::SQS::Queue"},
		{Action: "Modify", LogicalID: "Function", Type: "AWS::Lambda::Function", Replacement: "False"},
		{Action: "Modify", LogicalID: "Bus", Type: "AWS::Events::EventBus", Replacement: "True"},
		{Action: "Remove", LogicalID: "OldRule", Type: "AWS::Events::Rule"},
	}}
	got := p.String()
	for _, want := range []string{"plan: update stack shop-prod (4 changes)\n", "  + Queue ", "  ~ Function ", "  ~ Bus ",
		"AWS::Events::EventBus  (replaced)\n", "  - OldRule "} {
		if !strings.Contains(got, want) {
			t.Errorf("the plan lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "Function                         AWS::Lambda::Function  (") {
		t.Errorf("a modification in place marked replaced:\n%s", got)
	}
}

func TestProgressBar(t *testing.T) {
	for _, c := range []struct {
		done, total int
		want        string
	}{{0, 4, "[........................] 0/4"}, {1, 4, "[######..................] 1/4"}, {9, 4, "[########################] 4/4"}} {
		if got := progressBar(c.done, c.total); got != c.want {
			t.Errorf("progressBar(%d, %d) = %q", c.done, c.total, got)
		}
	}
}
