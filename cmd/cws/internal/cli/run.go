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
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/spf13/cobra"

	"github.com/coworks-go/cws"
	"github.com/coworks-go/cws/async"
	"github.com/coworks-go/cws/cmd/cws/internal/gen"
)

// stopTimeout is how long run waits for the service to shut down on SIGTERM
// before killing it.
const stopTimeout = 10 * time.Second

// settle is how long run waits after the last file change before rebuilding.
const settle = 300 * time.Millisecond

func newRunCmd() *cobra.Command {
	var addr, stage, endpoint, queueName string
	cmd := &cobra.Command{
		Use:   "run [PKG]",
		Short: "Build and run a service on the local server, rebuilding on change",
		Long: `run builds the service in PKG (default: the current directory) and serves it
on the local HTTP server (default 127.0.0.1:8080). It loads .env, then
.env.<stage>, from the package directory (variables already set in the
environment win). When a Go file of the service's module, go.mod, go.sum or a
.env file changes, run rebuilds and restarts it; a build that fails leaves the
running service as it is.

The service takes CloudEvents at POST /_cws/events (see cws events put) and
handles them from an in-memory queue, with no AWS. With --queue it consumes
that SQS queue instead, with the AWS configuration of the environment or
--endpoint (LocalStack: --endpoint http://localhost:4566).`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r := &runner{
				pkg: pkgArg(args), stage: stageOf(stage), addr: addr,
				stdout: cmd.OutOrStdout(), stderr: cmd.ErrOrStderr(),
			}
			if queueName != "" {
				r.extraEnv = append(r.extraEnv, async.EnvQueueURL+"="+queueName)
			}
			if endpoint != "" {
				r.extraEnv = append(r.extraEnv, "AWS_ENDPOINT_URL="+endpoint)
				if os.Getenv("AWS_ACCESS_KEY_ID") == "" && os.Getenv("AWS_PROFILE") == "" {
					r.extraEnv = append(r.extraEnv, "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test")
				}
				if os.Getenv("AWS_REGION") == "" {
					r.extraEnv = append(r.extraEnv, "AWS_REGION=us-east-1")
				}
			}
			return r.run(cmd.Context())
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "", "address to listen on, HOST:PORT (default $CWS_ADDR, else "+cws.DefaultAddr+")")
	cmd.Flags().StringVar(&stage, "stage", "", "stage (default $CWS_STAGE, else dev)")
	cmd.Flags().StringVar(&queueName, "queue", "", "consume this SQS queue (name, URL or ARN) instead of the in-memory one")
	cmd.Flags().StringVar(&endpoint, "endpoint", "", "the AWS endpoint, e.g. LocalStack's http://localhost:4566")
	return cmd
}

type runner struct {
	pkg, stage, addr string
	extraEnv         []string
	stdout, stderr   io.Writer

	binDir  string
	builds  int
	child   *exec.Cmd
	exited  chan error
	watcher *fsnotify.Watcher
	watched map[string]bool
}

func (r *runner) logf(format string, args ...any) {
	fmt.Fprintf(r.stderr, "cws: "+format+"\n", args...)
}

func (r *runner) run(ctx context.Context) error {
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	r.binDir, err = os.MkdirTemp("", "cws-run-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(r.binDir)
	r.watcher, err = fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watching files: %w", err)
	}
	defer r.watcher.Close()
	r.watched = map[string]bool{}
	defer r.stop()

	for {
		if err := r.rebuild(ctx, wd); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if r.child == nil && r.builds == 1 {
				// Nothing to watch yet: the package itself is wrong.
				return err
			}
			r.logf("%v", err)
			r.logf("build failed; waiting for changes")
		}
		if !r.wait(ctx) {
			return nil
		}
		r.logf("change detected; rebuilding")
	}
}

// rebuild builds the service and, if that works, replaces the running one.
func (r *runner) rebuild(ctx context.Context, wd string) error {
	r.builds++
	bin := filepath.Join(r.binDir, fmt.Sprintf("service-%d", r.builds))
	info, err := listPackage(ctx, wd, r.pkg)
	if err != nil {
		return err
	}
	r.watch(info)
	// A development build: /admin/openapi.json serves the document (the
	// generator is linked under the tag; deployed builds go without it).
	if err := compile(ctx, wd, info, bin, r.stderr, nil, "-tags", openAPITag); err != nil {
		return err
	}
	env, err := stageEnv(info.Dir, r.stage)
	if err != nil {
		return err
	}
	if r.addr != "" {
		env = append(env, cws.EnvAddr+"="+r.addr)
	}
	env = append(env, r.extraEnv...)
	// The new service must start before the running one is stopped: built
	// under CWS_MODE=manifest, it makes its App and its doors (reactors,
	// workflows, configuration) and says what it is, or why it cannot.
	name, err := r.check(ctx, bin, env)
	if err != nil {
		if r.child != nil {
			return fmt.Errorf("the new build does not start, the running one is kept: %w", err)
		}
		return err
	}
	r.stop()
	child := exec.Command(bin)
	child.Env = env
	child.Stdout, child.Stderr = r.stdout, r.stderr
	if err := child.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", info.ImportPath, err)
	}
	r.child = child
	r.exited = make(chan error, 1)
	go func() { r.exited <- child.Wait() }()
	r.logf("running %s (%s, stage %s)", name, info.ImportPath, r.stage)
	return nil
}

// check runs a built service under CWS_MODE=manifest: it answers its
// name, or the reason it does not start.
func (r *runner) check(ctx context.Context, bin string, env []string) (string, error) {
	c := exec.CommandContext(ctx, bin)
	c.Env = append(env, cws.EnvMode+"=manifest")
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	if err := c.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return "", fmt.Errorf("%s", msg)
	}
	var m struct {
		Service string `json:"service"`
	}
	_ = json.Unmarshal(stdout.Bytes(), &m)
	return m.Service, nil
}

// watch adds the service's local package directories to the watcher, and
// the service's workflows and templates directories (their files are
// embedded).
func (r *runner) watch(info *pkgInfo) {
	dirs := []string{info.Dir}
	for _, d := range info.Local {
		dirs = append(dirs, d)
	}
	for _, sub := range []string{"workflows", "templates"} {
		if st, err := os.Stat(filepath.Join(info.Dir, sub)); err == nil && st.IsDir() {
			dirs = append(dirs, filepath.Join(info.Dir, sub))
		}
	}
	for _, d := range dirs {
		if r.watched[d] {
			continue
		}
		if err := r.watcher.Add(d); err != nil {
			r.logf("cannot watch %s: %v", d, err)
			continue
		}
		r.watched[d] = true
	}
}

// relevant reports whether a changed file calls for a rebuild.
func relevant(path string) bool {
	base := filepath.Base(path)
	switch {
	case base == gen.FileName:
		return false
	case strings.HasSuffix(base, ".go") && !strings.HasPrefix(base, "."):
		return true
	case base == "go.mod" || base == "go.sum":
		return true
	case base == ".env" || strings.HasPrefix(base, ".env."):
		return true
	case strings.HasSuffix(base, ".asl.yaml") || strings.HasSuffix(base, ".asl.yml") || strings.HasSuffix(base, ".asl.json"):
		return true
	case filepath.Base(filepath.Dir(path)) == "templates" && !strings.HasPrefix(base, "."):
		return true
	}
	return false
}

// wait blocks until a relevant change has settled (true) or ctx is done
// (false). It reports the service exiting on its own meanwhile.
func (r *runner) wait(ctx context.Context) bool {
	var timer <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return false
		case err := <-r.exited:
			r.child = nil
			if err != nil {
				r.logf("the service exited: %v; waiting for changes", err)
			} else {
				r.logf("the service exited; waiting for changes")
			}
		case ev, ok := <-r.watcher.Events:
			if !ok {
				return false
			}
			if ev.Op&(fsnotify.Write|fsnotify.Create|fsnotify.Remove|fsnotify.Rename) != 0 && relevant(ev.Name) {
				timer = time.After(settle)
			}
		case err, ok := <-r.watcher.Errors:
			if ok {
				r.logf("watching files: %v", err)
			}
		case <-timer:
			return true
		}
	}
}

// stop shuts the running service down: SIGTERM, then SIGKILL after
// stopTimeout.
func (r *runner) stop() {
	if r.child == nil {
		return
	}
	_ = r.child.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.exited:
	case <-time.After(stopTimeout):
		_ = r.child.Process.Kill()
		<-r.exited
	}
	r.child = nil
}
