// Package cws is the front door of a service: Main runs it through the
// door its environment calls for — the Lambda runtime when AWS Lambda
// starts the binary, otherwise a local HTTP server. A program's main hands
// its service to Main:
//
//	func main() {
//		cws.Main(&CRUD{}, runtime.WithBlueprint("/admin", admin.New()))
//	}
//
// That service has the HTTP doors: the local server, and on Lambda API
// Gateway (REST and HTTP APIs), Function URLs and authorizers. A service
// pays only for the doors it uses: the CloudEvents doors — an in-memory
// queue and bus locally, SQS and EventBridge events on Lambda, the biz
// reactors — are a Door given among the options (async.Doors(), or
// awscloud.Doors() for SQS, EventBridge and replies on AWS), and a binary
// without them links none of that machinery.
//
// The same binary also answers the `cws` command line: `cws routes`,
// `cws invoke` and `cws do` (the service's commands) build it and run it in
// the modes they need.
package cws

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"reflect"
	"strings"
	"syscall"

	"github.com/aws/aws-lambda-go/lambda"

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
	// JSON, "manifest" the service's manifest (cws deploy), "invoke" answers
	// one Lambda event read from stdin, "openapi" prints the OpenAPI
	// document (-tags cwsopenapi), "commands" lists the service's commands
	// and "command" runs one (-tags cwscommands); a Door may take more
	// (ModeRunner).
	EnvMode = "CWS_MODE"
)

// DefaultAddr is where the local server listens by default.
const DefaultAddr = "127.0.0.1:8080"

// Door is a way into the service besides the HTTP doors, given to Main
// among the App's options (it embeds runtime.EmptyOption, so that
// runtime.New passes it over). Main opens it once, where the binary runs.
type Door interface {
	runtime.Option
	// Local opens the door beside the local HTTP server.
	Local(ctx context.Context, app *runtime.App) (*LocalDoor, error)
	// Lambda returns what answers the Lambda events that are not HTTP
	// requests (SQS, EventBridge).
	Lambda(ctx context.Context, app *runtime.App) (cwslambda.EventHandler, error)
}

// LocalDoor is a door opened beside the local HTTP server.
type LocalDoor struct {
	// Endpoints are served by the local server at their exact paths,
	// instead of the App.
	Endpoints map[string]http.Handler
	// Run runs the door until ctx is done (its consumers, its
	// schedulers), then stops it gracefully.
	Run func(ctx context.Context) error
	// Description says what the door serves, for the log.
	Description string
}

// Manifest is what a service says of itself for its deployment
// (CWS_MODE=manifest): its routes, and what each door needs deployed.
type Manifest struct {
	runtime.Description
	// Doors are the doors' own manifests (DoorDescriber), in order.
	Doors []any `json:"doors"`
}

// DoorDescriber is a Door that says what it needs deployed (queues, rules,
// permissions) in the service's manifest.
type DoorDescriber interface {
	DescribeDoor(ctx context.Context, app *runtime.App) (any, error)
}

// ModeRunner is a Door with CWS_MODE values of its own (the async doors
// print the reactors' rules under CWS_MODE=reactors).
type ModeRunner interface {
	// RunMode runs mode, writing its output to w, and reports whether it
	// knows the mode.
	RunMode(ctx context.Context, app *runtime.App, mode string, w io.Writer) (bool, error)
}

// Main runs the service with Run and exits the process with status 1 when
// Run fails (2 for a command line a command refuses, under
// CWS_MODE=command).
func Main(service any, opts ...runtime.Option) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := Run(ctx, service, opts...)
	stop()
	if err != nil {
		switch {
		case isCommandLineError(err):
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		case os.Getenv(EnvMode) == "command":
			// A command's error is its output: said plainly.
			fmt.Fprintln(os.Stderr, err)
		default:
			slog.Error("cws: " + err.Error())
		}
		os.Exit(1)
	}
}

// Run builds the App of service and serves it until ctx is done:
//   - under CWS_MODE=routes it prints the App's runtime.Description as JSON,
//     under CWS_MODE=manifest its Manifest (the deployer reads it), under
//     CWS_MODE=openapi its OpenAPI document (built with -tags cwsopenapi);
//   - under CWS_MODE=commands it prints the service's commands
//     (runtime.Commander) as JSON; under CWS_MODE=command it runs the
//     command its arguments name (os.Args[1], then the command's flags and
//     arguments) on stdin and stdout (both built with -tags cwscommands,
//     which links package command);
//   - under CWS_MODE=invoke it answers the Lambda event read from stdin;
//   - under another CWS_MODE, the Door that knows it runs it;
//   - on AWS Lambda (AWS_LAMBDA_RUNTIME_API set) it runs the Lambda loop;
//   - otherwise it serves HTTP on CWS_ADDR (default 127.0.0.1:8080), with
//     the doors' endpoints, and runs the doors beside it.
//
// The Doors among opts are opened where the binary runs; a service with
// reactors or workflows (a Reactors or Workflows method) needs the async
// doors.
func Run(ctx context.Context, service any, opts ...runtime.Option) error {
	onLambda := os.Getenv("AWS_LAMBDA_RUNTIME_API") != ""
	logger := newLogger(os.Getenv(EnvLogLevel), onLambda)
	slog.SetDefault(logger)
	var doors []Door
	for _, o := range opts {
		if d, ok := o.(Door); ok {
			doors = append(doors, d)
		}
	}
	if len(doors) == 0 && hasMethod(service, "Reactors") {
		return errors.New("the service has reactors (a Reactors method) but no CloudEvents door to run them: give cws.Main async.Doors() or awscloud.Doors()")
	}
	if len(doors) == 0 && hasMethod(service, "Workflows") {
		return errors.New("the service has workflows (a Workflows method) but no CloudEvents door to run them: give cws.Main async.Doors() or awscloud.Doors()")
	}
	app, err := runtime.New(service, append([]runtime.Option{runtime.WithLogger(logger)}, opts...)...)
	if err != nil {
		return err
	}
	for _, w := range app.Warnings() {
		logger.Warn(w, "service", app.Name())
	}
	switch mode := os.Getenv(EnvMode); {
	case mode == "routes":
		return writeJSON(os.Stdout, app.Description())
	case mode == "manifest":
		m := Manifest{Description: app.Description(), Doors: []any{}}
		for _, d := range doors {
			if dd, ok := d.(DoorDescriber); ok {
				v, err := dd.DescribeDoor(ctx, app)
				if err != nil {
					return err
				}
				m.Doors = append(m.Doors, v)
			}
		}
		return writeJSON(os.Stdout, m)
	case mode == "commands":
		return writeCommands(app, os.Stdout)
	case mode == "command":
		return runCommand(ctx, app, os.Args[1:], os.Stdin, os.Stdout)
	case mode == "openapi":
		return writeOpenAPI(ctx, app, os.Stdout)
	case mode == "invoke":
		h, err := lambdaHandler(ctx, app, doors, logger)
		if err != nil {
			return err
		}
		return invoke(ctx, os.Stdin, os.Stdout, h)
	case mode != "":
		for _, d := range doors {
			if mr, ok := d.(ModeRunner); ok {
				if known, err := mr.RunMode(ctx, app, mode, os.Stdout); known {
					return err
				}
			}
		}
		if (mode == "reactors" && !hasMethod(service, "Reactors")) || (mode == "workflows" && !hasMethod(service, "Workflows")) {
			// A service without reactors or workflows, and without the
			// doors that run them, lists none.
			return writeJSON(os.Stdout, []any{})
		}
		return fmt.Errorf("unknown %s %q", EnvMode, mode)
	case onLambda:
		h, err := lambdaHandler(ctx, app, doors, logger)
		if err != nil {
			return err
		}
		lambda.StartWithOptions(h, lambda.WithContext(ctx))
		return nil
	}
	return serveLocal(ctx, app, doors, logger)
}

// hasMethod reports whether v has an exported method of that name.
func hasMethod(v any, name string) bool {
	if v == nil {
		return false
	}
	_, ok := reflect.TypeOf(v).MethodByName(name)
	return ok
}

// lambdaHandler is the Lambda door of app, with the doors' events handler.
func lambdaHandler(ctx context.Context, app *runtime.App, doors []Door, logger *slog.Logger) (*cwslambda.Handler, error) {
	opts := []cwslambda.Option{cwslambda.WithLogger(logger)}
	for _, d := range doors {
		eh, err := d.Lambda(ctx, app)
		if err != nil {
			return nil, err
		}
		if eh != nil {
			opts = append(opts, cwslambda.WithEvents(eh))
		}
	}
	return cwslambda.NewHandler(app, opts...), nil
}

// serveLocal runs the local server and the doors until ctx is done, then
// stops them gracefully.
func serveLocal(ctx context.Context, app *runtime.App, doors []Door, logger *slog.Logger) error {
	addr := os.Getenv(EnvAddr)
	if addr == "" {
		addr = DefaultAddr
	}
	var hopts []cwshttp.HandlerOption
	var runs []func(context.Context) error
	for _, d := range doors {
		ld, err := d.Local(ctx, app)
		if err != nil {
			return err
		}
		for path, h := range ld.Endpoints {
			hopts = append(hopts, cwshttp.WithEndpoint(path, h))
		}
		if ld.Run != nil {
			runs = append(runs, ld.Run)
		}
		if ld.Description != "" {
			logger.Info(ld.Description, "service", app.Name())
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ran := make(chan error, len(runs))
	for _, run := range runs {
		go func() { ran <- run(ctx) }()
	}
	err := cwshttp.ListenAndServe(ctx, addr, cwshttp.NewHandler(app, hopts...), cwshttp.WithLogger(logger))
	cancel()
	for range runs {
		if rerr := <-ran; err == nil {
			err = rerr
		}
	}
	return err
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// invoke answers one Lambda event as the Lambda runtime would, printing the
// response payload, or the error payload Lambda would report.
func invoke(ctx context.Context, in io.Reader, out io.Writer, h *cwslambda.Handler) error {
	payload, err := io.ReadAll(in)
	if err != nil {
		return fmt.Errorf("reading the event: %w", err)
	}
	resp, err := h.Invoke(ctx, payload)
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
		return writeJSON(out, pretty)
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
