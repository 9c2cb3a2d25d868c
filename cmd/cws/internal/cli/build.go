package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/joho/godotenv"

	"github.com/coworks-go/cws/cmd/cws/internal/gen"
)

// pkgInfo is what `go list` says of the package to build.
type pkgInfo struct {
	Dir        string
	ImportPath string
	Name       string
	// Local maps the import paths of the packages of the main module the
	// package depends on, itself included, to their directories: where its
	// services may be declared, and what cws run watches.
	Local map[string]string
}

// listPackage asks the go command about pkg (a path or pattern naming one
// package), resolved from dir.
func listPackage(ctx context.Context, dir, pkg string) (*pkgInfo, error) {
	if strings.HasPrefix(pkg, ".") || filepath.IsAbs(pkg) {
		p := pkg
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		if st, err := os.Stat(p); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("%s: no such package directory", pkg)
		}
	}
	out, err := goCmd(ctx, dir, "list", "-e", "-json=Dir,ImportPath,Name,Error", pkg)
	if err != nil {
		if strings.Contains(err.Error(), "go.mod file not found") {
			return nil, fmt.Errorf("%s is not in a Go module (no go.mod there or above): run cws from your service's module, or create one with `cws new NAME`", pkg)
		}
		return nil, err
	}
	var p struct {
		Dir, ImportPath, Name string
		Error                 *struct{ Err string }
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("go list %s: %w", pkg, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%s names several packages; name one", pkg)
	}
	if p.Error != nil {
		return nil, fmt.Errorf("package %s: %s", pkg, p.Error.Err)
	}
	info := &pkgInfo{Dir: p.Dir, ImportPath: p.ImportPath, Name: p.Name}
	if info.Local, err = localDeps(ctx, dir, pkg); err != nil {
		return nil, err
	}
	return info, nil
}

// localDeps maps the import paths of the main module's packages that pkg
// depends on, itself included, to their directories.
func localDeps(ctx context.Context, dir, pkg string) (map[string]string, error) {
	deps, err := goCmd(ctx, dir, "list", "-deps", "-f", "{{if and .Module .Module.Main}}{{.ImportPath}}\t{{.Dir}}{{end}}", pkg)
	if err != nil {
		return nil, err
	}
	local := map[string]string{}
	for _, line := range strings.Split(string(deps), "\n") {
		if path, d, ok := strings.Cut(strings.TrimSpace(line), "\t"); ok {
			local[path] = d
		}
	}
	return local, nil
}

// goCmd runs the go command in dir and returns its stdout; a failure
// carries its stderr.
func goCmd(ctx context.Context, dir string, args ...string) ([]byte, error) {
	return goCmdEnv(ctx, dir, nil, args...)
}

// goCmdEnv is goCmd with env added to the environment.
func goCmdEnv(ctx context.Context, dir string, env []string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return nil, fmt.Errorf("go %s: %s", args[0], msg)
	}
	return out, nil
}

// generateFor writes the description files of the services and blueprints
// of the listed main package; what gen could not follow is written to warn.
func generateFor(info *pkgInfo, warn io.Writer) error {
	plan, warnings, err := gen.Plan([]gen.Package{{Dir: info.Dir, ImportPath: info.ImportPath, Name: info.Name, Local: info.Local}}, nil)
	for _, w := range warnings {
		fmt.Fprintln(warn, "cws gen:", w)
	}
	if err != nil {
		return err
	}
	_, err = gen.Generate(plan)
	return err
}

// build generates the description files of the package's services and
// blueprints, then builds it into bin with flags given to go build.
func build(ctx context.Context, dir, pkg, bin string, warn io.Writer, flags ...string) (*pkgInfo, error) {
	info, err := listPackage(ctx, dir, pkg)
	if err != nil {
		return nil, err
	}
	return info, compile(ctx, dir, info, bin, warn, nil, flags...)
}

// compile generates the description files of a listed main package's
// services and blueprints, then builds it into bin, with env added to the
// go command's environment (GOOS, GOARCH...).
func compile(ctx context.Context, dir string, info *pkgInfo, bin string, warn io.Writer, env []string, flags ...string) error {
	if info.Name != "main" {
		return fmt.Errorf("package %s is not a main package (it is package %s)", info.ImportPath, info.Name)
	}
	if err := generateFor(info, warn); err != nil {
		return err
	}
	_, err := goCmdEnv(ctx, dir, env, append(append([]string{"build"}, flags...), "-o", bin, info.ImportPath)...)
	return err
}

// stageEnv returns the environment of the service: the process environment,
// with CWS_STAGE set, over the variables of .env and then .env.<stage> found
// in the package directory (a variable set in the process wins).
func stageEnv(pkgDir, stage string) ([]string, error) {
	files := map[string]string{}
	for _, name := range []string{".env", ".env." + stage} {
		path := filepath.Join(pkgDir, name)
		vars, err := godotenv.Read(path)
		if err != nil {
			if os.IsNotExist(err) {
				continue
			}
			return nil, fmt.Errorf("reading %s: %w", path, err)
		}
		for k, v := range vars {
			files[k] = v
		}
	}
	env := os.Environ()
	have := map[string]bool{}
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		have[k] = true
	}
	for k, v := range files {
		if !have[k] {
			env = append(env, k+"="+v)
		}
	}
	return append(env, "CWS_STAGE="+stage), nil
}

// stageOf returns the stage from the flag, else CWS_STAGE, else "dev".
func stageOf(flag string) string {
	if flag != "" {
		return flag
	}
	if s := os.Getenv("CWS_STAGE"); s != "" {
		return s
	}
	return "dev"
}

// tempBin returns a fresh path for a built binary and a cleanup function.
func tempBin() (string, func(), error) {
	dir, err := os.MkdirTemp("", "cws-build-")
	if err != nil {
		return "", nil, err
	}
	return filepath.Join(dir, "service"), func() { os.RemoveAll(dir) }, nil
}
