package testutil

import (
	"bytes"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

// secretPatterns find a secret given as a literal: the first group of each
// is the literal, in a Go test, a JSON event or a .env file.
var secretPatterns = []*regexp.Regexp{
	regexp.MustCompile(`TokenAuthorizer\("([^"\n]*)"\)`),
	regexp.MustCompile(`Setenv\("(?:TOKEN|SMTP_PASSWORD|ODOO_API_KEY|ODOO_PASSWORD)",\s*"([^"\n]*)"\)`),
	regexp.MustCompile(`"(?:TOKEN|SMTP_PASSWORD|ODOO_API_KEY|ODOO_PASSWORD)":\s*"([^"\n]*)"`),
	regexp.MustCompile(`\b(?:TOKEN|SMTP_PASSWORD|ODOO_API_KEY|ODOO_PASSWORD)=([^"\s\\%` + "`" + `]*)`),
	regexp.MustCompile(`--token",\s*"([^"\n]*)"`),
	regexp.MustCompile(`(?i)Set\("Authorization",\s*"([^"\n]*)"\)`),
	regexp.MustCompile(`(?i)\\?"authorization\\?"\s*:\s*[\[{]?\s*\\?"([^"\\\n` + "`" + `]*)\\?"`),
	regexp.MustCompile(`(?i)"Authorization: ([^"\n]+)"`),
	regexp.MustCompile(`(?i)\\?"authorizationToken\\?"\s*:\s*\\?"([^"\\\n` + "`" + `]*)\\?"`),
	regexp.MustCompile(`"identitySource"\s*:\s*\[\s*"([^"\n]*)"`),
	// A variable, constant or field named for a secret (not a word in a
	// string), given or compared.
	regexp.MustCompile(`(?i)(?:^|[^"\w])(?:\w*token|tok|\w*secret|\w*password|\w*apikey)\s*(?:string\s*)?(?::=|==?|:)\s*"([^"\n]*)"`),
	regexp.MustCompile(`Users:\s*map\[string\]string\{\s*"[^"]*":\s*"([^"\n]*)"`),
	regexp.MustCompile(`WithHTTP\([^,()]+,\s*"([^"\n]*)"`),
	regexp.MustCompile(`CSS\("#token"\),\s*"([^"\n]*)"`),
}

// notSecrets are the literals in a secret's place that are not secrets.
var notSecrets = map[string]string{
	"":  "no token at all",
	"-": "the runtime's and openapi's test helpers: send no Authorization header",
	" ": "runtime: a blank token, refused as none",
}

// notSecretPrefixes start references to a secret, not secrets.
var notSecretPrefixes = map[string]string{
	"ssm:": "an SSM parameter that deploy resolves, not its value",
}

// fileExceptions are literals in a secret's place that one file may hold,
// with why.
var fileExceptions = map[string]map[string]string{
	"events/invoke/door_test.go": {
		"t": "the prefix of the Step Functions task tokens (t1, t2…) the door reports to a fake, not a secret given to a service",
	},
}

// foundSecret is a secret literal at a place.
type foundSecret struct {
	file    string
	line    int
	literal string
}

// secretLiterals returns the secret literals of src.
func secretLiterals(file string, src []byte) []foundSecret {
	var found []foundSecret
	for _, p := range secretPatterns {
		for _, m := range p.FindAllSubmatchIndex(src, -1) {
			found = append(found, foundSecret{file: file, line: 1 + bytes.Count(src[:m[2]], []byte("\n")), literal: string(src[m[2]:m[3]])})
		}
	}
	return found
}

// listed says whether literal holds a listed secret or is no secret (and
// then why).
func listed(literal string) (bool, string) {
	if why, ok := notSecrets[literal]; ok {
		return true, why
	}
	for prefix, why := range notSecretPrefixes {
		if strings.HasPrefix(literal, prefix) {
			return true, why
		}
	}
	for _, s := range Secrets {
		if strings.Contains(literal, s) {
			return true, ""
		}
	}
	return false, ""
}

// secretsIn says whether the file at rel (slash-separated, from the
// repository's root) may give secrets: a Go test, the Go files of a
// package of test helpers (servetest, testutil, odootest...), a JSON event
// of a testdata or events directory, a .env file.
func secretsIn(rel string) bool {
	dir, name := path.Split(rel)
	pkg := path.Base(dir)
	switch {
	case strings.HasSuffix(name, "_test.go"), name == ".env", strings.HasPrefix(name, ".env."):
		return true
	case strings.HasSuffix(name, ".go") && (strings.HasSuffix(pkg, "test") || pkg == "testutil"):
		return true
	case strings.HasSuffix(name, ".json"):
		return strings.Contains("/"+dir, "/testdata/") || strings.Contains("/"+dir, "/events/")
	}
	return false
}

// TestSecretsListed walks the Go tests, the JSON events and the .env files
// of both modules (the repository's and bench/): every token, password or
// API key they give as a literal must hold one of Secrets, or the scan of
// the suite's output would not look for it.
func TestSecretsListed(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	for _, mod := range []string{"go.mod", "bench/go.mod"} {
		if _, err := os.Stat(filepath.Join(root, mod)); err != nil {
			t.Fatalf("not the repository's root: %v", err)
		}
	}
	checked := map[string]int{} // literals checked, by top directory
	err = filepath.WalkDir(root, func(file string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, file)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			// Hidden directories (.git), the tools make installs (bin/),
			// the browser tests' packages.
			if rel != "." && (strings.HasPrefix(d.Name(), ".") || rel == "bin" || d.Name() == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !secretsIn(rel) || rel == "internal/testutil/secrets_test.go" { // this file: the patterns' own examples
			return nil
		}
		src, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		top, _, _ := strings.Cut(rel, "/")
		for _, f := range secretLiterals(rel, src) {
			checked[top]++
			if ok, _ := listed(f.literal); ok {
				continue
			}
			if why, ok := fileExceptions[rel][f.literal]; ok {
				t.Logf("%s:%d: %q is no listed secret: %s", f.file, f.line, f.literal, why)
				continue
			}
			t.Errorf("%s:%d: the secret %q is not in testutil.Secrets: give the test a listed one (testutil.Token, testutil.WrongToken…) or list it", f.file, f.line, f.literal)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The walk saw both modules, the golden events and the examples'.
	for _, top := range []string{"runtime", "transport", "examples", "cmd", "integration", "bench"} {
		if checked[top] == 0 {
			t.Errorf("no secret literal checked under %s/ (checked: %v)", top, checked)
		}
	}
}

// TestSecretLiteralsFound: the patterns find the secrets in each way the
// tests give them, an unlisted one is refused, and words that only look
// like a secret's place are not taken for one.
func TestSecretLiteralsFound(t *testing.T) {
	for _, c := range []struct{ src, literal string }{
		{`runtime.WithAuthorizer(runtime.TokenAuthorizer("xyz"))`, "xyz"},
		{`t.Setenv("TOKEN", "xyz")`, "xyz"},
		{`map[string]string{"TOKEN": "xyz"}`, "xyz"},
		{`[]byte("TOKEN=xyz\nA=1\n")`, "xyz"},
		{`"CWS_ADDR="+addr, "TOKEN=xyz")`, "xyz"},
		{"# a comment\nTOKEN=xyz\n", "xyz"},
		{`"put", "--token", "xyz", "--subject"`, "xyz"},
		{`req.Header.Set("Authorization", "xyz")`, "xyz"},
		{`http.Header{"Authorization": {"xyz"}}`, "xyz"},
		{`{"headers":{"authorization": "xyz"}}`, "xyz"},
		{`"{\"headers\":{\"Authorization\":\"xyz\"}}"`, "xyz"},
		{`{"multiValueHeaders":{"Authorization":["xyz"]}}`, "xyz"},
		{`{"type":"TOKEN","authorizationToken":"xyz"}`, "xyz"},
		{`"identitySource": [ "xyz" ]`, "xyz"},
		{`const tok = "xyz"`, "xyz"},
		{`token := "xyz"`, "xyz"},
		{`if token == "xyz" {`, "xyz"},
		{`cfg.Password = "xyz"`, "xyz"},
		{`cfg.APIKey = "xyz"`, "xyz"},
		{`call{method: "GET", token: "xyz"}`, "xyz"},
		{`mail.Config{Username: "office", Password: "xyz"}`, "xyz"},
		{`mailpit.Options{Users: map[string]string{"office": "xyz"}}`, "xyz"},
		{`biz.WithHTTP(srv.URL, "xyz", nil)`, "xyz"},
		{`chromedp.SetValue(chromedp.CSS("#token"), "xyz")`, "xyz"},
		{`"-H", "Authorization: xyz"`, "xyz"},
	} {
		found := secretLiterals("x_test.go", []byte(c.src))
		if len(found) != 1 || found[0].literal != c.literal {
			t.Errorf("%s: found %+v, want %q", c.src, found, c.literal)
			continue
		}
		if ok, _ := listed(found[0].literal); ok {
			t.Errorf("%s: %q passes as listed", c.src, found[0].literal)
		}
	}
	for _, src := range []string{
		`"Access-Control-Allow-Headers": "Authorization, Content-Type"`,
		`{"in":"header","name":"Authorization","type":"apiKey"}`,
		`if k != "TOKEN" && k != "CWS_STAGE"`,
		`t.Errorf("dev env: TOKEN=%s", lookup(env, "TOKEN"))`,
		`env := append(os.Environ(), "TOKEN="+token, "CWS_ADDR="+addr)`,
		"`{\"headers\":{\"Authorization\":\"` + tok + `\"}}`",
	} {
		for _, f := range secretLiterals("x_test.go", []byte(src)) {
			if f.literal != "" {
				t.Errorf("%s: found %q, a secret where there is none", src, f.literal)
			}
		}
	}
	if ok, _ := listed("Bearer " + Token); !ok {
		t.Error("a literal holding a listed secret is refused")
	}
	if ok, why := listed("ssm:/shop/prod/token"); !ok || why == "" {
		t.Error("an SSM reference is taken for a secret")
	}
}

// TestSecretsDistinctive: each secret is long and unusual enough that
// finding it in output means it leaked.
func TestSecretsDistinctive(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range Secrets {
		plainWord := !strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) })
		if len(s) < 8 || plainWord {
			t.Errorf("%q: a secret has at least 8 characters and is not a plain word", s)
		}
		if seen[s] {
			t.Errorf("%q is listed twice", s)
		}
		seen[s] = true
	}
}
