// Package localstack hands tests (and cws) a ready LocalStack endpoint and a
// way to stop it. Start finds one, in this order:
//
//  1. an endpoint given by the environment: LOCALSTACK_ENDPOINT, else
//     AWS_ENDPOINT_URL;
//  2. where a Docker engine answers, a container of the image
//     localstack/localstack:4.14.0 started with testcontainers-go (with
//     LOCALSTACK_AUTH_TOKEN passed through when set);
//  3. a host process of LocalStack 4.14.0 from a Python virtual environment
//     the package installs in a cache directory (reused once installed): the
//     one `cws localstack start` left running, or a new one.
//
// Start waits until the health endpoint reports the requested services,
// reports how it got the endpoint, and Stop cleans up what Start started.
// AWSConfig points aws-sdk-go-v2 clients at the endpoint.
package localstack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"
)

// Version is the LocalStack release the project pins: the last one that
// starts without an account token.
const Version = "4.14.0"

// Image is the LocalStack Docker image testcontainers runs.
const Image = "localstack/localstack:" + Version

// DefaultServices are the services a host process runs and Start waits
// for: every service cws uses.
var DefaultServices = []string{"sqs", "events", "lambda", "apigateway", "cloudformation", "s3", "iam", "sts", "logs", "stepfunctions", "ssm"}

// Source says how Start got its endpoint.
type Source string

// The sources of an endpoint.
const (
	FromEnvironment Source = "environment"
	FromDocker      Source = "testcontainers"
	FromDaemon      Source = "host process (cws localstack start)"
	FromHost        Source = "host process"
)

// Instance is a LocalStack endpoint ready for use.
type Instance struct {
	// Endpoint is the base URL of the LocalStack gateway, e.g.
	// http://127.0.0.1:4566.
	Endpoint string
	// Source says how Start got it.
	Source Source
	// Detail says more: the variable, the container or the process.
	Detail string

	stop func(ctx context.Context) error
}

// Stop stops what Start started (a container or a host process); an
// endpoint given by the environment or a daemon started by
// `cws localstack start` is left running.
func (i *Instance) Stop(ctx context.Context) error {
	if i == nil || i.stop == nil {
		return nil
	}
	return i.stop(ctx)
}

// String describes the instance for logs.
func (i *Instance) String() string {
	s := fmt.Sprintf("LocalStack at %s (%s)", i.Endpoint, i.Source)
	if i.Detail != "" {
		s += ": " + i.Detail
	}
	return s
}

// ErrUnavailable is wrapped by Start's error when no way of getting
// LocalStack works here; the message says what was tried and how to get
// one.
var ErrUnavailable = errors.New("LocalStack is unavailable")

// Option configures Start and Install.
type Option func(*options)

type options struct {
	services     []string
	log          *slog.Logger
	progress     io.Writer
	cacheDir     string
	python       string
	startTimeout time.Duration
	executor     string
	port         int
	docker       func(ctx context.Context) error
	env          func(string) string
}

// WithServices sets the services to wait for (default DefaultServices).
func WithServices(services ...string) Option {
	return func(o *options) { o.services = services }
}

// WithLogger sets the logger of what Start decides (default: discard).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithProgress sets where the installer writes its progress (default:
// nowhere).
func WithProgress(w io.Writer) Option { return func(o *options) { o.progress = w } }

// WithCacheDir sets the directory of the virtual environment and of the
// daemon's state (default: $CWS_CACHE_DIR, else the user cache directory
// /cws).
func WithCacheDir(dir string) Option { return func(o *options) { o.cacheDir = dir } }

// WithPython sets the Python (>= 3.13) that creates the virtual environment
// (default: $CWS_PYTHON, else python3.13 on PATH, else pyenv's 3.13, else
// python3 when it is 3.13 or later).
func WithPython(path string) Option { return func(o *options) { o.python = path } }

// WithLambdaExecutor makes a host process run Lambda functions without
// Docker, with LocalStack's cws executor: bin is the cws command, whose
// `cws localstack lambda-env` each execution environment runs. Without it
// a host process has no Lambda executor (functions fail to start).
func WithLambdaExecutor(bin string) Option { return func(o *options) { o.executor = bin } }

// WithPort sets the port of 127.0.0.1 that StartHost's process listens on
// (default: a free one). Starting again on the same port gives a caller's
// clients the same endpoint, as a restarted LocalStack does.
func WithPort(port int) Option { return func(o *options) { o.port = port } }

// WithStartTimeout bounds the wait for a ready LocalStack (default 3
// minutes).
func WithStartTimeout(d time.Duration) Option { return func(o *options) { o.startTimeout = d } }

func newOptions(opts []Option) *options {
	o := &options{
		services:     DefaultServices,
		log:          slog.New(slog.NewTextHandler(io.Discard, nil)),
		progress:     io.Discard,
		startTimeout: 3 * time.Minute,
		docker:       dockerHealthy,
		env:          os.Getenv,
	}
	for _, opt := range opts {
		opt(o)
	}
	if o.cacheDir == "" {
		o.cacheDir = defaultCacheDir(o.env)
	}
	return o
}

// Start returns a ready LocalStack, from the environment, Docker or a host
// process, in that order.
func Start(ctx context.Context, opts ...Option) (*Instance, error) {
	o := newOptions(opts)
	for _, name := range []string{"LOCALSTACK_ENDPOINT", "AWS_ENDPOINT_URL"} {
		if ep := o.env(name); ep != "" {
			o.log.Info("using the LocalStack endpoint of the environment", "variable", name, "endpoint", ep)
			if err := waitHealthy(ctx, ep, o.services, o.startTimeout); err != nil {
				return nil, fmt.Errorf("%s=%s: %w", name, ep, err)
			}
			return &Instance{Endpoint: strings.TrimRight(ep, "/"), Source: FromEnvironment, Detail: name}, nil
		}
	}

	var tried []string
	if err := o.docker(ctx); err == nil {
		o.log.Info("a Docker engine answers: starting LocalStack with testcontainers", "image", Image)
		inst, err := startContainer(ctx, o)
		if err == nil {
			return inst, nil
		}
		tried = append(tried, "Docker: "+err.Error())
		o.log.Warn("LocalStack in Docker failed; trying a host process", "error", err)
	} else {
		tried = append(tried, "Docker: "+err.Error())
		o.log.Info("no Docker engine: using a host process", "reason", err)
	}

	if inst, ok := runningDaemon(ctx, o); ok {
		return inst, nil
	}
	inst, err := startHost(ctx, o)
	if err == nil {
		return inst, nil
	}
	tried = append(tried, "host process: "+err.Error())
	return nil, fmt.Errorf("%w: %s. Get one by starting a Docker engine (testcontainers runs %s), "+
		"by setting LOCALSTACK_ENDPOINT to a running LocalStack, or by installing Python 3.13 for the host process "+
		"(make localstack)", ErrUnavailable, strings.Join(tried, "; "), Image)
}

// health is the answer of /_localstack/health.
type health struct {
	Services map[string]string `json:"services"`
	Version  string            `json:"version"`
}

// checkHealth asks endpoint whether every service is available.
func checkHealth(ctx context.Context, endpoint string, services []string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(endpoint, "/")+"/_localstack/health", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("health answers %s", resp.Status)
	}
	var h health
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		return fmt.Errorf("health answer: %w", err)
	}
	var missing []string
	for _, s := range services {
		if st := h.Services[s]; st != "available" && st != "running" {
			missing = append(missing, s+"="+orNone(st))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("services not ready: %s", strings.Join(missing, ", "))
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "absent"
	}
	return s
}

// waitHealthy polls the health endpoint until the services are ready, the
// timeout passes or ctx is done.
func waitHealthy(ctx context.Context, endpoint string, services []string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		cctx, ccancel := context.WithTimeout(ctx, 5*time.Second)
		last = checkHealth(cctx, endpoint, services)
		ccancel()
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not ready within %v: %w", timeout, last)
		case <-time.After(300 * time.Millisecond):
		}
	}
}
