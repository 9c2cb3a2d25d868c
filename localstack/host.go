package localstack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// hostEnv is the environment of a LocalStack host process listening on
// port, keeping its files in dir, with cws's plugin (in pluginDir) on its
// PYTHONPATH and, when executor is set, its Lambda executor running that
// cws command.
func hostEnv(port int, dir string, services []string, pluginDir, executor string) []string {
	var env []string
	for _, kv := range os.Environ() {
		// The process gets its own settings, not a caller's LocalStack ones.
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "GATEWAY_LISTEN", "LOCALSTACK_HOST", "SERVICES", "PERSISTENCE", "DEBUG", "PYTHONPATH",
			"LAMBDA_RUNTIME_EXECUTOR", EnvExecutorBinary, "CFN_IGNORE_UNSUPPORTED_RESOURCE_TYPES":
			continue
		}
		env = append(env, kv)
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	env = append(env,
		"GATEWAY_LISTEN="+addr,
		"LOCALSTACK_HOST=localhost:"+strconv.Itoa(port),
		"SQS_ENDPOINT_STRATEGY=path", // queue URLs without DNS tricks
		"DNS_ADDRESS=0",              // no DNS server on port 53
		"SKIP_SSL_CERT_DOWNLOAD=1",
		"DISABLE_EVENTS=1", // no analytics
		"SERVICES="+strings.Join(services, ","),
		"EAGER_SERVICE_LOADING=1",
		// Keep every file under dir, even where a /.dockerenv makes
		// LocalStack believe it runs in its container.
		"OVERRIDE_IN_DOCKER=0",
		"FILESYSTEM_ROOT="+dir,
		// cws's plugins: the resource catalog (so that CloudFormation refuses
		// only the types it cannot create, loudly) and the Lambda executor.
		"PYTHONPATH="+pluginDir,
		"CFN_IGNORE_UNSUPPORTED_RESOURCE_TYPES=0",
	)
	if executor != "" {
		env = append(env, "LAMBDA_RUNTIME_EXECUTOR="+ExecutorName, EnvExecutorBinary+"="+executor)
	}
	return env
}

// process is a LocalStack host process.
type process struct {
	cmd      *exec.Cmd
	endpoint string
	dir      string
	log      string
	exited   chan struct{}
}

// spawn starts a host process on port; detached processes outlive the
// caller (the daemon), the others die with it.
func spawn(ctx context.Context, o *options, port int, detached bool) (*process, error) {
	python, err := install(ctx, o)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(installDir(o), "run-")
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(dir, "localstack.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	pluginDir, err := installPlugin(o)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(python, "-m", "localstack.runtime.main")
	cmd.Dir = dir
	cmd.Env = hostEnv(port, dir, o.services, pluginDir, o.executor)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = procAttr(detached)
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("starting %s -m localstack.runtime.main: %w", python, err)
	}
	p := &process{cmd: cmd, endpoint: fmt.Sprintf("http://127.0.0.1:%d", port), dir: dir, log: logPath, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.exited) }()

	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-p.exited:
			cancel()
		case <-wctx.Done():
		}
	}()
	if err := waitHealthy(wctx, p.endpoint, o.services, o.startTimeout); err != nil {
		tail := logTail(logPath, 30)
		_ = p.stop(context.Background())
		return nil, fmt.Errorf("LocalStack did not become ready: %w\n%s", err, tail)
	}
	return p, nil
}

// stop ends the process group (SIGTERM, then SIGKILL after 20s) and removes
// the process's files.
func (p *process) stop(ctx context.Context) error {
	defer os.RemoveAll(p.dir)
	_ = signalGroup(p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.exited:
		return nil
	case <-time.After(20 * time.Second):
	case <-ctx.Done():
	}
	_ = signalGroup(p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.exited
	return nil
}

func logTail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// freePort asks the kernel for a free TCP port on the loopback interface.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// StartHost installs LocalStack if needed and starts a new host process
// owned by the caller, whatever the environment offers (Start prefers an
// endpoint of the environment, Docker and the daemon): Stop (or the
// caller's death) ends it and removes its state. A test that stops and
// starts LocalStack runs its own this way, on the same port (WithPort).
func StartHost(ctx context.Context, opts ...Option) (*Instance, error) {
	return startHost(ctx, newOptions(opts))
}

// startHost starts a host process owned by the caller: Stop (or the
// caller's death) ends it.
func startHost(ctx context.Context, o *options) (*Instance, error) {
	port := o.port
	if port == 0 {
		var err error
		if port, err = freePort(); err != nil {
			return nil, err
		}
	}
	p, err := spawn(ctx, o, port, false)
	if err != nil {
		return nil, err
	}
	o.log.Info("LocalStack host process ready", "endpoint", p.endpoint, "pid", p.cmd.Process.Pid)
	return &Instance{Endpoint: p.endpoint, Source: FromHost, Detail: fmt.Sprintf("pid %d, log %s", p.cmd.Process.Pid, p.log), stop: p.stop}, nil
}

// daemonState is what `cws localstack start` records of the process it
// leaves running.
type daemonState struct {
	PID      int    `json:"pid"`
	Endpoint string `json:"endpoint"`
	Dir      string `json:"dir"`
	Log      string `json:"log"`
	// Executor is the cws command its Lambda executor runs ("" for none).
	Executor string `json:"executor,omitempty"`
}

func statePath(o *options) string { return filepath.Join(installDir(o), "daemon.json") }

func readState(o *options) (*daemonState, error) {
	b, err := os.ReadFile(statePath(o))
	if err != nil {
		return nil, err
	}
	var st daemonState
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("%s: %w", statePath(o), err)
	}
	return &st, nil
}

// runningDaemon returns the daemon started by StartDaemon when it is alive
// and healthy.
func runningDaemon(ctx context.Context, o *options) (*Instance, bool) {
	st, err := readState(o)
	if err != nil || !alive(st.PID) {
		return nil, false
	}
	if o.executor != "" && st.Executor == "" {
		o.log.Info("the LocalStack daemon runs no Lambda executor: not used", "endpoint", st.Endpoint)
		return nil, false
	}
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := checkHealth(cctx, st.Endpoint, o.services); err != nil {
		o.log.Warn("the LocalStack daemon does not answer", "endpoint", st.Endpoint, "error", err)
		return nil, false
	}
	o.log.Info("using the running LocalStack daemon", "endpoint", st.Endpoint, "pid", st.PID)
	return &Instance{Endpoint: st.Endpoint, Source: FromDaemon, Detail: fmt.Sprintf("pid %d, log %s", st.PID, st.Log)}, true
}

// RunningDaemon returns the daemon StartDaemon left running, when it is
// alive and answers.
func RunningDaemon(ctx context.Context, opts ...Option) (*Instance, bool) {
	return runningDaemon(ctx, newOptions(opts))
}

// DefaultPort is where StartDaemon listens when the port is free.
const DefaultPort = 4566

// StartDaemon installs LocalStack if needed and leaves a host process
// running in the background, on port 4566 when free, for later Starts (and
// other tools) to use; StopDaemon stops it. A daemon already running is
// reused.
func StartDaemon(ctx context.Context, opts ...Option) (*Instance, error) {
	o := newOptions(opts)
	if inst, ok := runningDaemon(ctx, o); ok {
		return inst, nil
	}
	port := DefaultPort
	if ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err != nil {
		if port, err = freePort(); err != nil {
			return nil, err
		}
	} else {
		ln.Close()
	}
	p, err := spawn(ctx, o, port, true)
	if err != nil {
		return nil, err
	}
	st := daemonState{PID: p.cmd.Process.Pid, Endpoint: p.endpoint, Dir: p.dir, Log: p.log, Executor: o.executor}
	b, _ := json.MarshalIndent(st, "", "  ")
	if err := os.WriteFile(statePath(o), b, 0o644); err != nil {
		_ = p.stop(ctx)
		return nil, err
	}
	return &Instance{Endpoint: p.endpoint, Source: FromDaemon, Detail: fmt.Sprintf("pid %d, log %s", st.PID, st.Log)}, nil
}

// StopDaemon stops the daemon StartDaemon left running; it reports whether
// there was one.
func StopDaemon(ctx context.Context, opts ...Option) (bool, error) {
	o := newOptions(opts)
	st, err := readState(o)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer os.Remove(statePath(o))
	if !alive(st.PID) {
		os.RemoveAll(st.Dir)
		return false, nil
	}
	_ = signalGroup(st.PID, syscall.SIGTERM)
	deadline := time.Now().Add(20 * time.Second)
	for alive(st.PID) && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return true, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	if alive(st.PID) {
		_ = signalGroup(st.PID, syscall.SIGKILL)
	}
	os.RemoveAll(st.Dir)
	return true, nil
}
