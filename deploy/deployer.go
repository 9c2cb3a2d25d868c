package deploy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// Deployer deploys stacks with CloudFormation change sets, the code in an
// S3 bucket.
type Deployer struct {
	cf     *cloudformation.Client
	s3     *s3.Client
	sts    *sts.Client
	region string
	out    io.Writer
	term   bool
	poll   time.Duration
	// confirm asks whether to execute a plan; nil executes it.
	confirm func(ctx context.Context, p *Plan) (bool, error)
}

// DeployerOption configures a Deployer.
type DeployerOption func(*Deployer)

// WithOutput sets where the plan and the progress are written (default
// io.Discard); on a terminal, the progress is a bar.
func WithOutput(w io.Writer, terminal bool) DeployerOption {
	return func(d *Deployer) { d.out, d.term = w, terminal }
}

// WithConfirm sets what asks whether a plan is executed (default: it is).
func WithConfirm(f func(ctx context.Context, p *Plan) (bool, error)) DeployerOption {
	return func(d *Deployer) { d.confirm = f }
}

// WithPoll sets how often the state of a change set or stack is asked
// (default 1 s).
func WithPoll(every time.Duration) DeployerOption { return func(d *Deployer) { d.poll = every } }

// NewDeployer returns a deployer of cfg's account and region. With a base
// endpoint set (LocalStack), S3 is addressed by path.
func NewDeployer(cfg aws.Config, opts ...DeployerOption) *Deployer {
	d := &Deployer{
		cf: cloudformation.NewFromConfig(cfg),
		s3: s3.NewFromConfig(cfg, func(o *s3.Options) {
			o.UsePathStyle = o.BaseEndpoint != nil
		}),
		sts: sts.NewFromConfig(cfg), region: cfg.Region, out: io.Discard, poll: time.Second,
	}
	for _, o := range opts {
		o(d)
	}
	return d
}

// Deployment is what Deploy deploys: a stack's template, its code, the
// bucket of the code ("" for the default), the stack's tags.
type Deployment struct {
	Stack    string
	Template *Template
	Artifact Artifact
	Bucket   string
	Tags     map[string]string
}

// Plan is a change set's changes.
type Plan struct {
	Stack string
	// Create is true for a new stack.
	Create  bool
	Changes []Change
}

// Change is one resource's change.
type Change struct {
	// Action is Add, Modify, Remove (or Import, Dynamic).
	Action    string
	LogicalID string
	Type      string
	// Replacement is True, False or Conditional, for a Modify.
	Replacement string
}

// String writes the plan, one change a line.
func (p *Plan) String() string {
	var b strings.Builder
	verb := "update"
	if p.Create {
		verb = "create"
	}
	fmt.Fprintf(&b, "plan: %s stack %s (%d changes)\n", verb, p.Stack, len(p.Changes))
	for _, c := range p.Changes {
		sign := map[string]string{"Add": "+", "Modify": "~", "Remove": "-"}[c.Action]
		if sign == "" {
			sign = "?"
		}
		line := fmt.Sprintf("  %s %-32s %s", sign, c.LogicalID, c.Type)
		switch c.Replacement {
		case "True":
			line += "  (replaced)"
		case "Conditional":
			line += "  (may be replaced)"
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}

// Result is the end of a deployment.
type Result struct {
	// NoChanges is true when the stack already was what was asked: nothing
	// was touched.
	NoChanges bool
	// Declined is true when the plan was not confirmed.
	Declined bool
	Status   string
	Outputs  map[string]string
	Plan     *Plan
}

// Failed is a deployment, or a destruction, that failed: the stack's status
// and the resources that failed, with their reasons.
type Failed struct {
	Stack, Status string
	Reasons       []string
}

func (e *Failed) Error() string {
	msg := fmt.Sprintf("stack %s: %s", e.Stack, e.Status)
	if len(e.Reasons) > 0 {
		msg += ":\n  " + strings.Join(e.Reasons, "\n  ")
	}
	return msg
}

// DefaultBucket is the artifact bucket of an account and region.
func DefaultBucket(account, region string) string {
	return "cws-artifacts-" + account + "-" + region
}

// Deploy uploads the code (unless its key is there), creates a change set
// of the stack, and — when it changes anything and is confirmed — executes
// it, following its progress. A stack whose creation failed
// (ROLLBACK_COMPLETE) is deleted and created again.
func (d *Deployer) Deploy(ctx context.Context, dep Deployment) (*Result, error) {
	bucket, err := d.bucket(ctx, dep.Bucket)
	if err != nil {
		return nil, err
	}
	if err := d.upload(ctx, bucket, dep.Artifact); err != nil {
		return nil, err
	}
	body := string(dep.Template.JSON())
	if len(body) > 51200 {
		return nil, fmt.Errorf("the template of %s is %d bytes, more than CloudFormation takes inline (51,200)", dep.Stack, len(body))
	}
	params := []cfntypes.Parameter{
		{ParameterKey: aws.String(ParamArtifactBucket), ParameterValue: aws.String(bucket)},
		{ParameterKey: aws.String(ParamArtifactKey), ParameterValue: aws.String(dep.Artifact.Key)},
	}
	var tags []cfntypes.Tag
	for _, k := range slices.Sorted(maps.Keys(dep.Tags)) {
		tags = append(tags, cfntypes.Tag{Key: aws.String(k), Value: aws.String(dep.Tags[k])})
	}

	stack, err := d.describe(ctx, dep.Stack)
	if err != nil {
		return nil, err
	}
	create := stack == nil
	if stack != nil {
		switch st := stack.StackStatus; {
		case st == cfntypes.StackStatusRollbackComplete || st == cfntypes.StackStatusRollbackFailed:
			fmt.Fprintf(d.out, "stack %s: its creation failed (%s): deleting it to create it again\n", dep.Stack, st)
			if err := d.delete(ctx, dep.Stack); err != nil {
				return nil, err
			}
			create = true
		case st == cfntypes.StackStatusReviewInProgress:
			create = true // a stack never created: only a change set
		case strings.HasSuffix(string(st), "_IN_PROGRESS"):
			return nil, fmt.Errorf("stack %s is busy (%s): deploy again once it is done", dep.Stack, st)
		case st == cfntypes.StackStatusUpdateRollbackFailed || st == cfntypes.StackStatusDeleteFailed:
			return nil, fmt.Errorf("stack %s is %s: %s; repair it in CloudFormation (continue the rollback, or delete it) before deploying", dep.Stack, st, aws.ToString(stack.StackStatusReason))
		default:
			same, err := d.unchanged(ctx, stack, body, params, tags)
			if err != nil {
				return nil, err
			}
			if same {
				return &Result{NoChanges: true, Status: string(st), Outputs: outputs(stack)}, nil
			}
		}
	}

	kind := cfntypes.ChangeSetTypeUpdate
	if create {
		kind = cfntypes.ChangeSetTypeCreate
	}
	name := "cws-" + time.Now().UTC().Format("20060102-150405")
	cs, err := d.cf.CreateChangeSet(ctx, &cloudformation.CreateChangeSetInput{
		StackName: aws.String(dep.Stack), ChangeSetName: aws.String(name), ChangeSetType: kind,
		TemplateBody: aws.String(body), Parameters: params, Tags: tags,
		Capabilities: []cfntypes.Capability{cfntypes.CapabilityCapabilityIam},
		Description:  aws.String("cws deploy"),
	})
	if err != nil {
		return nil, fmt.Errorf("creating the change set of %s: %w", dep.Stack, err)
	}
	plan, err := d.awaitChangeSet(ctx, dep.Stack, aws.ToString(cs.Id), create)
	if err != nil {
		if create {
			d.dropReview(context.WithoutCancel(ctx), dep.Stack)
		}
		return nil, err
	}
	if plan == nil {
		st := ""
		if stack != nil {
			st = string(stack.StackStatus)
		}
		return &Result{NoChanges: true, Status: st, Outputs: outputs(stack)}, nil
	}
	fmt.Fprint(d.out, plan)
	if d.confirm != nil {
		ok, err := d.confirm(ctx, plan)
		if err != nil || !ok {
			_, _ = d.cf.DeleteChangeSet(context.WithoutCancel(ctx), &cloudformation.DeleteChangeSetInput{ChangeSetName: cs.Id})
			if create {
				d.dropReview(context.WithoutCancel(ctx), dep.Stack)
			}
			return &Result{Declined: true, Plan: plan}, err
		}
	}
	started := time.Now().Add(-time.Second)
	if _, err := d.cf.ExecuteChangeSet(ctx, &cloudformation.ExecuteChangeSetInput{ChangeSetName: cs.Id}); err != nil {
		return nil, fmt.Errorf("executing the change set of %s: %w", dep.Stack, err)
	}
	final, err := d.follow(ctx, dep.Stack, started, len(plan.Changes))
	if err != nil {
		return nil, err
	}
	st := final.StackStatus
	if st != cfntypes.StackStatusCreateComplete && st != cfntypes.StackStatusUpdateComplete {
		return nil, &Failed{Stack: dep.Stack, Status: string(st), Reasons: d.failures(ctx, dep.Stack, started)}
	}
	return &Result{Status: string(st), Outputs: outputs(final), Plan: plan}, nil
}

// dropReview deletes a stack that only holds a change set
// (REVIEW_IN_PROGRESS): a create that went no further leaves nothing.
func (d *Deployer) dropReview(ctx context.Context, stack string) {
	if s, err := d.describe(ctx, stack); err == nil && s != nil && s.StackStatus == cfntypes.StackStatusReviewInProgress {
		_, _ = d.cf.DeleteStack(ctx, &cloudformation.DeleteStackInput{StackName: s.StackId})
	}
}

// Destroy deletes a stack, following its progress; a stack that does not
// exist is no error (ok is false).
func (d *Deployer) Destroy(ctx context.Context, stack string) (ok bool, err error) {
	s, err := d.describe(ctx, stack)
	if err != nil || s == nil {
		return false, err
	}
	return true, d.delete(ctx, stack)
}

// Info is a stack's status and outputs.
type Info struct {
	Stack   string            `json:"stack"`
	Status  string            `json:"status"`
	Outputs map[string]string `json:"outputs"`
}

// Info returns a stack's status and outputs; nil when there is no such
// stack.
func (d *Deployer) Info(ctx context.Context, stack string) (*Info, error) {
	s, err := d.describe(ctx, stack)
	if err != nil || s == nil {
		return nil, err
	}
	return &Info{Stack: stack, Status: string(s.StackStatus), Outputs: outputs(s)}, nil
}

// describe returns the stack, nil when it does not exist.
func (d *Deployer) describe(ctx context.Context, stack string) (*cfntypes.Stack, error) {
	out, err := d.cf.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(stack)})
	if err != nil {
		var ae smithy.APIError
		if errors.As(err, &ae) && strings.Contains(ae.ErrorMessage(), "does not exist") {
			return nil, nil
		}
		return nil, fmt.Errorf("describing stack %s: %w", stack, err)
	}
	if len(out.Stacks) == 0 || out.Stacks[0].StackStatus == cfntypes.StackStatusDeleteComplete {
		return nil, nil
	}
	return &out.Stacks[0], nil
}

func outputs(s *cfntypes.Stack) map[string]string {
	out := map[string]string{}
	if s != nil {
		for _, o := range s.Outputs {
			out[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
		}
	}
	return out
}

// unchanged reports whether the stack already has this template,
// parameters and tags: then a change set would change nothing.
func (d *Deployer) unchanged(ctx context.Context, stack *cfntypes.Stack, body string, params []cfntypes.Parameter, tags []cfntypes.Tag) (bool, error) {
	have := map[string]string{}
	for _, p := range stack.Parameters {
		have[aws.ToString(p.ParameterKey)] = aws.ToString(p.ParameterValue)
	}
	for _, p := range params {
		if have[aws.ToString(p.ParameterKey)] != aws.ToString(p.ParameterValue) {
			return false, nil
		}
	}
	if len(have) != len(params) {
		return false, nil
	}
	haveTags := map[string]string{}
	for _, t := range stack.Tags {
		haveTags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	wantTags := map[string]string{}
	for _, t := range tags {
		wantTags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	if !maps.Equal(haveTags, wantTags) {
		return false, nil
	}
	t, err := d.cf.GetTemplate(ctx, &cloudformation.GetTemplateInput{StackName: stack.StackId, TemplateStage: cfntypes.TemplateStageOriginal})
	if err != nil {
		return false, fmt.Errorf("reading the template of %s: %w", aws.ToString(stack.StackName), err)
	}
	return aws.ToString(t.TemplateBody) == body, nil
}

// awaitChangeSet waits for a change set and returns its plan; nil when it
// changes nothing (it is then deleted).
func (d *Deployer) awaitChangeSet(ctx context.Context, stack, id string, create bool) (*Plan, error) {
	for {
		out, err := d.cf.DescribeChangeSet(ctx, &cloudformation.DescribeChangeSetInput{ChangeSetName: aws.String(id)})
		if err != nil {
			return nil, fmt.Errorf("describing the change set of %s: %w", stack, err)
		}
		switch out.Status {
		case cfntypes.ChangeSetStatusCreateComplete:
			plan := &Plan{Stack: stack, Create: create}
			for {
				for _, c := range out.Changes {
					rc := c.ResourceChange
					if rc == nil {
						continue
					}
					plan.Changes = append(plan.Changes, Change{Action: string(rc.Action), LogicalID: aws.ToString(rc.LogicalResourceId),
						Type: aws.ToString(rc.ResourceType), Replacement: string(rc.Replacement)})
				}
				if out.NextToken == nil {
					break
				}
				if out, err = d.cf.DescribeChangeSet(ctx, &cloudformation.DescribeChangeSetInput{ChangeSetName: aws.String(id), NextToken: out.NextToken}); err != nil {
					return nil, fmt.Errorf("describing the change set of %s: %w", stack, err)
				}
			}
			sort.Slice(plan.Changes, func(i, j int) bool { return plan.Changes[i].LogicalID < plan.Changes[j].LogicalID })
			if len(plan.Changes) == 0 && !create {
				_, _ = d.cf.DeleteChangeSet(ctx, &cloudformation.DeleteChangeSetInput{ChangeSetName: aws.String(id)})
				return nil, nil
			}
			return plan, nil
		case cfntypes.ChangeSetStatusFailed:
			reason := aws.ToString(out.StatusReason)
			if strings.Contains(reason, "didn't contain changes") || strings.Contains(reason, "No updates are to be performed") {
				_, _ = d.cf.DeleteChangeSet(ctx, &cloudformation.DeleteChangeSetInput{ChangeSetName: aws.String(id)})
				return nil, nil
			}
			return nil, fmt.Errorf("the change set of %s failed: %s", stack, reason)
		}
		if err := sleep(ctx, d.poll/4); err != nil {
			return nil, err
		}
	}
}

// follow shows the stack's events from started until the stack settles,
// and returns the settled stack.
func (d *Deployer) follow(ctx context.Context, stack string, started time.Time, total int) (*cfntypes.Stack, error) {
	seen := map[string]bool{}
	done := 0
	bar := d.term && total > 0
	for {
		s, err := d.describe(ctx, stack)
		if err != nil {
			return nil, err
		}
		evs, err := d.events(ctx, stack, started)
		if err != nil && s != nil {
			return nil, err
		}
		for _, e := range evs {
			if seen[aws.ToString(e.EventId)] {
				continue
			}
			seen[aws.ToString(e.EventId)] = true
			status := string(e.ResourceStatus)
			if aws.ToString(e.ResourceType) != "AWS::CloudFormation::Stack" && strings.HasSuffix(status, "_COMPLETE") {
				done++
			}
			line := fmt.Sprintf("%-32s %-34s %s", aws.ToString(e.LogicalResourceId), aws.ToString(e.ResourceType), status)
			if r := aws.ToString(e.ResourceStatusReason); r != "" && (strings.HasSuffix(status, "_FAILED") || !bar) {
				line += "  " + r
			}
			switch {
			case !bar:
				fmt.Fprintln(d.out, line)
			case strings.HasSuffix(status, "_FAILED"):
				fmt.Fprintf(d.out, "\r\033[K%s\n", line)
			default:
				fmt.Fprintf(d.out, "\r\033[K%s %s", progressBar(done, total), line)
			}
		}
		if s == nil || !strings.HasSuffix(string(s.StackStatus), "_IN_PROGRESS") {
			if bar {
				fmt.Fprintf(d.out, "\r\033[K%s\n", progressBar(total, total))
			}
			if s == nil {
				return &cfntypes.Stack{StackName: aws.String(stack), StackStatus: cfntypes.StackStatusDeleteComplete}, nil
			}
			return s, nil
		}
		if err := sleep(ctx, d.poll); err != nil {
			return nil, err
		}
	}
}

func progressBar(done, total int) string {
	if done > total {
		done = total
	}
	const width = 24
	n := done * width / total
	return fmt.Sprintf("[%s%s] %d/%d", strings.Repeat("#", n), strings.Repeat(".", width-n), done, total)
}

// events returns the stack's events since started, oldest first.
func (d *Deployer) events(ctx context.Context, stack string, started time.Time) ([]cfntypes.StackEvent, error) {
	var all []cfntypes.StackEvent
	p := cloudformation.NewDescribeStackEventsPaginator(d.cf, &cloudformation.DescribeStackEventsInput{StackName: aws.String(stack)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("reading the events of %s: %w", stack, err)
		}
		older := false
		for _, e := range page.StackEvents {
			if e.Timestamp != nil && e.Timestamp.Before(started) {
				older = true
				continue
			}
			all = append(all, e)
		}
		if older {
			break
		}
	}
	slices.Reverse(all)
	return all, nil
}

// failures lists the resources that failed since started, with their
// reasons, once each.
func (d *Deployer) failures(ctx context.Context, stack string, started time.Time) []string {
	evs, _ := d.events(ctx, stack, started)
	var out []string
	seen := map[string]bool{}
	for _, e := range evs {
		reason := aws.ToString(e.ResourceStatusReason)
		if !strings.HasSuffix(string(e.ResourceStatus), "_FAILED") || (reason == "" && aws.ToString(e.ResourceType) == "AWS::CloudFormation::Stack") {
			continue
		}
		if reason == "" {
			reason = "(no reason given)"
		}
		line := fmt.Sprintf("%s (%s) %s: %s", aws.ToString(e.LogicalResourceId), aws.ToString(e.ResourceType), e.ResourceStatus, reason)
		if !seen[line] {
			seen[line] = true
			out = append(out, line)
		}
	}
	return out
}

// delete deletes a stack and follows it until it is gone.
func (d *Deployer) delete(ctx context.Context, stack string) error {
	started := time.Now().Add(-time.Second)
	s, err := d.describe(ctx, stack)
	if err != nil || s == nil {
		return err
	}
	if _, err := d.cf.DeleteStack(ctx, &cloudformation.DeleteStackInput{StackName: s.StackId}); err != nil {
		return fmt.Errorf("deleting stack %s: %w", stack, err)
	}
	final, err := d.followID(ctx, stack, aws.ToString(s.StackId), started)
	// LocalStack reports DELETE_FAILED for the resources of a failed
	// creation while it goes on deleting the others: a DELETE_FAILED
	// stack is final only once it stays so.
	for i := 0; err == nil && final == cfntypes.StackStatusDeleteFailed && i < 5; i++ {
		if err = sleep(ctx, d.poll); err == nil {
			final, err = d.followID(ctx, stack, aws.ToString(s.StackId), started)
		}
	}
	if err != nil {
		return err
	}
	if final != cfntypes.StackStatusDeleteComplete {
		return &Failed{Stack: stack, Status: string(final), Reasons: d.failures(ctx, aws.ToString(s.StackId), started)}
	}
	return nil
}

// followID follows a stack being deleted by its id (its name no longer
// finds it once deleted) and returns its final status.
func (d *Deployer) followID(ctx context.Context, stack, id string, started time.Time) (cfntypes.StackStatus, error) {
	s, err := d.follow(ctx, id, started, 0)
	if err != nil {
		return "", err
	}
	return s.StackStatus, nil
}

// bucket returns the artifact bucket, the account's default one created
// (private) when it does not exist.
func (d *Deployer) bucket(ctx context.Context, name string) (string, error) {
	if name == "" {
		id, err := d.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			return "", fmt.Errorf("who am I (STS GetCallerIdentity): %w", err)
		}
		name = DefaultBucket(aws.ToString(id.Account), d.region)
	} else {
		return name, nil // the user's: it exists
	}
	if _, err := d.s3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(name)}); err == nil {
		return name, nil
	}
	in := &s3.CreateBucketInput{Bucket: aws.String(name)}
	if d.region != "us-east-1" {
		in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(d.region)}
	}
	if _, err := d.s3.CreateBucket(ctx, in); err != nil {
		var owned *s3types.BucketAlreadyOwnedByYou
		if !errors.As(err, &owned) {
			return "", fmt.Errorf("creating the artifact bucket %s: %w", name, err)
		}
	}
	if _, err := d.s3.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: aws.String(name),
		PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{BlockPublicAcls: aws.Bool(true),
			BlockPublicPolicy: aws.Bool(true), IgnorePublicAcls: aws.Bool(true), RestrictPublicBuckets: aws.Bool(true)}}); err != nil {
		return "", fmt.Errorf("making the artifact bucket %s private: %w", name, err)
	}
	fmt.Fprintf(d.out, "created the artifact bucket %s\n", name)
	return name, nil
}

// upload puts the code under its key, unless it is there already.
func (d *Deployer) upload(ctx context.Context, bucket string, a Artifact) error {
	if _, err := d.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(a.Key)}); err == nil {
		return nil
	}
	if _, err := d.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(a.Key),
		Body: bytes.NewReader(a.Zip), ContentType: aws.String("application/zip")}); err != nil {
		return fmt.Errorf("uploading the code to s3://%s/%s: %w", bucket, a.Key, err)
	}
	fmt.Fprintf(d.out, "uploaded the code: s3://%s/%s (%d bytes)\n", bucket, a.Key, len(a.Zip))
	return nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
