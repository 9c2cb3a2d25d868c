// Package cws runs a service through the door its environment calls for:
// the Lambda runtime when AWS Lambda starts the binary, otherwise a local
// HTTP server. A program's main hands its service to Main:
//
//	func main() {
//		cws.Main(&CRUD{}, runtime.WithBlueprint("/admin", admin.New()))
//	}
//
// The same binary also answers the `cws` command line: `cws routes` and
// `cws invoke` build it and run it in the modes they need.
package cws

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"reflect"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/coworks-go/cws/biz"
	"github.com/coworks-go/cws/runtime"
	cwshttp "github.com/coworks-go/cws/transport/http"
	cwslambda "github.com/coworks-go/cws/transport/lambda"
)

// Environment variables read by Run.
const (
	// EnvAddr is the local server's address (default DefaultAddr).
	EnvAddr = "CWS_ADDR"
	// EnvLogLevel is the log level: debug, info, warn or error.
	EnvLogLevel = "CWS_LOG_LEVEL"
	// EnvMode is set by the cws command line: "routes" prints the routes as
	// JSON, "invoke" answers one Lambda event read from stdin.
	EnvMode = "CWS_MODE"
)

// DefaultAddr is where the local server listens by default.
const DefaultAddr = "127.0.0.1:8080"

// Main runs the service with Run and exits the process with status 1 when
// Run fails.
func Main(service any, opts ...runtime.Option) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := Run(ctx, service, opts...)
	stop()
	if err != nil {
		slog.Error("cws: " + err.Error())
		os.Exit(1)
	}
}

// Run builds the App of service and serves it until ctx is done:
//   - under CWS_MODE=routes it prints the App's runtime.Description as JSON;
//   - under CWS_MODE=reactors it prints the reactors' rules as JSON;
//   - under CWS_MODE=invoke it answers the Lambda event read from stdin;
//   - on AWS Lambda (AWS_LAMBDA_RUNTIME_API set) it runs the Lambda loop;
//   - otherwise it serves HTTP on CWS_ADDR (default 127.0.0.1:8080).
//
// A service with a Reactors method (biz.Provider) gets its reactors run
// beside its entries (see docs/biz.md).
func Run(ctx context.Context, service any, opts ...runtime.Option) error {
	onLambda := os.Getenv("AWS_LAMBDA_RUNTIME_API") != ""
	logger := newLogger(os.Getenv(EnvLogLevel), onLambda)
	slog.SetDefault(logger)
	app, err := runtime.New(service, append([]runtime.Option{runtime.WithLogger(logger)}, opts...)...)
	if err != nil {
		return err
	}
	for _, w := range app.Warnings() {
		logger.Warn(w, "service", app.Name())
	}
	var reactors map[string]biz.Reactor
	if p, ok := service.(biz.Provider); ok {
		reactors = p.Reactors()
		// Checked now, so that a bad schedule or pattern stops every mode.
		if _, err := biz.NewEngine(reactors); err != nil {
			return err
		}
	}
	switch mode := os.Getenv(EnvMode); {
	case mode == "routes":
		return writeRoutes(os.Stdout, app)
	case mode == "reactors":
		return writeReactors(os.Stdout, reactors)
	case mode == "invoke":
		return invoke(ctx, os.Stdin, os.Stdout, app)
	case mode != "":
		return fmt.Errorf("unknown %s %q", EnvMode, mode)
	case onLambda:
		opts, err := lambdaOptions(ctx, app, reactors, logger)
		if err != nil {
			return err
		}
		lambda.StartWithOptions(cwslambda.NewHandler(app, opts...), lambda.WithContext(ctx))
		return nil
	}
	return serveLocal(ctx, app, reactors, logger)
}

// serveLocal runs the local server and the asynchronous door until ctx is
// done, then stops both gracefully.
func serveLocal(ctx context.Context, app *runtime.App, reactors map[string]biz.Reactor, logger *slog.Logger) error {
	addr := os.Getenv(EnvAddr)
	if addr == "" {
		addr = DefaultAddr
	}
	ad, err := newAsyncDoor(ctx, app, reactors, logger)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	consumed := make(chan error, 1)
	go func() { consumed <- ad.consumer.Consume(ctx, ad.door) }()
	if ad.schedules != nil {
		go func() { _ = ad.schedules(ctx) }()
	}
	logger.Info("consuming events", "service", app.Name(), "from", ad.describe, "endpoint", cwshttp.EventsPath)
	handler := cwshttp.NewHandler(app, cwshttp.WithEventsEndpoint(ad.publisher))
	err = cwshttp.ListenAndServe(ctx, addr, handler, cwshttp.WithLogger(logger))
	cancel()
	if cerr := <-consumed; err == nil {
		err = cerr
	}
	return err
}

func writeRoutes(w io.Writer, app *runtime.App) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(app.Description())
}

// invoke answers one Lambda event as the Lambda runtime would, printing the
// response payload, or the error payload Lambda would report.
func invoke(ctx context.Context, in io.Reader, out io.Writer, app *runtime.App) error {
	payload, err := io.ReadAll(in)
	if err != nil {
		return fmt.Errorf("reading the event: %w", err)
	}
	resp, err := cwslambda.NewHandler(app).Invoke(ctx, payload)
	if err != nil {
		t := reflect.TypeOf(err)
		if t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		b, _ := json.Marshal(map[string]string{"errorMessage": err.Error(), "errorType": t.Name()})
		fmt.Fprintln(out, string(b))
		return fmt.Errorf("the handler failed: %w", err)
	}
	var pretty any
	if json.Unmarshal(resp, &pretty) == nil {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(pretty)
	}
	_, err = out.Write(resp)
	return err
}

// newLogger returns a text logger locally and a JSON logger on Lambda.
func newLogger(level string, jsonOut bool) *slog.Logger {
	var lv slog.Level
	switch strings.ToLower(level) {
	case "debug":
		lv = slog.LevelDebug
	case "warn", "warning":
		lv = slog.LevelWarn
	case "error":
		lv = slog.LevelError
	default:
		lv = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: lv}
	if jsonOut {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

// writeReactors prints the reactors' rules as JSON (CWS_MODE=reactors).
func writeReactors(w io.Writer, reactors map[string]biz.Reactor) error {
	rules := []biz.Rule{}
	if reactors != nil {
		engine, err := biz.NewEngine(reactors, biz.WithRulePrefix(os.Getenv(EnvRulePrefix)))
		if err != nil {
			return err
		}
		rules = engine.Rules(time.Now().UTC())
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rules)
}
