package localstack

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// constraints is LocalStack 4.14.0's own runtime lock file
// (requirements-runtime.txt at tag v4.14.0): without it pip resolves newer
// moto-ext, cbor2... built for later LocalStack and the runtime breaks.
//
//go:embed constraints-4.14.0.txt
var constraints []byte

// Requirement is what the virtual environment installs.
const Requirement = "localstack-core[runtime]==" + Version

// defaultCacheDir is $CWS_CACHE_DIR, else the user cache directory /cws,
// else a directory under the temporary directory.
func defaultCacheDir(env func(string) string) string {
	if d := env("CWS_CACHE_DIR"); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "cws")
	}
	return filepath.Join(os.TempDir(), "cws-cache")
}

// installDir holds the virtual environment and the daemon's state.
func installDir(o *options) string {
	return filepath.Join(o.cacheDir, "localstack-"+Version)
}

// marker is written once the virtual environment works; it names what was
// installed so that a changed pin installs again.
func markerContent() string {
	sum := sha256.Sum256(constraints)
	return Requirement + " " + hex.EncodeToString(sum[:8]) + "\n"
}

// StepError is an installation step that failed.
type StepError struct {
	Step   string
	Err    error
	Output string // the tail of the step's output
}

func (e *StepError) Error() string {
	msg := fmt.Sprintf("installing LocalStack: %s failed: %v", e.Step, e.Err)
	if e.Output != "" {
		msg += "\n" + e.Output
	}
	return msg
}

func (e *StepError) Unwrap() error { return e.Err }

// Install makes the Python virtual environment of LocalStack in the cache
// directory, unless it is already there, and returns its python. It is
// idempotent and safe to run from several processes at once; it writes its
// progress to WithProgress's writer.
func Install(ctx context.Context, opts ...Option) (string, error) {
	return install(ctx, newOptions(opts))
}

func install(ctx context.Context, o *options) (string, error) {
	dir := installDir(o)
	venv := filepath.Join(dir, "venv")
	python := filepath.Join(venv, "bin", "python")
	marker := filepath.Join(dir, "installed")
	say := func(format string, args ...any) { fmt.Fprintf(o.progress, "localstack: "+format+"\n", args...) }

	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", &StepError{Step: "creating the cache directory " + dir, Err: err}
	}
	unlock, err := lockFile(filepath.Join(dir, "install.lock"))
	if err != nil {
		return "", &StepError{Step: "locking " + dir, Err: err}
	}
	defer unlock()

	if b, err := os.ReadFile(marker); err == nil && string(b) == markerContent() {
		if _, err := os.Stat(python); err == nil {
			say("reusing %s in %s", Requirement, venv)
			return python, nil
		}
	}

	base, err := findPython(ctx, o)
	if err != nil {
		return "", &StepError{Step: "finding Python >= 3.13", Err: err}
	}
	say("installing %s into %s (a few minutes, once)", Requirement, venv)
	say("creating the virtual environment with %s", base)
	_ = os.Remove(marker)
	if err := os.RemoveAll(venv); err != nil {
		return "", &StepError{Step: "removing an unfinished virtual environment", Err: err}
	}
	if err := run(ctx, o, "creating the virtual environment", base, "-m", "venv", venv); err != nil {
		return "", err
	}
	cfile := filepath.Join(dir, "constraints.txt")
	if err := os.WriteFile(cfile, constraints, 0o644); err != nil {
		return "", &StepError{Step: "writing the constraints file", Err: err}
	}
	say("installing %s with pip (constraints: LocalStack %s's lock file)", Requirement, Version)
	if err := run(ctx, o, "pip install "+Requirement, python, "-m", "pip", "install",
		"--disable-pip-version-check", "--no-input", "--progress-bar", "off", "-c", cfile, Requirement); err != nil {
		return "", err
	}
	say("checking the installation")
	if err := run(ctx, o, "importing localstack", python, "-c", "import localstack.runtime.main"); err != nil {
		return "", err
	}
	if err := os.WriteFile(marker, []byte(markerContent()), 0o644); err != nil {
		return "", &StepError{Step: "writing the marker file", Err: err}
	}
	say("installed %s", Requirement)
	return python, nil
}

// run runs one installation step, forwarding pip's "Collecting"/"Installing"
// lines as progress and keeping the tail of the output for the error.
func run(ctx context.Context, o *options, step, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	tail := &tailBuffer{max: 40}
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			tail.add(line)
			if strings.HasPrefix(line, "Collecting ") || strings.HasPrefix(line, "Installing collected") ||
				strings.HasPrefix(line, "Successfully installed") || strings.HasPrefix(line, "ERROR") {
				fmt.Fprintf(o.progress, "localstack:   %s\n", truncate(line, 160))
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	err := cmd.Run()
	pw.Close()
	<-done
	if err != nil {
		return &StepError{Step: step, Err: err, Output: tail.String()}
	}
	return nil
}

type tailBuffer struct {
	max   int
	lines []string
}

func (t *tailBuffer) add(l string) {
	t.lines = append(t.lines, l)
	if len(t.lines) > t.max {
		t.lines = t.lines[1:]
	}
}

func (t *tailBuffer) String() string { return strings.Join(t.lines, "\n") }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

var pythonVersionRE = regexp.MustCompile(`Python (\d+)\.(\d+)`)

// pythonOK reports whether path runs a Python >= 3.13 (LocalStack 4.14.0
// imports warnings.deprecated).
func pythonOK(ctx context.Context, path string) error {
	out, err := exec.CommandContext(ctx, path, "--version").CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s --version: %v", path, err)
	}
	m := pythonVersionRE.FindStringSubmatch(string(out))
	if m == nil {
		return fmt.Errorf("%s --version printed %q", path, bytes.TrimSpace(out))
	}
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	if major < 3 || major == 3 && minor < 13 {
		return fmt.Errorf("%s is Python %s.%s; LocalStack %s needs 3.13 or later", path, m[1], m[2], Version)
	}
	return nil
}

// findPython returns the Python that creates the virtual environment.
func findPython(ctx context.Context, o *options) (string, error) {
	if o.python != "" {
		return o.python, pythonOK(ctx, o.python)
	}
	if p := o.env("CWS_PYTHON"); p != "" {
		return p, pythonOK(ctx, p)
	}
	var candidates []string
	for _, name := range []string{"python3.14", "python3.13"} {
		if p, err := exec.LookPath(name); err == nil {
			candidates = append(candidates, p)
		}
	}
	root := o.env("PYENV_ROOT")
	if root == "" {
		if home, err := os.UserHomeDir(); err == nil {
			root = filepath.Join(home, ".pyenv")
		}
	}
	if matches, _ := filepath.Glob(filepath.Join(root, "versions", "3.1[3-9]*", "bin", "python3")); len(matches) > 0 {
		sort.Sort(sort.Reverse(sort.StringSlice(matches)))
		candidates = append(candidates, matches...)
	}
	if p, err := exec.LookPath("python3"); err == nil {
		candidates = append(candidates, p)
	}
	var errs []error
	for _, c := range candidates {
		err := pythonOK(ctx, c)
		if err == nil {
			return c, nil
		}
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		return "", errors.New("no python3.13, pyenv 3.13 or python3 found; set CWS_PYTHON")
	}
	return "", fmt.Errorf("%w; set CWS_PYTHON to a Python 3.13", errors.Join(errs...))
}
