package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestScanFindsSecretsInTestOutputAndLogs(t *testing.T) {
	dir := t.TempDir()
	json := `{"Action":"run","Package":"p","Test":"TestA"}
{"Action":"output","Package":"p","Test":"TestA","Output":"    a_test.go:9: calling with Authorization: s3cr3t-one\n"}
{"Action":"output","Package":"p","Test":"TestB","Output":"all fine\n"}
# p [build failed]: s3cr3t-two is not JSON
`
	if err := os.WriteFile(filepath.Join(dir, "unit.json"), []byte(json), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "buffers-p-1.log"), []byte("level=INFO msg=ok\nlevel=ERROR token=s3cr3t-one\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	found, st, err := scan(dir, []string{"s3cr3t-one", "s3cr3t-two", "s3cr3t-three"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range found {
		got = append(got, f.String())
	}
	want := []string{
		`buffers-p-1.log: the secret "s3cr3t-one" in: level=ERROR token=s3cr3t-one`,
		`unit.json (p TestA): the secret "s3cr3t-one" in: a_test.go:9: calling with Authorization: s3cr3t-one`,
		`unit.json: the secret "s3cr3t-two" in: # p [build failed]: s3cr3t-two is not JSON`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("found:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if st.files != 2 || st.lines != 5 || len(st.tests) != 2 {
		t.Errorf("stats %+v", st)
	}
}

func TestScanRefusesNothingToScan(t *testing.T) {
	if _, _, err := scan(t.TempDir(), []string{"x"}); err == nil {
		t.Error("an empty directory passed")
	}
}
