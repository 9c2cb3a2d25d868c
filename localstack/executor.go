package localstack

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/coworks-go/cws/localstack/lambdaenv"
)

// plugin is LocalStack's plugins of cws (Python): the Lambda runtime
// executor "cws" and the CloudFormation resource catalog.
//
//go:embed all:plugin
var plugin embed.FS

// ExecutorName is the Lambda runtime executor of the plugin
// (LAMBDA_RUNTIME_EXECUTOR).
const ExecutorName = "cws"

// EnvExecutorBinary names the executable LocalStack's executor runs for an
// execution environment, with the arguments `localstack lambda-env --listen
// ADDR --code DIR`: the cws command.
const EnvExecutorBinary = "CWS_LAMBDA_ENV_BIN"

// installPlugin writes the plugin into the cache directory (once per
// content) and returns the directory to put on LocalStack's PYTHONPATH.
func installPlugin(o *options) (string, error) {
	var all bytes.Buffer
	err := fs.WalkDir(plugin, "plugin", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := plugin.ReadFile(path)
		all.WriteString(path)
		all.Write(b)
		return err
	})
	if err != nil {
		return "", err
	}
	dir := filepath.Join(o.cacheDir, fmt.Sprintf("plugin-%08x", crc(all.Bytes())))
	if _, err := os.Stat(filepath.Join(dir, "cws_localstack", "__init__.py")); err == nil {
		return dir, nil
	}
	if err := os.MkdirAll(o.cacheDir, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(o.cacheDir, "plugin-tmp-")
	if err != nil {
		return "", err
	}
	err = fs.WalkDir(plugin, "plugin", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		target := filepath.Join(tmp, strings.TrimPrefix(path, "plugin"))
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := plugin.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err == nil {
		err = os.Rename(tmp, dir)
		if errors.Is(err, fs.ErrExist) || (err != nil && dirExists(dir)) {
			err = nil // written meanwhile by another process
		}
	}
	if err != nil {
		os.RemoveAll(tmp)
		return "", fmt.Errorf("installing LocalStack's cws plugin: %w", err)
	}
	return dir, nil
}

func dirExists(dir string) bool {
	fi, err := os.Stat(dir)
	return err == nil && fi.IsDir()
}

// crc is a small checksum naming the plugin's version.
func crc(b []byte) uint32 {
	var h uint32 = 2166136261
	for _, c := range b {
		h ^= uint32(c)
		h *= 16777619
	}
	return h
}

// ExecutorConfig is what ServeExecutor is given by LocalStack's executor.
type ExecutorConfig struct {
	// Listen is where LocalStack sends invocations (POST /invoke).
	Listen string
	// Code is the directory of the function's unzipped code, whose
	// bootstrap runs.
	Code string
	// Env is the environment LocalStack gives the execution environment:
	// the function's, LocalStack's runtime endpoint and id.
	Env []string
	// Log receives the environment's own messages and the runtime's output.
	Log io.Writer
}

// invokeRequest is LocalStack's invocation, as it sends it to an execution
// environment.
type invokeRequest struct {
	InvokeID    string `json:"invoke-id"`
	FunctionARN string `json:"invoked-function-arn"`
	Payload     string `json:"payload"`
	TraceID     string `json:"trace-id"`
}

// ServeExecutor is one execution environment of LocalStack's cws executor
// (`cws localstack lambda-env`): it starts the function's bootstrap under a
// Runtime API (lambdaenv), tells LocalStack it is ready — or why it is not
// — and serves LocalStack's invocations until ctx is done, answering each
// with the runtime's logs, then its response or error, as LocalStack's
// Docker execution environments do. It stops the runtime when it stops.
func ServeExecutor(ctx context.Context, cfg ExecutorConfig) error {
	env := map[string]string{}
	var fnEnv []string
	for _, kv := range cfg.Env {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
		if !strings.HasPrefix(k, "LOCALSTACK_RUNTIME_") {
			fnEnv = append(fnEnv, kv)
		}
	}
	endpoint, id := env["LOCALSTACK_RUNTIME_ENDPOINT"], env["LOCALSTACK_RUNTIME_ID"]
	if endpoint == "" || id == "" {
		return errors.New("lambda-env: LOCALSTACK_RUNTIME_ENDPOINT and LOCALSTACK_RUNTIME_ID are not set: LocalStack's cws executor starts this command")
	}
	timeout := lambdaenv.DefaultTimeout
	if s, err := strconv.ParseFloat(env["AWS_LAMBDA_FUNCTION_TIMEOUT"], 64); err == nil && s > 0 {
		timeout = time.Duration(s * float64(time.Second))
	}
	log := slog.New(slog.NewTextHandler(cfg.Log, nil)).With("environment", id)
	callback := &callback{endpoint: strings.TrimRight(endpoint, "/"), id: id, client: &http.Client{Timeout: 30 * time.Second}}

	e, err := lambdaenv.Start(lambdaenv.Config{Bootstrap: filepath.Join(cfg.Code, "bootstrap"), Dir: cfg.Code, Env: fnEnv,
		Timeout: timeout, InitTimeout: 20 * time.Second, Output: cfg.Log,
		FunctionARN: "arn:aws:lambda:" + env["AWS_REGION"] + ":" + env["LOCALSTACK_FUNCTION_ACCOUNT_ID"] + ":function:" + env["AWS_LAMBDA_FUNCTION_NAME"]})
	if err != nil {
		_ = callback.post(ctx, "/status/"+id+"/error", errorPayload("Runtime.InvalidEntrypoint", err.Error()))
		return err
	}
	defer e.Close()

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		_ = callback.post(ctx, "/status/"+id+"/error", errorPayload("Runtime.Unknown", err.Error()))
		return fmt.Errorf("lambda-env: %w", err)
	}
	invocations := make(chan invokeRequest, 1)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/invoke" {
			http.NotFound(w, r)
			return
		}
		var inv invokeRequest
		if err := json.NewDecoder(r.Body).Decode(&inv); err != nil || inv.InvokeID == "" {
			http.Error(w, "not an invocation", http.StatusBadRequest)
			return
		}
		select {
		case invocations <- inv:
			w.WriteHeader(http.StatusAccepted)
		default:
			// LocalStack sends an environment one invocation at a time.
			http.Error(w, "an invocation is running", http.StatusTooManyRequests)
		}
	}), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	init, err := e.Warm(ctx)
	if err != nil {
		var ie *lambdaenv.InitError
		payload := errorPayload("Runtime.Unknown", err.Error())
		if errors.As(err, &ie) {
			payload = ie.Payload
			log.Error("the runtime did not start", "error", string(ie.Payload), "logs", ie.Logs)
		}
		_ = callback.post(ctx, "/status/"+id+"/error", payload)
		return err
	}
	log.Info("runtime ready", "init", init)
	if err := callback.post(ctx, "/status/"+id+"/ready", nil); err != nil {
		return fmt.Errorf("lambda-env: telling LocalStack the environment is ready: %w", err)
	}
	first := true
	for {
		select {
		case <-ctx.Done():
			return nil
		case inv := <-invocations:
			res, err := e.Invoke(ctx, lambdaenv.Invocation{RequestID: inv.InvokeID, Payload: []byte(inv.Payload),
				FunctionARN: inv.FunctionARN, TraceID: inv.TraceID})
			if err != nil {
				return err
			}
			if first {
				res.Init, first = init, false
			}
			logs, _ := json.Marshal(map[string]string{"logs": reportLogs(res)})
			if err := callback.post(ctx, "/invocations/"+inv.InvokeID+"/logs", logs); err != nil {
				log.Error("sending the logs", "request", inv.InvokeID, "error", err)
			}
			kind := "/response"
			if res.Error {
				kind = "/error"
			}
			if err := callback.post(ctx, "/invocations/"+inv.InvokeID+kind, res.Payload); err != nil {
				log.Error("sending the answer", "request", inv.InvokeID, "error", err)
			}
		}
	}
}

// reportLogs is an invocation's logs as Lambda writes them: START, what the
// runtime wrote, END and REPORT (with the init duration of a cold start).
func reportLogs(r *lambdaenv.Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "START RequestId: %s Version: $LATEST\n", r.RequestID)
	b.WriteString(r.Logs)
	if r.Logs != "" && !strings.HasSuffix(r.Logs, "\n") {
		b.WriteByte('\n')
	}
	if r.Error {
		var p struct {
			ErrorMessage string `json:"errorMessage"`
		}
		if json.Unmarshal(r.Payload, &p) == nil && (r.ErrorType == lambdaenv.ErrorTimeout || r.ErrorType == lambdaenv.ErrorExit) {
			fmt.Fprintf(&b, "%s\n", p.ErrorMessage)
		}
	}
	fmt.Fprintf(&b, "END RequestId: %s\n", r.RequestID)
	ms := float64(r.Duration.Microseconds()) / 1000
	fmt.Fprintf(&b, "REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %d ms", r.RequestID, ms, int(ms)+1)
	if r.Init > 0 {
		fmt.Fprintf(&b, "\tInit Duration: %.2f ms", float64(r.Init.Microseconds())/1000)
	}
	b.WriteByte('\n')
	return b.String()
}

func errorPayload(typ, msg string) []byte {
	b, _ := json.Marshal(map[string]string{"errorType": typ, "errorMessage": msg})
	return b
}

// callback posts to LocalStack's endpoint of the execution environment.
type callback struct {
	endpoint, id string
	client       *http.Client
}

func (c *callback) post(ctx context.Context, path string, body []byte) error {
	req, err := http.NewRequestWithContext(context.WithoutCancel(ctx), http.MethodPost, c.endpoint+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s answered %s", path, resp.Status)
	}
	return nil
}
