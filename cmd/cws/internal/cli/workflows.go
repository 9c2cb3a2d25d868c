package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/coworks-go/cws/async"
	"github.com/coworks-go/cws/biz"
	"github.com/coworks-go/cws/biz/asl"
)

func newWorkflowsCmd() *cobra.Command {
	var stage string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "workflows [PKG]",
		Short: "List, run and draw workflows (Amazon States Language)",
		Long: `workflows builds the service in PKG (default: the current directory) and lists
its workflows: name, file, number of states, and what starts them (the
rules of their subscriptions). Its subcommands run a workflow file on the
embedded engine and draw it.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			out, err := runMode(cmd, pkgArg(args), stageOf(stage), "workflows", nil, nil)
			if err != nil {
				return err
			}
			var infos []async.WorkflowInfo
			if err := json.Unmarshal(out, &infos); err != nil {
				return fmt.Errorf("reading the workflows of %s: %w", pkgArg(args), err)
			}
			w := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				return enc.Encode(infos)
			}
			if len(infos) == 0 {
				_, err := fmt.Fprintln(w, "no workflows")
				return err
			}
			tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			fmt.Fprintf(tw, "WORKFLOW\tFILE\tSTATES\tSTARTED BY\n")
			for _, i := range infos {
				var by []string
				for _, r := range i.Rules {
					on := r.Pattern
					if r.Schedule != "" {
						on = r.Schedule
					}
					by = append(by, r.Name+" "+on)
				}
				if len(by) == 0 {
					by = []string{"calls only (biz client, cws workflows run, POST " + async.WorkflowsPath + "/" + i.Name + ")"}
				}
				fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", i.Name, i.Path, i.States, strings.Join(by, "; "))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&stage, "stage", "", "stage (default $CWS_STAGE, else dev)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of a table")
	cmd.AddCommand(newWorkflowsRunCmd(), newWorkflowsGraphCmd(), newWorkflowsCompileCmd())
	return cmd
}

// invalid reports a definition Step Functions would refuse: its error code
// and reason on stderr, exit status 2.
func invalid(err error) error {
	return exitError{code: 2, msg: err.Error()}
}

func newWorkflowsRunCmd() *cobra.Command {
	var input, service, stage string
	var history bool
	cmd := &cobra.Command{
		Use:   "run FILE [--input JSON|@FILE|-] [--service DIR]",
		Short: "Run one execution of a workflow file on the embedded engine",
		Long: `run validates the workflow file (JSON or YAML Amazon States Language) and runs
one execution of it on the embedded engine, with the input given (default
{}). It prints the final output as JSON and exits 0; a failed execution
prints {"error": …, "cause": …} and exits 1; an invalid definition prints
Step Functions' error code (InvalidDefinition) and the reasons on stderr and
exits 2.

Pure states need nothing more. With --service DIR, the cws:invoke tasks call
that service's entries in process (it is built and runs the execution
itself), and cws:publish tasks log the events they would publish; without
it, a task fails (States.TaskFailed). --history prints the execution's
history (GetExecutionHistory's events) on stderr.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			file, err := filepath.Abs(args[0])
			if err != nil {
				return err
			}
			data, err := os.ReadFile(file)
			if err != nil {
				return err
			}
			m, err := asl.Parse(data)
			if err != nil {
				return invalid(err)
			}
			raw := []byte("{}")
			if input != "" {
				if raw, err = readValue(input, cmd.InOrStdin()); err != nil {
					return err
				}
			}
			in, err := asl.DecodeJSON(raw)
			if err != nil {
				return exitError{code: 2, msg: fmt.Sprintf("the input is not JSON: %v", err)}
			}
			var info async.ExecutionInfo
			if service == "" {
				name := strings.TrimSuffix(strings.TrimSuffix(filepath.Base(file), filepath.Ext(file)), ".asl")
				e := m.Run(cmd.Context(), in, asl.WithName(name, ""), asl.WithTasks(noService{}))
				info = async.Describe(e, true)
			} else {
				out, err := runMode(cmd, service, stageOf(stage), "workflow-run", strings.NewReader(string(raw)), nil,
					async.EnvWorkflowFile+"="+file)
				if err != nil {
					return err
				}
				if err := json.Unmarshal(out, &info); err != nil {
					return fmt.Errorf("reading the execution: %w", err)
				}
			}
			if history {
				enc := json.NewEncoder(cmd.ErrOrStderr())
				for _, e := range info.History {
					_ = enc.Encode(e)
				}
			}
			enc := json.NewEncoder(cmd.OutOrStdout())
			enc.SetIndent("", "  ")
			if info.Status == asl.StatusSucceeded {
				return enc.Encode(info.Output)
			}
			if err := enc.Encode(map[string]string{"error": info.Error, "cause": info.Cause}); err != nil {
				return err
			}
			return exitError{code: 1}
		},
	}
	cmd.Flags().StringVar(&input, "input", "", "the execution's input: JSON, @FILE, or - for stdin (default {})")
	cmd.Flags().StringVar(&service, "service", "", "the service (a package directory) whose entries cws:invoke tasks call")
	cmd.Flags().StringVar(&stage, "stage", "", "the service's stage (default $CWS_STAGE, else dev)")
	cmd.Flags().BoolVar(&history, "history", false, "print the execution's history on stderr")
	return cmd
}

// noService runs no task: without --service, a task fails saying why.
type noService struct{}

func (noService) RunTask(_ context.Context, t *asl.Task) (any, error) {
	return nil, asl.Errorf(asl.ErrTaskFailed, "task %s (%s): no service to call: pass --service DIR", t.State, t.Resource)
}

func newWorkflowsGraphCmd() *cobra.Command {
	var format, output string
	cmd := &cobra.Command{
		Use:   "graph FILE [--format svg|mermaid] [-o OUT]",
		Short: "Draw a workflow: SVG, or Mermaid for Markdown",
		Long: `graph draws the state machine of a workflow file: its states as boxes (a Choice
as a diamond, Succeed green, Fail red), the transitions as arrows labelled
with the Choice's conditions, a Catch's transitions dashed with the errors
they catch, what each task calls and retries. --format mermaid writes a
Mermaid flowchart (GitHub renders it in Markdown); svg (the default) an
image. -o writes to a file instead of stdout.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			m, err := asl.Parse(data)
			if err != nil {
				return invalid(err)
			}
			var out []byte
			switch format {
			case "svg":
				out = asl.SVG(m)
			case "mermaid":
				out = []byte(asl.Mermaid(m))
			default:
				return usageError(cmd, errors.New("--format is svg or mermaid"))
			}
			var w io.Writer = cmd.OutOrStdout()
			if output != "" {
				return os.WriteFile(output, out, 0o644)
			}
			_, err = w.Write(out)
			return err
		},
	}
	cmd.Flags().StringVar(&format, "format", "svg", "svg or mermaid")
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to this file")
	return cmd
}

func newWorkflowsCompileCmd() *cobra.Command {
	var queue, bus, source string
	var queues []string
	cmd := &cobra.Command{
		Use:   "compile FILE --queue URL [--bus BUS] [--queue-of SERVICE=URL]",
		Short: "Write the Step Functions definition of a workflow file",
		Long: `compile validates the workflow file and prints the definition Step Functions
runs (JSON): its cws:invoke tasks send their cws.invoke CloudEvent with the
task token to the service's queue (sqs:sendMessage.waitForTaskToken), and the
service's CloudEvents door answers them; its cws:publish tasks put their
event on the bus (events:putEvents); cws.Status.4xx and 5xx in ErrorEquals
become the statuses of their class.

--queue is the queue of the workflow's own service; --queue-of SERVICE=URL
(repeated) those of the services its tasks name.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			wf, err := biz.LoadWorkflow(os.DirFS(filepath.Dir(args[0])), filepath.Base(args[0]))
			if err != nil {
				var inv *asl.InvalidDefinition
				if errors.As(err, &inv) {
					return invalid(err)
				}
				return err
			}
			others := map[string]string{}
			for _, q := range queues {
				name, url, ok := strings.Cut(q, "=")
				if !ok {
					return usageError(cmd, fmt.Errorf("--queue-of %q: want SERVICE=URL", q))
				}
				others[name] = url
			}
			def, err := biz.CompileStepFunctions(wf, biz.StepFunctionsTargets{EventBus: bus, Source: source,
				QueueURL: func(service string) (string, error) {
					if url, ok := others[service]; ok {
						return url, nil
					}
					if service == "" && queue != "" {
						return queue, nil
					}
					return "", fmt.Errorf("no queue for service %q: give --queue (the workflow's own) or --queue-of %s=URL", service, service)
				}})
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s\n", def)
			return err
		},
	}
	cmd.Flags().StringVar(&queue, "queue", "", "the SQS queue URL of the workflow's service")
	cmd.Flags().StringArrayVar(&queues, "queue-of", nil, "SERVICE=URL: the queue of another service")
	cmd.Flags().StringVar(&bus, "bus", "", "the EventBridge bus of cws:publish tasks")
	cmd.Flags().StringVar(&source, "source", "", "the source of the events the workflow sends (default cws/workflow/NAME)")
	return cmd
}
