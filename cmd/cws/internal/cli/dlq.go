package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/joho/godotenv"
	"github.com/spf13/cobra"

	"github.com/coworks-go/cws"
	"github.com/coworks-go/cws/async"
	"github.com/coworks-go/cws/deploy"
	"github.com/coworks-go/cws/events"
	"github.com/coworks-go/cws/events/wire"
	cwssqs "github.com/coworks-go/cws/transport/sqs"
)

// dlqFlags are the flags of the dlq commands: the local runtime (--url,
// --token), an SQS dead-letter queue (--queue, --endpoint, --to), or the
// dead-letter queue of a deployed service (--service, --stage, --project).
type dlqFlags struct {
	stack   stackFlags
	service string

	url, token          string
	queue, endpoint, to string
	asJSON              bool
	max                 int
}

func (f *dlqFlags) add(cmd *cobra.Command) {
	fl := cmd.PersistentFlags()
	fl.StringVar(&f.url, "url", "", "the running service (cws run) (default http:// + $CWS_ADDR, else "+cws.DefaultAddr+")")
	fl.StringVar(&f.token, "token", "", "the service's token (default $TOKEN, else the TOKEN of ./.env)")
	fl.StringVar(&f.queue, "queue", "", "an SQS dead-letter queue (URL, name or ARN) instead of the running service's")
	fl.StringVar(&f.endpoint, "endpoint", "", "the AWS endpoint, e.g. LocalStack's http://localhost:4566")
	fl.StringVar(&f.to, "to", "", "on SQS: the queue to redrive to (default: the queue each dead letter came from)")
	fl.BoolVar(&f.asJSON, "json", false, "print JSON")
	fl.IntVar(&f.max, "max", 1000, "on SQS: read at most this many messages of the dead-letter queue")
	fl.StringVar(&f.service, "service", "", "the dead-letter queue of a deployed service (DIR or SERVICE, as cws info takes it): its stack's DeadLetterQueueUrl")
	fl.StringVar(&f.stack.stage, "stage", "", "with --service: the stage (default $CWS_STAGE, else dev)")
	fl.StringVar(&f.stack.project, "project", "", "with --service: the project file (default: "+deploy.FileName+" in the service's directory or above)")
}

// deadLetter is a dead letter as cws dlq shows it: as the local runtime
// describes it, and for an SQS dead-letter queue the times SQS delivered
// the message.
type deadLetter struct {
	async.DeadLetter
	// Receives is the message's ApproximateReceiveCount (SQS only).
	Receives int `json:"receives,omitempty"`
}

// deadLetters is where the dead letters are: the running service's
// in-memory dead-letter queue, or an SQS dead-letter queue.
type deadLetters interface {
	// List returns the dead letters, leaving them where they are.
	List(ctx context.Context) ([]deadLetter, error)
	// Redrive sends the dead letters ids (or all) back to the queue they
	// came from and takes them off the dead-letter queue; it returns the
	// ids redriven. An id that is not there is an error naming it.
	Redrive(ctx context.Context, ids []string, all bool) ([]string, error)
}

func newDLQCmd() *cobra.Command {
	var f dlqFlags
	cmd := &cobra.Command{
		Use:   "dlq",
		Short: "List, show and redrive a service's dead letters",
		Long: `dlq lists, shows and redrives the dead letters of a service: the events it
refused for good, each with its reason, the queue it came from, its
CloudEvent and how many times it was redriven.

By default they are the running service's (cws run), read from its
/_cws/deadletters endpoints at --url with --token. With --queue they are the
messages of that SQS dead-letter queue, with the AWS configuration of the
environment or --endpoint; with --service those of the deployed service's
(its stack's output DeadLetterQueueUrl, as cws info shows it; the stage's
AWS configuration, AWS_ENDPOINT_URL for LocalStack).

Listing an SQS queue receives its messages and makes them visible again at
once: it neither deletes them nor keeps them hidden.

A redrive sends the event back to the queue it came from with its redrive
count one more (the cwsredrive extension), so that it runs again even
within the idempotency window, then takes it off the dead-letter queue. A
dead letter that is not there (redriven already) is exit status 1.`,
		Example: `  cws dlq list
  cws dlq show 3f2a...
  cws dlq redrive --all
  cws dlq list --service office --stage prod
  cws dlq redrive --queue my-dlq --endpoint http://localhost:4566 ID`,
	}
	f.add(cmd)
	cmd.AddCommand(newDLQListCmd(&f), newDLQShowCmd(&f), newDLQRedriveCmd(&f))
	return cmd
}

func newDLQListCmd(f *dlqFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the dead letters: id, reason, event, redrives",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			src, err := f.deadLetters(cmd)
			if err != nil {
				return err
			}
			list, err := src.List(cmd.Context())
			if err != nil {
				return err
			}
			if f.asJSON {
				return printJSON(cmd.OutOrStdout(), list)
			}
			return writeDeadLetterTable(cmd.OutOrStdout(), list, f.queue != "" || f.service != "")
		},
	}
}

func newDLQShowCmd(f *dlqFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "show ID",
		Short: "Print a dead letter's original event (CloudEvent JSON)",
		Long: `show prints the original event of the dead letter ID as CloudEvent JSON
(a message that is no CloudEvent: its body). --json prints the whole dead
letter: reason, queue, redrives, event.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			src, err := f.deadLetters(cmd)
			if err != nil {
				return err
			}
			list, err := src.List(cmd.Context())
			if err != nil {
				return err
			}
			for _, d := range list {
				if d.ID != args[0] {
					continue
				}
				out := cmd.OutOrStdout()
				switch {
				case f.asJSON:
					return printJSON(out, d)
				case d.Event != nil:
					var b bytes.Buffer
					if err := json.Indent(&b, d.Event, "", "  "); err != nil {
						return err
					}
					fmt.Fprintln(out, b.String())
				default:
					fmt.Fprintln(out, d.Body)
				}
				return nil
			}
			return exitError{code: 1, msg: fmt.Sprintf("no dead letter %s (redriven already?)", args[0])}
		},
	}
}

func newDLQRedriveCmd(f *dlqFlags) *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   "redrive (ID... | --all)",
		Short: "Send dead letters back to the queue they came from",
		Long: `redrive sends the dead letters ID... (or --all) back to the queue they came
from, their redrive count one more, and takes them off the dead-letter
queue; it prints the ids redriven. A dead letter that is not there
(redriven already, or no such id) is exit status 1, after the others are
redriven.

On SQS the message is sent first and deleted from the dead-letter queue
after: a failure in between leaves it in both, and redriving it again sends
it twice. Both copies carry the same event id and redrive count, which is
its idempotency key: a FIFO queue drops the second (same deduplication id,
within its 5 minutes), and the service's Deduplicate runs it once on a
standard queue (with a Store its consumers share).`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if all == (len(args) > 0) {
				return usageError(cmd, errors.New("give the ids of dead letters, or --all"))
			}
			src, err := f.deadLetters(cmd)
			if err != nil {
				return err
			}
			done, err := src.Redrive(cmd.Context(), args, all)
			out := cmd.OutOrStdout()
			if f.asJSON {
				if perr := printJSON(out, async.Redriven{Redriven: append([]string{}, done...)}); perr != nil {
					return perr
				}
			} else {
				for _, id := range done {
					fmt.Fprintln(out, id)
				}
			}
			return err
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "redrive every dead letter")
	return cmd
}

// deadLetters returns where the flags say the dead letters are.
func (f *dlqFlags) deadLetters(cmd *cobra.Command) (deadLetters, error) {
	ctx := cmd.Context()
	given := 0
	for _, v := range []string{f.url, f.queue, f.service} {
		if v != "" {
			given++
		}
	}
	switch {
	case given > 1:
		return nil, usageError(cmd, errors.New("give one of --url, --queue and --service"))
	case f.service == "" && (f.stack.stage != "" || f.stack.project != ""):
		return nil, usageError(cmd, errors.New("--stage and --project go with --service"))
	case f.service != "" && f.endpoint != "":
		return nil, usageError(cmd, errors.New("--service takes the stage's AWS configuration: set AWS_ENDPOINT_URL rather than --endpoint"))
	case f.queue == "" && f.service == "":
		if f.to != "" || f.endpoint != "" {
			return nil, usageError(cmd, errors.New("--to and --endpoint go with --queue (an SQS dead-letter queue)"))
		}
		return f.local()
	case f.max <= 0:
		return nil, usageError(cmd, errors.New("--max must be positive"))
	}
	var cfg aws.Config
	queue := f.queue
	if f.service != "" {
		stack, stageCfg, err := f.stack.stackOf(cmd, []string{f.service})
		if err != nil {
			return nil, err
		}
		info, err := deploy.NewDeployer(stageCfg).Info(ctx, stack)
		switch {
		case err != nil:
			return nil, err
		case info == nil:
			return nil, exitError{code: 1, msg: fmt.Sprintf("stack %s does not exist", stack)}
		case info.Outputs[deploy.OutputDeadLetterQueueURL] == "":
			return nil, exitError{code: 1, msg: fmt.Sprintf("stack %s has no output %s: the service has no CloudEvents doors", stack, deploy.OutputDeadLetterQueueURL)}
		}
		cfg, queue = stageCfg, info.Outputs[deploy.OutputDeadLetterQueueURL]
	} else {
		var err error
		if cfg, err = awsConfig(ctx, f.endpoint); err != nil {
			return nil, err
		}
	}
	client := sqs.NewFromConfig(cfg)
	url, err := cwssqs.URLOf(ctx, client, queue)
	if err != nil {
		return nil, err
	}
	return &sqsDeadLetters{client: client, url: url, to: f.to, max: f.max}, nil
}

// local is the running service's dead-letter queue.
func (f *dlqFlags) local() (*localDeadLetters, error) {
	base := f.url
	if base == "" {
		addr := os.Getenv(cws.EnvAddr)
		if addr == "" {
			addr = cws.DefaultAddr
		}
		base = "http://" + addr
	}
	token := f.token
	if token == "" {
		token = os.Getenv("TOKEN")
	}
	if token == "" {
		env, err := godotenv.Read(".env")
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("reading .env: %w", err)
		}
		token = env["TOKEN"]
	}
	return &localDeadLetters{base: strings.TrimSuffix(base, "/"), token: token}, nil
}

// localDeadLetters are the dead letters of a running service, through its
// /_cws/deadletters endpoints.
type localDeadLetters struct {
	base, token string
}

// call sends a request to the service and decodes its 200 answer into v.
func (l *localDeadLetters) call(ctx context.Context, method, path string, body []byte, v any) (int, error) {
	req, err := http.NewRequestWithContext(ctx, method, l.base+path, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", l.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("the service at %s: %w (is cws run running?)", l.base, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		var p struct{ Detail string }
		if json.Unmarshal(b, &p) != nil || p.Detail == "" {
			p.Detail = strings.TrimSpace(string(b))
		}
		return resp.StatusCode, fmt.Errorf("%s answered %s: %s", l.base+path, resp.Status, p.Detail)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return resp.StatusCode, fmt.Errorf("%s %s: %w", method, path, err)
	}
	return resp.StatusCode, nil
}

// List implements deadLetters.
func (l *localDeadLetters) List(ctx context.Context) ([]deadLetter, error) {
	var list []async.DeadLetter
	if _, err := l.call(ctx, http.MethodGet, async.DeadLettersPath, nil, &list); err != nil {
		return nil, err
	}
	out := make([]deadLetter, len(list))
	for i, d := range list {
		out[i] = deadLetter{DeadLetter: d}
	}
	return out, nil
}

// Redrive implements deadLetters.
func (l *localDeadLetters) Redrive(ctx context.Context, ids []string, all bool) ([]string, error) {
	reqs := []async.RedriveRequest{{All: true}}
	if !all {
		reqs = reqs[:0]
		for _, id := range ids {
			reqs = append(reqs, async.RedriveRequest{ID: id})
		}
	}
	var done, missing []string
	for _, r := range reqs {
		body, _ := json.Marshal(r)
		var out async.Redriven
		status, err := l.call(ctx, http.MethodPost, async.RedrivePath, body, &out)
		switch {
		case status == http.StatusNotFound:
			missing = append(missing, r.ID)
		case err != nil:
			return done, err
		default:
			done = append(done, out.Redriven...)
		}
	}
	return done, notThere(missing, "the service's dead letters")
}

// notThere is the error of the ids a redrive did not find.
func notThere(missing []string, where string) error {
	if len(missing) == 0 {
		return nil
	}
	return exitError{code: 1, msg: fmt.Sprintf("no dead letter %s in %s (redriven already?)", strings.Join(missing, ", "), where)}
}

// sqsDeadLetters are the messages of an SQS dead-letter queue.
type sqsDeadLetters struct {
	client *sqs.Client
	url    string // the dead-letter queue
	to     string // the queue to redrive to, if given
	max    int    // how many messages to read at most

	sources []string // the queues whose redrive policy targets url, once asked
}

// How long the messages of the dead-letter queue stay hidden while cws dlq
// reads them: while it lists them (they are made visible again at once
// after), and while it redrives them (the send and the delete).
const (
	peekVisibility    = 30 * time.Second
	redriveVisibility = 60 * time.Second
)

// receive receives the messages of the dead-letter queue, at most max,
// hiding them for visibility: each receive hides what it returned, so that
// the next returns others, until one returns none.
func (s *sqsDeadLetters) receive(ctx context.Context, visibility time.Duration) ([]types.Message, error) {
	var msgs []types.Message
	seen := map[string]bool{}
	for len(msgs) < s.max {
		out, err := s.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:                    aws.String(s.url),
			MaxNumberOfMessages:         int32(min(10, s.max-len(msgs))),
			WaitTimeSeconds:             1,
			VisibilityTimeout:           int32(visibility / time.Second),
			MessageAttributeNames:       []string{"All"},
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		})
		if err != nil {
			return msgs, fmt.Errorf("receiving from %s: %w", s.url, err)
		}
		fresh := 0
		for _, m := range out.Messages {
			if id := aws.ToString(m.MessageId); !seen[id] {
				seen[id] = true
				msgs = append(msgs, m)
				fresh++
			}
		}
		if fresh == 0 {
			break
		}
	}
	return msgs, nil
}

// release makes messages received from the dead-letter queue visible
// again.
func (s *sqsDeadLetters) release(ctx context.Context, msgs []types.Message) error {
	handles := make([]string, len(msgs))
	for i, m := range msgs {
		handles[i] = aws.ToString(m.ReceiptHandle)
	}
	if err := cwssqs.Release(ctx, s.client, s.url, handles); err != nil {
		return fmt.Errorf("making the dead letters visible again (they will be after %v): %w", peekVisibility, err)
	}
	return nil
}

// List implements deadLetters.
func (s *sqsDeadLetters) List(ctx context.Context) ([]deadLetter, error) {
	msgs, err := s.receive(ctx, peekVisibility)
	if rerr := s.release(context.WithoutCancel(ctx), msgs); err == nil {
		err = rerr
	}
	if err != nil {
		return nil, err
	}
	out := make([]deadLetter, len(msgs))
	for i, m := range msgs {
		out[i] = describeSQS(m)
	}
	return out, nil
}

// stringAttrs are a message's string attributes.
func stringAttrs(m types.Message) map[string]string {
	attrs := make(map[string]string, len(m.MessageAttributes))
	for k, v := range m.MessageAttributes {
		if v.StringValue != nil {
			attrs[k] = *v.StringValue
		}
	}
	return attrs
}

// describeSQS describes a message of an SQS dead-letter queue: the reason
// and source cws gave it (cwssqs.SendDeadLetter), else those of the
// source queue's redrive policy.
func describeSQS(m types.Message) deadLetter {
	attrs := stringAttrs(m)
	d := async.DeadLetter{ID: aws.ToString(m.MessageId), Reason: attrs[wire.AttrDeadLetterReason], Queue: attrs[wire.AttrDeadLetterSource]}
	if d.Queue == "" {
		d.Queue = m.Attributes[string(types.MessageSystemAttributeNameDeadLetterQueueSourceArn)]
	}
	if d.Reason == "" {
		d.Reason = "received more times than the source queue's maxReceiveCount (its redrive policy)"
	}
	if ms, err := strconv.ParseInt(m.Attributes[string(types.MessageSystemAttributeNameSentTimestamp)], 10, 64); err == nil {
		d.DeadLetteredAt = time.UnixMilli(ms).UTC()
	}
	body := aws.ToString(m.Body)
	e, err := wire.DecodeSQS(body, attrs)
	n, _ := strconv.Atoi(m.Attributes[string(types.MessageSystemAttributeNameApproximateReceiveCount)])
	return deadLetter{DeadLetter: d.WithEvent(e, body, err), Receives: n}
}

// Redrive implements deadLetters: each dead letter is sent to its queue,
// then deleted from the dead-letter queue by the receipt handle of the
// receive that found it, which hides it from any other redrive meanwhile.
func (s *sqsDeadLetters) Redrive(ctx context.Context, ids []string, all bool) ([]string, error) {
	msgs, err := s.receive(ctx, redriveVisibility)
	if err != nil {
		_ = s.release(context.WithoutCancel(ctx), msgs)
		return nil, err
	}
	wanted := map[string]bool{}
	for _, id := range ids {
		wanted[id] = true
	}
	var chosen, others []types.Message
	for _, m := range msgs {
		if id := aws.ToString(m.MessageId); all || wanted[id] {
			chosen = append(chosen, m)
			delete(wanted, id)
		} else {
			others = append(others, m)
		}
	}
	if err := s.release(ctx, others); err != nil {
		return nil, err
	}
	var done []string
	var errs []error
	for _, m := range chosen {
		id := aws.ToString(m.MessageId)
		if err := s.redrive(ctx, m); err != nil {
			errs = append(errs, fmt.Errorf("dead letter %s: %w", id, err))
			if rerr := s.release(context.WithoutCancel(ctx), []types.Message{m}); rerr != nil {
				errs = append(errs, rerr)
			}
			continue
		}
		if _, err := s.client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(s.url), ReceiptHandle: m.ReceiptHandle}); err != nil {
			errs = append(errs, fmt.Errorf("dead letter %s was redriven but is still in %s: redriving it again sends it twice (the copies share an idempotency key): %w", id, s.url, err))
			continue
		}
		done = append(done, id)
	}
	var missing []string
	for _, id := range ids {
		if wanted[id] {
			missing = append(missing, id)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return done, err
	}
	where := s.url
	if len(msgs) >= s.max {
		where += fmt.Sprintf(" (of which only the first %d messages were read: --max)", s.max)
	}
	return done, notThere(missing, where)
}

// redrive sends the dead letter m back to its queue: its CloudEvent
// redriven (events.Redriven), structured, as cws publishes events; a
// message that is no CloudEvent as it was, without the dead-letter
// attributes.
func (s *sqsDeadLetters) redrive(ctx context.Context, m types.Message) error {
	to, err := s.destination(ctx, m)
	if err != nil {
		return err
	}
	body := aws.ToString(m.Body)
	if e, err := wire.DecodeSQS(body, stringAttrs(m)); err == nil {
		return cwssqs.NewPublisher(s.client, to).Publish(ctx, events.Redriven(e))
	}
	attrs := map[string]types.MessageAttributeValue{}
	for k, v := range m.MessageAttributes {
		if k != wire.AttrDeadLetterReason && k != wire.AttrDeadLetterSource {
			attrs[k] = v
		}
	}
	in := &sqs.SendMessageInput{QueueUrl: aws.String(to), MessageBody: aws.String(body), MessageAttributes: attrs}
	if strings.HasSuffix(to, ".fifo") {
		group := m.Attributes[string(types.MessageSystemAttributeNameMessageGroupId)]
		if group == "" {
			group = "redriven"
		}
		sum := sha256.Sum256([]byte("redrive\x00" + aws.ToString(m.MessageId)))
		in.MessageGroupId, in.MessageDeduplicationId = aws.String(group), aws.String(hex.EncodeToString(sum[:]))
	}
	if _, err := s.client.SendMessage(ctx, in); err != nil {
		return fmt.Errorf("sending to %s: %w", to, err)
	}
	return nil
}

// destination is the queue the dead letter m goes back to: --to, else the
// source cws gave it, else the source queue SQS moved it from, else the
// one queue whose redrive policy targets the dead-letter queue.
func (s *sqsDeadLetters) destination(ctx context.Context, m types.Message) (string, error) {
	from := s.to
	if from == "" {
		from = stringAttrs(m)[wire.AttrDeadLetterSource]
	}
	if from == "" {
		from = m.Attributes[string(types.MessageSystemAttributeNameDeadLetterQueueSourceArn)]
	}
	if from == "" {
		if s.sources == nil {
			out, err := s.client.ListDeadLetterSourceQueues(ctx, &sqs.ListDeadLetterSourceQueuesInput{QueueUrl: aws.String(s.url)})
			if err != nil {
				return "", fmt.Errorf("the queues that dead-letter to %s: %w", s.url, err)
			}
			s.sources = append([]string{}, out.QueueUrls...)
		}
		if len(s.sources) != 1 {
			return "", fmt.Errorf("it does not say which queue it came from, and %d queues dead-letter to %s: give --to QUEUE", len(s.sources), s.url)
		}
		return s.sources[0], nil
	}
	url, err := cwssqs.URLOf(ctx, s.client, from)
	if err != nil {
		return "", fmt.Errorf("it came from %s, not a queue this redrive finds (%w): give --to QUEUE (the service's QueueUrl)", from, err)
	}
	return url, nil
}

// writeDeadLetterTable prints the dead letters as a table; receives adds
// the column of SQS's receive counts.
func writeDeadLetterTable(w io.Writer, list []deadLetter, receives bool) error {
	if len(list) == 0 {
		_, err := fmt.Fprintln(w, "no dead letters")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	head := "ID\tDEAD-LETTERED\tREDRIVES\t"
	if receives {
		head += "RECEIVES\t"
	}
	fmt.Fprintln(tw, head+"QUEUE\tEVENT\tREASON")
	for _, d := range list {
		row := fmt.Sprintf("%s\t%s\t%d\t", d.ID, d.DeadLetteredAt.Format(time.RFC3339), d.Redrives)
		if receives {
			row += strconv.Itoa(d.Receives) + "\t"
		}
		ev := "(no CloudEvent)"
		if d.DecodeError == "" {
			ev = strings.TrimSpace(d.EventType + " " + d.Subject)
		}
		fmt.Fprintln(tw, row+orDefault(d.Queue, "-")+"\t"+ev+"\t"+oneLine(d.Reason, 80))
	}
	return tw.Flush()
}

// oneLine is s on one line, cut to n characters.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// printJSON prints v as indented JSON.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
