package async

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/coworks-go/cws/biz"
	"github.com/coworks-go/cws/biz/asl"
	"github.com/coworks-go/cws/events"
	"github.com/coworks-go/cws/runtime"
)

// The local server's workflow endpoints.
const (
	// WorkflowsPath lists the workflows (GET); WorkflowsPath/NAME describes
	// one (GET) and starts an execution of it (POST, the body its input;
	// ?wait=true answers once it has ended).
	WorkflowsPath = "/_cws/workflows"
	// ExecutionsPath lists the latest executions (GET);
	// ExecutionsPath/NAME gives one, with its history.
	ExecutionsPath = "/_cws/executions"
)

// endpoints are the local server's endpoints of the doors: POST
// /_cws/events, the reactors, the dead letters (deadLetters), and with
// workflows their endpoints.
func endpoints(app *runtime.App, pub events.Publisher, engine *biz.Engine, runner *biz.Runner, deadLetters map[string]http.Handler) map[string]http.Handler {
	eps := map[string]http.Handler{EventsPath: Endpoint(app, pub), ReactorsPath: ReactorsEndpoint(app, engine)}
	for p, h := range deadLetters {
		eps[p] = h
	}
	if runner != nil {
		h := WorkflowEndpoints(app, runner)
		for _, p := range []string{WorkflowsPath, WorkflowsPath + "/", ExecutionsPath, ExecutionsPath + "/"} {
			eps[p] = h
		}
	}
	return eps
}

// ExecutionInfo is an execution as the endpoints show it: DescribeExecution's
// fields (input and output as JSON values) and, for one execution, its
// history (GetExecutionHistory's events).
type ExecutionInfo struct {
	ExecutionARN    string             `json:"executionArn"`
	StateMachineARN string             `json:"stateMachineArn"`
	Name            string             `json:"name"`
	Status          string             `json:"status"`
	StartDate       time.Time          `json:"startDate"`
	StopDate        *time.Time         `json:"stopDate,omitempty"`
	Input           any                `json:"input"`
	Output          any                `json:"output,omitempty"`
	Error           string             `json:"error,omitempty"`
	Cause           string             `json:"cause,omitempty"`
	History         []asl.HistoryEvent `json:"history,omitempty"`
}

// Describe returns an execution's info, with its history when asked.
func Describe(e *asl.Execution, history bool) ExecutionInfo {
	status, out, errName, cause := e.Status()
	info := ExecutionInfo{ExecutionARN: e.ARN, StateMachineARN: e.StateMachineARN, Name: e.Name, Status: status,
		StartDate: e.StartDate, Input: e.Input, Output: out, Error: errName, Cause: cause}
	if stop := e.StopDate(); !stop.IsZero() {
		info.StopDate = &stop
	}
	if history {
		info.History = e.History()
	}
	return info
}

// WorkflowEndpoints serves the workflow endpoints of a runner, guarded by
// the App's authorizer: the workflows and their diagrams (GET
// WorkflowsPath/NAME/diagram.svg, asl.SVG), starting executions, the
// executions and their histories.
func WorkflowEndpoints(app *runtime.App, runner *biz.Runner) http.Handler {
	mux := http.NewServeMux()
	problem, reply := writeProblem, replyJSON
	mux.HandleFunc("GET "+WorkflowsPath, func(w http.ResponseWriter, r *http.Request) {
		reply(w, http.StatusOK, workflowInfos(runner, rulesOf(runner)))
	})
	mux.HandleFunc("GET "+WorkflowsPath+"/{name}", func(w http.ResponseWriter, r *http.Request) {
		for _, info := range workflowInfos(runner, rulesOf(runner)) {
			if info.Name == r.PathValue("name") {
				reply(w, http.StatusOK, info)
				return
			}
		}
		problem(w, r, runtime.NewProblem(http.StatusNotFound, "no workflow %s", r.PathValue("name")))
	})
	mux.HandleFunc("GET "+WorkflowsPath+"/{name}/diagram.svg", func(w http.ResponseWriter, r *http.Request) {
		wf, ok := runner.Workflow(r.PathValue("name"))
		if !ok {
			problem(w, r, runtime.NewProblem(http.StatusNotFound, "no workflow %s", r.PathValue("name")))
			return
		}
		w.Header().Set("Content-Type", "image/svg+xml")
		_, _ = w.Write(asl.SVG(wf.Machine))
	})
	mux.HandleFunc("POST "+WorkflowsPath+"/{name}", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 256*1024))
		if err != nil {
			problem(w, r, runtime.NewProblem(http.StatusRequestEntityTooLarge, "the input exceeds 256 KiB, Step Functions' limit"))
			return
		}
		var input any = map[string]any{}
		if len(body) > 0 {
			if input, err = asl.DecodeJSON(body); err != nil {
				problem(w, r, runtime.BadRequest("the input is not JSON: %v", err))
				return
			}
		}
		e, err := runner.Start(r.PathValue("name"), input, r.URL.Query().Get("name"))
		switch {
		case errors.Is(err, biz.ErrNoWorkflow):
			problem(w, r, runtime.NewProblem(http.StatusNotFound, "no workflow %s", r.PathValue("name")))
			return
		case errors.Is(err, biz.ErrExecutionExists):
			problem(w, r, runtime.NewProblem(http.StatusConflict, "%v", err))
			return
		case err != nil:
			problem(w, r, runtime.NewProblem(http.StatusInternalServerError, "%v", err))
			return
		}
		if r.URL.Query().Get("wait") == "true" {
			if err := e.Wait(r.Context()); err != nil {
				problem(w, r, runtime.NewProblem(http.StatusGatewayTimeout, "the execution %s still runs", e.Name))
				return
			}
			reply(w, http.StatusOK, Describe(e, false))
			return
		}
		w.Header().Set("Location", ExecutionsPath+"/"+e.Name)
		reply(w, http.StatusAccepted, Describe(e, false))
	})
	mux.HandleFunc("GET "+ExecutionsPath, func(w http.ResponseWriter, r *http.Request) {
		out := []ExecutionInfo{}
		for _, e := range runner.Executions() {
			out = append(out, Describe(e, false))
		}
		reply(w, http.StatusOK, out)
	})
	mux.HandleFunc("GET "+ExecutionsPath+"/{name}", func(w http.ResponseWriter, r *http.Request) {
		e, ok := runner.Execution(r.PathValue("name"))
		if !ok {
			problem(w, r, runtime.NewProblem(http.StatusNotFound, "no execution %s", r.PathValue("name")))
			return
		}
		reply(w, http.StatusOK, Describe(e, true))
	})
	return guarded(app, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern == "" {
			problem(w, r, runtime.NewProblem(http.StatusNotFound, "no such workflow endpoint: %s %s", r.Method, r.URL.Path))
			return
		}
		mux.ServeHTTP(w, r) // sets the path's values
	}))
}

// rulesOf are the rules of the workflows' subscriptions, named as the
// engine names them (without the deployed prefix).
func rulesOf(runner *biz.Runner) []biz.Rule {
	var out []biz.Rule
	for _, wf := range runner.Workflows() {
		for _, s := range wf.Subscriptions {
			out = append(out, biz.Rule{Name: wf.Name + "-" + s.Name, Reactor: wf.Name, Subscription: s.Name, Schedule: s.Schedule, Pattern: s.Pattern})
		}
	}
	return out
}

// EnvWorkflowFile names the workflow file CWS_MODE=workflow-run runs.
const EnvWorkflowFile = "CWS_WORKFLOW_FILE"

// runWorkflowFile runs one execution of a workflow file with the input
// read from in, its cws:invoke tasks calling app's entries in process and
// its cws:publish tasks publishing nowhere (each event is logged), and
// writes its ExecutionInfo, history included. An invalid definition is
// the error.
func runWorkflowFile(ctx context.Context, app *runtime.App, file string, in io.Reader, w io.Writer) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	m, err := asl.Parse(data)
	if err != nil {
		return err
	}
	raw, err := io.ReadAll(in)
	if err != nil {
		return err
	}
	var input any = map[string]any{}
	if len(bytes.TrimSpace(raw)) > 0 {
		if input, err = asl.DecodeJSON(raw); err != nil {
			return fmt.Errorf("the input is not JSON: %w", err)
		}
	}
	log := app.Logger()
	pub := events.PublisherFunc(func(ctx context.Context, evs ...event.Event) error {
		for _, e := range evs {
			log.Info("published", "type", e.Type(), "id", e.ID(), "data", string(e.Data()))
		}
		return nil
	})
	client := biz.NewClient(biz.WithApp(app), biz.WithPublisher(pub), biz.WithSource("cws/"+app.Name()))
	e := m.Run(ctx, input, asl.WithTasks(client.Tasks(app.Name())), asl.WithErrorMatch(biz.MatchStatusClass),
		asl.WithName(strings.TrimSuffix(strings.TrimSuffix(filepath.Base(file), filepath.Ext(file)), ".asl"), ""))
	return writeJSON(w, Describe(e, true))
}
