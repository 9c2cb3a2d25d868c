package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/coworks-go/cws"
	"github.com/coworks-go/cws/async"
	"github.com/coworks-go/cws/events"
	"github.com/coworks-go/cws/events/invoke"
	cwseventbridge "github.com/coworks-go/cws/transport/eventbridge"
	cwssqs "github.com/coworks-go/cws/transport/sqs"
)

func newEventsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "events",
		Short: "Send CloudEvents to a service, a queue or a bus",
	}
	cmd.AddCommand(newEventsPutCmd(), newTestPatternCmd())
	return cmd
}

type putFlags struct {
	to, typ, source, id, subject, data, contentType, replyTo, group string
	ext                                                             []string
	addr, token, endpoint                                           string
}

func newEventsPutCmd() *cobra.Command {
	var f putFlags
	cmd := &cobra.Command{
		Use:   "put [--to local|queue:QUEUE|bus:BUS] [--subject \"METHOD /path\"] [--data JSON|@FILE|-]",
		Short: "Send one CloudEvent to the local runtime, an SQS queue or an EventBridge bus",
		Long: `put sends one CloudEvent, by default an invocation (type cws.invoke) of the
entry its --subject names, with --data as its JSON body:

  --to local       the local runtime's events endpoint (cws run), with the token
                   of --token or $TOKEN (default)
  --to queue:Q     an SQS queue (name, URL or ARN), in structured mode
  --to bus:B       an EventBridge bus (name or ARN): Source the event's source,
                   DetailType its type, Detail the event

AWS clients take the usual AWS configuration; --endpoint points them at
LocalStack (test credentials are used when none are configured). put prints
the event's id.`,
		Example: `  cws events put --subject "POST /" --data '{"name":"pen","price":1.5}'
  cws events put --to queue:orders --endpoint http://localhost:4566 --subject "GET /1" --reply-to memory://default
  cws events put --to bus:default --type order.completed --data @order.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			e, err := f.event(cmd.InOrStdin())
			if err != nil {
				return usageError(cmd, err)
			}
			if err := put(cmd.Context(), f, e); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), e.ID())
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.to, "to", "local", "where to send it: local, queue:QUEUE or bus:BUS")
	fl.StringVar(&f.typ, "type", invoke.Type, "the event type")
	fl.StringVar(&f.source, "source", "cws/cli", "the event source")
	fl.StringVar(&f.id, "id", "", "the event id (default a new UUID)")
	fl.StringVar(&f.subject, "subject", "", `the subject; for an invocation "METHOD /path?query"`)
	fl.StringVar(&f.data, "data", "", "the data: JSON, @FILE, or - for standard input")
	fl.StringVar(&f.contentType, "content-type", "application/json", "the data's content type")
	fl.StringVar(&f.replyTo, "reply-to", "", "where the result of an invocation goes (cwsreplyto)")
	fl.StringVar(&f.group, "group", "", "the message group on a FIFO queue (cwsgroup)")
	fl.StringArrayVar(&f.ext, "ext", nil, "an extension attribute NAME=VALUE (repeatable)")
	fl.StringVar(&f.addr, "addr", "", "the local runtime's address (default $CWS_ADDR, else "+cws.DefaultAddr+")")
	fl.StringVar(&f.token, "token", "", "the local runtime's token (default $TOKEN)")
	fl.StringVar(&f.endpoint, "endpoint", "", "the AWS endpoint, e.g. LocalStack's http://localhost:4566")
	return cmd
}

// event builds the CloudEvent of the flags.
func (f putFlags) event(stdin io.Reader) (event.Event, error) {
	e := event.New()
	if f.id == "" {
		f.id = uuid.NewString()
	}
	e.SetID(f.id)
	e.SetSource(f.source)
	e.SetType(f.typ)
	e.SetTime(time.Now().UTC())
	if f.subject != "" {
		e.SetSubject(f.subject)
	}
	data, err := readValue(f.data, stdin)
	if err != nil {
		return e, err
	}
	if len(bytes.TrimSpace(data)) > 0 {
		e.SetDataContentType(f.contentType)
		e.DataEncoded = data
		if strings.Contains(f.contentType, "json") && !json.Valid(data) {
			return e, fmt.Errorf("--data is not JSON")
		}
	}
	if f.replyTo != "" {
		e.SetExtension(invoke.ExtReplyTo, f.replyTo)
	}
	if f.group != "" {
		e.SetExtension(events.ExtGroup, f.group)
	}
	for _, kv := range f.ext {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return e, fmt.Errorf("--ext %q is not NAME=VALUE", kv)
		}
		e.SetExtension(k, v)
	}
	if err := e.Validate(); err != nil {
		return e, err
	}
	if e.Type() == invoke.Type {
		if _, err := invoke.Parse(e); err != nil {
			return e, err
		}
	}
	return e, nil
}

// put sends the event where --to says.
func put(ctx context.Context, f putFlags, e event.Event) error {
	switch {
	case f.to == "local":
		return putLocal(ctx, f, e)
	case strings.HasPrefix(f.to, "queue:"):
		cfg, err := awsConfig(ctx, f.endpoint)
		if err != nil {
			return err
		}
		client := sqs.NewFromConfig(cfg)
		url, err := cwssqs.URLOf(ctx, client, strings.TrimPrefix(f.to, "queue:"))
		if err != nil {
			return err
		}
		return cwssqs.NewPublisher(client, url).Publish(ctx, e)
	case strings.HasPrefix(f.to, "bus:"):
		cfg, err := awsConfig(ctx, f.endpoint)
		if err != nil {
			return err
		}
		return cwseventbridge.NewPublisher(eventbridge.NewFromConfig(cfg), strings.TrimPrefix(f.to, "bus:")).Publish(ctx, e)
	}
	return exitError{code: 2, msg: fmt.Sprintf("--to %q: use local, queue:QUEUE or bus:BUS", f.to)}
}

// putLocal posts the event to the local runtime's events endpoint.
func putLocal(ctx context.Context, f putFlags, e event.Event) error {
	addr := f.addr
	if addr == "" {
		addr = os.Getenv(cws.EnvAddr)
	}
	if addr == "" {
		addr = cws.DefaultAddr
	}
	token := f.token
	if token == "" {
		token = os.Getenv("TOKEN")
	}
	body, err := json.Marshal(e)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+async.EventsPath, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/cloudevents+json")
	req.Header.Set("Authorization", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("the local runtime at %s: %w (is cws run running?)", addr, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("the local runtime answered %s: %s", resp.Status, strings.TrimSpace(string(b)))
	}
	return nil
}

// awsConfig is the AWS configuration of the environment, pointed at
// endpoint when given (with test credentials when none are configured).
func awsConfig(ctx context.Context, endpoint string) (aws.Config, error) {
	var opts []func(*config.LoadOptions) error
	if endpoint != "" {
		opts = append(opts, config.WithBaseEndpoint(endpoint))
		if os.Getenv("AWS_ACCESS_KEY_ID") == "" && os.Getenv("AWS_PROFILE") == "" {
			opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("test", "test", "")))
		}
		if os.Getenv("AWS_REGION") == "" && os.Getenv("AWS_DEFAULT_REGION") == "" {
			opts = append(opts, config.WithRegion("us-east-1"))
		}
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return cfg, fmt.Errorf("AWS configuration: %w", err)
	}
	return cfg, nil
}

// readValue reads a flag's value: the text itself, @FILE for a file's
// content, or - for standard input.
func readValue(v string, stdin io.Reader) ([]byte, error) {
	switch {
	case v == "-":
		return io.ReadAll(stdin)
	case strings.HasPrefix(v, "@"):
		return os.ReadFile(v[1:])
	}
	return []byte(v), nil
}
