// Package reply resolves the cwsreplyto address of an invocation to the
// Publisher its result goes to: memory://NAME for a queue or bus of the
// local runtime, an SQS queue URL or ARN, an EventBridge bus ARN. AWS
// clients are made on first use.
package reply

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/coworks-go/cws/events"
	cwseventbridge "github.com/coworks-go/cws/transport/eventbridge"
	cwssqs "github.com/coworks-go/cws/transport/sqs"
)

// Resolver implements events.Replier.
type Resolver struct {
	local  map[string]events.Publisher
	config func(ctx context.Context) (aws.Config, error)

	mu    sync.Mutex
	cfg   *aws.Config
	cache map[string]events.Publisher
	sqs   *sqs.Client
	eb    *eventbridge.Client
}

// Option configures a Resolver.
type Option func(*Resolver)

// WithLocal names a publisher of the local runtime: memory://name.
func WithLocal(name string, p events.Publisher) Option {
	return func(r *Resolver) { r.local[name] = p }
}

// WithAWS lets the resolver reply to SQS queues and EventBridge buses, with
// clients of the configuration config returns (called once, when first
// needed).
func WithAWS(config func(ctx context.Context) (aws.Config, error)) Option {
	return func(r *Resolver) { r.config = config }
}

// New returns a resolver.
func New(opts ...Option) *Resolver {
	r := &Resolver{local: map[string]events.Publisher{}, cache: map[string]events.Publisher{}}
	for _, opt := range opts {
		opt(r)
	}
	return r
}

// Replier implements events.Replier.
func (r *Resolver) Replier(address string) (events.Publisher, error) {
	if name, ok := strings.CutPrefix(address, "memory://"); ok {
		if p, ok := r.local[name]; ok {
			return p, nil
		}
		return nil, fmt.Errorf("the local runtime has no queue or bus %q", name)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if p, ok := r.cache[address]; ok {
		return p, nil
	}
	var p events.Publisher
	switch {
	case strings.HasPrefix(address, "http://") || strings.HasPrefix(address, "https://"):
		c, err := r.sqsClient()
		if err != nil {
			return nil, err
		}
		p = cwssqs.NewPublisher(c, address)
	case strings.HasPrefix(address, "arn:aws:sqs:"):
		c, err := r.sqsClient()
		if err != nil {
			return nil, err
		}
		url, err := cwssqs.URLOf(context.Background(), c, address)
		if err != nil {
			return nil, err
		}
		p = cwssqs.NewPublisher(c, url)
	case strings.HasPrefix(address, "arn:aws:events:") && strings.Contains(address, ":event-bus/"):
		if r.eb == nil {
			cfg, err := r.awsConfig()
			if err != nil {
				return nil, err
			}
			r.eb = eventbridge.NewFromConfig(cfg)
		}
		p = cwseventbridge.NewPublisher(r.eb, address)
	default:
		return nil, fmt.Errorf("%q is not a reply address: use memory://NAME, an SQS queue URL or ARN, or an EventBridge bus ARN", address)
	}
	r.cache[address] = p
	return p, nil
}

func (r *Resolver) awsConfig() (aws.Config, error) {
	if r.cfg != nil {
		return *r.cfg, nil
	}
	if r.config == nil {
		return aws.Config{}, fmt.Errorf("this runtime replies to no AWS queue or bus (no AWS configuration)")
	}
	cfg, err := r.config(context.Background())
	if err != nil {
		return aws.Config{}, fmt.Errorf("AWS configuration: %w", err)
	}
	r.cfg = &cfg
	return cfg, nil
}

func (r *Resolver) sqsClient() (*sqs.Client, error) {
	if r.sqs == nil {
		cfg, err := r.awsConfig()
		if err != nil {
			return nil, err
		}
		r.sqs = sqs.NewFromConfig(cfg)
	}
	return r.sqs, nil
}
