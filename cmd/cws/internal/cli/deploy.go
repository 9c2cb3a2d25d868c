package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/coworks-go/cws"
	"github.com/coworks-go/cws/deploy"
)

// stackFlags are the flags the stack commands share.
type stackFlags struct {
	stage, project string
}

func (f *stackFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.stage, "stage", "", "the stage (default $CWS_STAGE, else dev)")
	cmd.Flags().StringVar(&f.project, "project", "", "the project file (default: "+deploy.FileName+" in the service's directory or above, up to the repository's root)")
}

// target is a service and stage to deploy.
type target struct {
	project  *deploy.Project
	stage    string
	settings deploy.Stage
	dir      string // the service's directory
	service  string // its name
}

// resolve finds the project, the service (a directory, or a service the
// project file names) and the stage's settings.
func (f *stackFlags) resolve(arg string) (*target, error) {
	stage := stageOf(f.stage)
	var (
		p   *deploy.Project
		err error
	)
	if f.project != "" {
		p, err = deploy.LoadProject(f.project)
	} else {
		p, err = deploy.FindProject(arg)
	}
	if err != nil {
		return nil, err
	}
	t := &target{project: p, stage: stage, settings: p.Stage(stage)}
	if dir, ok := p.ServiceDir(arg); ok {
		t.dir, t.service = dir, arg
	} else if t.dir, err = filepath.Abs(arg); err != nil {
		return nil, err
	} else if name, ok := p.ServiceName(t.dir); ok {
		t.service = name
	}
	if st, err := os.Stat(t.dir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("%s: no such service directory (nor a service of %s)", arg, orDefault(p.Path, "a project file"))
	}
	if _, named := p.Stages[stage]; !named && p.Path != "" && stage != "dev" {
		return nil, fmt.Errorf("stage %s: %s has no such stage", stage, p.Path)
	}
	return t, nil
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// built is a service built for its stage: its code, its manifest, its
// environment.
type built struct {
	*target
	manifest *deploy.Manifest
	artifact deploy.Artifact
	template *deploy.Template
}

// buildStack builds the service's bootstrap for the stage's architecture,
// reads its manifest and makes the stack's template.
func buildStack(ctx context.Context, t *target, warn io.Writer) (*built, error) {
	info, err := listPackage(ctx, t.dir, ".")
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "cws-deploy-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	bootstrap := filepath.Join(dir, "bootstrap")
	if err := compile(ctx, t.dir, info, bootstrap, warn, deploy.BuildEnv(t.settings.Architecture), deploy.BuildFlags...); err != nil {
		return nil, err
	}
	env, err := t.project.Env(info.Dir, t.stage)
	if err != nil {
		return nil, err
	}
	// The manifest, from the bootstrap itself when this machine runs it.
	describer := bootstrap
	if goruntime.GOOS != "linux" || goruntime.GOARCH != deploy.GOARCH(t.settings.Architecture) {
		describer = filepath.Join(dir, "describe")
		if _, err := goCmd(ctx, t.dir, "build", "-o", describer, info.ImportPath); err != nil {
			return nil, err
		}
	}
	out, err := manifestOf(ctx, describer, env, t.stage, warn)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", info.ImportPath, err)
	}
	m, err := deploy.ParseManifest(out)
	if err != nil {
		return nil, err
	}
	if t.service == "" {
		t.service = deploy.NameOf(m.Service)
	}
	code, err := os.ReadFile(bootstrap)
	if err != nil {
		return nil, err
	}
	b := &built{target: t, manifest: m}
	if b.artifact, err = deploy.NewArtifact(t.service, code); err != nil {
		return nil, err
	}
	b.template, err = deploy.NewTemplate(deploy.Input{Service: t.service, Stage: t.stage, Settings: t.settings, Manifest: m, Environment: env})
	return b, err
}

// manifestOf runs a service's binary under CWS_MODE=manifest with its
// stage's environment and returns what it prints.
func manifestOf(ctx context.Context, bin string, env map[string]string, stage string, warn io.Writer) ([]byte, error) {
	c := exec.CommandContext(ctx, bin)
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !strings.HasPrefix(k, "CWS_") && k != "AWS_LAMBDA_RUNTIME_API" {
			c.Env = append(c.Env, kv)
		}
	}
	for k, v := range env {
		c.Env = append(c.Env, k+"="+v)
	}
	c.Env = append(c.Env, "CWS_STAGE="+stage, cws.EnvMode+"=manifest", cws.EnvLogLevel+"=error")
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	if err := c.Run(); err != nil {
		return nil, fmt.Errorf("describing the service (CWS_MODE=manifest): %w\n%s", err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

// stackTags are the tags of the stack (CloudFormation gives them to its
// resources): the stage's, and which service and stage it is.
func (b *built) stackTags() map[string]string {
	tags := map[string]string{"cws:service": b.service, "cws:stage": b.stage}
	for k, v := range b.settings.Tags {
		tags[k] = v
	}
	return tags
}

// deployerConfig is the AWS configuration of a stage: its region and
// profile over the environment's (AWS_REGION, AWS_PROFILE,
// AWS_ENDPOINT_URL...).
func deployerConfig(ctx context.Context, s deploy.Stage) (aws.Config, error) {
	var opts []func(*config.LoadOptions) error
	if s.Region != "" {
		opts = append(opts, config.WithRegion(s.Region))
	}
	if s.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(s.Profile))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return cfg, fmt.Errorf("AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return cfg, errors.New("no AWS region: set the stage's region in " + deploy.FileName + ", or AWS_REGION")
	}
	// LocalStack takes any credentials.
	if cfg.BaseEndpoint != nil && os.Getenv("AWS_ACCESS_KEY_ID") == "" && s.Profile == "" && os.Getenv("AWS_PROFILE") == "" {
		cfg.Credentials = aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider("test", "test", ""))
	}
	return cfg, nil
}

// isTerminal reports whether f is a terminal.
func isTerminal(f any) bool {
	file, ok := f.(*os.File)
	return ok && term.IsTerminal(int(file.Fd()))
}

// confirmOn asks on the command's terminal; without a terminal it refuses,
// pointing at --yes.
func confirmOn(cmd *cobra.Command, question string) func(context.Context, *deploy.Plan) (bool, error) {
	return func(ctx context.Context, _ *deploy.Plan) (bool, error) {
		if !isTerminal(cmd.InOrStdin()) {
			return false, exitError{code: 1, msg: "no terminal to confirm on: pass --yes to proceed without asking"}
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "%s [y/N] ", question)
		line, _ := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
		answer := strings.ToLower(strings.TrimSpace(line))
		return answer == "y" || answer == "yes", nil
	}
}

func newDeployCmd() *cobra.Command {
	var f stackFlags
	var yes bool
	cmd := &cobra.Command{
		Use:   "deploy [DIR|SERVICE]",
		Short: "Deploy a service to AWS as a CloudFormation stack",
		Long: `deploy puts the service in DIR (default: the current directory), or the
service SERVICE of the project file, on AWS as the CloudFormation stack
SERVICE-STAGE: its function (provided.al2023), role, log group, REST API
and, with CloudEvents doors, its queue, dead-letter queue, event bus and
rules.

It builds the bootstrap for the stage's architecture, zips it
deterministically, uploads it under its content hash (unless there already),
creates a change set, prints the plan (+ add, ~ modify, - remove), asks
before executing it (unless --yes) and shows the progress. A deploy that
changes nothing says "no changes" and touches nothing.

The project file (cws.yaml) sets the stages; .env and .env.<stage> in the
service's directory are the function's environment (ssm:/name values are
read from SSM Parameter Store by CloudFormation). The AWS configuration
chain applies: AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL (LocalStack).`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			started := time.Now()
			t, err := f.resolve(pkgArg(args))
			if err != nil {
				return err
			}
			cfg, err := deployerConfig(ctx, t.settings)
			if err != nil {
				return err
			}
			b, err := buildStack(ctx, t, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			opts := []deploy.DeployerOption{deploy.WithOutput(out, isTerminal(out))}
			if !yes {
				opts = append(opts, deploy.WithConfirm(confirmOn(cmd, "Deploy?")))
			}
			stack := deploy.Stack(b.service, b.stage)
			res, err := deploy.NewDeployer(cfg, opts...).Deploy(ctx, deploy.Deployment{Stack: stack, Template: b.template,
				Artifact: b.artifact, Bucket: b.settings.ArtifactBucket, Tags: b.stackTags()})
			if err != nil {
				return err
			}
			switch {
			case res.Declined:
				fmt.Fprintln(out, "not deployed")
				return nil
			case res.NoChanges:
				fmt.Fprintf(out, "stack %s: no changes (%s)\n", stack, time.Since(started).Round(10*time.Millisecond))
			default:
				fmt.Fprintf(out, "stack %s: %s in %s\n", stack, res.Status, time.Since(started).Round(100*time.Millisecond))
			}
			writeOutputs(out, res.Outputs)
			return nil
		},
	}
	f.add(cmd)
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "execute the plan without asking")
	return cmd
}

func writeOutputs(w io.Writer, outputs map[string]string) {
	keys := make([]string, 0, len(outputs))
	for k := range outputs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "  %-20s %s\n", k, outputs[k])
	}
}

// stackOf resolves the stack of an existing deployment: the project, the
// service (named by the project file, else by its own description: a host
// build, no cross-compilation) and the stage's AWS configuration.
func (f *stackFlags) stackOf(cmd *cobra.Command, args []string) (stack string, cfg aws.Config, err error) {
	t, err := f.resolve(pkgArg(args))
	if err != nil {
		return "", cfg, err
	}
	if t.service == "" {
		desc, err := describe(cmd, t.dir, t.stage)
		if err != nil {
			return "", cfg, err
		}
		t.service = deploy.NameOf(desc.Service)
	}
	cfg, err = deployerConfig(cmd.Context(), t.settings)
	return deploy.Stack(t.service, t.stage), cfg, err
}

func newDestroyCmd() *cobra.Command {
	var f stackFlags
	var yes bool
	cmd := &cobra.Command{
		Use:   "destroy [DIR|SERVICE]",
		Short: "Delete a service's stack",
		Long: `destroy deletes the stack SERVICE-STAGE and everything in it: function,
role, log group, API, queues (with their messages), bus and rules. It asks
first unless --yes. The artifact bucket, shared by the account's stacks,
stays.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			stack, cfg, err := f.stackOf(cmd, args)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			d := deploy.NewDeployer(cfg, deploy.WithOutput(out, isTerminal(out)))
			info, err := d.Info(ctx, stack)
			if err != nil {
				return err
			}
			if info == nil {
				fmt.Fprintf(out, "stack %s does not exist: nothing to destroy\n", stack)
				return nil
			}
			if !yes {
				ok, err := confirmOn(cmd, fmt.Sprintf("Delete stack %s (%s) and everything in it?", stack, info.Status))(ctx, nil)
				if err != nil || !ok {
					if err == nil {
						fmt.Fprintln(out, "not destroyed")
					}
					return err
				}
			}
			started := time.Now()
			if _, err := d.Destroy(ctx, stack); err != nil {
				return err
			}
			fmt.Fprintf(out, "stack %s: deleted in %s\n", stack, time.Since(started).Round(100*time.Millisecond))
			return nil
		},
	}
	f.add(cmd)
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "delete without asking")
	return cmd
}

func newInfoCmd() *cobra.Command {
	var f stackFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "info [DIR|SERVICE]",
		Short: "Show a service's stack: status and outputs",
		Long: `info prints the status and outputs (ApiUrl, QueueUrl...) of the stack
SERVICE-STAGE; --json prints {"stack": ..., "status": ..., "outputs": {...}}.
A stack that does not exist is exit status 1.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			stack, cfg, err := f.stackOf(cmd, args)
			if err != nil {
				return err
			}
			info, err := deploy.NewDeployer(cfg).Info(cmd.Context(), stack)
			if err != nil {
				return err
			}
			if info == nil {
				return exitError{code: 1, msg: fmt.Sprintf("stack %s does not exist", stack)}
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(info)
			}
			fmt.Fprintf(out, "stack %s: %s\n", info.Stack, info.Status)
			writeOutputs(out, info.Outputs)
			return nil
		},
	}
	f.add(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newPackageCmd() *cobra.Command {
	var f stackFlags
	var outDir string
	cmd := &cobra.Command{
		Use:   "package [DIR|SERVICE] -o OUT",
		Short: "Write a service's stack template and code, for a pipeline of your own",
		Long: `package builds what deploy would deploy, without AWS, into the directory
OUT: template.json (the stack's template), the code's zip under its content
hash, and parameters.json (the template's parameters: ArtifactBucket to
fill in, ArtifactKey the zip's key) and tags.json, as
aws cloudformation deploy --parameter-overrides and --tags take them.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if outDir == "" {
				return usageError(cmd, errors.New("-o OUT is required"))
			}
			t, err := f.resolve(pkgArg(args))
			if err != nil {
				return err
			}
			b, err := buildStack(cmd.Context(), t, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			zipPath := filepath.Join(outDir, filepath.FromSlash(b.artifact.Key))
			if err := os.MkdirAll(filepath.Dir(zipPath), 0o755); err != nil {
				return err
			}
			params, _ := json.MarshalIndent(map[string]string{
				deploy.ParamArtifactBucket: orDefault(b.settings.ArtifactBucket, "YOUR-BUCKET"),
				deploy.ParamArtifactKey:    b.artifact.Key}, "", "  ")
			tags, _ := json.MarshalIndent(b.stackTags(), "", "  ")
			for path, data := range map[string][]byte{
				filepath.Join(outDir, "template.json"):   b.template.JSON(),
				zipPath:                                  b.artifact.Zip,
				filepath.Join(outDir, "parameters.json"): append(params, '\n'),
				filepath.Join(outDir, "tags.json"):       append(tags, '\n'),
			} {
				if err := os.WriteFile(path, data, 0o644); err != nil {
					return err
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "stack %s: %s, %s (upload it to the bucket under %s)\n",
				deploy.Stack(b.service, b.stage), filepath.Join(outDir, "template.json"), zipPath, b.artifact.Key)
			return nil
		},
	}
	f.add(cmd)
	cmd.Flags().StringVarP(&outDir, "output", "o", "", "the directory to write to")
	return cmd
}
