package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	goruntime "runtime"
	"runtime/debug"
	"strings"
	"text/template"

	"github.com/spf13/cobra"
	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"

	"github.com/coworks-go/cws/deploy"
)

//go:embed scaffold/*.tmpl
var scaffold embed.FS

// ModulePath is the module path of cws.
const ModulePath = "github.com/coworks-go/cws"

// scaffoldFiles maps template names to the files they become.
var scaffoldFiles = map[string]string{
	"main.go.tmpl":      "main.go",
	"main_test.go.tmpl": "main_test.go",
	"README.md.tmpl":    "README.md",
	"env.tmpl":          ".env",
	"gitignore.tmpl":    ".gitignore",
	"cws.yaml.tmpl":     deploy.FileName,
}

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)

func newNewCmd() *cobra.Command {
	var module, source string
	cmd := &cobra.Command{
		Use:   "new NAME",
		Short: "Create a new service that runs at once",
		Long: `new creates the directory NAME holding a service ready to run: main.go (a
service with two entries), a test, .env with a fresh dev token, cws.yaml
(the project file of cws deploy), a README and go.mod. Then: cd NAME && cws run.

The module requires the cws release this command was built from; a cws built
from a source checkout points the module at that checkout with a replace
directive (--cws overrides where).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if !nameRE.MatchString(filepath.Base(name)) {
				return exitError{code: 2, msg: fmt.Sprintf("invalid name %q: use lower-case letters, digits, - and _, starting with a letter", name)}
			}
			if module == "" {
				module = filepath.Base(name)
			}
			return scaffoldService(cmd.Context(), cmd.ErrOrStderr(), name, module, source)
		},
	}
	cmd.Flags().StringVar(&module, "module", "", "module path of the new service (default NAME)")
	cmd.Flags().StringVar(&source, "cws", "", "directory of a cws source checkout to use instead of a release")
	return cmd
}

func scaffoldService(ctx context.Context, log io.Writer, dir, module, source string) error {
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return exitError{code: 2, msg: fmt.Sprintf("%s exists and is not empty", dir)}
	}
	require, replace, err := cwsDependency(source)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	token := make([]byte, 16)
	if _, err := rand.Read(token); err != nil {
		return err
	}
	data := struct{ Name, Service, Token string }{filepath.Base(dir), deploy.NameOf(filepath.Base(dir)), "dev-" + hex.EncodeToString(token)}
	for tmpl, file := range scaffoldFiles {
		t, err := template.ParseFS(scaffold, "scaffold/"+tmpl)
		if err != nil {
			return err
		}
		var b bytes.Buffer
		if err := t.Execute(&b, data); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, file), b.Bytes(), 0o644); err != nil {
			return err
		}
	}
	mod := fmt.Sprintf("module %s\n\ngo %s\n\nrequire %s %s\n", module, goVersion(), ModulePath, require)
	if replace != "" {
		mod += fmt.Sprintf("\nreplace %s => %s\n", ModulePath, replace)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(mod), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(log, "cws: wrote %s; resolving dependencies (go mod tidy)\n", dir)
	if _, err := goCmd(ctx, dir, "mod", "tidy"); err != nil {
		return err
	}
	info, err := listPackage(ctx, dir, ".")
	if err != nil {
		return err
	}
	if err := generateFor(info, log); err != nil {
		return err
	}
	fmt.Fprintf(log, "cws: ready: cd %s && cws run\n", dir)
	return nil
}

// goVersion is the go directive of new modules: the language version of the
// toolchain that built cws.
func goVersion() string {
	v := strings.TrimPrefix(goruntime.Version(), "go")
	parts := strings.SplitN(v, ".", 3)
	if len(parts) >= 2 {
		return parts[0] + "." + parts[1]
	}
	return v
}

// version is the cws release this binary was built from, or "(devel)".
func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Path == ModulePath && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

// release is the release cws was built from, or "" for a build of a
// checkout (its version "(devel)", or the pseudo-version Go stamps from the
// VCS, which no module proxy serves).
func release() string {
	v := version()
	if v == "(devel)" || module.IsPseudoVersion(v) || strings.Contains(v, "+dirty") {
		return ""
	}
	return v
}

// versionLine is the version with the VCS revision the binary was built
// from, when known: "(devel) 1a2b3c4d5e6f (modified)".
func versionLine() string {
	v := version()
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = " (modified)"
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev != "" {
		v += " " + rev + modified
	}
	return v + " " + bi.GoVersion
}

// cwsDependency returns the version of cws a new module requires and, for a
// source build, the directory a replace directive points at.
func cwsDependency(source string) (require, replace string, err error) {
	if source == "" {
		if v := release(); v != "" {
			return v, "", nil
		}
		source = sourceDir()
		if source == "" {
			return "", "", errors.New("this cws was built from source but its checkout is not found; give it with --cws DIR")
		}
	}
	abs, err := filepath.Abs(source)
	if err != nil {
		return "", "", err
	}
	data, err := os.ReadFile(filepath.Join(abs, "go.mod"))
	if err != nil {
		return "", "", fmt.Errorf("--cws %s: %w", source, err)
	}
	if modfile.ModulePath(data) != ModulePath {
		return "", "", fmt.Errorf("--cws %s: not a checkout of %s", source, ModulePath)
	}
	return "v0.0.0-00010101000000-000000000000", abs, nil
}

// sourceDir finds the checkout this binary was compiled from, when it is
// still there.
func sourceDir() string {
	_, file, _, ok := goruntime.Caller(0)
	if !ok {
		return ""
	}
	dir := filepath.Dir(file)
	for i := 0; i < 6; i++ {
		if data, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil {
			if modfile.ModulePath(data) == ModulePath {
				return dir
			}
			return ""
		}
		dir = filepath.Dir(dir)
	}
	return ""
}
